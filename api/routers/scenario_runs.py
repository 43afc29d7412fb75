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
import yaml
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine

from api import store
from api.problems import ApiProblem
from api.schemas import RowId
from api.security import Principal, Role, connection, engine, require
from scenarios.schema import ReferenceBase, Scenario, ScenarioError, scenario_from_mapping

router = APIRouter(prefix="/v1/scenario-runs", tags=["scenario runs"])

#: Most replications one API request may ask for (the command line has no such limit).
MAX_REPLICATIONS = 50

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
    status: Literal["queued", "running", "done", "failed"]
    requested_at: dt.datetime
    finished_at: dt.datetime | None
    replications: int
    scenario: dict[str, Any]
    summary: dict[str, Any] | None
    error: str | None


def parse_scenario(text: str) -> Scenario:
    """The posted YAML as a validated scenario; 422 with each problem at its YAML path.

    Only the bundled reference data can be a base over the API: a folder or database base
    would read the server's files or another database.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ApiProblem(
            422,
            "the scenario is not valid YAML",
            kind="validation",
            errors=[{"field": "yaml", "message": str(error)}],
        ) from error
    try:
        scenario = scenario_from_mapping(data, source="scenario")
    except ScenarioError as error:
        errors = [_field_problem(problem) for problem in error.problems]
        raise ApiProblem(
            422, f"{len(errors)} problem(s) in the scenario", kind="validation", errors=errors
        ) from error
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


def run_in_background(bound: Engine, run_id: int) -> None:
    """Simulate a queued scenario run and store its KPI summary (or its error)."""
    from scenarios.runner import run_scenario

    table = store.scenario_runs
    with bound.begin() as conn:
        conn.execute(table.update().where(table.c.run_id == run_id).values(status="running"))
        row = conn.execute(sa.select(table).where(table.c.run_id == run_id)).one()
    values: dict[str, Any]
    try:
        scenario = Scenario.model_validate(row.scenario)
        result = run_scenario(scenario, replications=row.replications, workers=1)
        kpis = [
            {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
            for r in result.summary.to_dict(orient="records")
        ]
        values = {"status": "done", "summary": {"metadata": result.metadata, "kpis": kpis}}
    except Exception as error:  # recorded for the caller; the worker thread lives on
        logging.getLogger(__name__).exception("scenario run %s failed", run_id)
        values = {"status": "failed", "error": f"{type(error).__name__}: {error}"[:2000]}
    with bound.begin() as conn:
        conn.execute(
            table.update().where(table.c.run_id == run_id).values(**values, finished_at=store.now())
        )


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
    """Validate the scenario and queue its run (202, ``Location``); poll it until done."""
    scenario = parse_scenario(body.yaml)
    replications = body.replications or int(scenario.replications)
    if replications > MAX_REPLICATIONS:
        raise ApiProblem(
            422,
            f"at most {MAX_REPLICATIONS} replications over the API",
            kind="validation",
            errors=[{"field": "replications", "message": f"at most {MAX_REPLICATIONS}"}],
        )
    with bound.begin() as conn:
        run_id = conn.execute(
            store.scenario_runs.insert()
            .values(
                name=str(scenario.name),
                status="queued",
                requested_at=store.now(),
                replications=replications,
                scenario=scenario.model_dump(mode="json"),
                token_id=who.token_id,
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
    status: Literal["queued", "running", "done", "failed"]
    requested_at: dt.datetime
    finished_at: dt.datetime | None
    replications: int
    error: str | None


@router.get("", response_model=list[ScenarioRunBrief])
def list_scenario_runs(
    status: Literal["queued", "running", "done", "failed"] | None = None,
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
