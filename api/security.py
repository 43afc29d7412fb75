"""Bearer tokens stored as SHA-256 hashes, the principal they name, and access dependencies.

Roles, principals and the access table live in :mod:`workflow.access`; this module turns a
bearer token into a :class:`Principal` and the table into FastAPI dependencies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from api import store
from api.problems import ApiProblem
from api.web_sessions import end_token_sessions
from workflow.access import Action, Principal, Role, check


def token_hash(token: str) -> str:
    """The stored form of a token: its SHA-256 hex digest (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    connection: Connection,
    role: Role,
    name: str,
    *,
    region: str | None = None,
    department_id: str | None = None,
    collaboration: str | None = None,
    expires_at: dt.datetime | None = None,
    who: Principal | None = None,
    path: str = "token create",
) -> tuple[str, int]:
    """A new random token and its id; only the hash is stored, and the creation is audited.

    ``expires_at`` (timezone-aware) ends it; ``who`` is the admin creating it over the API
    (``None`` from the command line, audited as ``CLI``).
    """
    token = secrets.token_urlsafe(32)
    token_id = connection.execute(
        store.api_tokens.insert()
        .values(
            token_hash=token_hash(token),
            name=name,
            role=role.value,
            region=region,
            department_id=department_id,
            collaboration=collaboration,
            created_at=store.now(),
            expires_at=expires_at,
        )
        .returning(store.api_tokens.c.token_id)
    ).scalar_one()
    store.append_audit(
        connection,
        who,
        "CLI" if who is None else "POST",
        path,
        str(token_id),
        after=token_info(connection, token_id),
    )
    return token, token_id


def token_info(connection: Connection, token_id: int) -> dict[str, Any]:
    """A stored token as JSON (never its hash): id, name, role, scope, created, expiry, revoked."""
    row = connection.execute(
        sa.select(store.api_tokens).where(store.api_tokens.c.token_id == token_id)
    ).first()
    if row is None:
        raise ApiProblem(404, f"no token {token_id}")
    return {
        k: v.isoformat() if isinstance(v, dt.datetime) else v
        for k, v in row._mapping.items()
        if k != "token_hash"
    }


def list_tokens(connection: Connection) -> list[dict[str, Any]]:
    """Every token (never its hash), oldest first."""
    ids = connection.execute(
        sa.select(store.api_tokens.c.token_id).order_by(store.api_tokens.c.token_id)
    ).scalars()
    return [token_info(connection, token_id) for token_id in ids]


def revoke_token(
    connection: Connection, token_id: int, *, who: Principal | None = None, path: str = ""
) -> dict[str, Any]:
    """Revoke a token now (audited; revoking it again changes nothing); 404 for an unknown id."""
    before = token_info(connection, token_id)
    if before["revoked_at"] is None:
        connection.execute(
            store.api_tokens.update()
            .where(store.api_tokens.c.token_id == token_id)
            .values(revoked_at=store.now())
        )
        # Every lookup refuses a revoked token's sessions already; this records their end.
        end_token_sessions(connection, token_id)
        after = token_info(connection, token_id)
        store.append_audit(
            connection,
            who,
            "CLI" if who is None else "DELETE",
            path or "token revoke",
            str(token_id),
            before=before,
            after=after,
        )
        return after
    return before


_DURATION = re.compile(r"^(\d+)([hdw])$")


def parse_duration(text: str) -> dt.timedelta:
    """``90d``, ``12h`` or ``2w`` as a timedelta; ValueError naming the expected form."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"expected a duration such as 90d, 12h or 2w, got {text!r}")
    unit = {"h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
    return dt.timedelta(**{unit: int(match.group(1))})


def engine(request: Request) -> Engine:
    """The app's database engine (for routes that call capacity.storage, which opens its own)."""
    bound: Engine = request.app.state.engine
    return bound


def connection(request: Request) -> Iterator[Connection]:
    """A database connection in one transaction, committed when the request succeeds.

    Declare it ``Depends(connection, scope="function")``: the commit then happens before the
    response is sent, so a client that got 200 reads its own write in its next request (the
    default scope commits after the response has left).
    """
    with request.app.state.engine.begin() as conn:
        yield conn


_bearer = HTTPBearer(auto_error=False)


def principal(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    bound: Engine = Depends(engine),
) -> Principal:
    """The caller named by the bearer token; 401 when it is missing, unknown, expired or
    revoked."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiProblem(401, "send 'Authorization: Bearer <token>' (kapacitet token create)")
    digest = token_hash(credentials.credentials)
    # A short transaction of its own: SQLite must not hold a read lock while a route writes.
    with bound.begin() as conn:
        row = conn.execute(
            sa.select(store.api_tokens).where(store.api_tokens.c.token_hash == digest)
        ).first()
    # Looked up by hash; the constant-time compare keeps the final check timing-independent.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise ApiProblem(
            401, "the bearer token is not known; create one with kapacitet token create"
        )
    if row.revoked_at is not None:
        raise ApiProblem(401, f"the bearer token was revoked at {row.revoked_at.isoformat()}")
    if row.expires_at is not None and row.expires_at <= store.now():
        raise ApiProblem(401, f"the bearer token expired at {row.expires_at.isoformat()}")
    return Principal(
        token_id=row.token_id,
        name=row.name,
        role=Role(row.role),
        region=row.region,
        department_id=row.department_id,
        collaboration=row.collaboration,
    )


def allow(action: Action) -> Callable[[Principal], Principal]:
    """A dependency admitting the roles the access table (:mod:`workflow.access`) allows."""

    def _check(who: Principal = Depends(principal)) -> Principal:
        return check(who, action)

    return _check


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting only ``roles`` (403 for any other valid token)."""

    def _check(who: Principal = Depends(principal)) -> Principal:
        if who.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise ApiProblem(403, f"role {who.role.value} may not do this; allowed: {allowed}")
        return who

    return _check
