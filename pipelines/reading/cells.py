"""What every reader of a submitted file shares: the limits, the error a clerk reads, and rows
as ``(row number, cells from column A)`` with blank rows left out and trailing blank cells cut."""

from __future__ import annotations

import contextlib
import datetime as dt
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipelines.settings import config_path

__all__ = ["ReadError", "Sheet", "Row", "limits", "col_letter", "is_blank", "trimmed", "peak_rss_mib", "BROKEN",
           "PASSWORD", "RESAVE"]

# what the clerk can do about it: Excel and WPS open a damaged workbook, or a web page saved as .xls, and save it anew
RESAVE = "请用 Excel 或 WPS 打开,另存为 .xlsx 后重新提交"
BROKEN = f"文件已损坏或不是有效的 Excel 工作簿,无法读取;{RESAVE}"
PASSWORD = "工作簿设有密码保护,无法读取;请去掉密码后重新提交"
LIMITS_TOML = config_path("limits.toml")
Row = tuple[int, list]


@cache
def limits() -> dict:
    return tomllib.loads(LIMITS_TOML.read_text(encoding="utf-8"))


class ReadError(Exception):
    """The file cannot be used; ``messages`` are Chinese and name sheet, row and column."""

    def __init__(self, messages: list[str], kind: str | None = None):
        super().__init__("; ".join(messages))
        self.messages = messages
        self.kind = kind


def col_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    parent that forked it), in MiB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def trimmed(cells: list) -> list:
    """Cells without their trailing blanks; empty strings as None."""
    end = len(cells)
    while end and is_blank(cells[end - 1]):
        end -= 1
    out = cells[:end]
    for i, c in enumerate(out):
        if c == "" or (isinstance(c, dt.datetime) and c.time() == dt.time(0)):
            out[i] = None if c == "" else c.date()
    return out


@dataclass
class Sheet:
    name: str
    rows: Callable[[], Iterator[Row]]   # non-blank rows, in order
