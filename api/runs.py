"""Solve runs as plain functions: start one on a snapshot, list what a caller may see, decide.

The JSON routes (``api.routers.solve_runs``) and the review page (``api.routers.web``) both call
these, so a decision made on the page is the same write, with the same checks and audit entry, as
one made over the API.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, replace
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from api import leases, schemas, store
from api.leases import RunStopped
from api.problems import ApiProblem
from api.schemas import Decision, DecisionIn, SolveRunIn
from api.security import Principal, Role
from capacity.errors import Forbidden, KapacitetError, QuotaExceeded
from capacity.frames import Dataset
from capacity.storage import read_snapshot, schema
from capacity.vocabulary import Collaboration
from solver.output import solution_json
from solver.problem import Problem
from solver.solve import solve

#: Every status a run can have: queued → running → done | failed | cancelled | interrupted.
RunStatus = Literal["queued", "running", "done", "failed", "cancelled", "interrupted"]
#: Solve runs one token may have queued or running at once (the API passes its setting).
MAX_ACTIVE_SOLVE_RUNS = 2
#: PostgreSQL advisory lock (with the token id) serialising one token's run requests.
RUN_QUOTA_LOCK = 7_340_300


class SolveRun(schemas.SolveRun):
    """A solve run as stored: :class:`api.schemas.SolveRun` with the statuses of cancelling
    and shutting down, and when a cancel was requested."""

    status: RunStatus = "done"  # type: ignore[assignment]
    cancel_requested_at: dt.datetime | None = None


def get_run(conn: Connection, run_id: int) -> SolveRun:
    row = conn.execute(
        sa.select(store.solve_runs).where(store.solve_runs.c.run_id == run_id)
    ).first()
    if row is None:
        raise ApiProblem(404, f"no solve run {run_id}")
    return SolveRun(**{k: v for k, v in row._mapping.items() if k in SolveRun.model_fields})


def may_see(who: Principal, proposal: dict[str, Any]) -> bool:
    """Whether ``who`` may see a proposal: regions their patients, chairs their collaboration.

    The specialist unit and admin see every proposal (patient ids are pseudonyms already).
    """
    if who.role is Role.REGION:
        return proposal["home_region"] == who.region
    if who.role is Role.COLLABORATION_CHAIR:
        return proposal["collaboration"] == who.collaboration
    if who.role is Role.DEPARTMENT:
        return who.department_id in (proposal["department_id"], proposal["home_department_id"])
    return True


def _without_held(capacity: pd.DataFrame, held: pd.DataFrame) -> pd.DataFrame:
    """Declared capacity less the slots accepted bookings now hold (they count as bookings)."""
    if held.empty:
        return capacity
    merged = capacity.merge(held, on=store.HELD_KEY, how="left")
    free = (merged["free_slots"] - merged["held"].fillna(0).astype("int64")).clip(lower=0)
    return capacity.assign(free_slots=free.to_numpy())


_log = logging.getLogger(__name__)

#: How often a solve re-reads its snapshot when a write landed during the read, before it
#: pauses writes for one last read.
SNAPSHOT_ATTEMPTS = 5


def patient_count(bound: Engine, body: SolveRunIn) -> int:
    """How many waiting patients a solve of ``body`` would read (decides sync or async)."""
    p = schema.patients.c
    query = sa.select(sa.func.count()).select_from(schema.patients)
    if body.collaboration is not None:
        query = query.where(p.collaboration == body.collaboration.value)
    with bound.begin() as conn:
        return int(conn.execute(query).scalar_one())


def scoped_request(who: Principal, body: SolveRunIn) -> SolveRunIn:
    """The solve ``who`` may start for ``body``: a chair's is always of their collaboration.

    A chair naming none gets theirs; naming another is 403, as is a role that may not start
    solves (a department). Every entry point (JSON, page, command line) goes through
    :func:`queue_run`, so the rule lives here once.
    """
    if who.role is Role.DEPARTMENT:
        raise Forbidden("role department may not start solves")
    if who.role is not Role.COLLABORATION_CHAIR:
        return body
    if who.collaboration is None:
        raise Forbidden("this chair's token names no collaboration; ask for a new token")
    if body.collaboration is None:
        return body.model_copy(update={"collaboration": Collaboration(who.collaboration)})
    if body.collaboration.value != who.collaboration:
        raise Forbidden(
            f"a chair of {who.collaboration} may solve only that collaboration",
            errors=[{"field": "collaboration", "message": f"only {who.collaboration}"}],
        )
    return body


def queue_run(
    bound: Engine,
    who: Principal,
    body: SolveRunIn,
    path: str,
    *,
    max_active: int = MAX_ACTIVE_SOLVE_RUNS,
) -> SolveRun:
    """Record a requested solve run (audited, scoped by :func:`scoped_request`, leased to this
    process); :func:`execute_run` solves it later.

    422 when no patient waits in its scope: there is nothing to solve. 429 when the caller's
    token already has ``max_active`` runs queued or running.
    """
    body = scoped_request(who, body)
    waiting = patient_count(bound, body)
    if waiting == 0:
        scope = f"collaboration {body.collaboration.value}" if body.collaboration else "the store"
        raise ApiProblem(
            422,
            f"no waiting patients in {scope}: nothing to solve",
            kind="validation",
            errors=[
                {
                    "field": "collaboration" if body.collaboration else "body",
                    "message": "no patients",
                }
            ],
        )
    with bound.begin() as conn:
        check_active_runs(conn, store.solve_runs, who, max_active, "solve")
        run_id = conn.execute(
            store.solve_runs.insert()
            .values(
                status="queued",
                requested_at=store.now(),
                today=body.today,
                week=body.week,
                collaboration=body.collaboration and body.collaboration.value,
                patients=waiting,
                token_id=who.token_id,
                **leases.lease_values(),
            )
            .returning(store.solve_runs.c.run_id)
        ).scalar_one()
        store.append_audit(
            conn, who, "POST", path, str(run_id), after={"request": body.model_dump(mode="json")}
        )
        return get_run(conn, run_id)


def check_active_runs(
    conn: Connection, table: sa.Table, who: Principal, limit: int, kind: str
) -> None:
    """429 (:class:`QuotaExceeded`) when ``who``'s token has ``limit`` runs queued or running.

    The first statement of the transaction that records the next run: one token's requests
    are serialised (PostgreSQL advisory lock, SQLite write lock), so parallel ones cannot all
    pass. The command line (token 0) has no quota.
    """
    if who.token_id <= 0:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:lock, :token)"),
            {"lock": RUN_QUOTA_LOCK, "token": who.token_id},
        )
    else:
        store.take_write_lock(conn)
    active = conn.execute(
        sa.select(sa.func.count())
        .select_from(table)
        .where(table.c.token_id == who.token_id, table.c.status.in_(leases.ACTIVE))
    ).scalar_one()
    if active >= limit:
        raise QuotaExceeded(
            f"at most {limit} {kind} run(s) queued or running per token; wait for one to "
            "finish or cancel one",
            errors=[{"field": "token", "message": f"at most {limit} active {kind} run(s)"}],
        )


def start_run(
    bound: Engine,
    who: Principal,
    body: SolveRunIn,
    path: str,
    *,
    max_active: int = MAX_ACTIVE_SOLVE_RUNS,
) -> SolveRun:
    """Solve the store as it is now (synchronously), rejected pairs excluded, bookings kept.

    Returns the finished run; a solve that fails is recorded as failed and its error raised.
    """
    run = queue_run(bound, who, body, path, max_active=max_active)
    return execute_run(bound, run.run_id, raise_errors=True)


def run_error(error: Exception, what: str, reference: str) -> str:
    """The message a failed run records: a domain error's own text, else a pointer to the log.

    Exception classes and internals never reach the record; the caller logs the traceback.
    """
    if isinstance(error, KapacitetError):
        return str(error)
    if isinstance(error, ApiProblem):
        return error.detail
    return (
        f"the {what} failed because of an internal error; it has been logged "
        f"(reference {reference})"
    )


#: What a stopped run records, by its final status.
STOPPED = {
    "cancelled": "cancelled on request",
    "interrupted": leases.INTERRUPTED,
}


def execute_run(bound: Engine, run_id: int, *, raise_errors: bool = False) -> SolveRun:
    """Solve a recorded (queued) run on one consistent snapshot and store its proposals.

    The run is leased to this process while it runs (:mod:`api.leases`) and stops between
    phases when cancelled (``cancelled``) or when the server shuts down (``interrupted``).
    A failure marks the run ``failed`` with a message for the user (raised as problem+json
    with ``raise_errors``).
    """
    with leases.executing(bound, store.solve_runs, run_id) as lease:
        if lease is None:  # cancelled or recovered while it waited
            with bound.begin() as conn:
                run = get_run(conn, run_id)
            if raise_errors:
                raise ApiProblem(
                    503 if run.status == "interrupted" else 409,
                    f"solve run {run_id} is {run.status}",
                    kind="run-stopped",
                )
            return run
        with bound.begin() as conn:
            run = get_run(conn, run_id)
        try:
            _solve_and_store(bound, run, lease)
        except RunStopped as stopped:
            _finish(bound, run_id, status=stopped.status, error=STOPPED[stopped.status])
            if raise_errors:
                raise ApiProblem(
                    409 if stopped.status == "cancelled" else 503,
                    f"solve run {run_id}: {STOPPED[stopped.status]}",
                    kind="run-stopped",
                ) from None
        except Exception as error:
            domain = isinstance(error, KapacitetError | ApiProblem)
            if not domain:
                _log.exception("solve run %s failed", run_id)
            message = run_error(error, "solve", f"solve run {run_id}")
            _finish(bound, run_id, status="failed", error=message[:2000])
            if raise_errors:
                if domain:
                    raise
                raise ApiProblem(500, message, kind="internal") from None
    with bound.begin() as conn:
        return get_run(conn, run_id)


def _finish(bound: Engine, run_id: int, **values: Any) -> None:
    with bound.begin() as conn:
        leases.finish(conn, store.solve_runs, run_id, **values)


def may_cancel(who: Principal, started_by: int | None) -> bool:
    """Whether ``who`` may cancel a run: the token that started it, the specialist unit, admin."""
    return started_by == who.token_id or who.role in (Role.SPECIALIST_UNIT, Role.ADMIN)


def cancel_run(bound: Engine, who: Principal, run_id: int, path: str) -> SolveRun:
    """Cancel a queued or running solve run (audited); see :func:`may_cancel` for who may.

    A queued run is ``cancelled`` at once; a running one stops at its next phase (poll it).
    403 for anyone else, 409 for a run that already ended (cancelling twice is no error).
    """
    with bound.begin() as conn:
        run = get_run(conn, run_id)
        started_by = conn.execute(
            sa.select(store.solve_runs.c.token_id).where(store.solve_runs.c.run_id == run_id)
        ).scalar()
    if not may_cancel(who, started_by):
        raise Forbidden(
            "only the caller who started a run, the specialist unit or admin may cancel it"
        )
    if run.status not in (*leases.ACTIVE, "cancelled"):
        raise ApiProblem(
            409, f"solve run {run_id} is {run.status}; nothing to cancel", kind="run-finished"
        )
    leases.request_cancel(bound, store.solve_runs, run_id)
    with bound.begin() as conn:
        store.append_audit(conn, who, "POST", path, str(run_id), before={"status": run.status})
        return get_run(conn, run_id)


@dataclass(frozen=True)
class Snapshot:
    """What one solve reads: the dataset, rejected pairs and held slots of one data version."""

    dataset: Dataset
    rejected: list[tuple[str, str]]
    held: pd.DataFrame
    snapshot_id: str
    snapshot_at: dt.datetime


def read_consistent_snapshot(
    bound: Engine, week: str | None, collaboration: str | None
) -> Snapshot:
    """The store at one data version (:func:`store.data_version`), read again if a write
    committed while it was read; after a few such tries, read with writes paused."""
    for _ in range(SNAPSHOT_ATTEMPTS):
        snapshot = _read_once(bound, week, collaboration)
        if snapshot is not None:
            return snapshot
    with store.writes_paused(bound):
        snapshot = _read_once(bound, week, collaboration)
    if snapshot is None:  # cannot happen while writes are paused; never solve a torn read
        raise ApiProblem(503, "the store changed while the snapshot was read; try again")
    return snapshot


def _read_once(bound: Engine, week: str | None, collaboration: str | None) -> Snapshot | None:
    """One snapshot read, or None when a write committed during it."""
    with bound.begin() as conn:
        before = store.data_version(conn)
        rejected = store.rejected_pairs(conn)
        held = store.held_by_acceptances(conn)
    snapshot_at = store.now()
    dataset = read_snapshot(bound, week=week, collaboration=collaboration)
    with bound.begin() as conn:
        after = store.data_version(conn)
    if after != before:
        return None
    return Snapshot(dataset, rejected, held, before, snapshot_at)


def _solve_and_store(bound: Engine, run: SolveRun, lease: leases.Lease) -> None:
    """Read, build, solve, store: the run stops between phases when told to (``lease``)."""
    snapshot = read_consistent_snapshot(bound, run.week, run.collaboration)
    lease.checkpoint()
    excluded = pd.DataFrame(snapshot.rejected, columns=["patient_id", "department_id"])
    dataset = replace(
        snapshot.dataset, capacity=_without_held(snapshot.dataset.capacity, snapshot.held)
    )
    problem = Problem.from_dataset(dataset, run.today, excluded_pairs=excluded.astype("string"))
    lease.checkpoint()
    payload = json.loads(solution_json(solve(problem)))
    lease.checkpoint()
    with bound.begin() as conn:
        if payload["proposals"]:
            conn.execute(
                store.run_proposals.insert(),
                [
                    {
                        "run_id": run.run_id,
                        "patient_id": p["patient_id"],
                        "home_region": p["home_region"],
                        "collaboration": p["collaboration"],
                        "proposal": p,
                    }
                    for p in payload["proposals"]
                ],
            )
        written = leases.finish(
            conn,
            store.solve_runs,
            run.run_id,
            status="done",
            snapshot_at=snapshot.snapshot_at,
            snapshot_id=snapshot.snapshot_id,
            patients=len(dataset.patients),
            tiers=payload["tiers"],
            kpis=payload["kpis"],
            proof=payload["proof"],
        )
        if not written:  # another process recovered the run meanwhile: keep its verdict
            raise RunStopped("interrupted")


def done_run(conn: Connection, run_id: int) -> SolveRun:
    """The run if it is done; 409 naming its status otherwise (404 when unknown)."""
    run = get_run(conn, run_id)
    if run.status == "failed":
        raise ApiProblem(409, f"solve run {run_id} failed: {run.error}", kind="run-failed")
    if run.status != "done":
        raise ApiProblem(
            409,
            f"solve run {run_id} is {run.status}; poll GET /v1/solve-runs/{run_id} until done",
            kind="run-not-done",
        )
    return run


def visible_proposals(conn: Connection, who: Principal, run_id: int) -> list[dict[str, Any]]:
    """The run's proposals ``who`` may see, each with its reason (404 unknown, 409 not done)."""
    done_run(conn, run_id)
    query = sa.select(store.run_proposals.c.proposal).where(store.run_proposals.c.run_id == run_id)
    if who.role is Role.REGION:
        query = query.where(store.run_proposals.c.home_region == who.region)
    elif who.role is Role.COLLABORATION_CHAIR:
        query = query.where(store.run_proposals.c.collaboration == who.collaboration)
    proposals = conn.execute(query.order_by(store.run_proposals.c.patient_id)).scalars()
    return [p for p in proposals if may_see(who, p)]


def decide(
    conn: Connection, who: Principal, run_id: int, patient_id: str, body: DecisionIn, path: str
) -> Decision:
    """Accept (book it), reject (never propose the pair again) or hold one proposal.

    Decisions are serialised (:func:`store.lock_decisions`), so of two accepts of the last free
    slot exactly one wins and the other is 409.
    """
    store.lock_decisions(conn)
    done_run(conn, run_id)
    proposal = conn.execute(
        sa.select(store.run_proposals.c.proposal).where(
            store.run_proposals.c.run_id == run_id, store.run_proposals.c.patient_id == patient_id
        )
    ).scalar()
    if proposal is None or not may_see(who, proposal):
        raise ApiProblem(404, f"no proposal for {patient_id!r} in run {run_id} that you may see")
    newer = _newer_run_for(conn, run_id, patient_id)
    if newer is not None:
        raise ApiProblem(
            409,
            f"run {run_id} is not the newest solve run for {patient_id!r}; decide on run {newer}",
        )
    d = store.decisions.c
    decided = conn.execute(
        sa.select(d.decision).where(
            d.run_id == run_id, d.patient_id == patient_id, d.decision != "hold"
        )
    ).scalar()
    if decided is not None:
        raise ApiProblem(409, f"this proposal was already decided: {decided}")
    if body.decision != "hold" and proposal["action"] == "unassigned":
        raise ApiProblem(409, "the proposal has no slot to accept or reject")
    day = dt.date.fromisoformat(proposal["date"]) if proposal.get("date") else None
    patients = schema.patients.c
    before = conn.execute(
        sa.select(patients.booked_department_id, patients.booked_date).where(
            patients.patient_id == patient_id
        )
    ).first()
    if body.decision == "accept" and before is not None:
        booked = (before.booked_department_id, before.booked_date)
        if booked != (proposal["booked_department_id"] or None, _date(proposal["booked_date"])):
            raise ApiProblem(409, "the patient's booking changed since this run; solve again")
        if proposal["action"] != "keep" and day is not None:
            _check_slot_free(conn, proposal, day)
        conn.execute(
            schema.patients.update()
            .where(patients.patient_id == patient_id)
            .values(booked_department_id=proposal["department_id"], booked_date=day)
        )
    decision = Decision(
        run_id=run_id,
        patient_id=patient_id,
        department_id=proposal["department_id"] or None,
        date=day,
        decision=body.decision,
        reason=body.reason,
    )
    conn.execute(
        store.decisions.insert().values(
            **decision.model_dump(), decided_at=store.now(), token_id=who.token_id
        )
    )
    store.append_audit(
        conn,
        who,
        "POST",
        path,
        patient_id,
        before=None
        if before is None
        else {"booked_department_id": before[0], "booked_date": _iso(before[1])},
        after=decision.model_dump(mode="json"),
    )
    return decision


def _newer_run_for(conn: Connection, run_id: int, patient_id: str) -> int | None:
    """The newest finished run after ``run_id`` that covers ``patient_id`` in at least this
    run's scope, if any.

    A run's scope is its collaboration (or all) and, when a region started it, that region's
    patients (a region sees only its own). A decision is taken on the newest run for its
    patient of the same or a wider scope: another collaboration's run, or one region's
    whole-store solve, leaves a chair's meeting run decidable; the same chair's, a national or
    (for the region's own runs) the same region's newer run with the patient makes it stale.
    """
    r, p, t = store.solve_runs.c, store.run_proposals.c, store.api_tokens.c
    started_by_region = sa.case((t.role == Role.REGION.value, t.region), else_=None)
    this = conn.execute(
        sa.select(r.collaboration, started_by_region.label("region"))
        .select_from(store.solve_runs)
        .outerjoin(store.api_tokens, t.token_id == r.token_id)
        .where(r.run_id == run_id)
    ).one()
    query = (
        sa.select(sa.func.max(p.run_id))
        .select_from(store.run_proposals)
        .join(store.solve_runs, p.run_id == r.run_id)
        .outerjoin(store.api_tokens, t.token_id == r.token_id)
        .where(p.patient_id == patient_id, p.run_id > run_id, r.status == "done")
    )
    if this.collaboration is None:
        query = query.where(r.collaboration.is_(None))
    else:
        query = query.where(
            sa.or_(r.collaboration.is_(None), r.collaboration == this.collaboration)
        )
    national = sa.or_(t.role.is_(None), t.role != Role.REGION.value)
    if this.region is None:
        query = query.where(national)
    else:
        query = query.where(
            sa.or_(national, sa.and_(t.region == this.region, p.home_region == this.region))
        )
    newer: int | None = conn.execute(query).scalar()
    return newer


def _check_slot_free(conn: Connection, proposal: dict[str, Any], day: dt.date) -> None:
    """409 when the declared free slots of the proposed day are all held by accepted bookings."""
    key = (proposal["department_id"], proposal["collaboration"], proposal["procedure"])
    declared = store.declared_free_slots(conn, *key, day)
    held = store.held_by_acceptances(conn)
    taken = held.loc[
        (held["department_id"] == key[0])
        & (held["collaboration"] == key[1])
        & (held["procedure"] == key[2])
        & (held["date"] == pd.Timestamp(day)),
        "held",
    ].sum()
    if taken >= declared:
        raise ApiProblem(
            409,
            f"the slot at {key[0]} on {day.isoformat()} is no longer free "
            f"({declared} declared, {int(taken)} already accepted); solve again",
        )


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None
