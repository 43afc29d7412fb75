"""Issue 11, point 3: SIGTERM stops the server within seconds; runs in flight are interrupted."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import sqlalchemy as sa

from capacity.storage import create_database_engine
from tests.api.test_api import client, load_example_without_region, make_token
from tests.security.server_process import server_process
from workflow import tables as store
from workflow.access import Role

#: A scenario run that simulates for minutes (104 weeks, 20 replications), so it is in flight.
LONG = "name: long\nbase: {type: reference, scale: 0.05}\nhorizon_weeks: 104\nreplications: 20\n"


def test_sigterm_stops_the_server_and_interrupts_runs(database_url: str, shared_dir: Path) -> None:
    """With a scenario run in flight and one queued behind it, SIGTERM ends the server process
    within 5 seconds, and both runs are marked ``interrupted`` (not lost, not failed)."""
    load_example_without_region(database_url, shared_dir)
    tokens = [make_token(database_url, Role.SPECIALIST_UNIT, f"unit {i}") for i in range(3)]
    with server_process(database_url) as server:
        locations = []
        for token in tokens:  # two workers: two run, one waits
            with client(server.base, token) as unit:
                response = unit.post("/v1/scenario-runs", json={"yaml": LONG})
                assert response.status_code == 202, response.text
                locations.append(response.headers["location"])
        with client(server.base, tokens[0]) as unit:
            deadline = time.monotonic() + 60
            while unit.get(locations[0]).json()["status"] != "running":
                assert time.monotonic() < deadline
                time.sleep(0.1)
        time.sleep(1)
        sent = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(10)
        assert time.monotonic() - sent < 5
    engine = create_database_engine(database_url)
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(store.scenario_runs.c.status, store.scenario_runs.c.error).order_by(
                store.scenario_runs.c.run_id
            )
        ).all()
    engine.dispose()
    assert [row.status for row in rows] == ["interrupted"] * 3
    assert all("start it again" in row.error for row in rows)
