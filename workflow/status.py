"""The lifecycle of a solve or scenario run."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Where a solve or scenario run is: queued → running → done | failed | cancelled |
    interrupted (its process stopped before it finished)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
