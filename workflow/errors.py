"""The workflow's own refusals: domain errors of :mod:`capacity.errors` that name their kind.

``kind`` is the last part of the problem type the API answers with
(``https://kapacitet.dk/problems/run-not-done``); the HTTP status comes from the base class
(:func:`api.problems.domain_status`), so the workflow never speaks HTTP.
"""

from __future__ import annotations

from typing import ClassVar

from capacity.errors import Conflict, Invalid, KapacitetError


class Unavailable(KapacitetError):
    """The store or the server cannot do this now; the same request may succeed later (503)."""

    kind: ClassVar[str | None] = None


class InternalFailure(KapacitetError):
    """A run failed because of a fault of kapacitet's own; the message points at the log (500)."""

    kind: ClassVar[str | None] = "internal"


class RunNotDone(Conflict):
    """The solve run is still queued or running, or was stopped: it has no proposals yet."""

    kind: ClassVar[str | None] = "run-not-done"


class RunFailed(Conflict):
    """The solve run failed: it has no proposals."""

    kind: ClassVar[str | None] = "run-failed"


class RunFinished(Conflict):
    """The run already ended: there is nothing to cancel."""

    kind: ClassVar[str | None] = "run-finished"


class RunCancelled(Conflict):
    """The run was cancelled before it finished (or while it waited)."""

    kind: ClassVar[str | None] = "run-stopped"


class RunInterrupted(Unavailable):
    """The server stopped before the run finished; start it again."""

    kind: ClassVar[str | None] = "run-stopped"


class TooLarge(Invalid):
    """A run larger than the caller's role may ask for (422 naming the field and the limit)."""

    kind: ClassVar[str | None] = "quota"
