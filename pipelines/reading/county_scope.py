"""A county clerk's upload is bound to its county (access.md): the rows of a staged file that name
another county, with a message for each naming file, sheet, row and column."""

from __future__ import annotations

from collections.abc import Callable

from pipelines.counties import county_name
from pipelines.reading.staging import Staged

__all__ = ["foreign_rows"]


def foreign_rows(staged: Staged, county: str, where: Callable[..., str]) -> tuple[list[int], list[dict], str | None]:
    """(row numbers, row messages, a whole-file reason or None) for the rows of ``staged`` whose county
    is not ``county``; ``where(row, letter, header)`` names the place as ingest's messages do."""
    codes = staged.data.get("county_code") or [None] * staged.height
    other = [(rn, c) for rn, c in zip(staged.data["row_number"], codes) if c is not None and c != county]
    col = staged.columns.get("county")
    letter, header = (col.letter, col.header) if col else ("?", "县市")
    own = county_name(county)
    msgs = [{"row_number": rn, "field": "county", "column_name": header, "value": county_name(c),
             "code": "county_not_allowed",
             "message": f"{where(rn, letter, header)}:本账号只能上报{own}的数据,此行为「{county_name(c)}」,未导入"}
            for rn, c in other]
    whole = f"本账号只能上报{own}的数据,文件中没有{own}的数据行,整份文件拒收" if other and len(other) == staged.height else None
    return [rn for rn, _ in other], msgs, whole
