"""Solve runs on a snapshot of the store, their proposals, and decisions on them (JSON)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from api import pagination
from api.deps import Bound, Caller, CancelsRun, Conn, Decides, StartsSolve
from api.pagination import Paged
from api.schemas import Decision, DecisionIn, RowId, SolveRun, SolveRunIn
from api.validation import body_checks, solve_scope_problems
from capacity.vocabulary import Collaboration
from workflow import decisions, runs
from workflow.runs import IsoWeek
from workflow.status import RunStatus

router = APIRouter(prefix="/v1/solve-runs", tags=["solve runs"])


@router.post(
    "",
    response_model=SolveRun,
    responses={
        202: {
            "model": SolveRun,
            "description": "A large solve was queued: poll the run at the Location header",
            "headers": {"Location": {"schema": {"type": "string"}}},
        }
    },
)
@body_checks(solve_scope_problems)
def start_solve_run(
    body: SolveRunIn,
    request: Request,
    response: Response,
    who: StartsSolve,
    bound: Bound,
) -> SolveRun:
    """Solve the store as it is now, rejected pairs excluded, bookings kept.

    Below the async threshold (patients in the solve) the finished run comes back (200);
    at or above it the run is queued (202, ``Location: /v1/solve-runs/{id}``) and solved by a
    background worker: poll it until ``status`` is ``done`` (or ``failed``, ``cancelled``,
    ``interrupted``). A chair's solve is of their collaboration (403 for another); a token
    may have a few runs queued or running at once (429 beyond, ``max_active_solve_runs``).
    """
    settings = request.app.state.settings
    run = runs.queue_run(
        bound, who, body, request.url.path, max_active=settings.max_active_solve_runs
    )
    if run.patients is not None and run.patients < settings.async_threshold:
        # At most run_workers solves at once: more would only share the CPUs (and the GIL)
        # and finish all of them later; the rest wait their turn here, counted as queued.
        with request.app.state.solve_slots:
            return runs.execute_run(bound, run.run_id, raise_errors=True)
    request.app.state.run_executor.submit(runs.execute_run, bound, run.run_id)
    response.status_code = 202
    response.headers["Location"] = f"{router.prefix}/{run.run_id}"
    return run


@router.get("", response_model=list[SolveRun], responses=pagination.paged())
def list_solve_runs(
    request: Request,
    response: Response,
    who: Caller,
    conn: Conn,
    page: Paged,
    collaboration: Collaboration | None = Query(
        None, description="Only runs of this collaboration (a whole-store run names none)"
    ),
    week: IsoWeek | None = Query(None, description="Only runs of this ISO week (2026-W48)"),
    status: RunStatus | None = Query(None, description="Only runs with this status"),
) -> list[SolveRun]:
    """The solve runs the caller may see, newest first (paged: ``limit``, ``cursor``).

    A region sees the runs its tokens started and every run holding a proposal for one of
    its patients (a chair's run of a collaboration, a national run), a chair their
    collaboration's, a department those with a proposal to or from it, the specialist unit
    and admin all; a run not done yet is seen by those whose patients its scope holds.
    """
    after = page.after_int()
    found = runs.visible_runs(
        conn,
        who,
        collaboration=collaboration.value if collaboration else None,
        week=week,
        status=status,
        before=-after if after is not None else None,
        limit=page.limit + 1,
    )
    return pagination.finish(request, response, page, found, lambda run: (-run.run_id,))


@router.get("/{run_id}", response_model=SolveRun)
def get_solve_run(
    run_id: RowId,
    who: Caller,
    conn: Conn,
) -> SolveRun:
    """One solve run the caller may see (404 otherwise, as for an unknown one): status,
    snapshot (time and data version), tiers, KPIs and certificate."""
    return runs.visible_run(conn, who, run_id)


@router.get("/{run_id}/proposals", responses=pagination.paged())
def list_proposals(
    run_id: RowId,
    request: Request,
    response: Response,
    who: Caller,
    conn: Conn,
    page: Paged,
) -> list[dict[str, Any]]:
    """The run's proposals the caller may see, each with its reason, by patient id (paged;
    409 until the run is done, 404 for a run the caller may not see).

    A patient with a decision on this or an earlier run carries it as ``standing_decision``
    (the newest: a hold until acted on, an accept with its offer's status, a rejection), so
    decisions carry over from run to run.
    """
    runs.visible_run(conn, who, run_id)
    visible = runs.visible_proposals(conn, who, run_id)
    shown = pagination.in_memory(
        request, response, page, visible, lambda proposal: (proposal.patient_id,), (str,)
    )
    proposals = [proposal.as_json() for proposal in shown]
    standing = decisions.standing_decisions(conn, [p["patient_id"] for p in proposals])
    for proposal in proposals:
        if proposal["patient_id"] in standing:
            proposal["standing_decision"] = standing[proposal["patient_id"]]
    return proposals


@router.post("/{run_id}/proposals/{patient_id}/decision", response_model=Decision)
def decide(
    run_id: RowId,
    patient_id: str,
    body: DecisionIn,
    request: Request,
    who: Decides,
    conn: Conn,
) -> Decision:
    """Accept (book it), reject (never propose the pair again) or hold one proposal.

    An accept with ``department_id`` and ``date`` books one of the proposal's listed
    ``alternatives`` instead (422 naming the field when it is not one of them, 409 when its
    slot is no longer free); the decision then carries ``alternative: true``.
    """
    return decisions.decide(
        conn,
        who,
        run_id,
        patient_id,
        body.decision,
        body.reason,
        request.url.path,
        department_id=body.department_id,
        date=body.date,
    )


@router.post("/{run_id}/cancel", response_model=SolveRun)
def cancel_solve_run(
    run_id: RowId,
    request: Request,
    who: CancelsRun,
    bound: Bound,
) -> SolveRun:
    """Cancel a queued or running solve run: the caller who started it, the unit or admin.

    A queued run comes back ``cancelled``; a running one stops at its next phase (its
    ``cancel_requested_at`` is set; poll it). 409 for a run that already ended.
    """
    return runs.cancel_run(bound, who, run_id, request.url.path)
