"""Great Expectations gate: one validation run per kind and batch over all its rows.

The suites (``expectations/ingest.py``) run through a file-backed GX context beside the
warehouse (one per warehouse file), so that every run is kept and can be rendered in GX Data
Docs; the results are also stored in ``raw.validation_results``, which the dashboard's 数据质量
page renders itself (in Chinese, without loading GX). GX is imported only when there is something to validate.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import polars as pl

if TYPE_CHECKING:
    import pyarrow as pa

from expectations.gx import DEFERRED_MODULES, _Deferred, defer_module, import_gx  # noqa: F401 — re-exported
from pipelines.backend import locate

log = logging.getLogger(__name__)

__all__ = ["RowIssue", "validate_batch", "docs_index", "run_suite", "build_docs", "docs_stale", "import_gx", "evaluate_signal_suites"]



@dataclass(frozen=True)
class RowIssue:
    row_key: int
    field: str          # English field name (county for county_code)
    description: str    # the expectation's Chinese description
    expectation: str


def _gx_dir(db_path) -> Path:
    """The GX project of one warehouse: ``gx/<warehouse file name>`` beside an embedded file, so
    that two warehouses in one folder never share (nor show) each other's validation runs; a
    DuckLake's in its own local folder (``pipelines.backend.Location.side_dir``)."""
    loc = locate(db_path)
    if loc.is_lake:
        return loc.side_dir / "gx"
    return loc.file.resolve().parent / "gx" / loc.file.name


def docs_index(db_path: Path) -> Path | None:
    """The GX Data Docs index page of the warehouse at db_path, when it has been built."""
    p = _gx_dir(db_path) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return p if p.exists() else None


_CONTEXTS: dict[Path, object] = {}


def _context(db_path: Path | None):
    """The GX context of the warehouse at ``db_path`` (file-backed beside it; built once per
    process and warehouse, since reading its configuration costs a tenth of a second), or an
    ephemeral one."""
    gx = import_gx()
    if db_path is None or str(db_path) == ":memory:":
        return gx.get_context(mode="ephemeral")
    root = _gx_dir(db_path)
    ctx = _CONTEXTS.get(root)
    if ctx is None or not (root / "gx").is_dir():
        root.mkdir(parents=True, exist_ok=True)
        ctx = _CONTEXTS[root] = gx.get_context(mode="file", project_root_dir=str(root))
    else:
        # GX runs validations through its one active context: make this one active again
        from great_expectations.data_context.data_context.context_factory import project_manager

        project_manager.set_project(ctx)
    return ctx


_RUNNER = None


def runner():
    """The in-memory GX context suites are built and run in (made the active one). Its data
    sources live in memory: on the warehouse's file-backed context every new data source or
    asset rewrites its YAML configuration. Results are kept in the file-backed context."""
    global _RUNNER
    gx = import_gx()
    if _RUNNER is None:
        _RUNNER = gx.get_context(mode="ephemeral")
    else:
        from great_expectations.data_context.data_context.context_factory import project_manager

        project_manager.set_project(_RUNNER)
    return _RUNNER


def batch_definition(source: str, asset: str):
    """The whole-dataframe batch definition of ``source``/``asset`` in :func:`runner`."""
    ctx = runner()
    try:
        ds = ctx.data_sources.get(source)
    except (KeyError, ValueError, LookupError):
        ds = ctx.data_sources.add_pandas(source)
    try:
        return ds.get_asset(asset).get_batch_definition("all")
    except (KeyError, ValueError, LookupError):
        return ds.add_dataframe_asset(asset).add_batch_definition_whole_dataframe("all")


def run_suite(ctx, bd, suite, df: pd.DataFrame, result_format: dict, run_name: str, stored: bool) -> list:
    """Validate ``df`` with ``suite``; with ``stored``, the result is kept in the validation
    results store of ``ctx`` (file-backed) for the Data Docs (rendered by :func:`build_docs`).

    The run is not made a stored ValidationDefinition, nor is the suite stored on every run:
    both cost a tenth of a second per run in GX's serialisation. The suites are code; the
    current ones are stored when the Data Docs are rendered (:func:`build_docs`), and each
    kept result carries the expectations it was run with."""
    import_gx()
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    with contextlib.redirect_stderr(io.StringIO()):  # GX draws progress bars on stderr
        batch = bd.get_batch(batch_parameters={"dataframe": df})
        result = batch.validate(suite, result_format=result_format)
    if stored:
        run_id = RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.timezone.utc))
        result.meta["run_id"] = run_id
        result.meta["validation_time"] = run_id.run_time
        suite_id = ExpectationSuiteIdentifier(name=suite.name)
        key = ValidationResultIdentifier(expectation_suite_identifier=suite_id, run_id=run_id,
                                         batch_identifier=batch.id)
        ctx.validation_results_store.store_validation_results(result, key, suite_id)
    return result.results


def _validations_dir(db_path: Path) -> Path:
    return _gx_dir(db_path) / "gx" / "uncommitted" / "validations"


def docs_stale(db_path: Path) -> bool:
    """True when validation runs were kept after the Data Docs were last rendered."""
    runs = _validations_dir(db_path)
    if not runs.exists():
        return False
    index = docs_index(db_path)
    newest = max((p.stat().st_mtime for p in runs.rglob("*.json")), default=0.0)
    return index is None or newest > index.stat().st_mtime


def current_suites(today: dt.date | None = None) -> list:
    """Every suite the system runs, as the code defines them today: ingest, then signals."""
    import_gx()
    from expectations.ingest import build_suite
    from expectations.signals import build_suites
    from pipelines.signals import rule_thresholds

    today = today or dt.date.today()
    return [build_suite(kind, today) for kind in ("ledger", "plan", "monthly")] + [
        spec.suite for spec in build_suites(rule_thresholds())]


def build_docs(db_path: Path) -> Path | None:
    """Render the GX Data Docs of every kept validation run of this warehouse, with the current
    suites; the index page."""
    ctx = _context(db_path)
    with contextlib.redirect_stderr(io.StringIO()):
        for suite in current_suites():
            ctx.suites.add_or_update(suite)
        ctx.build_data_docs()
    return docs_index(db_path)


def _prepare(frame: pl.DataFrame, suite) -> pd.DataFrame:
    """The columns the suite reads: date columns as day numbers, absent columns as nulls."""
    needed = {e.column for e in suite.expectations}
    errors = [c for c in frame.columns if c.endswith("__error")]
    unreadable = (
        pl.concat_list([pl.when(pl.col(c).is_not_null()).then(pl.lit(c.removesuffix("__error"))) for c in errors])
        .list.drop_nulls().list.join(",")
    ) if errors else pl.lit(None, pl.String)
    frame = frame.with_columns(unreadable.alias("unreadable_fields"))
    frame = frame.with_columns(pl.when(pl.col("unreadable_fields") == "").then(None)
                               .otherwise(pl.col("unreadable_fields")).alias("unreadable_fields"))
    cols = []
    for name in needed:
        if name in frame.columns:
            continue
        if name.endswith("__day") and name[:-5] in frame.columns:
            cols.append((pl.col(name[:-5]).cast(pl.Date).cast(pl.Int32) + 719163).alias(name))  # proleptic ordinal
        else:
            cols.append(pl.lit(None, pl.String if name.endswith("__error") else pl.Float64).alias(name))
    frame = frame.with_columns(cols) if cols else frame
    keep = ["row_key", *sorted(needed)]
    return frame.select(keep).to_pandas()


def validate_batch(
    kind: str, frame: pl.DataFrame, batch_id: str, db_path: Path | None, today: dt.date
) -> tuple[list[RowIssue], list[dict]]:
    """Validate all rows of one kind of this batch; returns the failing rows and a summary per expectation."""
    gx = import_gx()
    from expectations.ingest import build_suite

    store = _context(db_path) if db_path is not None else None
    bd = batch_definition("submissions", kind)  # makes the runner the active context
    suite_def = build_suite(kind, today)
    df = _prepare(frame, suite_def)
    name = f"ingest_{kind}"
    # Two passes: the whole suite with counts (kept for the Data Docs), then only the
    # expectations that failed, again, for every failing row's key. Listing the rows is a third
    # of a run's cost, and most expectations of most batches fail no row.
    results = run_suite(store, bd, suite_def, df, {"result_format": "BASIC"}, batch_id, stored=store is not None)
    summary: list[dict] = []
    now = dt.datetime.now()
    failing: set[tuple[str, str]] = set()
    for r in results:
        cfg = r.expectation_config
        column = cfg.kwargs.get("column")
        res = r.result or {}
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(f"validation of {column} failed: {r.exception_info.get('exception_message')}")
        summary.append({
            "batch_id": batch_id, "kind": kind, "suite_name": name, "expectation": cfg.type,
            "description": cfg.description, "column_name": column, "success": bool(r.success),
            "element_count": res.get("element_count"), "unexpected_count": res.get("unexpected_count"),
            "validated_at": now,
        })
        if not r.success or res.get("unexpected_count"):
            failing.add((cfg.type, column))
    if not failing:
        return [], summary
    again = [e for e in build_suite(kind, today).expectations if (e.expectation_type, e.column) in failing]
    rows_suite = gx.ExpectationSuite(name=f"{name}_rows", expectations=again)
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": ["row_key"]}
    issues: list[RowIssue] = []
    for r in run_suite(None, bd, rows_suite, df, result_format, batch_id, stored=False):
        cfg = r.expectation_config
        column = cfg.kwargs.get("column")
        field = column.split("__")[0]
        field = "county" if field == "county_code" else field
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(f"validation of {column} failed: {r.exception_info.get('exception_message')}")
        for item in (r.result or {}).get("unexpected_index_list") or []:
            if column == "unreadable_fields":  # one issue per cell that could not be read
                for unreadable in str(item["unreadable_fields"]).split(","):
                    unreadable = "county" if unreadable == "county_code" else unreadable
                    issues.append(RowIssue(int(item["row_key"]), unreadable, cfg.description or "", cfg.type))
            else:
                issues.append(RowIssue(int(item["row_key"]), field, cfg.description or "", cfg.type))
    return issues, summary


def evaluate_signal_suites(tables: dict[str, pa.Table], thresholds: dict[str, dict[str, float]], db_path: Path | None):
    """Run the signal suites over their derived tables (``tables`` by table name: the suites of the
    tables given; an incremental refresh gives one county's rows of one); with ``db_path``, the runs
    are kept beside that warehouse for its Data Docs."""
    from expectations.signals import build_suites


    logging.getLogger("great_expectations").setLevel(max(logging.WARNING, log.getEffectiveLevel()))
    # every run kept beside the warehouse (as ingest's) for its Data Docs
    store = _context(db_path) if db_path is not None else None
    runner()  # the active context while the suites are built
    specs = build_suites(thresholds)
    hits: list[tuple[str, str, str, str]] = []   # rule, suite, expectation, row id
    counts: dict[str, dict[str, Any]] = {}
    results: list[tuple] = []
    columns: dict[str, tuple[str, str]] = {}      # "RULE|index column" -> (score column, evidence column)
    now = dt.datetime.now()
    for spec in (s for s in specs if s.table in tables):
        # GX leaves a description equal to its class default out of the results' configuration
        described = {(e.expectation_type, e.column): e.description for e in spec.suite.expectations}
        for e in spec.suite.expectations:
            columns[f"{type(e).rule}|{spec.index_column}"] = (type(e).score_column, type(e).evidence_column)
        df = tables[spec.table].select(list(spec.columns)).to_pandas()
        bd = batch_definition("signals", spec.name)
        result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": [spec.index_column]}
        outcomes = run_suite(store, bd, spec.suite, df, result_format, f"signals-{now:%Y%m%dT%H%M%S}",
                             stored=store is not None)
        assessable: dict[str, set] = {}
        for r in outcomes:
            cfg = r.expectation_config
            if r.exception_info and r.exception_info.get("raised_exception"):
                raise RuntimeError(f"signal expectation {cfg.type} failed: {r.exception_info.get('exception_message')}")
            rule = cfg.meta["rule"]
            res = r.result or {}
            column = cfg.kwargs.get("column")
            results.append((spec.name, cfg.type, rule, cfg.description or described.get((cfg.type, column)) or "", column,
                            json.dumps({k: v for k, v in cfg.kwargs.items() if k != "batch_id"}, ensure_ascii=False),
                            bool(r.success), res.get("element_count"), res.get("missing_count"),
                            res.get("unexpected_count"), now))
            ids = [item[spec.index_column] for item in res.get("unexpected_index_list") or []]
            hits += [(rule, spec.name, cfg.type, i) for i in ids]
            present = set(df.loc[df[column].notna(), spec.index_column]) if column in df else set()
            assessable.setdefault(rule, set()).update(present)
        for rule, ids in assessable.items():
            c = counts.setdefault(rule, {"assessable": 0, "units": set(), "rows": 0})
            c["assessable"] += len(ids)
            c["rows"] += len(df)
            c["units"].add("gx_plan" if spec.index_column == "plan_row_id" else "gx_report")
    return hits, counts, results, columns
