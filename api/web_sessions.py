"""Server-side sessions of the review page, and the checks every form post passes.

A session is opened by pasting a bearer token into the login form. The browser's cookie holds
only a random id; the ``web_sessions`` row holds its SHA-256 (a copy of the table gives no
working cookie), the token it was opened with, a CSRF secret and an expiry. A session ends at
its expiry, at logout (``revoked_at``), and as soon as its token is revoked or expires: every
look-up checks the token anew, so no page outlives its token.

A form post is accepted only when it comes from this site (its ``Origin``, else its
``Referer``, names the host it was sent to) and carries its session's CSRF secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import Connection
from starlette.datastructures import URL, Headers

from capacity.storage import schema
from workflow import tables
from workflow.access import Principal
from workflow.tokens import token_principal, token_refusal

#: How long a review-page session lasts after login unless ``$KAPACITET_WEB_SESSION_HOURS``
#: says otherwise (the token's own expiry or revocation ends it sooner).
SESSION_HOURS = 8
SESSION_HOURS_ENV = "KAPACITET_WEB_SESSION_HOURS"

sessions = schema.web_sessions
tokens = schema.api_tokens


@dataclass(frozen=True)
class WebSession:
    """A live session: who it signs in, the CSRF secret its forms carry, and when it ends."""

    who: Principal
    csrf: str
    expires_at: dt.datetime


def session_lifetime() -> dt.timedelta:
    """How long a new session lasts: ``$KAPACITET_WEB_SESSION_HOURS`` or 8 hours."""
    hours = os.environ.get(SESSION_HOURS_ENV, "").strip()
    if not hours:
        return dt.timedelta(hours=SESSION_HOURS)
    if not hours.isdigit() or int(hours) == 0:
        raise ValueError(f"{SESSION_HOURS_ENV} must be a whole number of hours, got {hours!r}")
    return dt.timedelta(hours=int(hours))


def session_hash(session_id: str) -> str:
    """The stored form of a session id: its SHA-256 hex digest."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(connection: Connection, who: Principal) -> tuple[str, WebSession]:
    """A new session for ``who`` (already checked): the cookie's random id and the session.

    Sessions whose expiry has passed are deleted on the way; a revoked one stays until then.
    """
    now = tables.now()
    connection.execute(sessions.delete().where(sessions.c.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    session = WebSession(
        who=who, csrf=secrets.token_urlsafe(32), expires_at=now + session_lifetime()
    )
    connection.execute(
        sessions.insert().values(
            session_hash=session_hash(session_id),
            token_id=who.token_id,
            csrf=session.csrf,
            created_at=now,
            expires_at=session.expires_at,
        )
    )
    return session_id, session


def find_session(connection: Connection, session_id: str) -> WebSession | None:
    """The live session ``session_id`` names; None when it is unknown, expired, logged out, or
    its token has been revoked or has expired."""
    if not session_id:
        return None
    digest = session_hash(session_id)
    row = connection.execute(
        sa.select(
            sessions.c.session_hash,
            sessions.c.csrf,
            sessions.c.expires_at,
            tokens.c.token_id,
            tokens.c.name,
            tokens.c.role,
            tokens.c.region,
            tokens.c.department_id,
            tokens.c.collaboration,
            tokens.c.revoked_at.label("token_revoked_at"),
            tokens.c.expires_at.label("token_expires_at"),
        )
        .join(tokens, tokens.c.token_id == sessions.c.token_id)
        .where(
            sessions.c.session_hash == digest,
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > tables.now(),
        )
    ).first()
    if row is None or not hmac.compare_digest(row.session_hash, digest):
        return None
    if token_refusal(row.token_revoked_at, row.token_expires_at) is not None:
        return None
    return WebSession(who=token_principal(row), csrf=row.csrf, expires_at=row.expires_at)


def end_session(connection: Connection, session_id: str) -> None:
    """Revoke the session ``session_id`` names (logout): its cookie no longer signs in."""
    if session_id:
        connection.execute(
            sessions.update()
            .where(
                sessions.c.session_hash == session_hash(session_id),
                sessions.c.revoked_at.is_(None),
            )
            .values(revoked_at=tables.now())
        )


def csrf_matches(session: WebSession, sent: str) -> bool:
    """Whether a form's CSRF field is its session's secret (compared in constant time)."""
    return bool(sent) and hmac.compare_digest(session.csrf.encode(), sent.encode())


def same_origin(headers: Headers, url: URL) -> bool:
    """Whether a post comes from this site: ``Origin`` (else ``Referer``) names the request's
    own host; a post naming neither, or an opaque ``null`` origin, is refused.

    Behind a TLS-terminating proxy the request itself may read ``http`` while the browser says
    ``https``, so only an ``https`` request insists on an ``https`` origin; the proxy must pass
    the ``Host`` header through.
    """
    source = headers.get("origin") or headers.get("referer") or ""
    parsed = urlsplit(source)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return False
    if url.scheme == "https" and parsed.scheme != "https":
        return False
    return parsed.netloc.lower() == url.netloc.lower()
