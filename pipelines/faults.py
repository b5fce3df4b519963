"""Fault points: named places in an import where a test can make the process die or stall.

``RENOVATION_FAULT`` names one point, optionally with an action: ``refresh.core`` (the process
kills itself with SIGKILL there, as ``kill -9`` would), ``refresh.core:sleep=2`` (it stalls two
seconds there, e.g. to hold the warehouse while another upload queues). Unset, a point costs one
dictionary look-up. The fault-injection tests (tests/test_faults.py) name every point of
:data:`POINTS` in turn and check that the warehouse holds either all of an import or none of it.
"""

from __future__ import annotations

import os
import signal
import time

__all__ = ["POINTS", "reached"]

# in the order an import passes them (refresh.<step> after each step of pipelines.refresh.STEPS)
POINTS = ("hashed", "read", "validated", "locked", "written", "refresh.settings", "refresh.core", "refresh.links", "refresh.marts",
          "refresh.verdicts", "refresh.signals", "refresh.scores", "refreshed", "committed", "logged",
          "service.job")


def reached(point: str) -> None:
    """Die or stall here when ``RENOVATION_FAULT`` names this point."""
    spec = os.environ.get("RENOVATION_FAULT")
    if not spec:
        return
    name, _, action = spec.partition(":")
    if name != point:
        return
    if action.startswith("sleep="):
        time.sleep(float(action.removeprefix("sleep=")))
        return
    os.kill(os.getpid(), signal.SIGKILL)
