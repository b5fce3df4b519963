"""Splink (Fellegi–Sunter, DuckDB backend) for plan ↔ plan pairs: the baseline the rule-based
comparison is measured against (benchmarks/signals.py). Optional: ``splink`` is a dev dependency.

It sees the same normalised fields as the rules (:mod:`pipelines.identity.normalise`: body,
pinyin, kind, road, house number, build year and households — the linked ledger community's where
there is one) and the same blocking (county, or road across counties). The vetoes of the name
comparison (phase, direction word) and of the ledger (two ledger communities of one county) still
apply; the model decides the rest.
"""

from __future__ import annotations

import logging

from pipelines.identity.compare import Comparison, VETOES, compare_names
from pipelines.identity.normalise import parse_address, parse_name
from pipelines.identity.settings import Settings

__all__ = ["splink_pairs"]

log = logging.getLogger(__name__)


def _record(r: dict) -> dict:
    n = parse_name(r.get("name"))
    led = r.get("ledger") or {}
    a = parse_address(r.get("address") or led.get("address"))
    year = led.get("build_year") or r.get("build_year")
    hh = led.get("households") or r.get("households")
    body = n.body or n.plain
    return {
        "unique_id": r["plan_row_id"], "body": body, "pinyin": n.pinyin, "kind": n.kind, "head": body[:2],
        "county": r["county_code"], "road": a.road[-3:] if a.road else None,
        "house_no": float(a.numbers[0]) if a.numbers else None,
        "build_year": float(year) if year else None, "households": float(hh) if hh else None,
    }


def splink_pairs(plans: list[dict], s: Settings, threshold: float = 0.9) -> list:
    import pandas as pd
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from pipelines.identity.links import Pair

    df = pd.DataFrame([_record(r) for r in plans])
    year = cl.CustomComparison(output_column_name="build_year", comparison_levels=[
        cll.NullLevel("build_year"), cll.ExactMatchLevel("build_year"),
        cll.AbsoluteDifferenceLevel("build_year", 3), cll.AbsoluteDifferenceLevel("build_year", 6), cll.ElseLevel()])
    size = cl.CustomComparison(output_column_name="households", comparison_levels=[
        cll.NullLevel("households"), cll.PercentageDifferenceLevel("households", 0.1),
        cll.PercentageDifferenceLevel("households", 0.5), cll.ElseLevel()])
    house = cl.CustomComparison(output_column_name="house_no", comparison_levels=[
        cll.NullLevel("house_no"), cll.AbsoluteDifferenceLevel("house_no", 2), cll.ElseLevel()])
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("pinyin", "county"), block_on("head", "county"), block_on("body", "road"),
            block_on("pinyin", "road"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("body", [0.99, 0.85]), cl.ExactMatch("pinyin"), cl.ExactMatch("kind"),
            cl.ExactMatch("county"), cl.ExactMatch("road"), house, year, size,
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(DuckDBAPI().register(df, table_name="plan_rows"), settings)
    linker.training.estimate_probability_two_random_records_match([block_on("body", "county")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e5)
    for rule in (block_on("pinyin", "county"), block_on("road", "county")):
        try:  # EM may drive a level's m to 0 on small blocks; the other session still trains it
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except ValueError as exc:
            log.warning("splink EM session skipped: %s", exc)
    preds = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    by_id = {r["plan_row_id"]: r for r in plans}
    out = []
    for rec in preds.itertuples():
        a, b = by_id[rec.unique_id_l], by_id[rec.unique_id_r]
        if a["plan_row_id"] > b["plan_row_id"]:
            a, b = b, a
        if a["county_code"] == b["county_code"] and a.get("community_id") and b.get("community_id"):
            continue  # the ledger decides (rule pairs keep those)
        name = compare_names(a.get("name"), b.get("name"), s)
        if name.level in VETOES:
            continue
        p = round(float(rec.match_probability), 4)
        out.append(Pair(a["plan_row_id"], b["plan_row_id"],
                        Comparison(True, p, ("名称",), (name.text, f"Splink 匹配概率 {p:.2f}")), "splink"))
    return out
