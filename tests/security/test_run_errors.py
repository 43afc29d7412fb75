"""Issue 11, point 9: a failed run records a message for its user, never Python's internals."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from capacity.errors import Invalid
from scenarios import runner
from tests.api.test_api import TODAY, client, make_token, running_api
from workflow import runs
from workflow.access import Role

INTERNALS = ("Traceback", "Error:", "Exception", "OutOfBoundsDatetime", "ZeroDivision", "File ")


def _finished(api_client: httpx.Client, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        run: dict[str, Any] = api_client.get(location).json()
        if run["status"] not in ("queued", "running"):
            return run
        assert time.monotonic() < deadline, f"run still {run['status']}"
        time.sleep(0.05)


def test_internal_solve_error_is_a_reference_to_the_log(
    database_url: str,
    shared_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A solve failing inside (a pandas error) records "internal error ... reference", names no
    exception class, and logs the traceback; the synchronous caller gets the same as 500."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("OutOfBoundsDatetime: Out of bounds nanosecond timestamp: 9999-12-31")

    monkeypatch.setattr(runs.Problem, "from_dataset", broken)
    with caplog.at_level(logging.ERROR):
        with running_api(database_url, shared_dir, async_threshold=1) as api:
            response = api.syd.post("/v1/solve-runs", json={"today": TODAY})
            assert response.status_code == 202, response.text
            run = _finished(api.syd, response.headers["location"])
        with running_api(database_url, shared_dir) as api:
            synchronous = api.syd.post("/v1/solve-runs", json={"today": TODAY})
    assert run["status"] == "failed"
    assert run["error"] == (
        "the solve failed because of an internal error; it has been logged "
        f"(reference solve run {run['run_id']})"
    )
    assert synchronous.status_code == 500
    assert synchronous.headers["content-type"] == "application/problem+json"
    assert "internal error" in synchronous.json()["detail"]
    for text in (run["error"], synchronous.text):
        assert not any(word in text for word in INTERNALS), text
    logged = [r for r in caplog.records if r.name == "workflow.runs" and r.exc_info]
    assert len(logged) == 2, "each traceback is logged"


def test_domain_error_is_recorded_as_its_message(
    database_url: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bad stored data (capacity.errors.Invalid naming the patient and field) is the run's
    error as written, and a 422 for the synchronous caller."""
    message = "patient pt42x00011: deadline 9999-12-31 is outside 2000-2100; correct it"

    def invalid(*args: Any, **kwargs: Any) -> Any:
        raise Invalid(message, errors=[{"field": "deadline", "message": "outside 2000-2100"}])

    monkeypatch.setattr(runs.Problem, "from_dataset", invalid)
    with running_api(database_url, shared_dir, async_threshold=1) as api:
        response = api.syd.post("/v1/solve-runs", json={"today": TODAY})
        assert response.status_code == 202
        run = _finished(api.syd, response.headers["location"])
        assert (run["status"], run["error"]) == ("failed", message)
    with running_api(database_url, shared_dir) as api:
        synchronous = api.syd.post("/v1/solve-runs", json={"today": TODAY})
        assert synchronous.status_code == 422
        assert synchronous.json()["detail"] == message


def test_internal_scenario_error_is_a_reference_to_the_log(
    database_url: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scenario run failing inside records the same kind of message, no exception class."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("division by zero in kpis")

    monkeypatch.setattr(runner, "run_scenario", broken)
    unit_token = make_token(database_url, Role.SPECIALIST_UNIT, "unit")
    scenario = "name: s\nbase: {type: reference, scale: 0.05}\nhorizon_weeks: 1\nreplications: 1\n"
    with (
        running_api(database_url, shared_dir) as api,
        client(str(api.nord.base_url), unit_token) as unit,
    ):
        response = unit.post("/v1/scenario-runs", json={"yaml": scenario})
        assert response.status_code == 202, response.text
        run = _finished(unit, response.headers["location"])
        assert run["status"] == "failed"
        assert run["error"] == (
            "the scenario run failed because of an internal error; it has been logged "
            f"(reference scenario run {run['run_id']})"
        )
