"""Issue 13's loop over HTTP, on SQLite and PostgreSQL: a chair accepts a referral, the
receiving department confirms, the region records that the patient declined; the timeline, the
duty-to-act list, the next solve and the quarter's monitoring report all show it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from typer.testing import CliRunner

from capacity.pathways import derive_pathways
from capacity.storage import pathways as stored
from kapacitet.cli import app
from tests.api.test_api import REGION, TODAY, client, make_token, running_api
from workflow.access import Role
from workflow.referrals import today_in_denmark


def _away(proposals: list[dict[str, Any]], used: set[str]) -> dict[str, Any]:
    """A proposal that refers the patient away from the home department (not yet used)."""
    return next(
        p
        for p in proposals
        if p["action"] in ("new", "move")
        and p["department_id"] != p["home_department_id"]
        and p["patient_id"] not in used
    )


def _decide(chair: httpx.Client, run: int, patient: str, verdict: str) -> dict[str, Any]:
    response = chair.post(
        f"/v1/solve-runs/{run}/proposals/{patient}/decision",
        json={"decision": verdict, "reason": "the meeting agreed"},
    )
    assert response.status_code == 200, response.text
    decided: dict[str, Any] = response.json()
    return decided


def test_accept_confirm_decline_and_what_follows(
    database_url: str, shared_dir: Path, tmp_path: Path
) -> None:
    with running_api(database_url, shared_dir) as api:
        assert api.nord.post("/v1/patients", json={"patients": api.records}).status_code == 200
        run = api.nord.post("/v1/solve-runs", json={"today": TODAY}).json()["run_id"]
        proposals = api.nord.get(f"/v1/solve-runs/{run}/proposals").json()
        first = _away(proposals, set())
        second = _away(proposals, {first["patient_id"]})
        chair_token = make_token(
            database_url, Role.COLLABORATION_CHAIR, "chair2", collaboration=first["collaboration"]
        )
        base = str(api.nord.base_url)
        chair = client(base, chair_token)
        receiving = client(
            base,
            make_token(database_url, Role.DEPARTMENT, "recv", department_id=first["department_id"]),
        )
        other_department = client(
            base,
            make_token(
                database_url, Role.DEPARTMENT, "other", department_id=first["home_department_id"]
            ),
        )

        # the chair accepts: an offer awaiting the receiving department, the slot held
        decided = _decide(chair, run, first["patient_id"], "accept")
        offer = decided["offer_id"]
        assert decided["offer_status"] == "awaiting_department"
        incoming = receiving.get("/v1/referrals", params={"status": "awaiting_department"}).json()
        assert [o["offer_id"] for o in incoming] == [offer]
        assert incoming[0]["away_from_home"] is True
        # the region cannot answer before the department; another department cannot confirm
        early = api.nord.post(f"/v1/referrals/{offer}/answer", json={"accepted": True})
        assert early.status_code == 409
        assert other_department.post(
            f"/v1/referrals/{offer}/confirm", json={"confirmed": True}
        ).status_code in (403, 404)
        confirmed = receiving.post(f"/v1/referrals/{offer}/confirm", json={"confirmed": True})
        assert confirmed.json()["status"] == "awaiting_patient"
        declined = api.nord.post(
            f"/v1/referrals/{offer}/answer", json={"accepted": False, "reason": "too far"}
        )
        assert declined.status_code == 200 and declined.json()["status"] == "declined_by_patient"
        patient = api.nord.get(f"/v1/patients/{first['patient_id']}").json()
        assert (patient["booked_department_id"], patient["booked_date"]) == (
            first["booked_department_id"] or None,
            first["booked_date"] or None,
        )

        # the timeline has every step, in order
        timeline = api.nord.get(f"/v1/patients/{first['patient_id']}/timeline").json()
        steps = [entry["what"] for entry in timeline]
        assert steps == [
            "accept",
            "offer_made",
            "department_confirmed",
            "offer_declined",
            "reject",
        ], steps
        assert api.syd.get(f"/v1/patients/{first['patient_id']}/timeline").status_code == 404

        # a department declines the second: the slot is freed, the pair never proposed again
        offer2 = _decide(chair, run, second["patient_id"], "accept")["offer_id"]
        recv2 = client(
            base,
            make_token(
                database_url, Role.DEPARTMENT, "recv2", department_id=second["department_id"]
            ),
        )
        no_reason = recv2.post(f"/v1/referrals/{offer2}/confirm", json={"confirmed": False})
        assert no_reason.status_code == 422
        refused = recv2.post(
            f"/v1/referrals/{offer2}/confirm",
            json={"confirmed": False, "reason": "no theatre that day"},
        )
        assert refused.json()["status"] == "declined_by_department"

        # the next solve proposes neither pair again
        again = api.nord.post("/v1/solve-runs", json={"today": TODAY}).json()["run_id"]
        later = {
            p["patient_id"]: p for p in api.nord.get(f"/v1/solve-runs/{again}/proposals").json()
        }
        assert later[first["patient_id"]]["department_id"] != first["department_id"]
        assert later[second["patient_id"]]["department_id"] != second["department_id"]

        # an offer was documented: neither patient is on the duty-to-act list
        duty = api.nord.get("/v1/duty-to-act", params={"today": TODAY}).json()
        assert first["patient_id"] not in {d["patient_id"] for d in duty}
        for client_ in (chair, receiving, other_department, recv2):
            client_.close()

    # the quarter's report counts the declined offer as the patient's wish
    today = today_in_denmark()
    events = tmp_path / "events.csv"
    events.write_text(
        "patient_id,collaboration,procedure,home_region,event,date,department_id,detail\n"
        f"{first['patient_id']},{first['collaboration']},{first['procedure']},{REGION},"
        f"referral_received,{today - dt.timedelta(days=26)},,\n"
        f"{first['patient_id']},{first['collaboration']},{first['procedure']},{REGION},"
        f"started,{today + dt.timedelta(days=20)},{first['home_department_id']},\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    imported = runner.invoke(app, ["pathways", "import", str(events), "--db", database_url])
    assert imported.exit_code == 0, imported.output
    started = today + dt.timedelta(days=20)
    quarter = f"{started.year}-Q{(started.month - 1) // 3 + 1}"
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "report",
            "monitoring",
            "--quarter",
            quarter,
            "--db",
            database_url,
            "--no-pdf",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / f"monitoring-{quarter}.csv", dtype=str)
    national = table[(table["home_region"] == "all") & (table["collaboration"] == "all")].iloc[0]
    assert national["pathways"] in ("1", "<5")  # one pathway, published as a small count
    recorded = derive_pathways(stored.read_events(database_url, patient_id=first["patient_id"]))
    closed = recorded[recorded["category"].notna()]
    assert closed["category"].tolist() == ["patient_wish"]  # the declined offer
    assert int(closed["days_exceeded"].iloc[0]) > 0


def test_holds_and_decisions_carry_over_to_the_next_run(
    database_url: str, shared_dir: Path
) -> None:
    with running_api(database_url, shared_dir) as api:
        assert api.nord.post("/v1/patients", json={"patients": api.records}).status_code == 200
        run = api.nord.post("/v1/solve-runs", json={"today": TODAY}).json()["run_id"]
        proposals = api.nord.get(f"/v1/solve-runs/{run}/proposals").json()
        held, accepted = proposals[0]["patient_id"], _away(proposals, set())["patient_id"]
        for patient, verdict in ((held, "hold"), (accepted, "accept")):
            response = api.nord.post(
                f"/v1/solve-runs/{run}/proposals/{patient}/decision",
                json={"decision": verdict, "reason": "asking the patient"},
            )
            assert response.status_code == 200, response.text
        again = api.nord.post("/v1/solve-runs", json={"today": TODAY}).json()["run_id"]
        later = {
            p["patient_id"]: p for p in api.nord.get(f"/v1/solve-runs/{again}/proposals").json()
        }
        assert later[held]["standing_decision"]["decision"] == "hold"
        assert later[held]["standing_decision"]["run_id"] == run
        carried = later[accepted]["standing_decision"]
        assert carried["decision"] == "accept" and carried["offer_status"] == "awaiting_department"
        # a new decision on the newer run replaces the hold
        decided = api.nord.post(
            f"/v1/solve-runs/{again}/proposals/{held}/decision",
            json={"decision": "reject", "reason": "patient prefers to wait"},
        )
        assert decided.status_code == 200
        latest = {
            p["patient_id"]: p for p in api.nord.get(f"/v1/solve-runs/{again}/proposals").json()
        }
        assert latest[held]["standing_decision"]["decision"] == "reject"
