"""The Word document of the annual report (python-docx), with charts drawn offline by matplotlib
(Agg) in Noto Sans CJK: Plotly's static export needs a browser engine, which a report job on a
server should not depend on."""

from __future__ import annotations

import io
from pathlib import Path

from pipelines import scoring
from pipelines.read.exports import escape_cell
from pipelines.report.collect import ReportData
from pipelines.scoring import Score

__all__ = ["write_docx", "CJK_FONT"]

CJK_FONT = "Noto Sans CJK SC"


# --- charts (matplotlib, offline) ---------------------------------------------------------


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = [CJK_FONT, "Noto Sans CJK JP", "WenQuanYi Zen Hei", "DejaVu Sans"]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig) -> io.BytesIO:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=160, bbox_inches="tight")
    buf.seek(0)
    return buf


def chart_county_progress(data: ReportData) -> io.BytesIO:
    """Households planned, started and completed in the year's plan, per county."""
    plt = _plt()
    codes = [c for c, _ in data.counties if c in data.inputs and data.inputs[c].count_plan_rows > 0]
    names = [data.name(c).replace("回族自治县", "县").replace("经济技术开发区", "经开区") for c in codes]
    planned = [data.inputs[c].sum_households for c in codes]
    completed = [data.inputs[c].sum_households_completed for c in codes]
    fig, ax = plt.subplots(figsize=(8, 3.8))
    x = range(len(codes))
    ax.bar([i - 0.2 for i in x], planned, width=0.4, label="计划户数", color="#9bb7d4")
    ax.bar([i + 0.2 for i in x], completed, width=0.4, label="已完工户数", color="#2e6da4")
    for i, (p, c) in enumerate(zip(planned, completed)):
        if p:
            ax.text(i + 0.2, c, f"{c / p:.0%}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(x), names, rotation=30, ha="right", fontsize=9)
    ax.set_ylabel("户")
    title = f"{data.year}年度计划完成情况(按户数)"
    ax.set_title(title + (f"({data.as_of_label})" if data.as_of_label else ""), fontsize=11)
    ax.legend(fontsize=9, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    buf = _png(fig)
    plt.close(fig)
    return buf


def chart_trajectory(data: ReportData) -> io.BytesIO:
    """Households completed to date (all plan years) against the even path to the 2025 goal."""
    plt = _plt()
    years = [t[0] for t in data.trajectory]
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.plot(years, [t[1] for t in data.trajectory], marker="o", color="#2e6da4", label="累计完工户数")
    ax.plot(years, [t[2] for t in data.trajectory], linestyle="--", color="#c0504d",
            label=f"均衡进度({data.scheme.base_year + data.scheme.horizon_years}年底改造完"
                  f"{data.scheme.old_built_until}年前建成小区)")
    ax.set_xticks(years, [str(y) for y in years])
    ax.set_ylabel("户")
    ax.set_title("全州累计改造进度与目标路径(各年12月底)", fontsize=11)
    ax.legend(fontsize=9, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    buf = _png(fig)
    plt.close(fig)
    return buf


# --- the Word document --------------------------------------------------------------------


def _fmt(x: float | None, d: int = 2) -> str:
    return "—" if x is None else f"{x:.{d}f}"


def _rate(x: float | None) -> str:
    return "不适用" if x is None else f"{x * 100:.1f}%"


def _ranks(scores: list[Score]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4) on the unrounded total."""
    ordered = sorted(scores, key=lambda s: -s.total)
    out: dict[str, int] = {}
    for i, s in enumerate(ordered):
        out[s.county_code] = out[ordered[i - 1].county_code] if i and s.total == ordered[i - 1].total else i + 1
    return out


def _set_cjk(run_or_style, size: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = run_or_style.font
    font.name = CJK_FONT
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), CJK_FONT)
    # Simplified-Chinese glyph forms: LibreOffice and Word pick the zh-CN face by the language
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _table(doc, header: list[str], rows: list[list[str]], widths_cm: list[float] | None = None, size: float = 8.5):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        _set_cjk(run, size, True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for row in rows:
        cells = table.add_row().cells
        for j, (cell, text) in enumerate(zip(cells, row)):
            run = cell.paragraphs[0].add_run(str(text))
            _set_cjk(run, size)
            if j > 0 and len(str(text)) <= 16:  # long text (evidence) reads better left-aligned
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if widths_cm:
        # LibreOffice lays out by the grid columns, Word by the cell widths: set both
        table.autofit = False
        for col, w in zip(table.columns, widths_cm):
            col.width = Cm(w)
        for row in table.rows:
            for cell, w in zip(row.cells, widths_cm):
                cell.width = Cm(w)
    return table


def _para(doc, text: str, size: float = 10.5, bold: bool = False, style: str | None = None):
    p = doc.add_paragraph(style=style)
    _set_cjk(p.add_run(text), size, bold)
    return p


def _heading(doc, text: str, level: int = 1):
    h = doc.add_heading(level=level)
    _set_cjk(h.add_run(text), 14 if level == 1 else 12, True)
    return h


def write_docx(data: ReportData, out: Path) -> None:
    """Write the report as a Word document."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin = section.bottom_margin = Cm(2.0)
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        _set_cjk(doc.styles[name])
    doc.styles["Normal"].font.size = Pt(10.5)
    y, s = data.year, data.scheme
    period = f"{y}年度" + (f"({data.as_of_label},年度尚未结束)" if data.as_of_label else "")

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_cjk(title.add_run(f"巴州城镇老旧小区改造{y}年度体检评估报告"), 18, True)
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_cjk(sub.add_run("(一年一体检、两年一评估)"), 11)
    _table(doc, ["项目", "内容"], [
        ["评估年度", period],
        ["评分方案版本", s.version],
        ["数据截至", (f"{data.as_of_month}(应报至的最近月份;最新填报日期 {data.as_of_date or '无'},"
                      f"次月 {s.report_due_day} 日为月报截止日)") if data.as_of_month else "尚未收到月报"],
        ["生成时间", data.generated_at.strftime("%Y-%m-%d %H:%M:%S")],
    ], [4, 13], size=10)

    # 一、总体情况
    _heading(doc, "一、总体情况")
    scored = data.annual
    grades = {g: sum(1 for x in scored if x.grade == g) for g in s.grade_order}
    pref = data.prefecture
    inp_sum = scoring.prefecture_inputs(data.inputs.values(), y)
    text = (
        f"{y}年度全州共有{len(scored)}个县市(区)列入年度改造计划并参加体检,计划改造项目{inp_sum.count_plan_rows}个、"
        f"{inp_sum.sum_households:,.0f}户,{('截至' + data.as_of_month) if data.as_of_label else '至年底'}已完工{inp_sum.sum_households_completed:,.0f}户"
        f"({_rate(inp_sum.sum_households_completed / inp_sum.sum_households if inp_sum.sum_households else None)}),"
        f"完成投资{inp_sum.sum_invest_done_wan_yuan:,.1f}万元,占计划总投资{inp_sum.sum_total_invest_wan_yuan:,.1f}万元的"
        f"{_rate(inp_sum.sum_invest_done_wan_yuan / inp_sum.sum_total_invest_wan_yuan if inp_sum.sum_total_invest_wan_yuan else None)}。"
    )
    if not scored:
        text = f"{y}年度没有县市列入年度改造计划,本年度不进行年度体检;以下仅列出已收到的数据。"
    _para(doc, text)
    if pref is not None:
        change = ""
        if data.prefecture_previous is not None:
            change = f",较上年({data.prefecture_previous.total:.2f}分)变化{pref.total - data.prefecture_previous.total:+.2f}分"
        _para(doc, f"全州汇总得分(各县市计划合并计算){pref.total:.2f}分,等次“{pref.grade}”{change}。"
                   "县市等次分布:" + ",".join(f"{g}{n}个" for g, n in grades.items()) + "。")
    if data.as_of_label:
        _para(doc, f"说明:{y}年尚未结束,本报告得分为{data.as_of_label}的阶段性结果:各县市均按同一应报月份计分,"
                   "提前报送的月份暂不计入;按时报送率只计已到截止日的月份。", 9.5)

    # 二、得分、等次与排名
    _heading(doc, "二、各县市得分、等次与排名")
    ranks = _ranks(scored)
    rows = []
    for x in sorted(scored, key=lambda x: ranks[x.county_code]):
        prev = data.previous.get(x.county_code)
        rows.append([str(ranks[x.county_code]), x.county_name, _fmt(x.total), x.grade,
                     _fmt(prev.total) if prev else "上年未参评",
                     f"{x.total - prev.total:+.2f}" if prev else "—"])
    if pref is not None:
        pp = data.prefecture_previous
        rows.append(["—", "全州(汇总)", _fmt(pref.total), pref.grade, _fmt(pp.total) if pp else "—",
                     f"{pref.total - pp.total:+.2f}" if pp else "—"])
    _table(doc, ["排名", "县市", f"{y}年得分", "等次", f"{y - 1}年得分", "较上年变化"], rows, [1.5, 5, 2.5, 2, 2.5, 2.5])
    not_scored = [n for c, n in data.counties if c not in {x.county_code for x in scored}]
    if not_scored:
        _para(doc, f"未列入{y}年度计划、不参加本年度体检的县市:{'、'.join(not_scored)}。", 9.5)

    # 三、分项得分
    _heading(doc, "三、分项得分明细")
    _para(doc, "每项得分 = 满分 × 指标值(居民满意度为满分 × 满意度 ÷ 100);总分 = 适用指标得分之和 ÷ 适用指标满分之和 × 100;"
               f"“不适用”指标不计入分子和分母。等次按未四舍五入的总分确定:{s.grades_text()}。", 9)
    header = ["县市"] + [f"{d.name}({d.points:g})" for d in s.indicators] + ["总分"]
    all_rows = ([pref] if pref is not None else []) + sorted(scored, key=lambda x: x.sort_order)
    point_rows = [
        [("全州(汇总)" if x is pref else x.county_name)] + [_fmt(ln.points) if ln.is_applicable else "不适用" for ln in x.lines]
        + [_fmt(x.total)] for x in all_rows
    ]
    _para(doc, "表3-1 分项得分(分)", 9.5, True)
    _table(doc, header, point_rows, [2.6] + [1.4] * len(s.indicators) + [1.6], size=7.5)
    value_rows = [
        [("全州(汇总)" if x is pref else x.county_name)]
        + [("不适用" if ln.value is None else (f"{ln.value:.2f}" if ln.indicator == "satisfaction" else _rate(ln.value)))
           for ln in x.lines] for x in all_rows
    ]
    _para(doc, "表3-2 指标值(比率;居民满意度为0–100分)", 9.5, True)
    _table(doc, header[:-1], value_rows, [2.6] + [1.6] * len(s.indicators), size=7.5)

    # 四、进度与计划
    _heading(doc, "四、改造进度与计划对比")
    doc.add_picture(chart_county_progress(data), width=Cm(16.5))
    prog_rows = []
    for c, n in data.counties:
        i = data.inputs.get(c)
        if i is None or i.count_plan_rows == 0:
            continue
        prog_rows.append([n, str(i.count_plan_rows), f"{i.count_started}", f"{i.count_completed}",
                          f"{i.sum_households:,}", f"{i.sum_households_completed:,}",
                          f"{i.sum_total_invest_wan_yuan:,.1f}", f"{i.sum_invest_done_wan_yuan:,.1f}",
                          f"{i.sum_paid_wan_yuan:,.1f}"])
    _table(doc, ["县市", "计划项目", "已开工", "已完工", "计划户数", "完工户数", "计划总投资(万元)", "完成投资(万元)",
                 "拨付资金(万元)"], prog_rows, [2.6, 1.4, 1.4, 1.4, 1.6, 1.6, 2.4, 2.4, 2.2], size=7.5)
    if data.trajectory:
        doc.add_picture(chart_trajectory(data), width=Cm(16.5))

    # 五、两年评估
    if data.biennial:
        _heading(doc, f"五、两年评估({y - 1}—{y}年)")
        _para(doc, f"总分 = (两年体检平均分 × {s.annual_mean_weight:g} + 五年目标进度 × {s.progress_points:g})"
                   f" ÷ 适用满分 × 100;五年目标进度 = 至{y}年底累计完工户数 ÷ ({s.old_built_until}年前建成小区户数 × ({y}−"
                   f"{s.base_year}) ÷ {s.horizon_years}),上限为1。", 9)
        brows = []
        for x in sorted(data.biennial, key=lambda x: x.sort_order):
            v = x.values()
            brows.append([x.county_name, _fmt(v["annual_prev"]), _fmt(v["annual_curr"]), _fmt(v["annual_mean"]),
                          _rate(v["five_year_progress"]), _fmt(x.total), x.grade])
        _table(doc, ["县市", f"{y - 1}年体检", f"{y}年体检", "平均分", "五年目标进度", "总分", "等次"], brows, size=8.5)

    n = 6 if data.biennial else 5
    num = "零一二三四五六七八九十"

    # 风险线索
    _heading(doc, f"{num[n]}、尚未办结的风险线索")
    if data.signals is None:
        _para(doc, "风险线索模块尚未产生结果(数据仓库中没有 marts.signals 的记录),本节暂缺。")
    elif not data.signals:
        _para(doc, f"{y}年度没有尚未办结的风险线索。")
    else:
        total_open = sum(r[3] for r in data.signal_summary)
        _para(doc, f"{y}年度尚未核查办结(没有生效的“已确认”或“已排除”结论)的风险线索共{total_open}条,按规则汇总如下;"
                   "线索只是核查的理由,不是结论,不影响上述得分。")
        _table(doc, ["规则", "类别", "严重程度", "条数", "涉及县市", "涉及中央补助(万元)"],
               [[r[0], r[1], {"high": "高", "medium": "中", "low": "低"}.get(r[2], r[2]), str(r[3]), str(r[4]),
                 f"{r[5]:,.1f}"] for r in data.signal_summary], [4.2, 2.4, 1.8, 1.8, 2.2, 4.6], size=8)
        _para(doc, "风险最高的线索(至多30条):", 9.5, True)
        # community names and evidence quote what counties submitted: the one export escape keeps a
        # leading =, +, -, @ from reading as a formula when the table is copied into a spreadsheet
        _table(doc, ["县市", "小区", "规则", "程度", "证据"],
               [[r[0], escape_cell(r[1]) or "—", r[2], {"high": "高", "medium": "中", "low": "低"}.get(r[3], r[3]),
                 escape_cell(r[4])] for r in data.signals], [2.4, 2.6, 3.2, 1.0, 7.8], size=7.5)
    n += 1

    # 数据质量
    _heading(doc, f"{num[n]}、报送数据质量")
    if data.quality:
        _table(doc, ["县市", "已入库文件", "重复文件", "拒收文件", "入库数据行", "隔离数据行"],
               [[r[0], str(r[1]), str(r[2]), str(r[3]), f"{r[4]:,}", f"{r[5]:,}"] for r in data.quality], size=8.5)
    else:
        _para(doc, f"没有{y}年度的报送记录。")
    month_rows = []
    for c, name in data.counties:
        i = data.inputs.get(c)
        if i is None or i.count_plan_rows == 0:
            continue
        month_rows.append([name, str(i.count_months_due), str(i.count_months_ontime),
                           _rate(i.count_months_ontime / i.count_months_due if i.count_months_due else None)])
    if month_rows:
        _para(doc, f"月报按时报送(首次报送不晚于次月{s.report_due_day}日):", 9.5, True)
        _table(doc, ["县市", "应报月数", "按时报送月数", "按时报送率"], month_rows, size=8.5)
    if data.quality_issues:
        _para(doc, "数据问题(按问题类型):", 9.5, True)
        _table(doc, ["问题代码", "处理", "条数", "涉及文件"],
               [[r[0], "隔离" if r[1] == "reject" else "提示", str(r[2]), str(r[3])] for r in data.quality_issues],
               size=8.5)
    n += 1

    # 绩效资金模拟
    if data.whatif:
        _heading(doc, f"{num[n]}、绩效资金分配模拟")
        _para(doc, f"假设中央补助资金的{s.performance_share:.0%}与绩效挂钩,按“本县中央补助 × 得分 ÷ 100”的权重在各县市间分配"
                   "(资金池 = 全州中央补助 × 挂钩比例)。仅为模拟,不构成分配方案。", 9)
        _table(doc, ["县市", "中央补助(万元)", "挂钩部分(万元)", "得分", "模拟分配(万元)", "增减(万元)"],
               [[r[0], f"{r[1]:,.1f}", f"{r[2]:,.1f}", _fmt(r[3]), f"{r[4]:,.1f}", f"{r[5]:+,.1f}"]
                for r in data.whatif], size=8.5)

    foot = doc.sections[0].footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_cjk(foot.add_run(f"评分方案 {s.version} · 数据截至 {data.as_of_month or '—'}"
                          f"(最新填报日期 {data.as_of_date or '—'}) · "
                          f"生成于 {data.generated_at:%Y-%m-%d %H:%M}"), 8)
    doc.save(str(out))

