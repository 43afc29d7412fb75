"""The caller a bearer token names, and the access table as FastAPI dependencies.

Roles, principals and the access table live in :mod:`workflow.access`, tokens themselves in
:mod:`workflow.tokens`; this module turns an ``Authorization: Bearer`` header into a
:class:`Principal` and each action into a dependency (:func:`allow`).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from api.problems import ApiProblem
from workflow import tables
from workflow.access import Action, Principal, check
from workflow.access import Role as Role  # re-exported: the review page imports it from here
from workflow.tokens import token_hash, token_principal, token_refusal


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
            sa.select(tables.api_tokens).where(tables.api_tokens.c.token_hash == digest)
        ).first()
    # Looked up by hash; the constant-time compare keeps the final check timing-independent.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise ApiProblem(
            401, "the bearer token is not known; create one with kapacitet token create"
        )
    refusal = token_refusal(row.revoked_at, row.expires_at)
    if refusal is not None:
        raise ApiProblem(401, refusal)
    return token_principal(row)


def allow(action: Action) -> Callable[[Principal], Principal]:
    """A dependency admitting the roles the access table (:mod:`workflow.access`) allows."""

    def _check(who: Principal = Depends(principal)) -> Principal:
        return check(who, action)

    return _check
