"""The package's error types: one base, and the domain errors every layer raises.

Lower layers and the workflow raise these; only ``api/`` turns them into problem+json
(404, 409, 422, 403) and the review page into messages. Their text is written for the user
and never repeats a rejected input value (a CPR-like id, a YAML document).
"""

from __future__ import annotations

from typing import Any


class KapacitetError(Exception):
    """Base of kapacitet's own errors: ``str(error)`` is a message fit for the user.

    ``errors`` lists field problems as ``{"field": "patients[3].deadline", "message": ...}``.
    """

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(KapacitetError, LookupError):
    """The thing asked for does not exist, or the caller may not know that it does (404)."""


class Forbidden(KapacitetError, PermissionError):
    """The caller is known but may not do this (403)."""


class Conflict(KapacitetError):
    """The request contradicts the stored state: a taken slot, a stale run, a busy quota (409)."""


class Invalid(KapacitetError, ValueError):
    """The input or stored data breaks a rule; ``errors`` names each field (422)."""


class QuotaExceeded(Conflict):
    """A documented per-caller or per-role limit was reached (429 over the API)."""
