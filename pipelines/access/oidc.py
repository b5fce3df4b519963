"""Optional single sign-on (Streamlit's OIDC log-in, ``st.login``): claims to a session user.

Off by default (``[oidc] enabled`` in access.toml). The identity provider names the user and
its roles in its claims; ``[oidc.roles]`` maps claim values to roles; a clerk also needs the
county claim. A user whose claims map to no role, or a clerk without a known county, is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipelines.access.auth import SessionUser
from pipelines.access.config import settings
from pipelines.counties import load_counties

__all__ = ["enabled", "user_from_claims", "PRECEDENCE"]

PRECEDENCE = ("admin", "auditor", "leader", "evaluator", "clerk")


def enabled() -> bool:
    return bool(settings().oidc.get("enabled", False))


def _values(claim) -> list[str]:
    if claim is None:
        return []
    if isinstance(claim, str):
        return [v for v in claim.replace(",", " ").split() if v]
    if isinstance(claim, (list, tuple, set)):
        return [str(v) for v in claim]
    return [str(claim)]


def user_from_claims(claims: Mapping, config: Mapping | None = None) -> tuple[SessionUser | None, str]:
    """The session user for an OIDC user's claims, or (None, a Chinese reason)."""
    cfg = dict(config if config is not None else settings().oidc)
    name = str(claims.get(cfg.get("user_claim", "preferred_username")) or claims.get("email") or claims.get("sub") or "")
    if not name:
        return None, "身份认证未提供用户名,无法登录。"
    mapping = {str(k): str(v) for k, v in dict(cfg.get("roles", {})).items()}
    roles = {mapping[v] for v in _values(claims.get(cfg.get("role_claim", "roles"))) if v in mapping}
    role = next((r for r in PRECEDENCE if r in roles), None)
    if role is None:
        return None, "您的统一身份认证账号未被授予本系统的角色,请联系系统管理员。"
    county = None
    if role == "clerk":
        county = str(claims.get(cfg.get("county_claim", "county_code")) or "")
        if county not in {c.code for c in load_counties()}:
            return None, "县市填报员的统一身份认证账号缺少所属县市,无法登录。"
    display = str(claims.get("name") or name)
    return SessionUser(f"sso:{name}", display, role, county, "oidc"), ""
