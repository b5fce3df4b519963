"""Annual check (一年一体检) and biennial evaluation (两年一评估), spec evaluation.md.

The counts and sums each indicator needs come from the SQL mart ``intermediate.score_inputs``; the
scoring itself is pure, typed functions (:mod:`.compute`) over those inputs and the versioned
scheme (:mod:`.scheme`, ``pipelines/config/scoring.toml``). :mod:`.store` writes
``marts.scores`` (and the what-if ``marts.whatif_subsidy``, :mod:`.whatif`) in the refresh's
scores step; :mod:`.export` is ``renovation scores`` (the format is in ``pipelines.read.exports``).
"""

from pipelines.scoring.compute import (
    BIENNIAL_NAMES, PREFECTURE, Inputs, Line, Score, annual_score, annual_values, biennial_score, five_year_progress,
    grade_of, prefecture_inputs, prefecture_scores, score_all, total_of,
)
from pipelines.read.exports import SCORES_HEADER, scores_csv
from pipelines.scoring.export import run_scores
from pipelines.scoring.scheme import SCHEME_PATH, IndicatorDef, Scheme, load_scheme
from pipelines.scoring.store import (
    compute_scores, has_data, open_for_year, read_inputs, read_prefecture, read_scores, refresh, scores_for,
)

__all__ = [
    "BIENNIAL_NAMES", "PREFECTURE", "SCHEME_PATH", "SCORES_HEADER", "IndicatorDef", "Inputs", "Line", "Scheme",
    "Score", "annual_score", "annual_values", "biennial_score", "compute_scores", "five_year_progress", "grade_of",
    "has_data", "load_scheme", "open_for_year", "prefecture_inputs", "prefecture_scores", "read_inputs",
    "read_prefecture", "read_scores", "refresh", "run_scores", "score_all", "scores_csv", "scores_for", "total_of",
]
