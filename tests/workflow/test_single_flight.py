"""Issue 16.2: one solve per snapshot. Identical solve requests on the same data version share
one computation (twins in flight wait; later ones copy the stored result into their own run);
any change of the store, or another request, solves again."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from capacity.generate import generate_week
from capacity.storage import create_database_engine, load_dataset, upgrade_database
from workflow import runs
from workflow import tables as store
from workflow.access import Principal, Role
from workflow.decisions import decide
from workflow.runs import SolveRequest

CHAIR = Principal(token_id=0, name="t", role=Role.COLLABORATION_CHAIR, collaboration="lung")
LUNG = {"today": "2026-11-23", "week": "2026-W48", "collaboration": "lung"}


@pytest.fixture
def engine(database_url: str) -> Any:
    load_dataset(database_url, generate_week(week="2026-W48", seed=2026, scale=0.05))
    bound = create_database_engine(database_url)
    upgrade_database(bound)
    yield bound
    bound.dispose()


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = runs.solve

    def counted(problem: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(problem, *args, **kwargs)

    monkeypatch.setattr(runs, "solve", counted)
    return calls


def _proposals(engine: Any, run_id: int) -> list[Any]:
    p = store.run_proposals.c
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                sa.select(p.patient_id, p.proposal).where(p.run_id == run_id).order_by(p.patient_id)
            )
        ]


def test_a_second_identical_request_reuses_the_stored_result(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    body = SolveRequest.model_validate(LUNG)
    first = runs.start_run(engine, CHAIR, body, "/test")
    second = runs.start_run(engine, CHAIR, body, "/test")
    assert len(calls) == 1, "solved once"
    assert second.run_id != first.run_id and second.status == "done"
    assert (second.kpis or {}).get("reused_from_run") == first.run_id
    assert second.snapshot_id == first.snapshot_id and second.tiers == first.tiers
    assert _proposals(engine, second.run_id) == _proposals(engine, first.run_id)
    # another request (another date) is a solve of its own
    runs.start_run(engine, CHAIR, SolveRequest.model_validate(LUNG | {"today": "2026-11-24"}), "/t")
    assert len(calls) == 2


def test_a_decision_in_between_means_a_new_solve(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    body = SolveRequest.model_validate(LUNG)
    first = runs.start_run(engine, CHAIR, body, "/test")
    patient = _proposals(engine, first.run_id)[0][0]
    with engine.begin() as conn:
        decide(conn, CHAIR, first.run_id, patient, "hold", "venter", "/test")
    again = runs.start_run(engine, CHAIR, body, "/test")
    assert len(calls) == 2 and "reused_from_run" not in (again.kpis or {})
    assert again.snapshot_id != first.snapshot_id


def test_identical_requests_at_once_share_one_computation(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    body = SolveRequest.model_validate(LUNG)
    done: list[Any] = []
    errors: list[BaseException] = []

    def client() -> None:
        try:
            done.append(runs.start_run(engine, CHAIR, body, "/test"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and len(done) == 4
    assert len(calls) == 1, "four identical requests, one solve"
    assert len({run.run_id for run in done}) == 4, "each caller has a run of its own"
    assert len({run.snapshot_id for run in done}) == 1
