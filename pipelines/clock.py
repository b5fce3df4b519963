"""The data clock (flags.md, "The data clock"), as the CLI and the report read it.

The system judges timeliness by the dates the data carries, not by the machine's calendar. The
clock is one SQL model, ``warehouse/marts/data_clock.sql`` (with ``data_clock_months`` and
``data_clock_counties``), that signals, scores, the report, the CLI exports and the pages read:

- the as-of date is the newest 填报日期 among all submissions received (any county, any kind);
- month M is due once its deadline, day ``clock.report_due_day`` (program.toml) of month M+1, is on
  or before the as-of date; the latest due month is the last such month (it may be later than any
  month received);
- without any 填报日期, the latest due month is the latest report month received.

Only the plausibility check of ingest (a 填报日期 or other past date may not lie in the future,
``expectations/ingest.py``) keeps the machine's date: it guards the clock against a mistyped year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

__all__ = ["Clock", "read_clock", "clock_text"]


@dataclass(frozen=True)
class Clock:
    as_of_date: dt.date | None          # newest 填报日期 received; None when no submission carries one
    report_due_day: int
    latest_due_month: dt.date | None    # first day of the month; None before any data
    latest_report_month: dt.date | None

    def text(self) -> str:
        """One line in Chinese: the as-of date and the latest due month."""
        if self.latest_due_month is None:
            return "数据时钟:尚无数据"
        due = f"{self.latest_due_month:%Y-%m}"
        if self.as_of_date is None:
            return f"数据时钟:所收报表均无填报日期,应报至 {due}(所收最新的报告月份)"
        return (f"数据时钟:数据截至 {self.as_of_date:%Y-%m-%d}(所收报表中最新的填报日期),应报至 {due}"
                f"(次月 {self.report_due_day} 日为月报截止日)")


def read_clock(con: duckdb.DuckDBPyConnection) -> Clock:
    """The clock of a warehouse (empty when it has no data clock yet)."""
    exists = con.execute("select count(*) from information_schema.tables "
                         "where table_schema = 'marts' and table_name = 'data_clock'").fetchone()[0]
    row = con.execute("select as_of_date, report_due_day, latest_due_month, latest_report_month "
                      "from marts.data_clock").fetchone() if exists else None
    if row is None:
        return Clock(None, 0, None, None)
    return Clock(row[0], int(row[1] or 0), row[2], row[3])


def clock_text(con: duckdb.DuckDBPyConnection) -> str:
    """:meth:`Clock.text` of a warehouse."""
    return read_clock(con).text()
