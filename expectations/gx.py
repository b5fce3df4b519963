"""Importing Great Expectations, once per process, without the modules it loads at start-up
only for features our suites never use.

Every module of ours that uses GX imports it through :func:`import_gx`, so that whichever
comes first (the suites, validation, the GX service) the deferral is in place.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import types

__all__ = ["DEFERRED_MODULES", "defer_module", "import_gx"]

# Modules Great Expectations imports at start-up only for features our suites never use
# (scipy.stats: the distribution tests, 1.5 s; altair: charts in rendered profiles, 0.25 s).
# They stand in until first used, so that every ingest does not pay for them at its start.
DEFERRED_MODULES = ("scipy.stats", "altair")


class _Deferred(types.ModuleType):
    """Stands in for a module in ``sys.modules`` until one of its attributes is first used; the
    real module is imported then and every access is passed on to it."""

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr != "__path__":
            raise AttributeError(attr)
        real = self.__dict__.get("_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = self.__dict__["_real"] = importlib.import_module(self.__name__)
        return getattr(real, attr)


def defer_module(name: str) -> None:
    """Put a stand-in for ``name`` in ``sys.modules``, unless it is imported already."""
    if name not in sys.modules:
        sys.modules[name] = _Deferred(name)


def import_gx():
    """Import Great Expectations (once per process), without the start-up cost of the modules
    it only needs for expectations our suites do not use."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    first = "great_expectations" not in sys.modules
    if first:
        for name in DEFERRED_MODULES:
            defer_module(name)
    import great_expectations

    if first:
        _quiet_gx_loggers()
    return great_expectations


def _quiet_gx_loggers() -> None:
    """Some GX modules set their own logger to INFO when imported, which prints English lines
    (``Created temporary directory … for ephemeral docs site``) past the program's WARNING level
    into a clerk's or operator's output: they follow the program's logging configuration instead."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.startswith("great_expectations") and isinstance(logger, logging.Logger) and logger.level == logging.INFO:
            logger.setLevel(logging.NOTSET)
