"""年度体检 — evaluation staff: the annual check per unit, its breakdown, points lost, trend, ranking, downloads."""

from app_pages._scores_view import render

render("annual")
