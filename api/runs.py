"""Solve runs as plain functions: start one on a snapshot, list what a caller may see, decide.

The JSON routes (``api.routers.solve_runs``) and the review page (``api.routers.web``) both call
these, so a decision made on the page is the same write, with the same checks and audit entry, as
one made over the API.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from api import store
from api.problems import ApiProblem
from api.schemas import Decision, DecisionIn, SolveRun, SolveRunIn
from api.security import Principal, Role
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


def start_run(bound: Engine, who: Principal, body: SolveRunIn, path: str) -> SolveRun:
    """Solve the store as it is now (synchronously), rejected pairs excluded, bookings kept."""
    snapshot_at = store.now()
    dataset = read_snapshot(
        bound, week=body.week, collaboration=body.collaboration and body.collaboration.value
    )
    with bound.begin() as conn:
        rejected = store.rejected_pairs(conn)
        held = store.held_by_acceptances(conn)
    excluded = pd.DataFrame(rejected, columns=["patient_id", "department_id"]).astype("string")
    dataset = replace(dataset, capacity=_without_held(dataset.capacity, held))
    solution = solve(Problem.from_dataset(dataset, body.today, excluded_pairs=excluded))
    payload = json.loads(solution_json(solution))
    with bound.begin() as conn:
        run_id = conn.execute(
            store.solve_runs.insert()
            .values(
                snapshot_at=snapshot_at,
                today=body.today,
                week=body.week,
                collaboration=body.collaboration and body.collaboration.value,
                tiers=payload["tiers"],
                kpis=payload["kpis"],
                proof=payload["proof"],
                token_id=who.token_id,
            )
            .returning(store.solve_runs.c.run_id)
        ).scalar_one()
        if payload["proposals"]:
            conn.execute(
                store.run_proposals.insert(),
                [
                    {
                        "run_id": run_id,
                        "patient_id": p["patient_id"],
                        "home_region": p["home_region"],
                        "collaboration": p["collaboration"],
                        "proposal": p,
                    }
                    for p in payload["proposals"]
                ],
            )
        store.append_audit(
            conn,
            who,
            "POST",
            path,
            str(run_id),
            after={"request": body.model_dump(mode="json"), "tiers": payload["tiers"]},
        )
        return get_run(conn, run_id)


def visible_proposals(conn: Connection, who: Principal, run_id: int) -> list[dict[str, Any]]:
    """The run's proposals ``who`` may see, each with its reason (404 for an unknown run)."""
    get_run(conn, run_id)
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
    """Accept (book it), reject (never propose the pair again) or hold one proposal."""
    get_run(conn, run_id)
    proposal = conn.execute(
        sa.select(store.run_proposals.c.proposal).where(
            store.run_proposals.c.run_id == run_id, store.run_proposals.c.patient_id == patient_id
        )
    ).scalar()
    if proposal is None or not may_see(who, proposal):
        raise ApiProblem(404, f"no proposal for {patient_id!r} in run {run_id} that you may see")
    if store.latest_run_id(conn) != run_id:
        raise ApiProblem(409, f"run {run_id} is not the newest solve run; decide on the newest")
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
