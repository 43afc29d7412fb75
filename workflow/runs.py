"""Solve runs: start one on a consistent snapshot of the store, queue, execute, cancel, read.

The JSON routes, the review page and the command line all call these, so a run started on the
page is the same write, with the same checks and audit entry, as one started over the API.
Refusals are the domain errors of :mod:`capacity.errors` and :mod:`workflow.errors`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Annotated, Any

import pandas as pd
import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine

from capacity import calendar
from capacity.errors import Invalid, KapacitetError, NotFound, QuotaExceeded
from capacity.frames import Dataset
from capacity.storage import read_snapshot, schema
from capacity.validation import FIRST_DATE, LAST_DATE
from capacity.vocabulary import Collaboration
from solver.alternatives import ranked_alternatives
from solver.problem import Problem
from solver.solve import Solution, solve
from workflow import leases, tables
from workflow.access import (
    Principal,
    Role,
    may_see_proposal,
    patient_scope,
    solve_collaboration,
)
from workflow.completeness import stale_capacity
from workflow.errors import (
    InternalFailure,
    RunCancelled,
    RunFailed,
    RunInterrupted,
    RunNotDone,
    Unavailable,
)
from workflow.leases import RunStopped
from workflow.practice import practice_summary
from workflow.proposals import Alternative, Proposal, plain, proposals_of
from workflow.referrals import OfferStatus
from workflow.status import RunStatus

#: Solve runs one token may have queued or running at once (the API passes its setting).
MAX_ACTIVE_SOLVE_RUNS = 2
#: PostgreSQL advisory lock (with the token id) serialising one token's run requests.
RUN_QUOTA_LOCK = 7_340_300


#: A day a caller names (``today``): within the dates the contract accepts, as a file's are.
Day = Annotated[dt.date, Field(ge=FIRST_DATE, le=LAST_DATE)]


def _existing_week(value: str) -> str:
    calendar.week_monday(value)  # a ValueError naming the form: 422 at the field
    return value


#: An ISO week label that exists in the calendar (``2026-W48``), for request bodies.
IsoWeek = Annotated[str, Field(pattern=calendar.WEEK_PATTERN), AfterValidator(_existing_week)]


class SolveRequest(BaseModel):
    """What a solve covers: the day it is solved on, the week, and one collaboration or all."""

    today: Day
    week: IsoWeek | None = None
    collaboration: Collaboration | None = None


class SolveRun(BaseModel):
    """A solve run: its status, the snapshot it read, and when done its tiers, KPIs and proof.

    ``snapshot_id`` names the store's data version the solve read (``L<loads>-D<decisions>``:
    every load and decision committed before it, none after); ``snapshot_at`` is when.
    ``patients``: the waiting patients in scope when requested; once done, those it solved.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "run_id": 7,
                    "status": "queued",
                    "requested_at": "2026-11-23T08:00:00Z",
                    "snapshot_at": None,
                    "snapshot_id": None,
                    "finished_at": None,
                    "today": "2026-11-23",
                    "week": "2026-W48",
                    "collaboration": None,
                    "patients": 4855,
                    "tiers": None,
                    "kpis": None,
                    "proof": None,
                    "error": None,
                }
            ]
        }
    )

    run_id: int
    status: RunStatus = RunStatus.DONE
    requested_at: dt.datetime | None = None
    snapshot_at: dt.datetime | None
    snapshot_id: str | None = None
    finished_at: dt.datetime | None = None
    today: dt.date
    week: str | None
    collaboration: str | None
    patients: int | None = None
    tiers: dict[str, Any] | None
    kpis: dict[str, Any] | None
    proof: dict[str, Any] | None
    error: str | None = None
    cancel_requested_at: dt.datetime | None = None


def get_run(conn: Connection, run_id: int) -> SolveRun:
    """The stored solve run (:class:`~capacity.errors.NotFound` for an unknown id)."""
    return tables.stored(conn, tables.solve_runs, run_id, SolveRun, "solve run")


def _without_held(capacity: pd.DataFrame, held: pd.DataFrame) -> pd.DataFrame:
    """Declared capacity less the slots accepted bookings now hold (they count as bookings)."""
    if held.empty:
        return capacity
    merged = capacity.merge(held, on=tables.HELD_KEY, how="left")
    free = (merged["free_slots"] - merged["held"].fillna(0).astype("int64")).clip(lower=0)
    return capacity.assign(free_slots=free.to_numpy())


_log = logging.getLogger(__name__)

#: How often a solve re-reads its snapshot when a write landed during the read, before it
#: pauses writes for one last read.
SNAPSHOT_ATTEMPTS = 5


def patient_count(bound: Engine, body: SolveRequest) -> int:
    """How many waiting patients a solve of ``body`` would read (decides sync or async)."""
    p = schema.patients.c
    query = sa.select(sa.func.count()).select_from(schema.patients)
    if body.collaboration is not None:
        query = query.where(p.collaboration == body.collaboration.value)
    with bound.begin() as conn:
        return int(conn.execute(query).scalar_one())


def scoped_request(who: Principal, body: SolveRequest) -> SolveRequest:
    """The solve ``who`` may start for ``body``: a chair's is always of their collaboration
    (:func:`workflow.access.solve_collaboration`; :class:`Forbidden` otherwise).

    Every entry point (JSON, page, command line) goes through :func:`queue_run`, so the rule
    lives here once.
    """
    requested = body.collaboration.value if body.collaboration is not None else None
    collaboration = solve_collaboration(who, requested)
    if collaboration is None or collaboration == requested:
        return body
    return body.model_copy(update={"collaboration": Collaboration(collaboration)})


def queue_run(
    bound: Engine,
    who: Principal,
    body: SolveRequest,
    path: str,
    *,
    max_active: int = MAX_ACTIVE_SOLVE_RUNS,
) -> SolveRun:
    """Record a requested solve run (audited, scoped by :func:`scoped_request`, leased to this
    process); :func:`execute_run` solves it later.

    :class:`Invalid` when no patient waits in its scope: there is nothing to solve;
    :class:`QuotaExceeded` when the caller's token already has ``max_active`` runs queued or
    running.
    """
    body = scoped_request(who, body)
    waiting = patient_count(bound, body)
    if waiting == 0:
        scope = f"collaboration {body.collaboration.value}" if body.collaboration else "the store"
        raise Invalid(
            f"no waiting patients in {scope}: nothing to solve",
            errors=[
                {
                    "field": "collaboration" if body.collaboration else "body",
                    "message": "no patients",
                }
            ],
        )
    with bound.begin() as conn:
        check_active_runs(conn, tables.solve_runs, who, max_active, "solve")
        run_id = conn.execute(
            tables.solve_runs.insert()
            .values(
                status=RunStatus.QUEUED,
                requested_at=tables.now(),
                today=body.today,
                week=body.week,
                collaboration=body.collaboration and body.collaboration.value,
                patients=waiting,
                token_id=who.token_id,
                **leases.lease_values(),
            )
            .returning(tables.solve_runs.c.run_id)
        ).scalar_one()
        tables.append_audit(
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
        tables.take_write_lock(conn)
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
    body: SolveRequest,
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
    return (
        f"the {what} failed because of an internal error; it has been logged "
        f"(reference {reference})"
    )


#: What a stopped run records, by its final status.
STOPPED = {
    RunStatus.CANCELLED: "cancelled on request",
    RunStatus.INTERRUPTED: leases.INTERRUPTED,
}


def execute_run(bound: Engine, run_id: int, *, raise_errors: bool = False) -> SolveRun:
    """Solve a recorded (queued) run on one consistent snapshot and store its proposals.

    The run is leased to this process while it runs (:mod:`workflow.leases`) and stops between
    phases when cancelled (``cancelled``) or when the server shuts down (``interrupted``).
    A failure marks the run ``failed`` with a message for the user (raised with
    ``raise_errors``: the domain error itself, :class:`InternalFailure` for any other).
    """
    with leases.executing(bound, tables.solve_runs, run_id) as lease:
        if lease is None:  # cancelled or recovered while it waited
            with bound.begin() as conn:
                run = get_run(conn, run_id)
            if raise_errors:
                stopped_as = RunInterrupted if run.status is RunStatus.INTERRUPTED else RunCancelled
                raise stopped_as(f"solve run {run_id} is {run.status}")
            return run
        with bound.begin() as conn:
            run = get_run(conn, run_id)
        try:
            with _single_flight(bound, run):
                if not _reuse_result(bound, run):
                    _solve_and_store(bound, run, lease)
        except RunStopped as stopped:
            _finish(bound, run_id, status=stopped.status, error=STOPPED[stopped.status])
            if raise_errors:
                stopped_as = (
                    RunCancelled if stopped.status is RunStatus.CANCELLED else RunInterrupted
                )
                raise stopped_as(f"solve run {run_id}: {STOPPED[stopped.status]}") from None
        except Exception as error:
            domain = isinstance(error, KapacitetError)
            if not domain:
                _log.exception("solve run %s failed", run_id)
            message = run_error(error, "solve", f"solve run {run_id}")
            _finish(bound, run_id, status=RunStatus.FAILED, error=message[:2000])
            if raise_errors:
                if domain:
                    raise
                raise InternalFailure(message) from None
    with bound.begin() as conn:
        return get_run(conn, run_id)


def _finish(bound: Engine, run_id: int, **values: Any) -> None:
    with bound.begin() as conn:
        leases.finish(conn, tables.solve_runs, run_id, **values)


def cancel_run(bound: Engine, who: Principal, run_id: int, path: str) -> SolveRun:
    """Cancel a queued or running solve run (audited); see :func:`leases.cancel` for who may.

    A queued run is ``cancelled`` at once; a running one stops at its next phase (poll it).
    :class:`Forbidden` for anyone else, :class:`RunFinished` for a run that already ended
    (cancelling twice is no error).
    """
    with bound.begin() as conn:
        run = get_run(conn, run_id)
    leases.cancel(bound, tables.solve_runs, who, run_id, run.status, path, what="solve run")
    with bound.begin() as conn:
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
    """The store at one data version (:func:`tables.data_version`), read again if a write
    committed while it was read; after a few such tries, read with writes paused."""
    for _ in range(SNAPSHOT_ATTEMPTS):
        snapshot = _read_once(bound, week, collaboration)
        if snapshot is not None:
            return snapshot
    with tables.writes_paused(bound):
        snapshot = _read_once(bound, week, collaboration)
    if snapshot is None:  # cannot happen while writes are paused; never solve a torn read
        raise Unavailable("the store changed while the snapshot was read; try again")
    return snapshot


def _read_once(bound: Engine, week: str | None, collaboration: str | None) -> Snapshot | None:
    """One snapshot read, or None when a write committed during it."""
    with bound.begin() as conn:
        before = tables.data_version(conn)
        rejected = tables.rejected_pairs(conn)
        held = tables.held_by_acceptances(conn)
    snapshot_at = tables.now()
    dataset = read_snapshot(bound, week=week, collaboration=collaboration)
    with bound.begin() as conn:
        after = tables.data_version(conn)
    if after != before:
        return None
    return Snapshot(dataset, rejected, held, before, snapshot_at)


# ---- one solve per snapshot (issue 16.2) ------------------------------------------------------
# A solve is a function of the store's data version (every change of patients, capacity or
# decisions moves it) and the request (date, week, collaboration). Identical requests on the
# same version share one computation: while one is being solved in this process the others
# wait for it (:func:`_single_flight`), and any later one copies the stored result into its
# own run (:func:`_reuse_result`), so each caller keeps a run of its own (its scope, its audit,
# its decisions) without solving again.

_FLIGHTS_LOCK = threading.Lock()
_FLIGHTS: dict[tuple[Any, ...], threading.Event] = {}
#: What a stored result holds (bump when a solve stores more or other things, e.g. the
#: alternatives): only results of this format are reused, never an older server's.
RESULT_FORMAT = 2
#: The longest a request waits for an identical one in flight before solving itself.
FLIGHT_WAIT_SECONDS = 600.0


def _request_key(bound: Engine, run: SolveRun) -> tuple[Any, ...]:
    with bound.begin() as conn:
        version = tables.data_version(conn)
    return (str(bound.url), version, run.today, run.week, run.collaboration)


@contextmanager
def _single_flight(bound: Engine, run: SolveRun) -> Iterator[None]:
    """Run the body once per identical request in this process at a time: a request whose
    twin is being solved waits for it first (then finds its result to reuse)."""
    key = _request_key(bound, run)
    while True:
        with _FLIGHTS_LOCK:
            flight = _FLIGHTS.get(key)
            if flight is None:
                mine = _FLIGHTS[key] = threading.Event()
                break
        flight.wait(FLIGHT_WAIT_SECONDS)
    try:
        yield
    finally:
        with _FLIGHTS_LOCK:
            _FLIGHTS.pop(key, None)
        mine.set()


def _reuse_result(bound: Engine, run: SolveRun) -> bool:
    """Copy the result of a finished run of the same request on the store's current data
    version into ``run``: whether there was one (then ``run`` is done)."""
    r, p = tables.solve_runs.c, tables.run_proposals.c
    with bound.begin() as conn:
        version = tables.data_version(conn)
        if not conn.execute(
            sa.select(r.run_id)
            .where(r.status == RunStatus.DONE, r.snapshot_id == version, r.today == run.today)
            .limit(1)
        ).first():
            return False  # the common case: nothing to reuse, and no write lock taken
    with bound.begin() as conn:
        tables.take_write_lock(conn)  # SQLite: read, then write, without a lock upgrade
        version = tables.data_version(conn)
        same = [r.status == RunStatus.DONE, r.snapshot_id == version, r.today == run.today]
        same.append(r.week.is_(None) if run.week is None else r.week == run.week)
        same.append(
            r.collaboration.is_(None)
            if run.collaboration is None
            else r.collaboration == run.collaboration
        )
        source = next(
            (
                row
                for row in conn.execute(
                    sa.select(tables.solve_runs).where(*same).order_by(r.run_id.desc()).limit(5)
                )
                if (row.kpis or {}).get("result_format") == RESULT_FORMAT
            ),
            None,
        )
        if source is None:
            return False
        conn.execute(
            tables.run_proposals.insert().from_select(
                ["run_id", "patient_id", "home_region", "collaboration", "proposal"],
                sa.select(
                    sa.literal(run.run_id, sa.Integer),
                    p.patient_id,
                    p.home_region,
                    p.collaboration,
                    p.proposal,
                ).where(p.run_id == source.run_id),
            )
        )
        kpis = dict(source.kpis or {}) | {"reused_from_run": source.run_id}
        written = leases.finish(
            conn,
            tables.solve_runs,
            run.run_id,
            status=RunStatus.DONE,
            snapshot_at=source.snapshot_at,
            snapshot_id=source.snapshot_id,
            patients=source.patients,
            tiers=source.tiers,
            kpis=kpis,
            proof=source.proof,
        )
        if not written:  # another process recovered the run meanwhile: keep its verdict
            raise RunStopped(RunStatus.INTERRUPTED)
    return True


def _other_departments(bound: Engine, dataset: Dataset) -> pd.DataFrame:
    """``(patient_id, department_id)`` pairs that keep a decided booking where the meeting put
    it: a patient whose booking is an accepted offer (open or booked) may be proposed no other
    department, so a chosen alternative stands in the next solve (issue 14.2)."""
    o, pt = schema.referral_offers.c, schema.patients.c
    newest = (
        sa.select(o.patient_id, sa.func.max(o.offer_id).label("offer_id"))
        .group_by(o.patient_id)
        .subquery()
    )
    live = [OfferStatus.AWAITING_DEPARTMENT, OfferStatus.AWAITING_PATIENT, OfferStatus.BOOKED]
    with bound.begin() as conn:
        rows = conn.execute(
            sa.select(o.patient_id, o.department_id)
            .join(newest, newest.c.offer_id == o.offer_id)
            .join(schema.patients, pt.patient_id == o.patient_id)
            .where(
                o.status.in_([s.value for s in live]),
                pt.booked_department_id == o.department_id,
                pt.booked_date == o.date,
            )
        ).all()
    if not rows:
        return pd.DataFrame(columns=["patient_id", "department_id"])
    departments = dataset.departments["department_id"].astype(str).tolist()
    waiting = set(dataset.patients["patient_id"].astype(str))
    pairs = [
        (str(patient), department)
        for patient, kept in rows
        if str(patient) in waiting
        for department in departments
        if department != kept
    ]
    return pd.DataFrame(pairs, columns=["patient_id", "department_id"])


def _solve_and_store(bound: Engine, run: SolveRun, lease: leases.Lease) -> None:
    """Read, build, solve, store: the run stops between phases when told to (``lease``)."""
    snapshot = read_consistent_snapshot(bound, run.week, run.collaboration)
    lease.checkpoint()
    excluded = pd.concat(
        [
            pd.DataFrame(snapshot.rejected, columns=["patient_id", "department_id"]),
            _other_departments(bound, snapshot.dataset),
        ],
        ignore_index=True,
    )
    dataset = replace(
        snapshot.dataset, capacity=_without_held(snapshot.dataset.capacity, snapshot.held)
    )
    problem = Problem.from_dataset(dataset, run.today, excluded_pairs=excluded.astype("string"))
    lease.checkpoint()
    solution = solve(problem)
    lease.checkpoint()
    proposals = with_alternatives(problem, solution, proposals_of(solution.proposals))
    lease.checkpoint()
    summary = solution_summary(solution, practice_summary(problem))
    with bound.begin() as conn:
        # a write first (SQLite: the write lock now), so the read below cannot block the upgrade
        tables.take_write_lock(conn)
        # the declarations the proposals rest on that are older than a week (issue 15.3)
        summary["kpis"]["stale_capacity"] = stale_capacity(
            conn, snapshot.dataset.capacity, now=tables.now()
        )
        if proposals:
            conn.execute(
                tables.run_proposals.insert(),
                [
                    {
                        "run_id": run.run_id,
                        "patient_id": p.patient_id,
                        "home_region": p.home_region,
                        "collaboration": p.collaboration,
                        "proposal": p.as_json(),
                    }
                    for p in proposals
                ],
            )
        written = leases.finish(
            conn,
            tables.solve_runs,
            run.run_id,
            status=RunStatus.DONE,
            snapshot_at=snapshot.snapshot_at,
            snapshot_id=snapshot.snapshot_id,
            patients=len(dataset.patients),
            **summary,
        )
        if not written:  # another process recovered the run meanwhile: keep its verdict
            raise RunStopped(RunStatus.INTERRUPTED)


#: How many alternatives a reviewed proposal stores (one per department, best first).
ALTERNATIVES_PER_PROPOSAL = 3


def reviewed(proposal: Proposal) -> bool:
    """A proposal a meeting reviews with its alternatives: a referral away from the home
    department (placed elsewhere) or a moved booking."""
    away = bool(proposal.department_id) and proposal.department_id != proposal.home_department_id
    return proposal.action == "move" or (proposal.action != "unassigned" and away)


def with_alternatives(
    problem: Problem, solution: Solution, proposals: list[Proposal]
) -> list[Proposal]:
    """``proposals`` with, on each reviewed one (:func:`reviewed`), its best alternatives not
    chosen (:func:`solver.alternatives.ranked_alternatives`; ``[]`` when there is none)."""
    wanted = [p.patient_id for p in proposals if reviewed(p)]
    if not wanted:
        return proposals
    # the solution's networks and optimal flows are reused: nothing is built or solved again
    found = ranked_alternatives(
        problem, patient_ids=wanted, k=ALTERNATIVES_PER_PROPOSAL, solution=solution
    )
    by_patient: dict[str, list[Alternative]] = {patient_id: [] for patient_id in wanted}
    fields = list(Alternative.model_fields)
    for row in found[["patient_id", *fields]].to_dict(orient="records"):
        by_patient[str(row["patient_id"])].append(
            Alternative.model_validate({f: plain(row[f]) for f in fields})
        )
    return [
        p.model_copy(update={"alternatives": by_patient[p.patient_id]})
        if p.patient_id in by_patient
        else p
        for p in proposals
    ]


def done_run(conn: Connection, run_id: int) -> SolveRun:
    """The run if it is done; :class:`RunFailed` or :class:`RunNotDone` naming its status
    otherwise (:class:`~capacity.errors.NotFound` when unknown)."""
    run = get_run(conn, run_id)
    if run.status is RunStatus.FAILED:
        raise RunFailed(f"solve run {run_id} failed: {run.error}")
    if run.status is not RunStatus.DONE:
        raise RunNotDone(
            f"solve run {run_id} is {run.status}; poll GET /v1/solve-runs/{run_id} until done"
        )
    return run


def visible_proposals(conn: Connection, who: Principal, run_id: int) -> list[Proposal]:
    """The run's proposals ``who`` may see, each with its reason (:func:`done_run`'s errors)."""
    done_run(conn, run_id)
    p = tables.run_proposals.c
    query = sa.select(p.proposal).where(p.run_id == run_id)
    scope = patient_scope(who)
    if scope.region is not None:
        query = query.where(p.home_region == scope.region)
    if scope.collaboration is not None:
        query = query.where(p.collaboration == scope.collaboration)
    stored = conn.execute(query.order_by(p.patient_id)).scalars()
    proposals = [Proposal.model_validate(proposal) for proposal in stored]
    return [proposal for proposal in proposals if may_see_proposal(who, proposal)]


def solution_summary(solution: Solution, practice: dict[str, Any] | None = None) -> dict[str, Any]:
    """A solution's tiers, KPIs and proof as the run stores them (plain JSON values); with
    ``practice``, current practice's counts go into the KPIs as ``baseline`` (the meeting's
    comparison, :mod:`workflow.practice`)."""
    kpis = dict(solution.kpis) | ({"baseline": practice} if practice is not None else {})
    kpis["result_format"] = RESULT_FORMAT
    return {
        "tiers": _jsonable(dataclasses.asdict(solution.tiers)),
        "kpis": _jsonable(kpis),
        "proof": _jsonable(dataclasses.asdict(solution.proof)),
    }


def _jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as Python values and NaN as None, at any depth."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return plain(value)


def run_visibility(who: Principal) -> sa.ColumnElement[bool]:
    """The SQL condition on ``solve_runs`` for the runs ``who`` may see.

    The specialist unit and admin see every run. Anyone else sees the runs their token
    started, the runs with a proposal they may see (:func:`workflow.access.may_see_proposal`:
    a region its patients', a chair their collaboration's, a department those to or from it),
    and a run without proposals yet (queued, running, failed, stopped) whose scope holds a
    patient they may see. A region also sees every run a token of its region started, a chair
    every run of their collaboration. So whoever may see a proposal may find its run.
    """
    if who.role in (Role.SPECIALIST_UNIT, Role.ADMIN):
        return sa.true()
    r, p = tables.solve_runs.c, tables.run_proposals.c
    scope = patient_scope(who)
    seen: list[sa.ColumnElement[bool]] = []
    if scope.region is not None:
        seen.append(p.home_region == scope.region)
    if scope.collaboration is not None:
        seen.append(p.collaboration == scope.collaboration)
    if scope.department_id is not None:
        seen.append(
            sa.or_(
                p.proposal["department_id"].as_string() == scope.department_id,
                p.proposal["home_department_id"].as_string() == scope.department_id,
            )
        )
    pt = schema.patients.c
    visible = [
        r.token_id == who.token_id,
        sa.exists().where(p.run_id == r.run_id, *seen),
        sa.and_(
            ~sa.exists().where(p.run_id == r.run_id),
            sa.exists()
            .where(tables.visible_patients(who))
            .where(sa.or_(r.collaboration.is_(None), pt.collaboration == r.collaboration)),
        ),
    ]
    if who.role is Role.REGION:
        t = tables.api_tokens.c
        visible.append(
            r.token_id.in_(
                sa.select(t.token_id).where(t.role == Role.REGION.value, t.region == who.region)
            )
        )
    if who.role is Role.COLLABORATION_CHAIR:
        visible.append(r.collaboration == (who.collaboration or ""))
    return sa.or_(*visible)


def visible_runs(
    conn: Connection,
    who: Principal,
    *,
    run_id: int | None = None,
    collaboration: str | None = None,
    week: str | None = None,
    status: RunStatus | None = None,
    before: int | None = None,
    limit: int | None = None,
) -> list[SolveRun]:
    """The solve runs ``who`` may see (:func:`run_visibility`), newest first: one
    (``run_id``), or those of a ``collaboration``, ``week`` and ``status``, with ids below
    ``before``, at most ``limit``."""
    r = tables.solve_runs.c
    query = sa.select(tables.solve_runs).where(run_visibility(who))
    for column, value in (
        (r.run_id, run_id),
        (r.collaboration, collaboration),
        (r.week, week),
        (r.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        query = query.where(r.run_id < before)
    query = query.order_by(r.run_id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [tables.record(SolveRun, row) for row in conn.execute(query)]


def visible_run(conn: Connection, who: Principal, run_id: int) -> SolveRun:
    """One run ``who`` may see; :class:`~capacity.errors.NotFound` for an unknown run and for
    one out of sight alike."""
    found = visible_runs(conn, who, run_id=run_id)
    if not found:
        raise NotFound(f"no solve run {run_id}")
    return found[0]
