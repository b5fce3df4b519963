"""The session's scope, passed to every read function: what a role may see, and of which county.

A :class:`Scope` is small, frozen and hashable, so it is part of every cached query's key: a
clerk's results are never served to another role or county. It holds no user name (the cache
is shared by all sessions of the same role and county).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.access.roles import ROLES, allowed

__all__ = ["Scope", "Forbidden", "FORBIDDEN_MESSAGE", "requires"]

FORBIDDEN_MESSAGE = "无权访问"


class Forbidden(Exception):
    """The scope's role may not see or do this (message in Chinese, naming nothing it may not see)."""

    def __init__(self, message: str = FORBIDDEN_MESSAGE) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Scope:
    role: str
    county_code: str | None = None      # clerks: the one county they see

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if (self.role == "clerk") != (self.county_code is not None):
            raise ValueError("a clerk's scope has exactly one county; other roles have none")

    @property
    def is_county(self) -> bool:
        """Bound to one county (a clerk): nothing of another county, no prefecture totals."""
        return self.county_code is not None

    def can(self, area: str) -> bool:
        return allowed(self.role, area)

    def need(self, area: str) -> None:
        """Raise :class:`Forbidden` unless the role may see ``area`` (called before any query)."""
        if not self.can(area):
            raise Forbidden()

    def unit(self, requested: str | None) -> str | None:
        """The county a query filters on: the clerk's own whatever was asked for 全州 (None);
        another county is refused. Other roles get what they asked for."""
        if not self.is_county:
            return requested
        if requested not in (None, self.county_code):
            raise Forbidden()
        return self.county_code


def requires(area: str):
    """Decorate a read function whose first argument is the :class:`Scope`: refuse a role that
    may not see ``area`` before the cache is consulted and before any query runs."""
    import functools

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(scope: Scope, *args, **kwargs):
            if not isinstance(scope, Scope):
                raise TypeError(f"{fn.__name__} takes the session's Scope first")
            scope.need(area)
            return fn(scope, *args, **kwargs)

        for attr in ("clear",):
            if hasattr(fn, attr):
                setattr(wrapper, attr, getattr(fn, attr))
        return wrapper

    return deco
