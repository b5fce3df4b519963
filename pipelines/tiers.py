"""The lagging tiers (red / yellow / green) of the monthly bulletin and of every progress ranking.

A unit's tier says how far its progress index falls behind the plan's pace at the month shown
(``marts.bulletin_counties``): more than ``red_points_behind`` points is red, at least
``yellow_points_behind`` yellow, else green. The thresholds live in ``thresholds.toml``
``[progress]``; the plan's default completion deadline (for plan rows without a 计划完工日期) is
the scoring scheme's (``scoring.toml`` ``[annual]``). :func:`publish` writes both to
``marts.progress_settings``, which the SQL marts read; pages, charts and the bulletin quote the
thresholds from that table.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.scoring.scheme import load_scheme
from pipelines.settings import load_toml

__all__ = ["TIERS", "TIER_LABELS", "TierSettings", "settings_rows", "publish", "from_rows", "rank_change_text"]

TIERS = ("red", "yellow", "green")
TIER_LABELS = {"red": "严重滞后", "yellow": "滞后", "green": "正常"}


@dataclass(frozen=True)
class TierSettings:
    red_points_behind: float
    yellow_points_behind: float

    def rule(self, tier: str) -> str:
        """What puts a unit in the tier, in Chinese."""
        r, y = f"{self.red_points_behind:g}", f"{self.yellow_points_behind:g}"
        return {"red": f"落后计划进度超过 {r} 个百分点",
                "yellow": f"落后计划进度 {y}–{r} 个百分点",
                "green": f"落后不足 {y} 个百分点或超前"}[tier]

    def legend(self) -> dict[str, str]:
        """Tier → legend text, e.g. ``红色·严重滞后(落后计划进度超过 10 个百分点)``."""
        colour = {"red": "红色", "yellow": "黄色", "green": "绿色"}
        return {t: f"{colour[t]}·{TIER_LABELS[t]}({self.rule(t)})" for t in TIERS}


def settings_rows() -> list[tuple[str, float, str]]:
    """The rows of ``marts.progress_settings``: (key, value, source)."""
    progress = load_toml("thresholds.toml")["progress"]
    scheme = load_scheme()
    return [
        ("red_points_behind", float(progress["red_points_behind"]), "thresholds.toml [progress] red_points_behind"),
        ("yellow_points_behind", float(progress["yellow_points_behind"]), "thresholds.toml [progress] yellow_points_behind"),
        ("deadline_month", float(scheme.completion_deadline_month), "scoring.toml [annual] completion_deadline_month"),
        ("deadline_day", float(scheme.completion_deadline_day), "scoring.toml [annual] completion_deadline_day"),
    ]


def publish(con: duckdb.DuckDBPyConnection) -> None:
    """Write the settings to ``marts.progress_settings`` (in the caller's transaction)."""
    con.execute("delete from marts.progress_settings")
    con.executemany("insert into marts.progress_settings values (?, ?, ?)", settings_rows())


def from_rows(rows: dict[str, float]) -> TierSettings:
    """The tier thresholds from the settings table's key → value."""
    return TierSettings(float(rows["red_points_behind"]), float(rows["yellow_points_behind"]))


def rank_change_text(change: int | None) -> str:
    """A unit's change of rank since the previous month: ↑2, ↓1, or — (the same, or no previous month)."""
    if change is None or change == 0:
        return "—"
    return f"↑{change}" if change > 0 else f"↓{-change}"
