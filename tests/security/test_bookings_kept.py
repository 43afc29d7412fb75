"""Issue 11, point 6: a booking made by a decision survives uploads that omit or contradict it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from typer.testing import CliRunner

from capacity.io import read_folder
from capacity.storage import load_dataset
from kapacitet import cli
from tests.api.test_api import TODAY, Api, running_api


def _accept_one(api: Api) -> dict[str, Any]:
    """Post Nordjylland's patients, solve, accept one new proposal: the accepted proposal."""
    posted = api.nord.post("/v1/patients", json={"patients": api.records})
    assert posted.status_code == 200, posted.text
    run = api.nord.post("/v1/solve-runs", json={"today": TODAY})
    assert run.status_code == 200, run.text
    run_id = run.json()["run_id"]
    proposals = api.nord.get(f"/v1/solve-runs/{run_id}/proposals").json()
    chosen: dict[str, Any] = next(p for p in proposals if p["action"] == "new")
    decided = api.nord.post(
        f"/v1/solve-runs/{run_id}/proposals/{chosen['patient_id']}/decision",
        json={"decision": "accept", "reason": "patient agreed"},
    )
    assert decided.status_code == 200, decided.text
    return chosen


def _booking(api: Api, patient_id: str) -> tuple[str, str]:
    patient = api.nord.get(f"/v1/patients/{patient_id}").json()
    return patient["booked_department_id"], patient["booked_date"]


def test_repost_without_booking_keeps_the_decided_booking(
    database_url: str, shared_dir: Path
) -> None:
    """Re-posting the waiting list without booking fields keeps the accepted booking and
    reports the conflict at the patient's field."""
    with running_api(database_url, shared_dir) as api:
        chosen = _accept_one(api)
        booked = (chosen["department_id"], chosen["date"])
        assert _booking(api, chosen["patient_id"]) == booked
        response = api.nord.post("/v1/patients", json={"patients": api.records})
        assert response.status_code == 200, response.text
        assert _booking(api, chosen["patient_id"]) == booked
        position = [r["patient_id"] for r in api.records].index(chosen["patient_id"])
        conflicts = response.json()["conflicts"]
        assert [c["field"] for c in conflicts] == [f"patients[{position}].booked_department_id"]
        assert chosen["department_id"] in conflicts[0]["message"]
        assert "decision" in conflicts[0]["message"]


def test_weekly_load_contradicting_the_booking_keeps_it(
    database_url: str, shared_dir: Path
) -> None:
    """Loading the week's folder again, with another booking for the patient, keeps the
    booking accepted in the meeting and reports the conflict."""
    with running_api(database_url, shared_dir) as api:
        chosen = _accept_one(api)
        dataset = read_folder(shared_dir / "contract" / "example")
        patients = dataset.patients.copy()
        row = int(patients.index[patients["patient_id"] == chosen["patient_id"]][0])
        departments = dataset.departments["department_id"]
        elsewhere = departments[departments != chosen["department_id"]].iloc[0]
        patients.loc[row, "booked_department_id"] = elsewhere
        patients.loc[row, "booked_date"] = pd.Timestamp("2026-12-01")
        report = load_dataset(database_url, replace(dataset, patients=patients))
        assert _booking(api, chosen["patient_id"]) == (chosen["department_id"], chosen["date"])
        assert [c.field for c in report.conflicts] == [f"patients[{row}].booked_department_id"]


def test_cli_load_prints_the_kept_booking(database_url: str, shared_dir: Path) -> None:
    """`kapacitet load` of the week's folder after the meeting keeps the accepted booking and
    lists the patient as kept."""
    with running_api(database_url, shared_dir) as api:
        chosen = _accept_one(api)
        folder = shared_dir / "contract" / "example"
        result = CliRunner().invoke(cli.app, ["load", str(folder), "--db", database_url])
        assert result.exit_code == 0, result.output
        kept = [line for line in result.stdout.splitlines() if line.startswith("kept:")]
        assert len(kept) == 1 and chosen["department_id"] in kept[0], result.stdout
        assert _booking(api, chosen["patient_id"]) == (chosen["department_id"], chosen["date"])
