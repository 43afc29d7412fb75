"""Bearer tokens stored as SHA-256 hashes, the principal they name, and role dependencies."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from api import store
from api.problems import ApiProblem


class Role(StrEnum):
    """Who calls: a region, a department, a collaboration's chair, the specialist unit, admin."""

    REGION = "region"
    DEPARTMENT = "department"
    COLLABORATION_CHAIR = "collaboration_chair"
    SPECIALIST_UNIT = "specialist_unit"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The caller a valid token names, with the scope its role is limited to."""

    token_id: int
    name: str
    role: Role
    region: str | None = None
    department_id: str | None = None
    collaboration: str | None = None


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
) -> tuple[str, int]:
    """A new random token and its id; only the hash is stored, and the creation is audited."""
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
        )
        .returning(store.api_tokens.c.token_id)
    ).scalar_one()
    after = {"name": name, "role": role.value, "region": region}
    after |= {"department_id": department_id, "collaboration": collaboration}
    store.append_audit(connection, None, "CLI", "token create", str(token_id), after=after)
    return token, token_id


def engine(request: Request) -> Engine:
    """The app's database engine (for routes that call capacity.storage, which opens its own)."""
    bound: Engine = request.app.state.engine
    return bound


def connection(request: Request) -> Iterator[Connection]:
    """A database connection in one transaction, committed when the request succeeds."""
    with request.app.state.engine.begin() as conn:
        yield conn


_bearer = HTTPBearer(auto_error=False)


def principal(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    bound: Engine = Depends(engine),
) -> Principal:
    """The caller named by the bearer token; 401 when it is missing or unknown."""
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
    return Principal(
        token_id=row.token_id,
        name=row.name,
        role=Role(row.role),
        region=row.region,
        department_id=row.department_id,
        collaboration=row.collaboration,
    )


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting only ``roles`` (403 for any other valid token)."""

    def _check(who: Principal = Depends(principal)) -> Principal:
        if who.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise ApiProblem(403, f"role {who.role.value} may not do this; allowed: {allowed}")
        return who

    return _check
