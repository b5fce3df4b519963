"""Password hashes: argon2id through argon2-cffi (RFC 9106 low-memory profile), never by hand."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["hash_password", "verify_password", "check_policy", "DUMMY_HASH"]


@cache
def _hasher() -> PasswordHasher:
    # argon2id, 64 MiB, 3 passes, 4 lanes (argon2-cffi's default, RFC 9106's second recommendation)
    return PasswordHasher()


def hash_password(password: str) -> str:
    """The PHC string of an argon2id hash of ``password`` (salted)."""
    return _hasher().hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash (False for a malformed hash)."""
    try:
        return _hasher().verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _dummy() -> str:
    return hash_password("no account has this password")


def DUMMY_HASH() -> str:  # noqa: N802 — a value computed once
    """A hash to verify against when the user name is unknown, so that the answer takes as long."""
    return _dummy()


def check_policy(password: str, min_length: int, user_name: str = "") -> str | None:
    """A Chinese reason why ``password`` is not acceptable, or None."""
    if len(password) < min_length:
        return f"密码至少 {min_length} 个字符"
    if user_name and user_name.lower() in password.lower():
        return "密码不能包含用户名"
    if len(set(password)) < 4:
        return "密码过于简单"
    return None
