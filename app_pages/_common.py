"""What every page shares: the global filters held in session state and the error guard."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from pipelines.read.connection import DataUnavailable
from pipelines.read.filters import units

log = logging.getLogger("dashboard")

YEAR_KEY = "filter_year"
UNIT_KEY = "filter_unit"


@dataclass(frozen=True)
class Filters:
    year: int | None
    unit: str | None          # county code; None = the whole prefecture
    unit_name: str            # 全州 or the unit's canonical name


def filters() -> Filters:
    """The global year and unit chosen in the sidebar (dashboard.py)."""
    year = st.session_state.get(YEAR_KEY)
    unit = st.session_state.get(UNIT_KEY)
    name = "全州"
    if unit:
        try:
            names = dict(units().select("county_code", "county_name").iter_rows())
            name = names.get(unit, unit)
        except DataUnavailable:
            name = unit
    return Filters(year=year, unit=unit, unit_name=name)


@contextmanager
def guarded(what: str = "本页"):
    """Show a missing-data notice or a short Chinese error instead of a stack trace."""
    try:
        yield
    except DataUnavailable as exc:
        st.info(str(exc), icon=":material/info:")
    except Exception:  # script-control exceptions (st.stop, st.rerun) derive from BaseException and pass
        log.exception("page error in %s", what)
        st.error(icon=":material/error:", body=f"{what}加载失败:数据暂时无法读取。请稍后刷新;若问题持续,请联系系统管理员(详情见服务器日志)。")


def need_year(f: Filters) -> None:
    if f.year is None:
        st.info("数据仓库中还没有年度计划数据。请先在「数据上报」页上传台账、计划和月报。", icon=":material/info:")
        st.stop()
