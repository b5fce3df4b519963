"""What-if: the performance-linked share of the central subsidy split across counties by score.

Central rules tie part of the central subsidy (scoring.toml ``whatif.performance_share``) to performance. The formula
chosen here keeps each county's stake proportional to its own subsidy and lets the score move
the money between counties:

    pool      = s × Σ_k C_k                       (s = performance share, C = central subsidy of the year)
    weight_c  = C_c × score_c / 100               (score = the county's annual total, 0–100)
    share_c   = pool × weight_c / Σ_k weight_k
    change_c  = share_c − s × C_c                 (gain or loss against its own performance part)

A county with equal scores everywhere gets exactly its own part back; a county with a higher
score than the subsidy-weighted mean gains. A county with subsidy but no score (not scored) has
weight 0. When every weight is 0, each county keeps its own part.

The mart holds one split per pool (column ``pool``): ``'all'`` over every unit of the warehouse, and
one per prefecture (``staging.counties.prefecture_code``) over that prefecture's units only, so a page
that shows one prefecture reads its split and computes nothing. With one prefecture, its pool is the
``'all'`` pool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from pipelines.scoring.compute import Score
    from pipelines.scoring.scheme import Scheme

__all__ = ["ALL", "ShareRow", "query", "split_performance_share", "write"]

ALL = "all"  # the pool of every unit of the warehouse (the others are prefecture codes)
TABLE = "marts.whatif_subsidy"


@dataclass(frozen=True)
class ShareRow:
    county_code: str
    central_subsidy_wan_yuan: float
    base_share_wan_yuan: float
    score: float | None
    weight: float
    share_wan_yuan: float
    change_wan_yuan: float


def split_performance_share(
    central: Mapping[str, float], scores: Mapping[str, float | None], share: float
) -> list[ShareRow]:
    """Split ``share`` of the central subsidy across counties by score (formula in the module
    docstring); one row per county of ``central``, in its order."""
    pool = share * sum(central.values())
    weights = {c: (amount * scores[c] / 100 if scores.get(c) is not None else 0.0) for c, amount in central.items()}
    total_weight = sum(weights.values())
    out = []
    for c, amount in central.items():
        base = share * amount
        part = pool * weights[c] / total_weight if total_weight > 0 else base
        out.append(ShareRow(c, amount, base, scores.get(c), weights[c], part, part - base))
    return out


def write(con: duckdb.DuckDBPyConnection, scores: Sequence[Score], scheme: Scheme) -> None:
    """Rewrite ``marts.whatif_subsidy`` from the annual scores and the plans' central subsidy: the
    ``'all'`` pool and each prefecture's."""
    _upgrade(con)
    con.execute(f"delete from {TABLE}")
    central_rows = con.execute(
        """
        select p.plan_year, c.county_code, c.county_name, c.sort_order, c.prefecture_code,
               sum(coalesce(p.central_subsidy_wan_yuan, 0)) as central
        from core.plan_rows as p
        inner join staging.counties as c using (county_code)
        group by all
        having sum(coalesce(p.central_subsidy_wan_yuan, 0)) > 0
        order by p.plan_year, c.sort_order
        """
    ).fetchall()
    annual = {(s.county_code, s.year): s for s in scores if s.kind == "annual"}
    rows = []
    for year in sorted({r[0] for r in central_rows}):
        of_year = [r for r in central_rows if r[0] == year]
        label = next((annual[(r[1], year)].as_of_label for r in of_year if (r[1], year) in annual), "")
        pools = [(ALL, of_year)] + [(p, [r for r in of_year if r[4] == p]) for p in sorted({r[4] for r in of_year if r[4]})]
        for pool, members in pools:
            central = {r[1]: float(r[5]) for r in members}
            got = {c: (annual[(c, year)].total if (c, year) in annual else None) for c in central}
            meta = {r[1]: r for r in members}
            for x in split_performance_share(central, got, scheme.performance_share):
                m = meta[x.county_code]
                rows.append((pool, x.county_code, m[2], m[3], year, x.central_subsidy_wan_yuan,
                             scheme.performance_share, x.base_share_wan_yuan, x.score, x.weight, x.share_wan_yuan,
                             x.change_wan_yuan, scheme.version, label))
    from pipelines.warehouse import insert_rows

    insert_rows(con, TABLE, rows)


def _upgrade(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse of an earlier version holds the mart without ``pool`` (reported by
    ``pipelines.warehouse.schema_behind``): the refresh rewrites it whole anyway, so it is dropped and
    made again as declared, in the refresh's transaction."""
    from pipelines.warehouse import column_names, models

    if "pool" in column_names(con, TABLE):
        return

    con.execute(f"drop table if exists {TABLE}")
    con.execute(next(m.sql for m in models() if m.table == TABLE))


def query(con: duckdb.DuckDBPyConnection, year: int, pool: str = ALL):
    """The what-if rows of one year and pool (``'all'`` or a prefecture code) as the mart holds them, in
    counties.csv order (a Polars frame; ``county_code`` last)."""
    import polars as pl

    cur = con.execute(
        """
        select county_name, central_subsidy_wan_yuan, base_share_wan_yuan, score, share_wan_yuan,
               change_wan_yuan, performance_share, scheme_version, as_of_label, county_code
        from marts.whatif_subsidy
        where year = $year and pool = $pool
        order by sort_order
        """,
        {"year": year, "pool": pool},
    )
    cols = [c[0] for c in cur.description]
    return pl.DataFrame(cur.fetchall(), schema=cols, orient="row")
