"""What-if scenario runs over the API: POST a YAML scenario, GET its status and KPI summary.

The body is JSON, ``{"yaml": "<the scenario file's text>", "replications": 2}``, so the request
is described by the OpenAPI document like every other; the YAML is validated exactly as
``kapacitet scenario run`` validates a file (422 problem+json, each error's ``field`` the YAML
path). The run is queued (202 + ``Location``) and simulated by a background worker of the app.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api import pagination
from api.deps import Bound, Conn, ReadsScenarios, RunsScenarios
from api.pagination import Paged
from api.schemas import RowId
from api.settings import Settings
from workflow.access import Role
from workflow.scenario_runs import (
    MAX_REPLICATIONS,
    ScenarioLimits,
    ScenarioRun,
    queue_scenario_run,
    run_in_background,
)
from workflow.scenario_runs import (
    cancel_scenario_run as cancel_run,
)
from workflow.scenario_runs import (
    get_scenario_run as read_run,
)
from workflow.status import RunStatus
from workflow.tables import scenario_runs as scenario_runs_table

router = APIRouter(prefix="/v1/scenario-runs", tags=["scenario runs"])

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


def limits(settings: Settings) -> ScenarioLimits:
    """The app's scenario limits (:class:`api.settings.Settings`) for the workflow."""
    return ScenarioLimits(
        max_scale=settings.scenario_max_scale,
        work={role.value: settings.scenario_work_quota(role.value) for role in Role},
        max_active=settings.max_active_scenario_runs,
    )


@router.post(
    "",
    response_model=ScenarioRun,
    status_code=202,
    responses={202: {"headers": {"Location": {"schema": {"type": "string"}}}}},
)
def post_scenario_run(
    body: ScenarioRunIn, request: Request, response: Response, who: RunsScenarios, bound: Bound
) -> ScenarioRun:
    """Validate the scenario and queue its run (202, ``Location``); poll it until done.

    Refused (422, naming the field and the limit) when larger than the caller's role may run
    (``scenario_max_scale``, ``scenario_work_<role>``); 429 when the caller's token already has
    ``max_active_scenario_runs`` queued or running.
    """
    settings: Settings = request.app.state.settings
    run = queue_scenario_run(
        bound, who, body.yaml, body.replications, limits(settings), request.url.path
    )
    request.app.state.run_executor.submit(run_in_background, bound, run.run_id)
    response.headers["Location"] = f"{router.prefix}/{run.run_id}"
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


@router.get("", response_model=list[ScenarioRunBrief], responses=pagination.paged())
def list_scenario_runs(
    request: Request,
    response: Response,
    who: ReadsScenarios,
    conn: Conn,
    page: Paged,
    status: RunStatus | None = None,
) -> list[ScenarioRunBrief]:
    """The scenario runs, newest first (``?status=done``; paged: ``limit``, ``cursor``); read
    one for its KPIs."""
    after = page.after_int()
    runs = scenario_runs_table.c
    query = sa.select(*(runs[name] for name in ScenarioRunBrief.model_fields))
    if status is not None:
        query = query.where(runs.status == status)
    if after is not None:
        query = query.where(runs.run_id < -after)
    rows = conn.execute(query.order_by(runs.run_id.desc()).limit(page.limit + 1))
    found = [ScenarioRunBrief(**row._mapping) for row in rows]
    return pagination.finish(request, response, page, found, lambda run: (-run.run_id,))


@router.get("/{run_id}", response_model=ScenarioRun)
def get_scenario_run(run_id: RowId, who: ReadsScenarios, conn: Conn) -> ScenarioRun:
    """One scenario run: status, the validated scenario, and when done the KPI summary."""
    return read_run(conn, run_id)


@router.post("/{run_id}/cancel", response_model=ScenarioRun)
def cancel_scenario_run(
    run_id: RowId, request: Request, who: RunsScenarios, bound: Bound
) -> ScenarioRun:
    """Cancel a queued or running scenario run: a queued one at once, a running one after the
    week it is simulating (poll it). 409 for a run that already ended."""
    return cancel_run(bound, who, run_id, request.url.path)
