"""What-if scenario runs over the API: POST a YAML scenario, GET its status and KPI summary.

The body is JSON, ``{"yaml": "<the scenario file's text>", "replications": 2}``, so the request
is described by the OpenAPI document like every other; the YAML is validated exactly as
``kapacitet scenario run`` validates a file (422 problem+json, each error's ``field`` the YAML
path). The run is queued (202 + ``Location``) and simulated by a background worker of the app.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine

from api import leases, runs, store
from api.leases import RunStopped
from api.problems import ApiProblem
from api.schemas import RowId
from api.security import Principal, Role, connection, engine, require
from api.settings import Settings
from capacity.errors import Forbidden, KapacitetError
from scenarios.schema import ReferenceBase, Scenario, ScenarioError, scenario_from_yaml

router = APIRouter(prefix="/v1/scenario-runs", tags=["scenario runs"])

#: Most replications one API request may ask for (the command line has no such limit).
MAX_REPLICATIONS = 50
#: Most problems listed in one 422 (the detail says how many there were in all).
MAX_PROBLEMS = 20
RunStatus = Literal["queued", "running", "done", "failed", "cancelled", "interrupted"]

EXAMPLE_YAML = """name: upper_gi_university_loss
base: {type: reference, week: 2026-W48, scale: 0.05}
horizon_weeks: 2
capacity:
  changes:
    - {type: reduce, department: AUH-KIR, collaboration: upper_gi, procedure: surgery,
       percent: 50, weeks: [1, 2]}
"""


class ScenarioRunIn(BaseModel):
    """A scenario file's text and, optionally, how many replications to run."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"yaml": EXAMPLE_YAML, "replications": 2}]},
    )

    yaml: str = Field(min_length=1, max_length=200_000)
    #: Default: the scenario's own ``replications``; at most 50 over the API.
    replications: int | None = Field(default=None, ge=1, le=MAX_REPLICATIONS)


class ScenarioRunOut(BaseModel):
    """A scenario run: its status and, when done, each KPI's mean and confidence interval."""

    run_id: int
    name: str
    status: RunStatus
    requested_at: dt.datetime
    finished_at: dt.datetime | None
    replications: int
    scenario: dict[str, Any]
    summary: dict[str, Any] | None
    error: str | None
    cancel_requested_at: dt.datetime | None = None


def parse_scenario(text: str) -> Scenario:
    """The posted YAML as a validated scenario; 422 with each problem at its YAML path.

    Only the bundled reference data can be a base over the API: a folder or database base
    would read the server's files or another database. The YAML is read with its expanded
    size bounded (an alias bomb is refused in milliseconds); problems name YAML paths, never
    the values sent, and at most :data:`MAX_PROBLEMS` are listed.
    """
    try:
        scenario = scenario_from_yaml(text, source="scenario")
    except ScenarioError as error:
        errors = [_field_problem(problem) for problem in error.problems[:MAX_PROBLEMS]]
        shown = "" if len(error.problems) <= MAX_PROBLEMS else f"; the first {MAX_PROBLEMS}"
        raise ApiProblem(
            422,
            f"{len(error.problems)} problem(s) in the scenario{shown}",
            kind="validation",
            errors=errors,
        ) from None
    if not isinstance(scenario.base, ReferenceBase):
        raise ApiProblem(
            422,
            "over the API a scenario's base is the bundled reference data",
            kind="validation",
            errors=[{"field": "base.type", "message": "only 'reference' over the API"}],
        )
    return scenario


def _field_problem(problem: str) -> dict[str, str]:
    """``capacity.changes[0].percent: must be ...`` as ``{"field", "message"}``."""
    path, sep, message = problem.partition(": ")
    if not sep or " " in path:
        return {"field": "yaml", "message": problem}
    return {"field": path, "message": message}


def check_quota(scenario: Scenario, replications: int, who: Principal, settings: Settings) -> None:
    """422 naming the field and the limit when a scenario is larger than ``who``'s role may run.

    The size of a run is ``replications x horizon_weeks x max(scale, 1)``, about the seconds
    one worker simulates (:meth:`api.settings.Settings.scenario_work_quota`); the base's scale
    has a limit of its own (memory grows with it).
    """
    scale = float(scenario.base.scale) if isinstance(scenario.base, ReferenceBase) else 1.0
    if scale > settings.scenario_max_scale:
        raise ApiProblem(
            422,
            f"base.scale is at most {settings.scenario_max_scale:g} over the API",
            kind="quota",
            errors=[{"field": "base.scale", "message": f"at most {settings.scenario_max_scale:g}"}],
        )
    quota = settings.scenario_work_quota(who.role.value)
    work = replications * int(scenario.horizon_weeks) * max(scale, 1.0)
    if work > quota:
        raise ApiProblem(
            422,
            f"replications x horizon_weeks x max(scale, 1) is {work:g}; role {who.role.value} "
            f"may run at most {quota:g}: fewer replications or weeks",
            kind="quota",
            errors=[
                {"field": "replications", "message": f"replications x weeks x scale <= {quota:g}"}
            ],
        )


def run_in_background(bound: Engine, run_id: int) -> None:
    """Simulate a queued scenario run and store its KPI summary (or why it did not finish).

    The run is leased to this process (:mod:`api.leases`); it stops between weeks when it is
    cancelled or the server shuts down.
    """
    from scenarios.runner import run_scenario

    table = store.scenario_runs
    with leases.executing(bound, table, run_id) as lease:
        if lease is None:  # cancelled or recovered while it waited
            return
        with bound.begin() as conn:
            row = conn.execute(sa.select(table).where(table.c.run_id == run_id)).one()
        values: dict[str, Any]
        try:
            scenario = Scenario.model_validate(row.scenario)
            result = run_scenario(
                scenario, replications=row.replications, workers=1, checkpoint=lease.checkpoint
            )
            kpis = [
                {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
                for r in result.summary.to_dict(orient="records")
            ]
            values = {"status": "done", "summary": {"metadata": result.metadata, "kpis": kpis}}
        except RunStopped as stopped:
            values = {"status": stopped.status, "error": runs.STOPPED[stopped.status]}
        except (KapacitetError, ScenarioError) as error:
            values = {"status": "failed", "error": str(error)[:2000]}
        except Exception as error:  # recorded for the caller; the worker thread lives on
            logging.getLogger(__name__).exception("scenario run %s failed", run_id)
            message = runs.run_error(error, "scenario run", f"scenario run {run_id}")
            values = {"status": "failed", "error": message}
        with bound.begin() as conn:
            leases.finish(conn, table, run_id, **values)


def _get(conn: Connection, run_id: int) -> ScenarioRunOut:
    row = conn.execute(
        sa.select(store.scenario_runs).where(store.scenario_runs.c.run_id == run_id)
    ).first()
    if row is None:
        raise ApiProblem(404, f"no scenario run {run_id}")
    return ScenarioRunOut(
        **{k: v for k, v in row._mapping.items() if k in ScenarioRunOut.model_fields}
    )


@router.post(
    "",
    response_model=ScenarioRunOut,
    status_code=202,
    responses={202: {"headers": {"Location": {"schema": {"type": "string"}}}}},
)
def post_scenario_run(
    body: ScenarioRunIn,
    request: Request,
    response: Response,
    who: Principal = Depends(require(Role.SPECIALIST_UNIT, Role.ADMIN)),
    bound: Engine = Depends(engine),
) -> ScenarioRunOut:
    """Validate the scenario and queue its run (202, ``Location``); poll it until done.

    Refused (422, naming the field and the limit) when larger than the caller's role may run
    (``scenario_max_scale``, ``scenario_work_<role>``); 429 when the caller's token already has
    ``max_active_scenario_runs`` queued or running.
    """
    settings: Settings = request.app.state.settings
    scenario = parse_scenario(body.yaml)
    replications = body.replications or int(scenario.replications)
    if replications > MAX_REPLICATIONS:
        raise ApiProblem(
            422,
            f"at most {MAX_REPLICATIONS} replications over the API",
            kind="validation",
            errors=[{"field": "replications", "message": f"at most {MAX_REPLICATIONS}"}],
        )
    check_quota(scenario, replications, who, settings)
    with bound.begin() as conn:
        runs.check_active_runs(
            conn, store.scenario_runs, who, settings.max_active_scenario_runs, "scenario"
        )
        run_id = conn.execute(
            store.scenario_runs.insert()
            .values(
                name=str(scenario.name),
                status="queued",
                requested_at=store.now(),
                replications=replications,
                scenario=scenario.model_dump(mode="json"),
                token_id=who.token_id,
                **leases.lease_values(),
            )
            .returning(store.scenario_runs.c.run_id)
        ).scalar_one()
        store.append_audit(
            conn,
            who,
            "POST",
            request.url.path,
            str(run_id),
            after={"yaml": body.yaml, "replications": replications},
        )
        run = _get(conn, run_id)
    request.app.state.run_executor.submit(run_in_background, bound, run_id)
    response.headers["Location"] = f"{router.prefix}/{run_id}"
    return run


class ScenarioRunBrief(BaseModel):
    """One line of the scenario-run list: what ran, when, and how it ended."""

    run_id: int
    name: str
    status: RunStatus
    requested_at: dt.datetime
    finished_at: dt.datetime | None
    replications: int
    error: str | None


@router.get("", response_model=list[ScenarioRunBrief])
def list_scenario_runs(
    status: RunStatus | None = None,
    limit: int = Query(50, ge=1, le=1000),
    who: Principal = Depends(require(Role.SPECIALIST_UNIT, Role.ADMIN)),
    conn: Connection = Depends(connection, scope="function"),
) -> list[ScenarioRunBrief]:
    """The scenario runs, newest first (``?status=done``, ``?limit=``); read one for its KPIs."""
    runs = store.scenario_runs.c
    query = sa.select(*(runs[name] for name in ScenarioRunBrief.model_fields))
    if status is not None:
        query = query.where(runs.status == status)
    rows = conn.execute(query.order_by(runs.run_id.desc()).limit(limit))
    return [ScenarioRunBrief(**row._mapping) for row in rows]


@router.get("/{run_id}", response_model=ScenarioRunOut)
def get_scenario_run(
    run_id: RowId,
    who: Principal = Depends(require(Role.SPECIALIST_UNIT, Role.ADMIN)),
    conn: Connection = Depends(connection, scope="function"),
) -> ScenarioRunOut:
    """One scenario run: status, the validated scenario, and when done the KPI summary."""
    return _get(conn, run_id)


@router.post("/{run_id}/cancel", response_model=ScenarioRunOut)
def cancel_scenario_run(
    run_id: RowId,
    request: Request,
    who: Principal = Depends(require(Role.SPECIALIST_UNIT, Role.ADMIN)),
    bound: Engine = Depends(engine),
) -> ScenarioRunOut:
    """Cancel a queued or running scenario run: a queued one at once, a running one after the
    week it is simulating (poll it). 409 for a run that already ended."""
    with bound.begin() as conn:
        run = _get(conn, run_id)
        started_by = conn.execute(
            sa.select(store.scenario_runs.c.token_id).where(store.scenario_runs.c.run_id == run_id)
        ).scalar()
    if not runs.may_cancel(who, started_by):
        raise Forbidden(
            "only the caller who started a run, the specialist unit or admin may cancel it"
        )
    if run.status not in (*leases.ACTIVE, "cancelled"):
        raise ApiProblem(
            409, f"scenario run {run_id} is {run.status}; nothing to cancel", kind="run-finished"
        )
    leases.request_cancel(bound, store.scenario_runs, run_id)
    with bound.begin() as conn:
        store.append_audit(
            conn, who, "POST", request.url.path, str(run_id), before={"status": run.status}
        )
        return _get(conn, run_id)
