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
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from api import store
from api.problems import ApiProblem
from api.schemas import Decision, DecisionIn, SolveRun, SolveRunIn
from api.security import Principal, Role
from capacity.frames import Dataset
from capacity.storage import read_snapshot, schema
from solver.output import solution_json
from solver.problem import Problem
from solver.solve import solve


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


def queue_run(
    bound: Engine, who: Principal, body: SolveRunIn, path: str, *, status: str = "queued"
) -> SolveRun:
    """Record a requested solve run (audited); :func:`execute_run` solves it later.

    422 when no patient waits in its scope: there is nothing to solve.
    """
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
        run_id = conn.execute(
            store.solve_runs.insert()
            .values(
                status=status,
                requested_at=store.now(),
                today=body.today,
                week=body.week,
                collaboration=body.collaboration and body.collaboration.value,
                patients=waiting,
                token_id=who.token_id,
            )
            .returning(store.solve_runs.c.run_id)
        ).scalar_one()
        store.append_audit(
            conn, who, "POST", path, str(run_id), after={"request": body.model_dump(mode="json")}
        )
        return get_run(conn, run_id)


def start_run(bound: Engine, who: Principal, body: SolveRunIn, path: str) -> SolveRun:
    """Solve the store as it is now (synchronously), rejected pairs excluded, bookings kept.

    Returns the finished run; a solve that fails is recorded as failed and its error raised.
    """
    run = queue_run(bound, who, body, path, status="running")
    return execute_run(bound, run.run_id, raise_errors=True)


def execute_run(bound: Engine, run_id: int, *, raise_errors: bool = False) -> SolveRun:
    """Solve a recorded run on one consistent snapshot and store its proposals.

    A failure marks the run ``failed`` with its error (and is raised with ``raise_errors``).
    """
    with bound.begin() as conn:
        conn.execute(  # a write first: see store.take_write_lock
            store.solve_runs.update()
            .where(store.solve_runs.c.run_id == run_id)
            .values(status="running")
        )
        run = get_run(conn, run_id)
    try:
        _solve_and_store(bound, run)
    except Exception as error:
        if not isinstance(error, ApiProblem):
            _log.exception("solve run %s failed", run_id)
        detail = error.detail if isinstance(error, ApiProblem) else "the solve failed"
        with bound.begin() as conn:
            conn.execute(
                store.solve_runs.update()
                .where(store.solve_runs.c.run_id == run_id)
                .values(status="failed", finished_at=store.now(), error=detail[:2000])
            )
        if raise_errors:
            raise
    with bound.begin() as conn:
        return get_run(conn, run_id)


def abandon_unfinished_runs(bound: Engine) -> None:
    """Mark solve and scenario runs a previous server left queued or running as failed."""
    with bound.begin() as conn:
        for table in (store.solve_runs, store.scenario_runs):
            conn.execute(
                table.update()
                .where(table.c.status.in_(["queued", "running"]))
                .values(
                    status="failed",
                    finished_at=store.now(),
                    error="the server stopped before the run finished; start it again",
                )
            )


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


def _solve_and_store(bound: Engine, run: SolveRun) -> None:
    snapshot = read_consistent_snapshot(bound, run.week, run.collaboration)
    excluded = pd.DataFrame(snapshot.rejected, columns=["patient_id", "department_id"])
    dataset = replace(
        snapshot.dataset, capacity=_without_held(snapshot.dataset.capacity, snapshot.held)
    )
    problem = Problem.from_dataset(dataset, run.today, excluded_pairs=excluded.astype("string"))
    payload = json.loads(solution_json(solve(problem)))
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
        conn.execute(
            store.solve_runs.update()
            .where(store.solve_runs.c.run_id == run.run_id)
            .values(
                status="done",
                snapshot_at=snapshot.snapshot_at,
                snapshot_id=snapshot.snapshot_id,
                finished_at=store.now(),
                patients=len(dataset.patients),
                tiers=payload["tiers"],
                kpis=payload["kpis"],
                proof=payload["proof"],
            )
        )


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
    """The newest finished run after ``run_id`` that also proposed for ``patient_id``, if any.

    A decision is taken on the newest proposal for its patient: another collaboration's (or
    another week's) newer run does not make this one stale, a newer run with the patient does.
    """
    p, r = store.run_proposals.c, store.solve_runs.c
    return conn.execute(
        sa.select(sa.func.max(p.run_id))
        .join_from(store.run_proposals, store.solve_runs, p.run_id == r.run_id)
        .where(p.patient_id == patient_id, p.run_id > run_id, r.status == "done")
    ).scalar()


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
