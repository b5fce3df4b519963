"""Who may see and do what (spec access.md): accounts, log-in, roles and row scoping, the action log.

    roles        the five roles, what each may see (areas) and the pages of the dashboard
    scope        the session's scope (role, county) that every read query takes
    store        the access store: a small SQLite file beside the warehouse (accounts, log-in
                 attempts, action log; append-only tables, ``warehouse/access/*.sql``)
    passwords    argon2id hashes (argon2-cffi)
    accounts     local accounts: add, list, disable, enable, set a password
    auth         log-in with lock-out; the session's user
    action_log   the append-only log of actions, read with filters, written as CSV
    oidc         optional single sign-on: claims to roles
    commands     ``renovation users …`` and ``renovation log``
"""

from pipelines.access.roles import ROLE_LABELS, ROLES
from pipelines.access.scope import Forbidden, Scope

__all__ = ["ROLES", "ROLE_LABELS", "Scope", "Forbidden"]
