"""What-if scenario runs: validate a posted scenario, check it against the caller's quota,
queue it, simulate it on a worker, read and cancel it.

The API's route (``api.routers.scenario_runs``) only turns HTTP into these calls; the size
limits come from the app's settings as :class:`ScenarioLimits`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from capacity.errors import Invalid, KapacitetError
from scenarios.schema import ReferenceBase, Scenario, ScenarioError, scenario_from_yaml
from workflow import leases, tables
from workflow.access import Principal
from workflow.errors import TooLarge
from workflow.leases import RunStopped
from workflow.runs import STOPPED, check_active_runs, run_error
from workflow.status import RunStatus

#: Most replications one API request may ask for (the command line has no such limit).
MAX_REPLICATIONS = 50
#: Most problems listed in one refusal (the message says how many there were in all).
MAX_PROBLEMS = 20

_log = logging.getLogger(__name__)


class ScenarioRun(BaseModel):
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


@dataclass(frozen=True)
class ScenarioLimits:
    """How large a scenario run may be: the largest base scale, the work each role may ask for
    (``replications x horizon_weeks x max(scale, 1)``; roles not named: none) and how many runs
    one token may have queued or running."""

    max_scale: float
    work: dict[str, float]
    max_active: int


def parse_scenario(text: str) -> Scenario:
    """The posted YAML as a validated scenario; :class:`Invalid` with each problem at its YAML
    path.

    Only the bundled reference data can be a base here: a folder or database base would read
    the server's files or another database. The YAML is read with its expanded size bounded
    (an alias bomb is refused in milliseconds); problems name YAML paths, never the values
    sent, and at most :data:`MAX_PROBLEMS` are listed.
    """
    try:
        scenario = scenario_from_yaml(text, source="scenario")
    except ScenarioError as error:
        errors = [_field_problem(problem) for problem in error.problems[:MAX_PROBLEMS]]
        shown = "" if len(error.problems) <= MAX_PROBLEMS else f"; the first {MAX_PROBLEMS}"
        raise Invalid(
            f"{len(error.problems)} problem(s) in the scenario{shown}", errors=errors
        ) from None
    if not isinstance(scenario.base, ReferenceBase):
        raise Invalid(
            "over the API a scenario's base is the bundled reference data",
            errors=[{"field": "base.type", "message": "only 'reference' over the API"}],
        )
    return scenario


def _field_problem(problem: str) -> dict[str, str]:
    """``capacity.changes[0].percent: must be ...`` as ``{"field", "message"}``."""
    path, sep, message = problem.partition(": ")
    if not sep or " " in path:
        return {"field": "yaml", "message": problem}
    return {"field": path, "message": message}


def check_quota(
    scenario: Scenario, replications: int, who: Principal, limits: ScenarioLimits
) -> None:
    """:class:`TooLarge` naming the field and the limit when a scenario is larger than
    ``who``'s role may run.

    The size of a run is ``replications x horizon_weeks x max(scale, 1)``, about the seconds
    one worker simulates; the base's scale has a limit of its own (memory grows with it).
    """
    scale = float(scenario.base.scale) if isinstance(scenario.base, ReferenceBase) else 1.0
    if scale > limits.max_scale:
        raise TooLarge(
            f"base.scale is at most {limits.max_scale:g} over the API",
            errors=[{"field": "base.scale", "message": f"at most {limits.max_scale:g}"}],
        )
    quota = limits.work.get(who.role.value, 0.0)
    work = replications * int(scenario.horizon_weeks) * max(scale, 1.0)
    if work > quota:
        raise TooLarge(
            f"replications x horizon_weeks x max(scale, 1) is {work:g}; role {who.role.value} "
            f"may run at most {quota:g}: fewer replications or weeks",
            errors=[
                {"field": "replications", "message": f"replications x weeks x scale <= {quota:g}"}
            ],
        )


def queue_scenario_run(
    bound: Engine,
    who: Principal,
    text: str,
    replications: int | None,
    limits: ScenarioLimits,
    path: str,
) -> ScenarioRun:
    """Validate the scenario ``text``, check it against ``limits`` and record it as queued
    (audited, leased to this process); :func:`run_in_background` simulates it later.

    :class:`Invalid` or :class:`TooLarge` naming the field; :class:`QuotaExceeded` when the
    caller's token already has ``limits.max_active`` runs queued or running.
    """
    scenario = parse_scenario(text)
    replications = replications or int(scenario.replications)
    if replications > MAX_REPLICATIONS:
        raise Invalid(
            f"at most {MAX_REPLICATIONS} replications over the API",
            errors=[{"field": "replications", "message": f"at most {MAX_REPLICATIONS}"}],
        )
    check_quota(scenario, replications, who, limits)
    with bound.begin() as conn:
        check_active_runs(conn, tables.scenario_runs, who, limits.max_active, "scenario")
        run_id = conn.execute(
            tables.scenario_runs.insert()
            .values(
                name=str(scenario.name),
                status=RunStatus.QUEUED,
                requested_at=tables.now(),
                replications=replications,
                scenario=scenario.model_dump(mode="json"),
                token_id=who.token_id,
                **leases.lease_values(),
            )
            .returning(tables.scenario_runs.c.run_id)
        ).scalar_one()
        tables.append_audit(
            conn, who, "POST", path, str(run_id), after={"yaml": text, "replications": replications}
        )
        return get_scenario_run(conn, run_id)


#: A Dask scheduler's address (``tcp://host:8786``) the server sends scenario sweeps to; unset,
#: a scenario run's replications run in the server's own worker thread.
DASK_SCHEDULER_ENV = "KAPACITET_DASK_SCHEDULER"


def dask_scheduler() -> str | None:
    """The Dask scheduler scenario runs go to (``$KAPACITET_DASK_SCHEDULER``), if any."""
    return os.environ.get(DASK_SCHEDULER_ENV) or None


def run_in_background(bound: Engine, run_id: int) -> None:
    """Simulate a queued scenario run and store its KPI summary (or why it did not finish).

    The run is leased to this process (:mod:`workflow.leases`); it stops between weeks when it
    is cancelled or the server shuts down.
    """
    from scenarios.runner import run_scenario

    table = tables.scenario_runs
    with leases.executing(bound, table, run_id) as lease:
        if lease is None:  # cancelled or recovered while it waited
            return
        with bound.begin() as conn:
            row = conn.execute(sa.select(table).where(table.c.run_id == run_id)).one()
        values: dict[str, Any]
        try:
            scenario = Scenario.model_validate(row.scenario)
            scheduler = dask_scheduler()
            result = run_scenario(
                scenario,
                replications=row.replications,
                workers=None if scheduler else 1,
                scheduler=scheduler,
                checkpoint=lease.checkpoint,
            )
            kpis = [
                {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
                for r in result.summary.to_dict(orient="records")
            ]
            values = {
                "status": RunStatus.DONE,
                "summary": {"metadata": result.metadata, "kpis": kpis},
            }
        except RunStopped as stopped:
            values = {"status": stopped.status, "error": STOPPED[stopped.status]}
        except (KapacitetError, ScenarioError) as error:
            values = {"status": RunStatus.FAILED, "error": str(error)[:2000]}
        except Exception as error:  # recorded for the caller; the worker thread lives on
            _log.exception("scenario run %s failed", run_id)
            message = run_error(error, "scenario run", f"scenario run {run_id}")
            values = {"status": RunStatus.FAILED, "error": message}
        with bound.begin() as conn:
            leases.finish(conn, table, run_id, **values)


def get_scenario_run(conn: Connection, run_id: int) -> ScenarioRun:
    """The stored scenario run (:class:`~capacity.errors.NotFound` for an unknown id)."""
    return tables.stored(conn, tables.scenario_runs, run_id, ScenarioRun, "scenario run")


def list_scenario_runs(
    conn: Connection, columns: list[str], status: RunStatus | None, limit: int
) -> list[sa.Row[Any]]:
    """The scenario runs' ``columns``, newest first, of one ``status`` or all."""
    runs = tables.scenario_runs.c
    query = sa.select(*(runs[name] for name in columns))
    if status is not None:
        query = query.where(runs.status == status)
    return list(conn.execute(query.order_by(runs.run_id.desc()).limit(limit)))


def cancel_scenario_run(bound: Engine, who: Principal, run_id: int, path: str) -> ScenarioRun:
    """Cancel a queued or running scenario run (audited): a queued one at once, a running one
    after the week it is simulating (:func:`workflow.leases.cancel` says who may)."""
    with bound.begin() as conn:
        run = get_scenario_run(conn, run_id)
    leases.cancel(bound, tables.scenario_runs, who, run_id, run.status, path, what="scenario run")
    with bound.begin() as conn:
        return get_scenario_run(conn, run_id)
