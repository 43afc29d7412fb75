"""Issue 11, point 5: no CPR-like run is accepted in an id, echoed back, audited or logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from capacity.io import read_folder
from capacity.pseudonym import looks_like_cpr
from capacity.storage import create_database_engine, upgrade_database
from interop.fhir.exports import referrals_bundle
from tests.api.test_api import REGION, running_api
from workflow import tables as store

EMBEDDED = ["pt0101901234", "x010190-1234"]


def _audit_text(database_url: str) -> str:
    """Every stored audit entry as one text."""
    engine = create_database_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(store.audit_log)).all()
    engine.dispose()
    return "\n".join(str(row._mapping) for row in rows)


@pytest.mark.parametrize("patient_id", EMBEDDED)
def test_ids_embedding_a_cpr_number_are_422_and_never_echoed(
    database_url: str, shared_dir: Path, patient_id: str
) -> None:
    """A posted patient_id embedding a CPR-like run is 422 at its field, saying it looks like
    a CPR number without repeating it; reads and patches of it are 404 without echo."""
    with running_api(database_url, shared_dir) as api:
        record = dict(api.records[0]) | {"patient_id": patient_id}
        response = api.nord.post("/v1/patients", json={"patients": [record]})
        assert response.status_code == 422, response.text
        errors = response.json()["errors"]
        assert errors[0]["field"] == "patients[0].patient_id"
        assert "looks like a CPR number" in errors[0]["message"]
        for answer in (
            response,
            api.nord.get(f"/v1/patients/{patient_id}"),
            api.nord.patch(f"/v1/patients/{patient_id}", json={"deadline_status": "active"}),
        ):
            assert answer.status_code in (404, 422), answer.text
            assert not looks_like_cpr(answer.text), answer.text
        assert api.nord.get("/v1/patients").json() == []


def test_audit_entries_hold_no_cpr_like_run(database_url: str, shared_dir: Path) -> None:
    """An audit entry whose path, resource id or JSON carries a CPR-like run stores it
    redacted, and the API's own entries after CPR-bearing requests hold none."""
    with running_api(database_url, shared_dir) as api:
        api.nord.post("/v1/patients", json={"patients": api.records})
        api.nord.get("/v1/patients/0101901234")
        engine = create_database_engine(database_url)
        upgrade_database(engine)
        with engine.begin() as connection:
            store.append_audit(
                connection,
                None,
                "POST",
                "/v1/patients/0101901234",
                "x010190-1234",
                before={"patient_id": "pt0101901234"},
                after={"patients": [{"patient_id": "010190-1234", "note": "ok"}]},
            )
        engine.dispose()
        text = _audit_text(database_url)
    assert "/v1/patients" in text and "note" in text
    assert not looks_like_cpr(text), text


class _Captured(logging.Handler):
    """Keeps the formatted message of every record it is handed."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_access_log_holds_no_cpr_like_run(database_url: str, shared_dir: Path) -> None:
    """The server's access-log record of a request whose path carries a CPR number has the
    number redacted."""
    access = logging.getLogger("uvicorn.access")
    captured = _Captured()
    with running_api(database_url, shared_dir) as api:
        level = access.level
        access.setLevel(logging.INFO)
        access.addHandler(captured)
        try:
            assert api.nord.get("/v1/patients/010190-1234").status_code == 404
            assert api.nord.get("/v1/patients?who=0101901234").status_code == 200
        finally:
            access.removeHandler(captured)
            access.setLevel(level)
    requests = [m for m in captured.messages if "/v1/patients" in m]
    assert len(requests) == 2, captured.messages
    assert not any(looks_like_cpr(message) for message in requests), requests


@pytest.mark.parametrize("patient_id", EMBEDDED)
def test_fhir_pseudonym_embedding_a_cpr_number_is_refused_unechoed(
    database_url: str, shared_dir: Path, patient_id: str
) -> None:
    """A referral Bundle whose pseudonym embeds a CPR-like run is 422 at that identifier,
    without repeating it; nothing is stored."""
    patients = read_folder(shared_dir / "contract" / "example").patients
    ours = patients[patients["home_region"] == REGION].head(1).reset_index(drop=True)
    bundle = referrals_bundle(ours.assign(patient_id=patient_id))
    with running_api(database_url, shared_dir, max_body_bytes=5_000_000) as api:
        response = api.nord.post(
            "/v1/fhir",
            content=bundle.model_dump_json(exclude_none=True),
            headers={"Content-Type": "application/fhir+json"},
        )
        assert response.status_code == 422, response.text
        assert "identifier" in response.text and "CPR" in response.text
        assert not looks_like_cpr(response.text), response.text
        assert api.nord.get("/v1/patients").json() == []
