"""The annual report to the prefecture government (spec evaluation.md, "The report").

One builder writes a Word document with python-docx; the PDF is that document converted by
LibreOffice headless, so both carry the same content. Charts are drawn offline with matplotlib
(Agg) in Noto Sans CJK: Plotly's static export needs a browser engine (Kaleido/Chromium), which a
report job on a server should not depend on. LibreOffice embeds the CJK font in the PDF, so the
Chinese reads the same on any machine; both fonts-noto-cjk and libreoffice-writer-nogui install
from Debian.

Everything is read from the marts (scores, indicators, signals) and the raw load log; nothing is
scored here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pipelines import scoring
from pipelines.report.collect import ReportData, collect
from pipelines.report.document import write_docx

__all__ = ["ReportData", "collect", "docx_to_pdf", "run_report", "write_docx"]


# --- PDF ----------------------------------------------------------------------------------


def docx_to_pdf(docx: Path, pdf: Path, timeout: int = 240) -> None:
    """Convert with LibreOffice headless (a private profile, so parallel runs do not collide)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("未找到 LibreOffice(soffice),无法生成 PDF;请安装 libreoffice-writer-nogui。")
    with tempfile.TemporaryDirectory(prefix="report-pdf-") as tmp:
        profile = Path(tmp) / "profile"
        cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", tmp, str(docx)]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
        produced = Path(tmp) / (docx.stem + ".pdf")
        if proc.returncode != 0 or not produced.exists():
            raise RuntimeError(f"LibreOffice 转换 PDF 失败:{proc.stderr.strip() or proc.stdout.strip()}")
        shutil.move(str(produced), str(pdf))


def run_report(db_path: Path, year: int, out: Path) -> int:
    """CLI ``renovation report``: the annual report as .docx or .pdf by suffix; 1 when no data."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".docx", ".pdf"):
        print(f"用法错误:报告文件须以 .docx 或 .pdf 结尾,收到 {out.name}", file=sys.stderr)
        return 2
    con = scoring.open_for_year(db_path, year, "报告")
    if con is None:
        return 1
    try:
        data = collect(con, year)
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".docx":
        write_docx(data, out)
    else:
        with tempfile.TemporaryDirectory(prefix="report-") as tmp:
            docx = Path(tmp) / f"巴州老旧小区改造{year}年度体检评估报告.docx"
            write_docx(data, docx)
            docx_to_pdf(docx, out)
    print(f"已生成 {year} 年度报告:{out}(评分方案 {data.scheme.version},数据截至 {data.as_of_month or '—'},"
          f"最新填报日期 {data.as_of_date or '—'})",
          file=sys.stderr)
    return 0

