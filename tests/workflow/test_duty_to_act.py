"""The duty-to-act list (workflow.duty_to_act) on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from capacity import frames
from capacity.pathways import EVENTS, EVENTS_OPTIONAL
from capacity.storage import create_database_engine
from capacity.storage import pathways as stored
from tests.api.test_api import REGION, TODAY, running_api
from workflow.access import Principal, Role
from workflow.duty_to_act import duty_to_act

NORD = Principal(1, "nord", Role.REGION, region=REGION)
SYD = Principal(2, "syd", Role.REGION, region="Syddanmark")


def test_patients_the_home_department_cannot_start_in_time_without_an_offer(
    database_url: str, shared_dir: Path
) -> None:
    with running_api(database_url, shared_dir) as api:
        assert api.nord.post("/v1/patients", json={"patients": api.records}).status_code == 200
        run = api.nord.post("/v1/solve-runs", json={"today": TODAY}).json()
        proposals = api.nord.get(f"/v1/solve-runs/{run['run_id']}/proposals").json()
    today = dt.date.fromisoformat(TODAY)
    expected = {
        p["patient_id"]
        for p in proposals
        if p.get("deadline_status") == "active"
        and not (p.get("booked_date") and p["booked_date"] <= p["deadline"])  # booked in time
        and (
            not p.get("date")
            or p["department_id"] != p["home_department_id"]
            or p["date"] > p["deadline"]
        )
    }
    engine = create_database_engine(database_url)
    try:
        listed = duty_to_act(engine, NORD, today)
        assert {d.patient_id for d in listed} == expected and expected
        assert [d.days_left for d in listed] == sorted(d.days_left for d in listed)
        assert duty_to_act(engine, SYD, today) == [] or all(
            d.home_region == "Syddanmark" for d in duty_to_act(engine, SYD, today)
        )
        first = listed[0]
        offer = pd.DataFrame(
            [
                {
                    "patient_id": first.patient_id,
                    "collaboration": first.collaboration,
                    "procedure": first.procedure,
                    "home_region": first.home_region,
                    "event": "offer_made",
                    "date": pd.Timestamp(today),
                    "department_id": first.proposed_department_id or first.home_department_id,
                    "detail": "offered at the meeting",
                    "pathway": None,
                }
            ]
        )
        stored.store_events(engine, frames.conform(offer, EVENTS | EVENTS_OPTIONAL), "test")
        after = {d.patient_id for d in duty_to_act(engine, NORD, today)}
        assert after == expected - {first.patient_id}
    finally:
        engine.dispose()
