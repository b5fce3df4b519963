"""Where the system's files are: the configuration folder, the SQL models, the app, the data.

Every TOML and CSV the code reads lives in ``pipelines/config/``; modules take their paths
from here rather than each working out its own. Run from the repository, ``ROOT`` is the
repository; installed from the wheel, the SQL models, the dashboard and its pages travel inside
the package (``pipelines/_bundle``, see pyproject.toml) and the default warehouse is
``warehouse/renovation.duckdb`` under the working directory.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "CONFIG_DIR", "WAREHOUSE_DIR", "DATA_DIR", "config_path", "load_toml"]

PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLE = PACKAGE_DIR / "_bundle"
INSTALLED = _BUNDLE.is_dir()
# the folder holding dashboard.py, app_pages/ and warehouse/<schema>/*.sql
ROOT = _BUNDLE if INSTALLED else PACKAGE_DIR.parent
CONFIG_DIR = PACKAGE_DIR / "config"
WAREHOUSE_DIR = ROOT / "warehouse"
# where the default warehouse file lives: beside the SQL in a checkout, else the working directory
DATA_DIR = Path("warehouse").resolve() if INSTALLED else WAREHOUSE_DIR


def config_path(name: str) -> Path:
    """A file of the configuration folder, e.g. ``config_path("limits.toml")``."""
    return CONFIG_DIR / name


@cache
def _load(path: str, mtime_ns: int) -> dict[str, Any]:
    with open(path, "rb") as f:
        return tomllib.load(f)


def load_toml(name: str | Path) -> dict[str, Any]:
    """A TOML file of the configuration folder (or a path), re-read when the file changes."""
    path = Path(name) if isinstance(name, Path) else config_path(name)
    return _load(str(path), path.stat().st_mtime_ns)
