"""The service's settings: which database, how large a body may be, when a solve runs async."""

from __future__ import annotations

import os
from dataclasses import dataclass

from capacity.storage import resolve_url

#: Largest request body accepted (bytes); larger ones get 413 before they are read.
MAX_BODY_BYTES = 10 * 1024 * 1024
#: A solve of at least this many waiting patients answers 202 and runs in the background.
ASYNC_THRESHOLD = 1000
#: Background workers for solve and scenario runs (threads owned by the app's lifespan).
RUN_WORKERS = 2
ASYNC_THRESHOLD_ENV = "KAPACITET_ASYNC_THRESHOLD"


@dataclass(frozen=True)
class Settings:
    """Where the store is (resolved like every other entry point), the body limit, and how
    many patients make a solve asynchronous (``$KAPACITET_ASYNC_THRESHOLD``)."""

    database_url: str
    max_body_bytes: int = MAX_BODY_BYTES
    async_threshold: int = ASYNC_THRESHOLD
    run_workers: int = RUN_WORKERS

    @classmethod
    def resolve(
        cls,
        database_url: str | None = None,
        max_body_bytes: int | None = None,
        async_threshold: int | None = None,
        run_workers: int | None = None,
    ) -> Settings:
        """Settings for ``database_url`` (else ``$KAPACITET_DB``, else the SQLite file)."""
        if async_threshold is None and os.environ.get(ASYNC_THRESHOLD_ENV):
            async_threshold = int(os.environ[ASYNC_THRESHOLD_ENV])
        return cls(
            resolve_url(database_url),
            max_body_bytes or MAX_BODY_BYTES,
            ASYNC_THRESHOLD if async_threshold is None else async_threshold,
            run_workers or RUN_WORKERS,
        )
