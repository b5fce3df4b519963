"""The lagging tiers (red / yellow / green) of the monthly bulletin and of every progress ranking.

A unit's tier says how far its progress index falls behind the plan's pace at the month shown
(``marts.bulletin_counties``): more than ``progress.red_points_behind`` points is red, at least
``progress.yellow_points_behind`` yellow, else green. Both live in ``program.toml`` ``[progress]``
and reach SQL, pages, charts and the bulletin through ``marts.settings`` (``pipelines.constants``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["TIERS", "TIER_LABELS", "TierSettings", "from_settings", "rank_change_text"]

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


def from_settings(settings: Mapping[str, float]) -> TierSettings:
    """The tier thresholds from the settings in force (``marts.settings`` key → value)."""
    return TierSettings(float(settings["progress.red_points_behind"]), float(settings["progress.yellow_points_behind"]))


def rank_change_text(change: int | None) -> str:
    """A unit's change of rank since the previous month: ↑2, ↓1, or — (the same, or no previous month)."""
    if change is None or change == 0:
        return "—"
    return f"↑{change}" if change > 0 else f"↓{-change}"
