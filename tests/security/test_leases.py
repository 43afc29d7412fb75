"""Issue 11, point 7: two server processes share one store; only expired leases are recovered."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from capacity.storage import create_database_engine
from tests.api.test_api import TODAY, running_api
from tests.security.server_process import server_process
from workflow import runs
from workflow import tables as store

FAST_LEASES = {"heartbeat_seconds": 0.2, "lease_seconds": 2}
FAST_ENV = {"KAPACITET_HEARTBEAT_SECONDS": "0.2", "KAPACITET_LEASE_SECONDS": "2"}


def _status(engine: sa.Engine, table: sa.Table, run_id: int) -> str:
    with engine.begin() as conn:
        return str(conn.execute(sa.select(table.c.status).where(table.c.run_id == run_id)).scalar())


def _orphan(engine: sa.Engine, status: str, lease_owner: str | None, expires: Any) -> int:
    """A solve run left behind by a process that is gone (stored directly)."""
    with engine.begin() as conn:
        return int(
            conn.execute(
                store.solve_runs.insert()
                .values(
                    status=status,
                    requested_at=store.now(),
                    today=dt.date(2026, 11, 23),
                    lease_owner=lease_owner,
                    lease_expires_at=expires,
                )
                .returning(store.solve_runs.c.run_id)
            ).scalar_one()
        )


def test_second_process_leaves_a_live_run_alone(
    database_url: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While this process solves (its lease renewed past the lease period), a second server
    process starting on the same store leaves the run running, and it ends done; runs whose
    lease expired, or that never had one, the second process marks interrupted."""
    entered, release = threading.Event(), threading.Event()
    solve = runs.solve

    def slow_solve(problem: Any) -> Any:
        entered.set()
        release.wait(60)
        return solve(problem)

    monkeypatch.setattr(runs, "solve", slow_solve)
    engine = create_database_engine(database_url)
    try:
        with running_api(database_url, shared_dir, async_threshold=1, **FAST_LEASES) as api:
            response = api.syd.post("/v1/solve-runs", json={"today": TODAY})
            assert response.status_code == 202, response.text
            run_id = response.json()["run_id"]
            assert entered.wait(30)
            past = store.now() - dt.timedelta(minutes=1)
            expired = _orphan(engine, "running", "gone-host:1:abcd", past)
            unleased = _orphan(engine, "queued", None, None)
            with server_process(database_url, **FAST_ENV):
                time.sleep(3)  # past the lease period: only heartbeats keep the run alive
                assert _status(engine, store.solve_runs, run_id) == "running"
                assert _status(engine, store.solve_runs, expired) == "interrupted"
                assert _status(engine, store.solve_runs, unleased) == "interrupted"
            release.set()
            deadline = time.monotonic() + 60
            while _status(engine, store.solve_runs, run_id) == "running":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert _status(engine, store.solve_runs, run_id) == "done"
            error = api.syd.get(f"/v1/solve-runs/{expired}").json()["error"]
            assert error == "the server stopped before the run finished; start it again"
    finally:
        release.set()
        engine.dispose()
