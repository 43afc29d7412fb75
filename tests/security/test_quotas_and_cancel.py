"""Issue 11, point 3: scenario size quotas per role, per-token limits on active runs, and
cancelling queued and running solve and scenario runs (the worker really stops)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.routers import scenario_runs
from tests.api.test_api import TODAY, client, make_token, running_api
from workflow import runs
from workflow.access import Role

HUGE = "name: huge\nbase: {type: reference, scale: 200}\nhorizon_weeks: 104\nreplications: 50\n"
SMALL = "name: small\nbase: {type: reference, scale: 0.05}\nhorizon_weeks: 1\nreplications: 1\n"
#: Long enough to be caught running: many simulated weeks, each a checkpoint.
LONG = "name: long\nbase: {type: reference, scale: 0.05}\nhorizon_weeks: 104\nreplications: 20\n"
FAST_LEASES = {"heartbeat_seconds": 0.2, "lease_seconds": 5}


def _until(api_client: httpx.Client, location: str, statuses: tuple[str, ...]) -> dict[str, Any]:
    """Poll a run until its status is one of ``statuses`` (at most 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        run: dict[str, Any] = api_client.get(location).json()
        if run["status"] in statuses:
            return run
        assert time.monotonic() < deadline, f"run still {run['status']}"
        time.sleep(0.05)


def test_huge_scenario_is_refused_by_the_role_quota(database_url: str, shared_dir: Path) -> None:
    """Scale 200 is 422 naming base.scale and its limit; 50 replications of 104 weeks is 422
    naming replications and the role's quota; nothing is queued."""
    unit_token = make_token(database_url, Role.SPECIALIST_UNIT, "unit")
    with (
        running_api(database_url, shared_dir) as api,
        client(str(api.nord.base_url), unit_token) as unit,
    ):
        scale = unit.post("/v1/scenario-runs", json={"yaml": HUGE})
        assert scale.status_code == 422
        assert scale.json()["errors"] == [{"field": "base.scale", "message": "at most 5"}]
        weeks = unit.post("/v1/scenario-runs", json={"yaml": HUGE.replace("200", "1")})
        assert weeks.status_code == 422
        assert [e["field"] for e in weeks.json()["errors"]] == ["replications"]
        assert "2500" in weeks.json()["detail"] and "specialist_unit" in weeks.json()["detail"]
        admin = api.admin.post("/v1/scenario-runs", json={"yaml": LONG})  # 2,080 > admin's 500
        assert admin.status_code == 422 and "500" in admin.json()["detail"]
        assert unit.get("/v1/scenario-runs").json() == []


def test_a_token_cannot_queue_more_than_its_share(
    database_url: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With runs held back: a region's third queued solve and a unit's second scenario run are
    429 problem+json naming the limit; another caller still gets its runs queued."""
    release = threading.Event()
    monkeypatch.setattr(runs, "execute_run", lambda bound, run_id: release.wait(30))
    monkeypatch.setattr(scenario_runs, "run_in_background", lambda bound, run_id: release.wait(30))
    units = [make_token(database_url, Role.SPECIALIST_UNIT, f"unit {i}") for i in (1, 2)]
    try:
        with (
            running_api(database_url, shared_dir, async_threshold=1) as api,
            client(str(api.nord.base_url), units[0]) as first,
            client(str(api.nord.base_url), units[1]) as second,
        ):
            solves = [api.syd.post("/v1/solve-runs", json={"today": TODAY}) for _ in range(3)]
            assert [r.status_code for r in solves] == [202, 202, 429]
            assert solves[2].headers["content-type"] == "application/problem+json"
            assert solves[2].json()["errors"][0]["field"] == "token"
            assert "at most 2" in solves[2].json()["detail"]
            assert api.admin.post("/v1/solve-runs", json={"today": TODAY}).status_code == 202
            scenarios = [first.post("/v1/scenario-runs", json={"yaml": SMALL}) for _ in range(2)]
            assert [r.status_code for r in scenarios] == [202, 429]
            assert "at most 1" in scenarios[1].json()["detail"]
            assert second.post("/v1/scenario-runs", json={"yaml": SMALL}).status_code == 202
            cancelled = api.syd.post(f"{solves[0].headers['location']}/cancel")
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
            again = api.syd.post("/v1/solve-runs", json={"today": TODAY})
            assert again.status_code == 202  # a cancelled run frees its place
    finally:
        release.set()


def test_cancel_a_queued_solve_run(database_url: str, shared_dir: Path) -> None:
    """A queued solve cancelled by its caller ends ``cancelled`` and is never solved; another
    region may not cancel it; a finished run cannot be cancelled (409)."""
    with running_api(database_url, shared_dir, async_threshold=1, run_workers=1) as api:
        blocker = api.admin.post("/v1/scenario-runs", json={"yaml": LONG.replace("20\n", "1\n")})
        queued = [api.syd.post("/v1/solve-runs", json={"today": TODAY}) for _ in range(2)]
        location = queued[1].headers["location"]
        assert api.nord.post(f"{location}/cancel").status_code == 403
        cancelled = api.syd.post(f"{location}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["cancel_requested_at"] is not None
        api.admin.post(f"{blocker.headers['location']}/cancel").raise_for_status()
        done = _until(api.syd, queued[0].headers["location"], ("done",))
        assert api.syd.post(f"{queued[0].headers['location']}/cancel").status_code == 409
        assert done["status"] == "done"
        assert api.syd.get(location).json()["status"] == "cancelled"
        assert api.syd.get(f"{location}/proposals").status_code == 409


def test_cancel_a_running_scenario_run_stops_the_worker(
    database_url: str, shared_dir: Path
) -> None:
    """A running scenario run cancelled by the unit stops within a few seconds (between
    simulated weeks) and ends ``cancelled`` without a summary."""
    unit_token = make_token(database_url, Role.SPECIALIST_UNIT, "unit")
    with (
        running_api(database_url, shared_dir, **FAST_LEASES) as api,
        client(str(api.nord.base_url), unit_token) as unit,
    ):
        response = unit.post("/v1/scenario-runs", json={"yaml": LONG})
        assert response.status_code == 202, response.text
        location = response.headers["location"]
        _until(unit, location, ("running",))
        time.sleep(0.5)
        asked = time.monotonic()
        assert unit.post(f"{location}/cancel").status_code == 200
        run = _until(unit, location, ("cancelled", "done", "failed"))
        assert run["status"] == "cancelled" and run["summary"] is None
        assert time.monotonic() - asked < 5
        assert unit.post(f"{location}/cancel").status_code == 200  # cancelling twice: no error


def test_cancel_a_running_solve_stops_before_storing(
    database_url: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running solve cancelled by the specialist unit stops at its next phase: no proposals
    are stored and the run is ``cancelled``."""
    entered, release = threading.Event(), threading.Event()
    solve = runs.solve

    def slow_solve(problem: Any) -> Any:
        entered.set()
        release.wait(30)
        return solve(problem)

    monkeypatch.setattr(runs, "solve", slow_solve)
    unit_token = make_token(database_url, Role.SPECIALIST_UNIT, "unit")
    with (
        running_api(database_url, shared_dir, async_threshold=1, **FAST_LEASES) as api,
        client(str(api.nord.base_url), unit_token) as unit,
    ):
        response = api.syd.post("/v1/solve-runs", json={"today": TODAY})
        location = response.headers["location"]
        assert entered.wait(30)
        asked = unit.post(f"{location}/cancel")
        assert asked.status_code == 200 and asked.json()["cancel_requested_at"] is not None
        release.set()
        run = _until(api.syd, location, ("cancelled", "done", "failed"))
        assert run["status"] == "cancelled" and run["tiers"] is None
        engine = sa.create_engine(database_url)
        with engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT count(*) FROM run_proposals WHERE run_id = :id"),
                {"id": run["run_id"]},
            ).scalar()
        engine.dispose()
        assert stored == 0
