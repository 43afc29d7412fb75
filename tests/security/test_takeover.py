"""Issue 11, point 1: a region cannot take over another region's patient, over JSON or FHIR."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from capacity.io import read_folder
from capacity.storage import create_database_engine, schema
from interop.fhir.exports import referrals_bundle
from tests.api.test_api import REGION, running_api

VICTIM_REGION = "Syddanmark"
FHIR = {"Content-Type": "application/fhir+json"}


def _stored(database_url: str, patient_id: str) -> dict[str, Any]:
    """The stored row of one patient (every column but the load that wrote it)."""
    columns = [c for c in schema.patients.c if c.name not in ("load_id", "position")]
    engine = create_database_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(*columns).where(schema.patients.c.patient_id == patient_id)
        ).one()
    engine.dispose()
    return dict(row._mapping)


def _victim(shared_dir: Path) -> pd.DataFrame:
    """One of Syddanmark's stored patients, as the example week holds it."""
    patients = read_folder(shared_dir / "contract" / "example").patients
    return patients[patients["home_region"] == VICTIM_REGION].head(1).reset_index(drop=True)


def test_json_post_cannot_take_over_another_regions_patient(
    database_url: str, shared_dir: Path
) -> None:
    """Nordjylland posting Syddanmark's pseudonym relabelled as its own is refused; the stored
    record, its owner and Nordjylland's other posted patients stay as they were."""
    victim = _victim(shared_dir)
    patient_id = str(victim.loc[0, "patient_id"])
    with running_api(database_url, shared_dir) as api:
        before = _stored(database_url, patient_id)
        forged = dict(api.records[0]) | {
            "patient_id": patient_id,
            "deadline": "2027-06-30",
            "deadline_status": "paused_patient_wish",
        }
        response = api.nord.post("/v1/patients", json={"patients": [*api.records, forged]})
        assert response.status_code in (403, 404), response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert patient_id not in response.text
        assert _stored(database_url, patient_id) == before
        assert api.syd.get(f"/v1/patients/{patient_id}").json()["home_region"] == VICTIM_REGION
        assert api.nord.get("/v1/patients").json() == []


def test_fhir_referral_cannot_take_over_another_regions_patient(
    database_url: str, shared_dir: Path
) -> None:
    """A referral Bundle from Nordjylland naming Syddanmark's pseudonym is refused with an
    OperationOutcome; the stored record and its owner are unchanged."""
    victim = _victim(shared_dir)
    patient_id = str(victim.loc[0, "patient_id"])
    forged = victim.assign(
        home_region=REGION,
        deadline=pd.Timestamp("2027-06-30"),
        deadline_status="paused_patient_wish",
    )
    bundle = json.loads(referrals_bundle(forged).model_dump_json(exclude_none=True))
    with running_api(database_url, shared_dir, max_body_bytes=5_000_000) as api:
        before = _stored(database_url, patient_id)
        response = api.nord.post("/v1/fhir", content=json.dumps(bundle), headers=FHIR)
        assert response.status_code in (403, 404), response.text
        assert response.json()["resourceType"] == "OperationOutcome"
        assert patient_id not in response.text
        assert _stored(database_url, patient_id) == before
        assert api.syd.get(f"/v1/patients/{patient_id}").json()["home_region"] == VICTIM_REGION
