"""What every page shares: the session's guard and scope, the global filters held in session state,
the error guard, and the one helper that makes a user-derived string inert in Markdown."""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl
import streamlit as st

from app_pages._session import current, require, scope
from pipelines.access.scope import FORBIDDEN_MESSAGE, Forbidden
from pipelines.read.connection import DataUnavailable
from pipelines.read.filters import units

__all__ = ["UNIT_KEY", "YEAR_KEY", "PREFECTURE_KEY", "Filters", "filters", "guarded", "need_year", "plain", "require", "scope", "current",
           "table", "EMPTY_TABLE"]

log = logging.getLogger("dashboard")

YEAR_KEY = "filter_year"
UNIT_KEY = "filter_unit"
# a province warehouse (units of several prefectures): the prefecture chosen; None with one prefecture
PREFECTURE_KEY = "filter_prefecture"

# every ASCII punctuation character may be backslash-escaped in CommonMark, and then stands for
# itself: no link, image, emphasis, heading, list, HTML, Streamlit colour or icon directive
# (:red[…], :material/…:) or LaTeX ($…$) survives. GFM's autolink literals (http://…, www.…,
# name@host) are found in the text after escapes are resolved, so a zero-width space breaks them.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)")
ZWSP = "\u200b"


def plain(text: object) -> str:
    """A user-derived string (a community name, a cell, a file or sheet name, a message quoting
    them) made inert for ``st.markdown`` and every widget label that renders Markdown: shown
    exactly as written, on one line. Use it for every such string that is not in a table."""
    if text is None:
        return ""
    s = " ".join(str(text).split())  # one line: no list, heading or code block can start
    s = _AUTOLINK.sub(ZWSP, s)
    return _MD_SPECIAL.sub(r"\\\1", s)


@dataclass(frozen=True)
class Filters:
    year: int | None
    unit: str | None          # county code; None = the whole prefecture
    unit_name: str            # 全州 (of the prefecture chosen) or the unit's canonical name
    prefecture: str | None = None   # the prefecture chosen when the warehouse holds several; else None (every unit)


def filters() -> Filters:
    """The global year, prefecture and unit chosen in the sidebar (dashboard.py); a clerk's unit is
    its county (and no prefecture)."""
    year = st.session_state.get(YEAR_KEY)
    unit = st.session_state.get(UNIT_KEY)
    prefecture = st.session_state.get(PREFECTURE_KEY)
    sc = scope()
    if sc.is_county:
        unit, prefecture = sc.county_code, None
    name = "全州"   # a province warehouse: the prefecture chosen (its name is in the 州 select above)
    if unit:
        try:
            names = dict(units(sc).select("county_code", "county_name").iter_rows())
            name = names.get(unit, unit)
        except DataUnavailable:
            name = unit
    return Filters(year=year, unit=unit, unit_name=name, prefecture=prefecture)


@contextmanager
def guarded(what: str = "本页"):
    """Show a missing-data notice, 无权访问, or a short Chinese error instead of a stack trace."""
    try:
        yield
    except DataUnavailable as exc:
        st.info(str(exc), icon=":material/info:")
    except Forbidden:
        st.error(FORBIDDEN_MESSAGE, icon=":material/block:")
    except Exception:  # script-control exceptions (st.stop, st.rerun) derive from BaseException and pass
        log.exception("page error in %s", what)
        st.error(icon=":material/error:", body=f"{what}加载失败:数据暂时无法读取。请稍后刷新;若问题持续,请联系系统管理员(详情见服务器日志)。")


def need_year(f: Filters) -> None:
    if f.year is None:
        st.info("数据仓库中还没有年度计划数据。请先在「数据上报」页上传台账、计划和月报。", icon=":material/info:")
        st.stop()


#: what a table without rows says (Streamlit's grid would draw an English "empty")
EMPTY_TABLE = "(无记录)"
_MOMENT = (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S"))


def _as_text(col: pl.Series, cfg) -> tuple[pl.Series, object]:
    """A column with empty cells as text, formatted as its column config would show it: Streamlit's
    grid draws a missing value as an English "None"; here it stays blank."""
    label = cfg.get("label") if isinstance(cfg, dict) else cfg
    fmt = ((cfg or {}).get("type_config") or {}).get("format") if isinstance(cfg, dict) else None
    dtype = col.dtype
    if dtype.is_numeric():
        def one(v):
            if fmt and fmt.startswith("%"):
                return fmt % v
            return f"{v:,}" if isinstance(v, int) else f"{v:,.2f}".rstrip("0").rstrip(".")
        text = col.map_elements(one, return_dtype=pl.String, skip_nulls=True)
        new = st.column_config.TextColumn(label) if label is not None else None
        if isinstance(cfg, dict):
            new = {**new, "alignment": "right"} if new else new
        return text.fill_null(""), new if new is not None else cfg
    if dtype in (pl.Date, pl.Datetime) or isinstance(dtype, pl.Datetime):
        pattern = fmt or ("YYYY-MM-DD" if dtype == pl.Date else "YYYY-MM-DD HH:mm")
        for a, b in _MOMENT:
            pattern = pattern.replace(a, b)
        return col.dt.strftime(pattern).fill_null(""), st.column_config.TextColumn(label) if label is not None else cfg
    if dtype == pl.Boolean:
        return col.fill_null(False), cfg
    return col.cast(pl.String, strict=False).fill_null(""), cfg


def table(where, df, column_config: dict | None = None, **kwargs):
    """``where.dataframe(df, …)`` with no English in the grid: a table without rows says
    :data:`EMPTY_TABLE`, and missing values are blank instead of "None"."""
    if isinstance(df, pl.DataFrame):
        if df.is_empty():
            where.caption(EMPTY_TABLE)
            return None
        config = dict(column_config or {})
        cols = {}
        for name in df.columns:
            if config.get(name, "shown") is None or not df[name].null_count() or df[name].dtype.is_nested():
                continue
            cols[name], new = _as_text(df[name], config.get(name))
            if new is not None:
                config[name] = new
        if cols:
            df = df.with_columns(**cols)
        column_config = config
    return where.dataframe(df, column_config=column_config, **kwargs)
