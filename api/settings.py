"""The service's settings: which database, how large a body may be, when a solve runs async,
and the limits that keep one caller from exhausting the server (docs/security.md).

Every limit has a default here and an environment override (``$KAPACITET_...``, read once at
start-up); ``create_app(..., **overrides)`` sets any of them for one app.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from capacity.storage import resolve_url

#: Largest request body accepted (bytes); larger ones get 413 before they are read.
MAX_BODY_BYTES = 10 * 1024 * 1024
#: A solve of at least this many waiting patients answers 202 and runs in the background.
ASYNC_THRESHOLD = 1000
#: Background workers for solve and scenario runs (threads owned by the app's lifespan).
RUN_WORKERS = 2
ASYNC_THRESHOLD_ENV = "KAPACITET_ASYNC_THRESHOLD"

#: Environment overrides of the limits, by Settings field.
LIMIT_ENV = {
    "max_active_solve_runs": "KAPACITET_MAX_ACTIVE_SOLVE_RUNS",
    "max_active_scenario_runs": "KAPACITET_MAX_ACTIVE_SCENARIO_RUNS",
    "scenario_max_scale": "KAPACITET_SCENARIO_MAX_SCALE",
    "scenario_work_specialist_unit": "KAPACITET_SCENARIO_WORK_SPECIALIST_UNIT",
    "scenario_work_admin": "KAPACITET_SCENARIO_WORK_ADMIN",
    "lease_seconds": "KAPACITET_LEASE_SECONDS",
    "heartbeat_seconds": "KAPACITET_HEARTBEAT_SECONDS",
    "shutdown_grace_seconds": "KAPACITET_SHUTDOWN_GRACE_SECONDS",
}


@dataclass(frozen=True)
class Settings:
    """Where the store is (resolved like every other entry point), the body limit, how many
    patients make a solve asynchronous (``$KAPACITET_ASYNC_THRESHOLD``), and the limits.

    Limits (each overridable, see :data:`LIMIT_ENV`):

    - ``max_active_solve_runs``: solve runs one token may have queued or running at once
      (more: 429).
    - ``max_active_scenario_runs``: the same for scenario runs.
    - ``scenario_max_scale``: the largest ``base.scale`` a scenario may have over the API (422).
    - ``scenario_work_<role>``: the largest ``replications x horizon_weeks x max(scale, 1)``
      one scenario run of that role may ask for (422); one unit is about one simulated national
      week, roughly a second of one worker. Roles without a quota may not run scenarios.
    - ``lease_seconds``: how long a run's lease lasts without a heartbeat; another process
      recovers (marks ``interrupted``) only runs whose lease has expired.
    - ``heartbeat_seconds``: how often a process extends the leases of its runs and recovers
      expired ones.
    - ``shutdown_grace_seconds``: how long shut-down waits for runs told to stop before it marks
      them ``interrupted`` and exits.
    """

    database_url: str
    max_body_bytes: int = MAX_BODY_BYTES
    async_threshold: int = ASYNC_THRESHOLD
    run_workers: int = RUN_WORKERS
    max_active_solve_runs: int = 2
    max_active_scenario_runs: int = 1
    scenario_max_scale: float = 5.0
    scenario_work_specialist_unit: float = 2_500.0
    scenario_work_admin: float = 500.0
    lease_seconds: float = 30.0
    heartbeat_seconds: float = 5.0
    shutdown_grace_seconds: float = 3.0

    @classmethod
    def resolve(
        cls,
        database_url: str | None = None,
        max_body_bytes: int | None = None,
        async_threshold: int | None = None,
        run_workers: int | None = None,
        **overrides: Any,
    ) -> Settings:
        """Settings for ``database_url`` (else ``$KAPACITET_DB``, else the SQLite file), the
        environment's limits, then ``overrides`` (Settings fields)."""
        if async_threshold is None and os.environ.get(ASYNC_THRESHOLD_ENV):
            async_threshold = int(os.environ[ASYNC_THRESHOLD_ENV])
        settings = cls(
            resolve_url(database_url),
            max_body_bytes or MAX_BODY_BYTES,
            ASYNC_THRESHOLD if async_threshold is None else async_threshold,
            run_workers or RUN_WORKERS,
        )
        fields = {f.name: f for f in dataclasses.fields(cls)}
        from_env: dict[str, Any] = {}
        for name, variable in LIMIT_ENV.items():
            text = os.environ.get(variable)
            if text:
                convert: Callable[[str], Any] = int if fields[name].type == "int" else float
                from_env[name] = convert(text)
        return dataclasses.replace(settings, **(from_env | overrides))

    def scenario_work_quota(self, role: str) -> float:
        """The largest scenario run ``role`` may ask for (0: none), see the class docstring."""
        quota: float = getattr(self, f"scenario_work_{role}", 0.0)
        return quota
