"""The access settings (``pipelines/config/access.toml``), with the idle timeout overridable for tests."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pipelines.settings import load_toml

__all__ = ["AccessSettings", "settings"]


@dataclass(frozen=True)
class AccessSettings:
    max_failed_logins: int
    lockout_seconds: int
    idle_seconds: int
    min_password_length: int
    account_recheck_seconds: int
    oidc: dict


def settings() -> AccessSettings:
    """The settings in force (the TOML is re-read when it changes)."""
    t = load_toml("access.toml")
    idle = int(float(t["idle_minutes"]) * 60)
    override = os.environ.get("RENOVATION_IDLE_SECONDS", "").strip()
    if override.isdigit() and int(override) > 0:
        idle = int(override)
    return AccessSettings(
        max_failed_logins=int(t["max_failed_logins"]),
        lockout_seconds=int(float(t["lockout_minutes"]) * 60),
        idle_seconds=idle,
        min_password_length=int(t["min_password_length"]),
        account_recheck_seconds=int(t.get("account_recheck_seconds", 60)),
        oidc=dict(t.get("oidc", {})),
    )
