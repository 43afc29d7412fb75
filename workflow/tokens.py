"""API tokens: create, list and revoke them (audited); only a token's SHA-256 hash is stored.

``kapacitet token ...`` and the admin's ``/v1/tokens`` routes both call these; turning a bearer
header into a :class:`~workflow.access.Principal` is the API's (:mod:`api.security`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection

from capacity.errors import Invalid
from capacity.storage import schema
from workflow import tables
from workflow.access import Principal, Role


class Token(BaseModel):
    """A stored token (its hash never leaves the database)."""

    token_id: int
    name: str
    role: Role
    region: str | None
    department_id: str | None
    collaboration: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    def audited(self) -> dict[str, Any]:
        """The token as the audit log records it: times in ISO form, the role's name."""
        return {
            k: v.isoformat() if isinstance(v, dt.datetime) else v
            for k, v in self.model_dump().items()
        } | {"role": self.role.value}


def token_hash(token: str) -> str:
    """The stored form of a token: its SHA-256 hex digest (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_refusal(revoked_at: dt.datetime | None, expires_at: dt.datetime | None) -> str | None:
    """Why a stored token signs nobody in any more (revoked, expired); ``None`` while valid.

    The bearer check (401 with this reason) and the review page's sessions both ask it.
    """
    if revoked_at is not None:
        return f"the bearer token was revoked at {revoked_at.isoformat()}"
    if expires_at is not None and expires_at <= tables.now():
        return f"the bearer token expired at {expires_at.isoformat()}"
    return None


def token_principal(row: Any) -> Principal:
    """The caller a stored token's row names: its id, name, role and scope."""
    return Principal(
        token_id=row.token_id,
        name=row.name,
        role=Role(row.role),
        region=row.region,
        department_id=row.department_id,
        collaboration=row.collaboration,
    )


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
        tables.api_tokens.insert()
        .values(
            token_hash=token_hash(token),
            name=name,
            role=role.value,
            region=region,
            department_id=department_id,
            collaboration=collaboration,
            created_at=tables.now(),
            expires_at=expires_at,
        )
        .returning(tables.api_tokens.c.token_id)
    ).scalar_one()
    tables.append_audit(
        connection,
        who,
        "CLI" if who is None else "POST",
        path,
        str(token_id),
        after=token_info(connection, token_id).audited(),
    )
    return token, token_id


def token_info(connection: Connection, token_id: int) -> Token:
    """A stored token (never its hash): id, name, role, scope, created, expiry, revoked."""
    return tables.stored(connection, tables.api_tokens, token_id, Token, "token")


def list_tokens(connection: Connection) -> list[Token]:
    """Every token (never its hash), oldest first, in one query."""
    rows = connection.execute(sa.select(tables.api_tokens).order_by(tables.api_tokens.c.token_id))
    return [tables.record(Token, row) for row in rows]


def revoke_token(
    connection: Connection, token_id: int, *, who: Principal | None = None, path: str = ""
) -> Token:
    """Revoke a token now and end its review-page sessions (audited; revoking it again changes
    nothing); :class:`~capacity.errors.NotFound` for an unknown id."""
    before = token_info(connection, token_id)
    if before.revoked_at is None:
        connection.execute(
            tables.api_tokens.update()
            .where(tables.api_tokens.c.token_id == token_id)
            .values(revoked_at=tables.now())
        )
        # Every lookup refuses a revoked token's sessions already; this records their end.
        tables.end_token_sessions(connection, token_id)
        after = token_info(connection, token_id)
        tables.append_audit(
            connection,
            who,
            "CLI" if who is None else "DELETE",
            path or "token revoke",
            str(token_id),
            before=before.audited(),
            after=after.audited(),
        )
        return after
    return before


_DURATION = re.compile(r"^([0-9]{1,6})([hdw])$")
#: The longest life a token may be given (``--expires-in``, ``expires_in``): a century.
MAX_LIFETIME = dt.timedelta(days=36_525)


def parse_duration(text: str) -> dt.timedelta:
    """``90d``, ``12h`` or ``2w`` as a timedelta, at most :data:`MAX_LIFETIME`; ValueError
    naming the expected form (never an overflow of the date an expiry would fall on)."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"expected a duration such as 90d, 12h or 2w, got {text!r}")
    unit = {"h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
    lifetime = dt.timedelta(**{unit: int(match.group(1))})
    if lifetime > MAX_LIFETIME:
        raise ValueError(f"a token lives at most {MAX_LIFETIME.days}d (a century), got {text!r}")
    return lifetime


def check_department(connection: Connection, department_id: str | None) -> None:
    """:class:`~capacity.errors.Invalid` on ``department_id`` when no such department is
    stored (a department's token must name one)."""
    if department_id is None:
        return
    known = connection.execute(
        sa.select(schema.departments.c.department_id).where(
            schema.departments.c.department_id == department_id
        )
    ).first()
    if known is None:
        raise Invalid(
            f"no department {department_id!r}",
            errors=[{"field": "department_id", "message": "unknown department"}],
        )
