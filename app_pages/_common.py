"""What every page shares: the session's guard and scope, the global filters held in session state,
the error guard, and the one helper that makes a user-derived string inert in Markdown."""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from app_pages._session import current, require, scope
from pipelines.access.scope import FORBIDDEN_MESSAGE, Forbidden
from pipelines.read.connection import DataUnavailable
from pipelines.read.filters import units

__all__ = ["UNIT_KEY", "YEAR_KEY", "Filters", "filters", "guarded", "need_year", "plain", "require", "scope", "current"]

log = logging.getLogger("dashboard")

YEAR_KEY = "filter_year"
UNIT_KEY = "filter_unit"

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
    unit_name: str            # 全州 or the unit's canonical name


def filters() -> Filters:
    """The global year and unit chosen in the sidebar (dashboard.py); a clerk's unit is its county."""
    year = st.session_state.get(YEAR_KEY)
    unit = st.session_state.get(UNIT_KEY)
    sc = scope()
    if sc.is_county:
        unit = sc.county_code
    name = "全州"
    if unit:
        try:
            names = dict(units(sc).select("county_code", "county_name").iter_rows())
            name = names.get(unit, unit)
        except DataUnavailable:
            name = unit
    return Filters(year=year, unit=unit, unit_name=name)


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
