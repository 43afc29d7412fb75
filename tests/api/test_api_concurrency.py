"""Parallel clients over real HTTP: writers lose nothing, solves read whole snapshots, and of
concurrent accepts of one last free slot exactly one wins (PostgreSQL and SQLite)."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from capacity.io import read_folder
from capacity.storage import create_database_engine
from tests.api.test_api import REGION, TODAY, client, load_example_without_region, make_token
from tests.http_server import serve
from workflow import runs
from workflow import tables as store
from workflow.access import Role

WRITERS, BATCHES, BATCH = 4, 3, 5
DEPARTMENTS = ("H42-11", "H42-12")
DECLARATIONS = 3


def _batch(records: list[dict[str, Any]], writer: int, batch: int) -> list[dict[str, Any]]:
    """``BATCH`` new patients (copies of the region's records under fresh ids)."""
    return [
        records[i % len(records)] | {"patient_id": f"pt42w{writer}{batch:02d}{i:02d}"}
        for i in range(BATCH)
    ]


def _week_rows(
    capacity: pd.DataFrame, department_id: str, change: int, week: int = 48
) -> list[dict[str, Any]]:
    """The department's declaration of an ISO week with every free_slots raised by ``change``."""
    rows = capacity[
        (capacity["department_id"] == department_id)
        & (capacity["date"].dt.isocalendar().week == week)
    ]
    return [
        {
            "department_id": department_id,
            "collaboration": row.collaboration,
            "procedure": row.procedure,
            "date": row.date.date().isoformat(),
            "free_slots": int(row.free_slots) + change,
        }
        for row in rows.itertuples()
    ]


def _finished(api_client: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    """The run a solve request started, waited for when it was queued (202)."""
    assert response.status_code in (200, 202), response.text
    run: dict[str, Any] = response.json()
    deadline = time.monotonic() + 60
    while run["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "solve run did not finish"
        time.sleep(0.05)
        run = api_client.get(f"/v1/solve-runs/{run['run_id']}").json()
    return run


def test_parallel_writers_and_solves_lose_nothing(database_url: str, shared_dir: Path) -> None:
    """Patients and declarations posted in parallel with solves are all stored; each solve
    names its snapshot and saw whole batches only (never half a post)."""
    records = load_example_without_region(database_url, shared_dir)
    capacity = read_folder(shared_dir / "contract" / "example").capacity
    base_patients = 32
    admin = make_token(database_url, Role.ADMIN, "admin")
    writers = [make_token(database_url, Role.REGION, f"w{i}", region=REGION) for i in range(4)]
    departments = {
        d: make_token(database_url, Role.DEPARTMENT, d, department_id=d) for d in DEPARTMENTS
    }

    with serve(database_url, async_threshold=base_patients + 1, run_workers=2) as base:

        def post_patients(writer: int) -> list[int]:
            with client(base, writers[writer]) as region:
                return [
                    region.post("/v1/patients", json={"patients": _batch(records, writer, b)})
                    .raise_for_status()
                    .json()["inserted"]
                    for b in range(BATCHES)
                ]

        def declare(department_id: str) -> list[dict[str, int]]:
            with client(base, departments[department_id]) as department:
                return [
                    department.post(
                        "/v1/capacity",
                        json={"capacity": _week_rows(capacity, department_id, change + 1)},
                    )
                    .raise_for_status()
                    .json()
                    for change in range(DECLARATIONS)
                ]

        def solve(_: int) -> list[dict[str, Any]]:
            with client(base, admin) as unit:
                runs = []
                for _ in range(3):
                    response = unit.post("/v1/solve-runs", json={"today": TODAY})
                    run = _finished(unit, response)
                    proposals = unit.get(f"/v1/solve-runs/{run['run_id']}/proposals").json()
                    runs.append(run | {"proposed": len(proposals)})
                return runs

        with ThreadPoolExecutor(WRITERS + len(DEPARTMENTS) + 2) as pool:
            posted = pool.map(post_patients, range(WRITERS))
            declared = pool.map(declare, DEPARTMENTS)
            solved = pool.map(solve, range(2))
            posted_counts, declarations, runs = list(posted), list(declared), list(solved)

        with client(base, admin) as unit:
            stored = unit.get("/v1/patients").json()
            history = pd.DataFrame(unit.get("/v1/capacity/history").json())
            final = _finished(unit, unit.post("/v1/solve-runs", json={"today": TODAY}))

    assert posted_counts == [[BATCH] * BATCHES] * WRITERS
    assert len(stored) == base_patients + WRITERS * BATCHES * BATCH
    assert all(d == {"new": 1, "superseded": 1, "unchanged": 0} for ds in declarations for d in ds)
    for department_id in DEPARTMENTS:
        week = history[
            (history["department_id"] == department_id) & (history["week"] == "2026-W48")
        ]
        assert week["version"].tolist() == list(range(1, DECLARATIONS + 2))
        last = sum(r["free_slots"] for r in _week_rows(capacity, department_id, DECLARATIONS))
        assert week["free_slots"].iloc[-1] == last
    done = [run for per_thread in runs for run in per_thread]
    assert [run["status"] for run in done] == ["done"] * len(done)
    for run in done:
        assert run["snapshot_id"] and run["snapshot_at"]
        assert run["proposed"] == run["patients"]
        assert (run["patients"] - base_patients) % BATCH == 0, "a solve saw half a post"
    assert final["patients"] == len(stored)


def test_concurrent_accepts_of_the_last_slot_one_wins(database_url: str, shared_dir: Path) -> None:
    """Two patients proposed to one department-day whose free slots were then declared down to
    one: of parallel accepts, exactly one is 200 and every other is 409 problem+json."""
    records = load_example_without_region(database_url, shared_dir)
    capacity = read_folder(shared_dir / "contract" / "example").capacity
    nord = make_token(database_url, Role.REGION, "nord", region=REGION)
    admin = make_token(database_url, Role.ADMIN, "admin")
    with serve(database_url) as base, client(base, nord) as region, client(base, admin) as unit:
        region.post("/v1/patients", json={"patients": records}).raise_for_status()
        run = unit.post("/v1/solve-runs", json={"today": TODAY}).json()
        proposals = pd.DataFrame(unit.get(f"/v1/solve-runs/{run['run_id']}/proposals").json())
        placed = proposals[proposals["action"].isin(["new", "move"])]
        slot = ["department_id", "collaboration", "procedure", "date"]
        shared = placed.groupby(slot).filter(lambda group: len(group) >= 2)
        assert not shared.empty, "the example week has no department-day with two proposals"
        key = shared.iloc[0][slot]
        pair = shared[(shared[slot] == key).all(axis=1)].head(2)
        chairs = {
            c: make_token(database_url, Role.COLLABORATION_CHAIR, c, collaboration=c)
            for c in pair["collaboration"]
        }
        department = make_token(
            database_url, Role.DEPARTMENT, "dept", department_id=key["department_id"]
        )
        week = pd.Timestamp(key["date"]).isocalendar().week
        rows = _week_rows(capacity, key["department_id"], 0, week)
        for r in rows:
            if (r["collaboration"], r["procedure"], r["date"]) == (
                key["collaboration"],
                key["procedure"],
                key["date"],
            ):
                r["free_slots"] = 1
        with client(base, department) as declarer:
            declarer.post("/v1/capacity", json={"capacity": rows}).raise_for_status()

        def accept(patient_id: str) -> httpx.Response:
            token = chairs[key["collaboration"]]
            with client(base, token) as chair:
                return chair.post(
                    f"/v1/solve-runs/{run['run_id']}/proposals/{patient_id}/decision",
                    json={"decision": "accept"},
                )

        attempts = list(pair["patient_id"]) * 4
        with ThreadPoolExecutor(len(attempts)) as pool:
            responses = list(pool.map(accept, attempts))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: len(attempts) - 1}, [r.text for r in responses]
    assert all(
        r.headers["content-type"] == "application/problem+json"
        for r in responses
        if r.status_code == 409
    )


def test_snapshot_read_with_writes_paused(
    database_url: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When optimistic reads keep being overtaken, a solve reads with writes paused: a post
    waits until the pause ends, and the solve still names its snapshot."""
    records = load_example_without_region(database_url, shared_dir)
    nord = make_token(database_url, Role.REGION, "nord", region=REGION)
    with serve(database_url) as base, client(base, nord) as region:
        engine = create_database_engine(database_url)
        with ThreadPoolExecutor(1) as pool:
            with store.writes_paused(engine):
                posting = pool.submit(region.post, "/v1/patients", json={"patients": records[:2]})
                time.sleep(1.0)
                assert not posting.done(), "a write committed while writes were paused"
            assert posting.result(timeout=60).status_code == 200
        engine.dispose()
        monkeypatch.setattr(runs, "SNAPSHOT_ATTEMPTS", 0)  # straight to the paused read
        run = region.post("/v1/solve-runs", json={"today": TODAY}).json()
        assert run["status"] == "done" and run["snapshot_id"] and run["patients"] == 34
