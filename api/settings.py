"""The service's settings: which database, and how large a request body may be."""

from __future__ import annotations

from dataclasses import dataclass

from capacity.storage import resolve_url

#: Largest request body accepted (bytes); larger ones get 413 before they are read.
MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Where the store is (resolved like every other entry point) and the body limit."""

    database_url: str
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def resolve(
        cls, database_url: str | None = None, max_body_bytes: int | None = None
    ) -> Settings:
        """Settings for ``database_url`` (else ``$KAPACITET_DB``, else the SQLite file)."""
        return cls(resolve_url(database_url), max_body_bytes or MAX_BODY_BYTES)
