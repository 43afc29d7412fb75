"""FHIR over HTTP (uvicorn on a loopback port), on SQLite and PostgreSQL: POST /v1/fhir and
GET /v1/fhir/Appointment, with the CLI for the region's own export and load."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.structuredefinition import StructureDefinition
from typer.testing import CliRunner

from capacity.frames import Dataset
from capacity.io import read_folder
from capacity.storage import (
    create_database_engine,
    load_dataset,
    read_snapshot,
    upgrade_database,
)
from interop.fhir import mapping as m
from interop.fhir.exports import capacity_bundle, referrals_bundle
from kapacitet import cli
from tests.http_server import serve
from workflow.access import Role
from workflow.tokens import create_token

TODAY = "2026-11-23"
REGION = "Nordjylland"
DEPARTMENT = "H42-11"
FHIR = {"Content-Type": "application/fhir+json"}


@dataclass(frozen=True)
class FhirApi:
    """A running server, clients of several roles, and the example week it was started from."""

    nord: httpx.Client
    syd: httpx.Client
    department: httpx.Client
    admin: httpx.Client
    dataset: Dataset
    database_url: str


@pytest.fixture
def fhir_api(database_url: str, shared_dir: Path) -> Iterator[FhirApi]:
    """The example week stored without Nordjylland's patients and without the capacity of
    Nordjylland's departments, served on a free port."""
    dataset = read_folder(shared_dir / "contract" / "example")
    northern = dataset.departments.loc[dataset.departments["region"] == REGION, "department_id"]
    load_dataset(
        database_url,
        replace(
            dataset,
            patients=dataset.patients[dataset.patients["home_region"] != REGION],
            capacity=dataset.capacity[~dataset.capacity["department_id"].isin(northern)],
        ),
    )
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    with engine.begin() as connection:
        tokens = {
            "nord": create_token(connection, Role.REGION, "nord", region=REGION)[0],
            "syd": create_token(connection, Role.REGION, "syd", region="Syddanmark")[0],
            "department": create_token(
                connection, Role.DEPARTMENT, "h42-11", department_id=DEPARTMENT
            )[0],
            "admin": create_token(connection, Role.ADMIN, "admin")[0],
        }
    engine.dispose()
    with serve(database_url, max_body_bytes=5_000_000) as base:
        clients = {
            name: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {t}"}, timeout=60)
            for name, t in tokens.items()
        }
        try:
            yield FhirApi(**clients, dataset=dataset, database_url=database_url)
        finally:
            for client in clients.values():
                client.close()


def _referrals(api: FhirApi, region: str = REGION) -> dict[str, Any]:
    patients = api.dataset.patients
    ours = patients[patients["home_region"] == region].reset_index(drop=True)
    return json.loads(referrals_bundle(ours).model_dump_json(exclude_none=True))  # type: ignore[no-any-return]


def _own_capacity(api: FhirApi, departments: list[str]) -> dict[str, Any]:
    """A capacity Bundle of ``departments``' free slots (their services and departments too)."""
    d = api.dataset
    subset = replace(
        d,
        departments=d.departments[d.departments["department_id"].isin(departments)],
        services=d.services[d.services["department_id"].isin(departments)],
        capacity=d.capacity[d.capacity["department_id"].isin(departments)].reset_index(drop=True),
    )
    return json.loads(capacity_bundle(subset).model_dump_json(exclude_none=True))  # type: ignore[no-any-return]


def _post(client: httpx.Client, bundle: Any) -> httpx.Response:
    return client.post("/v1/fhir", content=json.dumps(bundle), headers=FHIR)


def _outcome(response: httpx.Response, status: int) -> dict[str, str]:
    """The response's OperationOutcome (validated) as expression → diagnostics."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    outcome = OperationOutcome.model_validate_json(response.content)
    return {
        (issue.expression[0] if issue.expression else ""): str(issue.diagnostics)
        for issue in outcome.issue
    }


def _solve(client: httpx.Client) -> int:
    response = client.post("/v1/solve-runs", json={"today": TODAY})
    assert response.status_code == 200, response.text
    return int(response.json()["run_id"])


def _appointments(client: httpx.Client, run_id: int) -> Bundle:
    response = client.get("/v1/fhir/Appointment", params={"run": run_id})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    return Bundle.model_validate_json(response.content)


def test_region_exports_slots_loads_them_solves_and_gets_valid_appointments(
    fhir_api: FhirApi, shared_dir: Path, tmp_path: Path
) -> None:
    """Done-when path: the region exports its free slots as a FHIR Bundle, loads it, sends its
    referrals as FHIR, solves, and receives its proposals as Appointments that validate."""
    runner = CliRunner()
    slots = tmp_path / "nordjylland-slots.json"
    folder = str(shared_dir / "contract" / "example")
    exported = runner.invoke(
        cli.app, ["fhir", "export-capacity", folder, "--region", REGION, "--out", str(slots)]
    )
    assert exported.exit_code == 0, exported.output
    loaded = runner.invoke(cli.app, ["fhir", "import", str(slots), "--db", fhir_api.database_url])
    assert loaded.exit_code == 0, loaded.output
    declarations = next(line for line in loaded.output.splitlines() if "declarations" in line)
    assert int(declarations.split()[1]) > 0  # new declarations for the region's departments
    stored = _outcome(_post(fhir_api.nord, _referrals(fhir_api)), 200)
    assert "stored 8 patients from the Bundle; patients: 8 inserted" in next(iter(stored.values()))
    run_id = _solve(fhir_api.nord)
    bundle = _appointments(fhir_api.nord, run_id)
    appointments = [e.resource for e in bundle.entry]
    assert bundle.type == "searchset" and bundle.total == len(appointments) == 8
    ours = set(fhir_api.dataset.patients.loc[lambda p: p["home_region"] == REGION, "patient_id"])
    seen = set()
    for appointment in appointments:
        assert appointment.get_resource_type() == "Appointment"
        assert appointment.status in ("proposed", "waitlist")
        assert appointment.comment  # the reason
        actors = {p.actor.type: p.actor.identifier for p in appointment.participant}
        assert actors["Patient"].system == m.PATIENT_SYSTEM
        seen.add(actors["Patient"].value)
        if appointment.status == "proposed":
            assert actors["Location"].system == m.DEPARTMENT_SYSTEM
            assert actors["HealthcareService"].system == m.SERVICE_SYSTEM
    assert seen == ours
    assert any(a.status == "proposed" for a in appointments)
    out = tmp_path / "proposals.json"
    cli_export = runner.invoke(
        cli.app,
        ["fhir", "export", "--run", str(run_id), "--db", fhir_api.database_url, "--out", str(out)],
    )
    assert cli_export.exit_code == 0, cli_export.output
    everyone = Bundle.model_validate_json(out.read_text(encoding="utf-8"))
    assert everyone.total == len(fhir_api.dataset.patients)  # the CLI sees every region


def test_department_posts_only_its_own_slots(fhir_api: FhirApi) -> None:
    """A department's capacity Bundle becomes its declaration (a busy Slot is 422 at its status);
    slots of another department are 403 at each Schedule's actor, and a region may not declare
    capacity at all."""
    own = _own_capacity(fhir_api, [DEPARTMENT])
    busy = json.loads(json.dumps(own))
    slot = next(i for i, e in enumerate(busy["entry"]) if e["resource"]["resourceType"] == "Slot")
    busy["entry"][slot]["resource"]["status"] = "busy"
    assert list(_outcome(_post(fhir_api.department, busy), 422)) == [
        f"Bundle.entry[{slot}].resource.status"
    ]
    stored = _outcome(_post(fhir_api.department, own), 200)
    assert "capacity declarations: 2 new, 0 superseded" in next(iter(stored.values()))
    history = fhir_api.admin.get("/v1/capacity/history", params={"department_id": DEPARTMENT})
    assert [(h["week"], h["version"]) for h in history.json()] == [
        ("2026-W48", 1),
        ("2026-W49", 1),
    ]
    again = _outcome(_post(fhir_api.department, own), 200)
    assert "0 new, 0 superseded, 2 unchanged" in next(iter(again.values()))
    other = _own_capacity(fhir_api, ["H42-12"])
    schedules = [
        i for i, e in enumerate(other["entry"]) if e["resource"]["resourceType"] == "Schedule"
    ]
    forbidden = _outcome(_post(fhir_api.department, other), 403)
    assert set(forbidden) == {f"Bundle.entry[{i}].resource.actor[0]" for i in schedules}
    assert "Bundle" in _outcome(_post(fhir_api.nord, own), 403)


def test_invalid_bundles_get_an_operation_outcome_at_each_path(fhir_api: FhirApi) -> None:
    """Structure errors (fhir.resources), CPR identifiers and the contract's own checks (unknown
    department, misspelt procedure, another region's patient) each name their FHIRPath."""
    bundle = _referrals(fhir_api)
    patients = [
        i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == "Patient"
    ]
    requests = [
        i
        for i, e in enumerate(bundle["entry"])
        if e["resource"]["resourceType"] == "ServiceRequest"
    ]
    broken = json.loads(json.dumps(bundle))
    broken["entry"][requests[0]]["resource"]["occurrencePeriod"]["start"] = "24-11-2026"
    assert set(_outcome(_post(fhir_api.nord, broken), 422)) == {
        f"Bundle.entry[{requests[0]}].resource.occurrencePeriod.start"
    }
    cpr = json.loads(json.dumps(bundle))
    cpr["entry"][patients[1]]["resource"]["identifier"].append(
        {"system": m.CPR_SYSTEM, "value": "1212121212"}
    )
    issues = _outcome(_post(fhir_api.nord, cpr), 422)
    assert list(issues) == [f"Bundle.entry[{patients[1]}].resource.identifier[1].system"]
    assert "1212121212" not in issues[f"Bundle.entry[{patients[1]}].resource.identifier[1].system"]
    wrong = json.loads(json.dumps(bundle))
    wrong["entry"][requests[1]]["resource"]["performer"][0]["identifier"]["value"] = "H99-99"
    wrong["entry"][requests[2]]["resource"]["code"]["coding"][0]["code"] = "chemo"
    issues = _outcome(_post(fhir_api.nord, wrong), 422)
    assert set(issues) == {
        f"Bundle.entry[{requests[1]}].resource.performer[0]",
        f"Bundle.entry[{requests[2]}].resource.code",
    }
    assert "H99-99" in issues[f"Bundle.entry[{requests[1]}].resource.performer[0]"]
    foreign = _outcome(_post(fhir_api.nord, _referrals(fhir_api, "Syddanmark")), 403)
    # the region comes from dk-core's region extension (ISO 3166-2), written beside state
    assert foreign and all(
        path.endswith(".address[0].extension[0].valueCodeableConcept.coding[0]") for path in foreign
    )
    not_json = fhir_api.nord.post("/v1/fhir", content=b"{", headers=FHIR)
    assert list(_outcome(not_json, 422)) == ["Bundle"]
    as_text = fhir_api.nord.post(
        "/v1/fhir", content=json.dumps(bundle), headers={"Content-Type": "text/plain"}
    )
    assert list(_outcome(as_text, 415)) == ["Bundle"]
    assert fhir_api.nord.get("/v1/patients").json() == []  # nothing was stored


def test_decisions_come_back_booked_or_cancelled_and_other_regions_see_nothing(
    fhir_api: FhirApi,
) -> None:
    """After an accept and a reject, the run's Appointments are booked / cancelled with
    AppointmentResponses; another region's search holds none of these patients; the import
    was audited."""
    assert _post(fhir_api.nord, _referrals(fhir_api)).status_code == 200
    run_id = _solve(fhir_api.nord)
    placed = [
        p
        for p in fhir_api.nord.get(f"/v1/solve-runs/{run_id}/proposals").json()
        if p["action"] == "new"
    ][:2]
    assert len(placed) == 2
    for proposal, decision in zip(placed, ("accept", "reject"), strict=True):
        url = f"/v1/solve-runs/{run_id}/proposals/{proposal['patient_id']}/decision"
        answer = fhir_api.nord.post(url, json={"decision": decision, "reason": f"{decision}ed"})
        assert answer.status_code == 200, answer.text
    bundle = _appointments(fhir_api.nord, run_id)
    by_patient = {
        e.resource.identifier[0].value.split("/")[1]: e.resource
        for e in bundle.entry
        if e.resource.get_resource_type() == "Appointment"
    }
    responses = {
        e.resource.appointment.reference: e.resource
        for e in bundle.entry
        if e.resource.get_resource_type() == "AppointmentResponse"
    }
    urls = {e.resource.id: e.fullUrl for e in bundle.entry}
    accepted, rejected = (by_patient[p["patient_id"]] for p in placed)
    assert accepted.status == "booked" and rejected.status == "cancelled"
    assert responses[urls[accepted.id]].participantStatus == "accepted"
    assert responses[urls[rejected.id]].comment == "rejected"
    others = _appointments(fhir_api.syd, run_id)
    assert not {a.resource.identifier[0].value for a in others.entry or []} & {
        f"{run_id}/{p}" for p in by_patient
    }
    missing = fhir_api.nord.get("/v1/fhir/Appointment", params={"run": 999})
    assert "999" in next(iter(_outcome(missing, 404).values()))
    audit = fhir_api.admin.get("/v1/audit").json()
    assert any(entry["path"] == "/v1/fhir" and entry["token_name"] == "nord" for entry in audit)


DATA = Path(__file__).resolve().parents[1] / "data" / "fhir"


def _capacity_of(api: FhirApi) -> pd.DataFrame:
    """The department's stored capacity cells (current declarations), sorted."""
    stored = read_snapshot(api.database_url).capacity
    ours = stored[stored["department_id"] == DEPARTMENT]
    return ours.set_index(["collaboration", "procedure", "date"]).sort_index()


def test_a_one_day_bundle_changes_only_that_day(fhir_api: FhirApi) -> None:
    """After its whole declaration, a department posts one service's one day: that cell is
    a new version of its week, every other day and service stays as it was."""
    _outcome(_post(fhir_api.department, _own_capacity(fhir_api, [DEPARTMENT])), 200)
    before = _capacity_of(fhir_api)
    d = fhir_api.dataset
    capacity = d.capacity
    one = capacity[
        (capacity["department_id"] == DEPARTMENT)
        & (capacity["collaboration"] == "breast")
        & (capacity["procedure"] == "surgery")
        & (capacity["date"] == "2026-11-25")
    ].assign(free_slots=5)
    subset = replace(
        d,
        departments=d.departments[d.departments["department_id"] == DEPARTMENT],
        services=d.services[d.services["department_id"] == DEPARTMENT],
        capacity=one,
    )
    bundle = json.loads(capacity_bundle(subset).model_dump_json(exclude_none=True))
    stored = _outcome(_post(fhir_api.department, bundle), 200)
    assert "capacity declarations: 1 new, 1 superseded, 0 unchanged" in next(iter(stored.values()))
    changed = _capacity_of(fhir_api).compare(before)
    assert changed.index.tolist() == [("breast", "surgery", pd.Timestamp("2026-11-25"))]
    assert changed[("free_slots", "self")].tolist() == [5]


def test_real_world_bundles_post_cleanly(fhir_api: FhirApi) -> None:
    """With the departments' SOR codes stored, the real-world capacity Bundle (department by
    SOR code only, contained Location, mixed-precision horizon) and referral Bundle (dk-core
    region, SOR-only home department) are stored through POST /v1/fhir."""
    d = fhir_api.dataset
    codes = pd.array([f"99999{n:08d}" for n in range(len(d.departments))], dtype="string")
    load_dataset(
        fhir_api.database_url,
        replace(
            d,
            departments=d.departments.assign(sor_code=codes),
            services=d.services.head(0),
            capacity=d.capacity.head(0),
            patients=d.patients.head(0),
        ),
    )
    capacity = json.loads((DATA / "kapacitet" / "real-world-capacity.json").read_text())
    stored = _outcome(_post(fhir_api.department, capacity), 200)
    assert "stored 5 capacity rows" in next(iter(stored.values()))
    cells = _capacity_of(fhir_api).loc[("breast", "surgery"), "free_slots"]
    assert cells.loc["2026-11-23":"2026-11-27"].tolist() == [0, 3, 0, 1, 0]
    referrals = json.loads((DATA / "kapacitet" / "real-world-referrals.json").read_text())
    _outcome(_post(fhir_api.nord, referrals), 200)
    patients = read_snapshot(fhir_api.database_url).patients.set_index("patient_id")
    assert patients.loc["pt-real-world-1", "home_department_id"] == DEPARTMENT
    # a region's Bundle naming a department by an SOR code nobody has is 422 at the performer
    referrals["entry"][1]["resource"]["performer"][0]["identifier"]["value"] = "9999999999999"
    issues = _outcome(_post(fhir_api.nord, referrals), 422)
    assert list(issues) == ["Bundle.entry[1].resource.performer[0]"]


def test_metadata_and_definitions_are_served_without_a_token(fhir_api: FhirApi) -> None:
    """GET /v1/fhir/metadata is a CapabilityStatement that validates; kapacitet's
    CodeSystems and StructureDefinitions are read by id; an unknown id is 404."""
    base = str(fhir_api.admin.base_url)
    with httpx.Client(base_url=base, timeout=30) as anonymous:
        response = anonymous.get("/v1/fhir/metadata")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/fhir+json"
        statement = CapabilityStatement.model_validate_json(response.content)
        assert statement.fhirVersion == "4.0.1" and statement.kind == "instance"
        assert statement.implementation is not None
        assert str(statement.implementation.url).endswith("/v1/fhir")
        code_system = anonymous.get("/v1/fhir/CodeSystem/collaboration")
        assert CodeSystem.model_validate_json(code_system.content).url == m.COLLABORATION_SYSTEM
        extension = anonymous.get("/v1/fhir/StructureDefinition/deadline-status")
        definition = StructureDefinition.model_validate_json(extension.content)
        assert definition.url == m.DEADLINE_STATUS_EXTENSION
        missing = _outcome(anonymous.get("/v1/fhir/CodeSystem/nothing"), 404)
        assert list(missing) == ["CodeSystem"]
