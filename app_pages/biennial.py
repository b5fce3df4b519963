"""两年评估 — evaluation staff: the biennial evaluation per unit, its breakdown, points lost, trend, ranking, downloads."""

from app_pages._scores_view import render

render("biennial")
