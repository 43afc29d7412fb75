"""Issue 11, point 2: every write is validated as a contract folder is, and a stored row that
a solve cannot use gives a clear error naming the patient and field, never a crash."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from capacity.errors import Invalid
from capacity.io import read_folder
from capacity.storage import create_database_engine, load_dataset, read_snapshot, schema
from tests.api.test_api import TODAY, make_token, running_api
from tests.api.test_api import client as api_client
from workflow.access import Role

JSON = {"Content-Type": "application/json"}
DEPARTMENT = "H42-11"

BAD_PATCHES = [
    ({"deadline": "9999-12-31"}, "deadline"),
    ({"earliest_date": "0001-01-01"}, "earliest_date"),
    ({"max_travel_km": float("inf")}, "max_travel_km"),
    ({"max_travel_km": -1e308}, "max_travel_km"),
    ({"deadline_status": None}, "deadline_status"),
    ({"accepts_private": None}, "accepts_private"),
]


@pytest.mark.parametrize(("change", "column"), BAD_PATCHES, ids=lambda v: str(v))
def test_patch_with_an_unstorable_value_is_422_and_solves_still_work(
    database_url: str, shared_dir: Path, change: dict[str, Any], column: str
) -> None:
    """A PATCH the contract validator would refuse is 422 naming the field; the patient is
    unchanged and a solve afterwards succeeds."""
    with running_api(database_url, shared_dir) as api:
        posted = api.nord.post("/v1/patients", json={"patients": api.records})
        assert posted.status_code == 200, posted.text
        url = f"/v1/patients/{api.records[0]['patient_id']}"
        before = api.nord.get(url).json()
        response = api.nord.patch(url, content=json.dumps(change), headers=JSON)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert any(e["field"].endswith(column) for e in response.json()["errors"])
        assert api.nord.get(url).json() == before
        solved = api.nord.post("/v1/solve-runs", json={"today": TODAY})
        assert solved.status_code == 200, solved.text
        assert solved.json()["status"] == "done"


def test_post_with_a_date_outside_2000_to_2100_is_422(database_url: str, shared_dir: Path) -> None:
    """A posted deadline in year 9999 is 422 at its field path; nothing is stored."""
    with running_api(database_url, shared_dir) as api:
        record = dict(api.records[0]) | {"deadline": "9999-12-31"}
        response = api.nord.post("/v1/patients", json={"patients": [record]})
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["patients[0].deadline"]
        assert api.nord.get("/v1/patients").json() == []


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"date": "2201-01-05", "free_slots": 1}, "capacity[0].date"),
        ({"date": "2026-11-24", "free_slots": 10**19}, "capacity[0].free_slots"),
    ],
    ids=["date-2201", "free-slots-1e19"],
)
def test_declaration_beyond_what_a_store_holds_is_422(
    database_url: str, shared_dir: Path, row: dict[str, Any], field: str
) -> None:
    """A capacity row dated 2201 or declaring 10^19 free slots is 422 naming the field."""
    with running_api(database_url, shared_dir) as api:
        token = make_token(database_url, Role.DEPARTMENT, "h42-11", department_id=DEPARTMENT)
        department = api_client(str(api.nord.base_url), token)
        service = {"department_id": DEPARTMENT, "collaboration": "breast", "procedure": "surgery"}
        response = department.post("/v1/capacity", json={"capacity": [service | row]})
        department.close()
        assert response.status_code == 422, response.text
        assert field in {e["field"] for e in response.json()["errors"]}


def test_weekly_cap_of_year_9999_is_422(database_url: str, shared_dir: Path) -> None:
    """A weekly cap for an ISO week in year 9999 is 422 naming the week."""
    with running_api(database_url, shared_dir) as api:
        token = make_token(database_url, Role.DEPARTMENT, "h42-11", department_id=DEPARTMENT)
        department = api_client(str(api.nord.base_url), token)
        cap = {
            "department_id": DEPARTMENT,
            "collaboration": "breast",
            "procedure": "surgery",
            "week": "9999-W01",
            "max_slots": 3,
        }
        response = department.post("/v1/capacity", json={"weekly_caps": [cap]})
        department.close()
        assert response.status_code == 422, response.text
        assert "weekly_caps[0].week" in {e["field"] for e in response.json()["errors"]}


@pytest.mark.parametrize(
    ("column", "value"),
    [("deadline", dt.date(9999, 12, 31)), ("max_travel_km", float("inf"))],
    ids=["deadline-9999", "max-travel-inf"],
)
def test_snapshot_of_a_bad_stored_row_names_the_patient_and_field(
    database_url: str, shared_dir: Path, column: str, value: Any
) -> None:
    """A row written around the validator (plain SQL) makes the snapshot read raise Invalid
    naming the patient and the field, not a pandas crash."""
    dataset = read_folder(shared_dir / "contract" / "example")
    load_dataset(database_url, dataset)
    patient_id = str(dataset.patients.loc[3, "patient_id"])
    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.update(schema.patients)
            .where(schema.patients.c.patient_id == patient_id)
            .values({column: value})
        )
    engine.dispose()
    with pytest.raises(Invalid) as raised:
        read_snapshot(database_url)
    message = str(raised.value)
    assert patient_id in message and column in message
    assert "PATCH" in message
    assert raised.value.errors and raised.value.errors[0]["field"].endswith(column)
