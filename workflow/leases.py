"""Run leases: which process executes a solve or scenario run, and how runs are told to stop.

Several API processes (and command-line solves) may share one store. A process that queues or
executes a run holds its lease: ``lease_owner`` (this process's :data:`PROCESS_ID`) and
``lease_expires_at``, extended every ``heartbeat`` seconds while the process lives. Another
process recovers, as ``interrupted``, only runs whose lease has expired; a run with a live lease
is never touched. A run is told to stop by a cancel request (``cancel_requested_at``, seen by
its heartbeat) or by its process shutting down; it stops at its next :meth:`Lease.checkpoint`.
Every final status is written only while the lease is still this process's, so a run another
process recovered stays recovered.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, Table

from capacity.errors import Forbidden
from workflow import tables
from workflow.access import Principal, may_cancel
from workflow.errors import RunFinished
from workflow.status import RunStatus

#: This process, as the owner of the leases it holds: host, pid and a random part (a pid can
#: be reused by a later process on the same host).
PROCESS_ID = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
#: Statuses of a run that is not finished.
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
#: The error a recovered run records.
INTERRUPTED = "the server stopped before the run finished; start it again"

_log = logging.getLogger(__name__)


@dataclass
class Timing:
    """How long a lease lasts and how often it is extended (the process's settings)."""

    lease_seconds: float = 30.0
    heartbeat_seconds: float = 5.0


#: The timing of this process's leases (:func:`configure` sets it at app start-up).
TIMING = Timing()


#: The stores whose app is shutting down in this process: no run of theirs starts any more
#: (:func:`shut_down`). Per engine, so an app's shut-down never stops a command-line solve.
_closing: weakref.WeakSet[Engine] = weakref.WeakSet()


def configure(lease_seconds: float, heartbeat_seconds: float) -> None:
    """Use these lease and heartbeat periods for the leases this process takes from now on."""
    TIMING.lease_seconds = lease_seconds
    TIMING.heartbeat_seconds = heartbeat_seconds


class RunStopped(Exception):
    """A run was told to stop: ``status`` is ``cancelled`` (a caller) or ``interrupted``."""

    def __init__(self, status: RunStatus) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class Lease:
    """A run this process executes: tell it to stop, and let it check whether it must."""

    bound: Engine
    table: Table
    run_id: int
    stopped: threading.Event = field(default_factory=threading.Event)
    status: RunStatus = RunStatus.CANCELLED

    def stop(self, status: RunStatus) -> None:
        """Ask the run to stop at its next checkpoint, ending as ``status``."""
        if not self.stopped.is_set():
            self.status = status
            self.stopped.set()

    def checkpoint(self) -> None:
        """Raise :class:`RunStopped` if the run was told to stop."""
        if self.stopped.is_set():
            raise RunStopped(self.status)


_held: dict[tuple[str, int], Lease] = {}
_held_lock = threading.Lock()


def lease_values() -> dict[str, Any]:
    """The columns that give a run to this process until the lease period from now."""
    expires = tables.now() + dt.timedelta(seconds=TIMING.lease_seconds)
    return {"lease_owner": PROCESS_ID, "lease_expires_at": expires}


def stop_local(table: Table, run_id: int, status: RunStatus = RunStatus.CANCELLED) -> bool:
    """Tell a run executing in this process to stop now; False when it is not executing here."""
    with _held_lock:
        lease = _held.get((table.name, run_id))
    if lease is not None:
        lease.stop(status)
    return lease is not None


def shut_down(bound: Engine) -> int:
    """Tell every run this process executes on ``bound`` to stop (``interrupted``), and start
    no more there (an app's shut-down): how many were executing."""
    _closing.add(bound)
    with _held_lock:
        leases = [lease for lease in _held.values() if lease.bound is bound]
    for lease in leases:
        lease.stop(RunStatus.INTERRUPTED)
    return len(leases)


@contextmanager
def executing(bound: Engine, table: Table, run_id: int) -> Iterator[Lease | None]:
    """Claim a queued run for this process and keep its lease alive while inside.

    Yields None when the run is no longer queued (cancelled, or recovered as interrupted, while
    it waited) and when this process is shutting down (the run is then ``interrupted``).
    Inside, a heartbeat thread extends the lease and stops the run when a cancel is requested
    or when the lease was lost.
    """
    c = table.c
    queued = (c.run_id == run_id) & (c.status == RunStatus.QUEUED) & c.cancel_requested_at.is_(None)
    with bound.begin() as conn:
        if bound in _closing:
            conn.execute(
                table.update()
                .where(queued)
                .values(status=RunStatus.INTERRUPTED, finished_at=tables.now(), error=INTERRUPTED)
            )
            claimed = 0
        else:
            claimed = conn.execute(
                table.update().where(queued).values(status=RunStatus.RUNNING, **lease_values())
            ).rowcount
    if claimed != 1:
        yield None
        return
    lease = Lease(bound, table, run_id)
    with _held_lock:
        _held[(table.name, run_id)] = lease
    done = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(bound, lease, done), name=f"lease-{table.name}-{run_id}"
    )
    beat.daemon = True
    beat.start()
    try:
        yield lease
    finally:
        done.set()
        with _held_lock:
            _held.pop((table.name, run_id), None)


def _heartbeat(bound: Engine, lease: Lease, done: threading.Event) -> None:
    """Extend the lease every heartbeat until ``done``; stop the run on a cancel or a lost lease."""
    c = lease.table.c
    while not done.wait(TIMING.heartbeat_seconds):
        try:
            with bound.begin() as conn:
                row = conn.execute(
                    lease.table.update()
                    .where(
                        c.run_id == lease.run_id,
                        c.status == RunStatus.RUNNING,
                        c.lease_owner == PROCESS_ID,
                    )
                    .values(**lease_values())
                    .returning(c.cancel_requested_at)
                ).first()
        except Exception:  # the store is briefly unreachable: try again at the next beat
            _log.warning("could not extend the lease of run %s", lease.run_id, exc_info=True)
            continue
        if row is None:
            lease.stop(RunStatus.INTERRUPTED)  # recovered by another process: stop, write nothing
        elif row.cancel_requested_at is not None:
            lease.stop(RunStatus.CANCELLED)


def finish(conn: Connection, table: Table, run_id: int, **values: Any) -> bool:
    """Write a run's final columns if this process still holds its lease: whether it did."""
    c = table.c
    written = conn.execute(
        table.update()
        .where(c.run_id == run_id, c.status == RunStatus.RUNNING, c.lease_owner == PROCESS_ID)
        .values(**values, finished_at=tables.now(), lease_expires_at=None)
    ).rowcount
    return bool(written == 1)


def request_cancel(bound: Engine, table: Table, run_id: int) -> None:
    """Cancel a run: a queued one at once, a running one at its next checkpoint; a finished
    run is left as it is."""
    c = table.c
    now = tables.now()
    with bound.begin() as conn:
        cancelled = conn.execute(
            table.update()
            .where(c.run_id == run_id, c.status == RunStatus.QUEUED)
            .values(status=RunStatus.CANCELLED, cancel_requested_at=now, finished_at=now)
        ).rowcount
        if cancelled:
            return
        conn.execute(
            table.update()
            .where(
                c.run_id == run_id, c.status == RunStatus.RUNNING, c.cancel_requested_at.is_(None)
            )
            .values(cancel_requested_at=now)
        )
    stop_local(table, run_id, RunStatus.CANCELLED)


def cancel(
    bound: Engine,
    table: Table,
    who: Principal,
    run_id: int,
    status: RunStatus,
    path: str,
    *,
    what: str,
) -> None:
    """Cancel the run ``what`` (``solve run``, ``scenario run``) now at ``status``, audited.

    :class:`Forbidden` unless :func:`workflow.access.may_cancel`; :class:`RunFinished` for a
    run that already ended (cancelling a cancelled run again is no error).
    """
    with bound.begin() as conn:
        started_by = conn.execute(
            sa.select(table.c.token_id).where(table.c.run_id == run_id)
        ).scalar()
    if not may_cancel(who, started_by):
        raise Forbidden(
            "only the caller who started a run, the specialist unit or admin may cancel it"
        )
    if status not in (*ACTIVE, RunStatus.CANCELLED):
        raise RunFinished(f"{what} {run_id} is {status}; nothing to cancel")
    request_cancel(bound, table, run_id)
    with bound.begin() as conn:
        tables.append_audit(conn, who, "POST", path, str(run_id), before={"status": status})


def renew_queued(bound: Engine) -> None:
    """Extend the leases of the runs this process has queued (its workers will claim them)."""
    with bound.begin() as conn:
        for table in (tables.solve_runs, tables.scenario_runs):
            conn.execute(
                table.update()
                .where(table.c.status == RunStatus.QUEUED, table.c.lease_owner == PROCESS_ID)
                .values(**lease_values())
            )


def recover_expired(bound: Engine) -> int:
    """Mark runs whose lease expired (their process is gone) ``interrupted``: how many.

    A run with a live lease, this process's or another's, is left alone.
    """
    now = tables.now()
    return _interrupt(
        bound, lambda c: sa.or_(c.lease_expires_at.is_(None), c.lease_expires_at < now), now
    )


def interrupt_own(bound: Engine) -> int:
    """Mark every unfinished run this process holds ``interrupted`` (the end of a shut-down)."""
    return _interrupt(bound, lambda c: c.lease_owner == PROCESS_ID, tables.now())


def _interrupt(
    bound: Engine,
    which: Callable[[sa.ColumnCollection[str, sa.Column[Any]]], sa.ColumnElement[bool]],
    now: dt.datetime,
) -> int:
    """Mark the active solve and scenario runs ``which`` picks ``interrupted``: how many."""
    interrupted = 0
    with bound.begin() as conn:
        for table in (tables.solve_runs, tables.scenario_runs):
            interrupted += conn.execute(
                table.update()
                .where(table.c.status.in_(ACTIVE), which(table.c))
                .values(
                    status=RunStatus.INTERRUPTED,
                    finished_at=now,
                    error=INTERRUPTED,
                    lease_expires_at=None,
                )
            ).rowcount
    return interrupted


class Keeper:
    """The app's lease keeper: a thread that renews this process's queued runs and recovers
    expired ones every heartbeat, from start-up to shut-down."""

    def __init__(self, bound: Engine) -> None:
        self.bound = bound
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="kapacitet-leases", daemon=True)

    def start(self) -> None:
        """Recover the runs a stopped process left, then keep going in the background."""
        recover_expired(self.bound)
        self.thread.start()

    def stop(self) -> None:
        """Stop renewing (the leases then expire unless the runs were finished)."""
        self.done.set()
        self.thread.join(TIMING.heartbeat_seconds + 5)

    def _run(self) -> None:
        while not self.done.wait(TIMING.heartbeat_seconds):
            try:
                renew_queued(self.bound)
                recover_expired(self.bound)
            except Exception:  # the store is briefly unreachable: try again at the next beat
                _log.warning("lease keeper could not reach the store", exc_info=True)
