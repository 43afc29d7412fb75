"""Solve runs on a snapshot of the store, their proposals, and decisions on them (JSON)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection, Engine

from api import runs
from api.schemas import Decision, DecisionIn, SolveRun, SolveRunIn
from api.security import Principal, Role, connection, engine, principal, require

router = APIRouter(prefix="/v1/solve-runs", tags=["solve runs"])


@router.post("", response_model=SolveRun)
def start_solve_run(
    body: SolveRunIn,
    request: Request,
    who: Principal = Depends(
        require(Role.REGION, Role.COLLABORATION_CHAIR, Role.SPECIALIST_UNIT, Role.ADMIN)
    ),
    bound: Engine = Depends(engine),
) -> SolveRun:
    """Solve the store as it is now (synchronously), rejected pairs excluded, bookings kept."""
    return runs.start_run(bound, who, body, request.url.path)


@router.get("/{run_id}", response_model=SolveRun)
def get_solve_run(
    run_id: int, who: Principal = Depends(principal), conn: Connection = Depends(connection)
) -> SolveRun:
    """One solve run: snapshot time, tiers, KPIs and certificate."""
    return runs.get_run(conn, run_id)


@router.get("/{run_id}/proposals")
def list_proposals(
    run_id: int, who: Principal = Depends(principal), conn: Connection = Depends(connection)
) -> list[dict[str, Any]]:
    """The run's proposals the caller may see, each with its reason."""
    return runs.visible_proposals(conn, who, run_id)


@router.post("/{run_id}/proposals/{patient_id}/decision", response_model=Decision)
def decide(
    run_id: int,
    patient_id: str,
    body: DecisionIn,
    request: Request,
    who: Principal = Depends(require(Role.REGION, Role.COLLABORATION_CHAIR)),
    conn: Connection = Depends(connection),
) -> Decision:
    """Accept (book it), reject (never propose the pair again) or hold one proposal."""
    return runs.decide(conn, who, run_id, patient_id, body, request.url.path)
