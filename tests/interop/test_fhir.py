"""FHIR R4 Bundles: CSV → FHIR → CSV round trips, HL7's examples, precise OperationOutcomes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from capacity.frames import Dataset
from capacity.generate import generate_week
from capacity.io import read_folder
from capacity.storage import load_dataset, read_snapshot
from interop.fhir import mapping as m
from interop.fhir.exports import (
    appointments_bundle,
    capacity_bundle,
    referrals_bundle,
    write_json,
)
from interop.fhir.imports import read_bundle, validate_bundle
from interop.fhir.outcome import BundleRejected
from kapacitet import cli
from solver.output import solution_json
from solver.problem import Problem
from solver.solve import solve

HL7 = Path(__file__).resolve().parents[1] / "data" / "fhir" / "hl7"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
TODAY = dt.date(2026, 11, 23)


@cache
def _example() -> Dataset:
    return read_folder(SHARED / "contract" / "example")


def _round_trip(dataset: Dataset) -> dict[str, pd.DataFrame]:
    """The dataset exported as two Bundles (JSON text) and imported back into frames."""
    capacity = validate_bundle(read_bundle(write_json(capacity_bundle(dataset))))
    patients = validate_bundle(
        read_bundle(write_json(referrals_bundle(dataset.patients))),
        capacity["departments"],
        capacity["services"],
    )
    return capacity | patients


def _assert_identical(dataset: Dataset) -> None:
    back = _round_trip(dataset)
    for table in ("departments", "services", "capacity", "patients"):
        pd.testing.assert_frame_equal(back[table], getattr(dataset, table), obj=table)


@pytest.mark.parametrize("folder", ["example", "example-tight"])
def test_contract_folder_round_trips_identically(folder: str) -> None:
    """CSV → FHIR → CSV gives the contract folder's departments, services, capacity and
    patients unchanged (zero-slot days, bookings, paused deadlines included)."""
    _assert_identical(read_folder(SHARED / "contract" / folder))


def test_generated_week_round_trips_identically() -> None:
    """A generated week (small scale, one collaboration) round-trips exactly, computed
    deadlines included: they are recomputed from the clock dates by the same rule."""
    week = generate_week("2026-W48", seed=11, scale=0.2)
    lung = week.services["collaboration"] == "lung"
    capacity = week.capacity
    early = (capacity["collaboration"] == "lung") & (capacity["date"] <= "2026-11-25")
    dataset = replace(
        week,
        services=week.services[lung].reset_index(drop=True),
        capacity=capacity[early].reset_index(drop=True),
        patients=week.patients[week.patients["collaboration"] == "lung"].reset_index(drop=True),
    )
    assert dataset.capacity["free_slots"].sum() > 0 and len(dataset.patients) > 5
    _assert_identical(dataset)


def test_computed_deadline_is_recomputed_by_its_rule() -> None:
    """A deadline the rules computed travels as its clock date and comes back with the same
    deadline and rule name (a given deadline stays 'given')."""
    patients = _example().patients.head(2).copy()
    patients.loc[0, ["deadline", "deadline_rule"]] = [pd.NaT, pd.NA]
    patients.loc[0, "clock_start"] = pd.Timestamp("2026-11-20")
    patients = validate_bundle(
        read_bundle(write_json(referrals_bundle(patients))),
        _example().departments,
        _example().services,
    )["patients"]
    assert patients.loc[0, "deadline"] == pd.Timestamp("2026-12-04")
    assert patients.loc[0, "deadline_rule"] != "given"
    assert patients.loc[1, "deadline_rule"] == "given"


def _sor_codes(dataset: Dataset) -> Dataset:
    """The dataset with synthetic SOR codes: ``99999`` and eight digits, a range no real SOR
    code uses (real ones end in SNOMED CT's Danish namespace, ``...1000016...``); a value of
    this range never holds a CPR-like run."""
    codes = pd.array([f"99999{n:08d}" for n in range(len(dataset.departments))], dtype="string")
    return replace(dataset, departments=dataset.departments.assign(sor_code=codes))


def _only_sor(document: Any, codes: dict[str, str]) -> Any:
    """The FHIR JSON with every department id identifier replaced by the SOR code."""
    if isinstance(document, list):
        converted = [_only_sor(item, codes) for item in document]
        unique = []
        for item in converted:
            if item not in unique:
                unique.append(item)
        return unique
    if isinstance(document, dict):
        if document.get("system") == m.DEPARTMENT_SYSTEM and document.get("value") in codes:
            return {"use": "official", "system": m.SOR_SYSTEM, "value": codes[document["value"]]}
        return {key: _only_sor(value, codes) for key, value in document.items()}
    return document


def test_departments_named_by_sor_code_import_alike() -> None:
    """Bundles naming departments only by SOR code (urn:oid:1.2.208.176.1.1) import as if they
    used kapacitet's department id, once the departments are known with their sor_code."""
    example = _sor_codes(_example())
    departments = example.departments
    codes = dict(zip(departments["department_id"], departments["sor_code"], strict=True))
    capacity_text = write_json(capacity_bundle(example))
    assert m.SOR_SYSTEM in capacity_text
    capacity = validate_bundle(
        read_bundle(_only_sor(json.loads(capacity_text), codes)),
        example.departments,
        example.services,
    )
    referrals = json.loads(write_json(referrals_bundle(example.patients)))
    patients = validate_bundle(
        read_bundle(_only_sor(referrals, codes)), capacity["departments"], capacity["services"]
    )["patients"]
    pd.testing.assert_frame_equal(capacity["departments"], example.departments)
    pd.testing.assert_frame_equal(capacity["capacity"], example.capacity)
    pd.testing.assert_frame_equal(patients, example.patients)


def test_an_unknown_sor_code_is_one_issue_at_its_reference() -> None:
    """A performer naming an SOR code no department has is refused there, without echoing
    a CPR-like value."""
    example = _sor_codes(_example())
    referrals = json.loads(write_json(referrals_bundle(example.patients.head(2))))
    requests = _indices(referrals, "ServiceRequest")
    referrals["entry"][requests[1]]["resource"]["performer"] = [
        {"identifier": {"system": m.SOR_SYSTEM, "value": "1010101234567"}}
    ]
    issues = _issues(referrals, example.departments, example.services)
    expression = f"Bundle.entry[{requests[1]}].resource.performer[0]"
    assert list(issues) == [expression]
    assert "no department has SOR code" in issues[expression]
    assert "1010101234" not in issues[expression]


def test_sor_codes_are_exported_beside_the_department_id() -> None:
    """A department with sor_code and cvr gives its Organization the identifiers dk-core
    knows (SOR urn:oid:1.2.208.176.1.1 and CVR http://cvr.dk, use official) beside the
    department id, and an address with dk-core's ISO 3166-2 region code."""
    example = _example()
    departments = example.departments.head(1).assign(sor_code="9999900000007", cvr="64942212")
    bundle = capacity_bundle(
        replace(
            example,
            departments=departments,
            services=example.services.head(0),
            capacity=example.capacity.head(0),
        )
    )
    organization = bundle.entry[0].resource
    assert [(i.use, i.system, i.value) for i in organization.identifier] == [
        ("usual", m.DEPARTMENT_SYSTEM, departments.loc[0, "department_id"]),
        ("official", m.SOR_SYSTEM, "9999900000007"),
        ("official", m.CVR_SYSTEM, "64942212"),
    ]
    address = organization.address[0]
    region = address.extension[0]
    assert region.url == m.REGION_EXTENSION
    coding = region.valueCodeableConcept.coding[0]
    assert (coding.system, coding.code) == (
        m.REGION_SYSTEM,
        m.REGION_CODES[departments.loc[0, "region"]],
    )
    assert address.state == departments.loc[0, "region"]


@pytest.mark.parametrize(
    ("file", "kind"),
    [
        ("slot-example.json", "Slot"),
        ("schedule-example.json", "Schedule"),
        ("appointment-example.json", "Appointment"),
        ("servicerequest-example-di.json", "ServiceRequest"),
    ],
)
def test_hl7_r4_examples_parse(file: str, kind: str) -> None:
    """HL7's published R4 examples parse with the models kapacitet uses (fhir.resources.R4B)."""
    document = json.loads((HL7 / file).read_text(encoding="utf-8"))
    resource = get_fhir_model_class(kind).model_validate(document)
    assert resource.get_resource_type() == kind
    assert json.loads(resource.model_dump_json(exclude_none=True))["id"] == document["id"]


def test_hl7_slot_example_imports_as_capacity() -> None:
    """HL7's example Slot under a kapacitet Schedule reads as one free slot on its day."""
    slot = json.loads((HL7 / "slot-example.json").read_text(encoding="utf-8"))
    bundle = _capacity()
    schedule_url = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Schedule"
    )
    schedule = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == schedule_url)
    schedule.pop("planningHorizon")
    slot["schedule"] = {"reference": schedule_url}
    bundle["entry"] = [
        e
        for e in bundle["entry"]
        if e["resource"]["resourceType"] != "Slot"
        and (e["resource"]["resourceType"] != "Schedule" or e["fullUrl"] == schedule_url)
    ] + [{"resource": slot}]
    capacity = validate_bundle(read_bundle(bundle))["capacity"]
    assert capacity[["date", "free_slots"]].values.tolist() == [[pd.Timestamp("2013-12-25"), 1]]


# -- broken bundles ---------------------------------------------------------------------------


@cache
def _small_capacity_text() -> str:
    """The capacity Bundle of two of the example's departments (small, so tests stay fast)."""
    example = _example()
    two = example.departments["department_id"].head(2)
    small = replace(
        example,
        departments=example.departments.head(2),
        services=example.services[example.services["department_id"].isin(two)],
        capacity=example.capacity[example.capacity["department_id"].isin(two)],
    )
    return write_json(capacity_bundle(small))


def _capacity() -> dict[str, Any]:
    return json.loads(_small_capacity_text())  # type: ignore[no-any-return]


def _referrals() -> dict[str, Any]:
    return json.loads(write_json(referrals_bundle(_example().patients)))  # type: ignore[no-any-return]


def _indices(bundle: dict[str, Any], kind: str) -> list[int]:
    """The entry indexes of the resources of ``kind``, in Bundle order."""
    return [i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == kind]


def _index(bundle: dict[str, Any], kind: str, nth: int = 0) -> int:
    """The entry index of the ``nth`` resource of ``kind``."""
    return _indices(bundle, kind)[nth]


def _issues(bundle: Any, *known: pd.DataFrame) -> dict[str, str]:
    """Every issue of an import, expression → message."""
    with pytest.raises(BundleRejected) as rejected:
        validate_bundle(read_bundle(bundle), *known)
    outcome = rejected.value.outcome()
    assert outcome.get_resource_type() == "OperationOutcome"
    return {str(issue.expression[0]): str(issue.diagnostics) for issue in outcome.issue}


def _break_slot_status(bundle: dict[str, Any]) -> str:
    i = _index(bundle, "Slot", 3)
    bundle["entry"][i]["resource"]["status"] = "busy"
    return f"Bundle.entry[{i}].resource.status"


def _break_slot_schedule(bundle: dict[str, Any]) -> str:
    i = _index(bundle, "Slot")
    bundle["entry"][i]["resource"]["schedule"] = {"reference": "Schedule/nowhere"}
    return f"Bundle.entry[{i}].resource.schedule"


def _break_slot_start(bundle: dict[str, Any]) -> str:
    i = _index(bundle, "Slot", 2)
    bundle["entry"][i]["resource"]["start"] = "2026-11-23 08:00"
    return f"Bundle.entry[{i}].resource.start"


def _break_schedule_department(bundle: dict[str, Any]) -> str:
    i = _index(bundle, "Schedule", 5)
    bundle["entry"][i]["resource"]["actor"] = [
        {"type": "Location", "identifier": {"system": m.DEPARTMENT_SYSTEM, "value": "H99-99"}}
    ]
    return f"Bundle.entry[{i}].resource.actor[0]"


def _break_schedule_procedure(bundle: dict[str, Any]) -> str:
    i = _index(bundle, "Schedule", 7)
    bundle["entry"][i]["resource"]["serviceType"][0]["coding"][0]["code"] = "surgrey"
    return f"Bundle.entry[{i}].resource.serviceType[0]"


def _break_location_latitude(bundle: dict[str, Any]) -> str:
    i = _index(bundle, "Location", 1)
    bundle["entry"][i]["resource"]["position"]["latitude"] = 123.4
    return f"Bundle.entry[{i}].resource.position.latitude"


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        (_break_slot_status, "only free slots"),
        (_break_slot_schedule, "does not refer to a Schedule"),
        (_break_slot_start, "Instant"),
        (_break_schedule_department, "H99-99"),
        (_break_schedule_procedure, "did you mean 'surgery'"),
        (_break_location_latitude, "latitude"),
    ],
)
def test_broken_capacity_bundle_points_at_the_element(
    mistake: Callable[[dict[str, Any]], str], words: str
) -> None:
    """Each mistake in a capacity Bundle is one issue at the FHIRPath of the broken element."""
    bundle = _capacity()
    expression = mistake(bundle)
    issues = _issues(bundle)
    assert list(issues) == [expression]
    assert words in issues[expression]


def test_broken_referral_bundle_reports_every_problem_at_its_path() -> None:
    """CPR identifiers (by system or value), an unknown department, a misspelt collaboration
    and an on-hold referral without its status are all reported, each at its own element."""
    bundle = _referrals()
    patients = _indices(bundle, "Patient")
    requests = _indices(bundle, "ServiceRequest")
    entry = bundle["entry"]
    entry[patients[0]]["resource"]["identifier"].append(
        {"system": m.CPR_SYSTEM, "value": "0101901234"}
    )
    entry[patients[1]]["resource"]["identifier"].insert(
        0, {"system": "urn:example:mrn", "value": "010190-1234"}
    )
    entry[requests[2]]["resource"]["status"] = "on-hold"
    del entry[requests[2]]["resource"]["extension"][0]
    issues = _issues(bundle)
    assert set(issues) == {
        f"Bundle.entry[{patients[0]}].resource.identifier[1].system",
        f"Bundle.entry[{patients[1]}].resource.identifier[0].value",
        f"Bundle.entry[{requests[2]}].resource.extension",
    }
    said = " ".join(issues.values())
    assert "0101901234" not in said and "010190-1234" not in said
    assert "CPR" in issues[f"Bundle.entry[{patients[0]}].resource.identifier[1].system"]


def test_referral_values_are_checked_like_a_contract_file() -> None:
    """Unknown departments, vocabulary near-misses and missing deadlines found by the
    contract's validation point at the FHIR element each value came from."""
    bundle = _referrals()
    requests = _indices(bundle, "ServiceRequest")
    entry = bundle["entry"]
    entry[requests[0]]["resource"]["performer"][0]["identifier"]["value"] = "H99-99"
    entry[requests[1]]["resource"]["category"][0]["coding"][0]["code"] = "lungs"
    entry[requests[3]]["resource"]["occurrencePeriod"].pop("end")
    example = _example()
    issues = _issues(bundle, example.departments, example.services)
    assert set(issues) == {
        f"Bundle.entry[{requests[0]}].resource.performer[0]",
        f"Bundle.entry[{requests[1]}].resource.category[0]",
        f"Bundle.entry[{requests[3]}].resource.occurrencePeriod.end",
    }
    assert "did you mean 'lung'" in issues[f"Bundle.entry[{requests[1]}].resource.category[0]"]


def test_fhir_structure_errors_come_from_fhir_resources() -> None:
    """A value FHIR R4 does not allow is reported by fhir.resources at its FHIRPath."""
    bundle = _referrals()
    request = _index(bundle, "ServiceRequest", 1)
    bundle["entry"][request]["resource"]["occurrencePeriod"]["start"] = "2026-13-01"
    bundle["entry"][request]["resource"]["intent"] = 7
    issues = _issues(bundle)
    assert set(issues) == {
        f"Bundle.entry[{request}].resource.occurrencePeriod.start",
        f"Bundle.entry[{request}].resource.intent",
    }


@pytest.mark.parametrize(
    ("document", "expression"),
    [
        (b"{not json", "Bundle"),
        (
            {
                "resourceType": "Bundle",
                "type": "batch",
                "entry": [{"resource": {"resourceType": "Bed"}}],
            },
            "Bundle.entry[0].resource.resourceType",
        ),
        ({"resourceType": "Patient"}, "Bundle.resourceType"),
        ({"resourceType": "Bundle", "type": "collection"}, "Bundle.entry"),
    ],
)
def test_not_a_usable_bundle(document: Any, expression: str) -> None:
    """Something that is not a Bundle with capacity or referrals is one issue saying so."""
    assert list(_issues(document)) == [expression]


def test_capacity_and_referrals_in_one_bundle_are_refused() -> None:
    """A Bundle mixing Slots and ServiceRequests is refused (send two)."""
    bundle = _capacity()
    bundle["entry"] += _referrals()["entry"]
    assert "two Bundles" in _issues(bundle)["Bundle.entry"]


# -- proposals --------------------------------------------------------------------------------


@cache
def _proposals() -> list[dict[str, Any]]:
    solution = solve(Problem.from_dataset(_example(), TODAY))
    return json.loads(solution_json(solution))["proposals"]  # type: ignore[no-any-return]


def test_proposals_become_valid_appointments() -> None:
    """Each proposal is a proposed Appointment (unassigned: waitlist) with the patient pseudonym,
    the receiving HealthcareService and Location, and the reason as comment; it validates."""
    proposals = _proposals()
    bundle = Bundle.model_validate_json(write_json(appointments_bundle(7, proposals)))
    assert bundle.type == "searchset" and bundle.total == len(proposals)
    by_patient = {e.resource.identifier[0].value: e.resource for e in bundle.entry}
    for proposal in proposals:
        appointment = by_patient[f"7/{proposal['patient_id']}"]
        assert appointment.comment == proposal["reason"]
        actors = {p.actor.type: p.actor.identifier.value for p in appointment.participant}
        assert actors["Patient"] == proposal["patient_id"]
        if proposal["action"] == "unassigned":
            assert appointment.status == "waitlist" and appointment.start is None
        else:
            assert appointment.status == "proposed"
            assert actors["Location"] == proposal["department_id"]
            assert actors["HealthcareService"].startswith(f"{proposal['department_id']}/")
            assert m.local_day(appointment.start).isoformat() == proposal["date"]


def test_decisions_book_or_cancel_with_an_appointment_response() -> None:
    """An accepted proposal is a booked Appointment, a rejected one cancelled; each has an
    AppointmentResponse (accepted / declined) carrying the decision's reason."""
    placed = [p for p in _proposals() if p["department_id"]][:2]
    decisions = {
        placed[0]["patient_id"]: {"decision": "accept", "reason": "patient agreed"},
        placed[1]["patient_id"]: {"decision": "reject", "reason": "too far"},
    }
    bundle = Bundle.model_validate_json(write_json(appointments_bundle(3, placed, decisions)))
    kinds = [(e.resource.get_resource_type(), e.search.mode) for e in bundle.entry]
    assert kinds == [
        ("Appointment", "match"),
        ("AppointmentResponse", "include"),
        ("Appointment", "match"),
        ("AppointmentResponse", "include"),
    ]
    booked, accepted, cancelled, declined = (e.resource for e in bundle.entry)
    assert (booked.status, accepted.participantStatus, accepted.comment) == (
        "booked",
        "accepted",
        "patient agreed",
    )
    assert (cancelled.status, declined.participantStatus) == ("cancelled", "declined")
    assert accepted.appointment.reference == bundle.entry[0].fullUrl


# -- command line ----------------------------------------------------------------------------


def test_cli_exports_imports_and_stores_round_trip(tmp_path: Path) -> None:
    """`kapacitet fhir export-capacity/-referrals` then `fhir import` into an empty database
    stores the folder's data: reading it back gives the same frames."""
    folder = SHARED / "contract" / "example"
    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    runner = CliRunner()
    for command, name in (("export-capacity", "capacity.json"), ("export-referrals", "refs.json")):
        out = str(tmp_path / name)
        result = runner.invoke(cli.app, ["fhir", command, str(folder), "--out", out])
        assert result.exit_code == 0, result.output
    for name, kind in (("capacity.json", "capacity"), ("refs.json", "referrals")):
        result = runner.invoke(cli.app, ["fhir", "import", str(tmp_path / name), "--db", url])
        assert result.exit_code == 0, result.output
        assert f"({kind} Bundle)" in result.output
    stored = read_snapshot(url)
    example = _example()
    for table in ("departments", "services", "capacity", "patients"):
        pd.testing.assert_frame_equal(getattr(stored, table), getattr(example, table), obj=table)


def test_cli_import_of_a_broken_bundle_lists_paths_and_stores_nothing(tmp_path: Path) -> None:
    """A broken Bundle exits 1 with one line per problem (file: FHIRPath: message)."""
    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    load_dataset(url, replace(_example(), patients=_example().patients.head(0)))
    bundle = _referrals()
    request = _index(bundle, "ServiceRequest", 2)
    bundle["entry"][request]["resource"]["code"]["coding"][0]["code"] = "surgry"
    path = tmp_path / "refs.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = CliRunner().invoke(cli.app, ["fhir", "import", str(path), "--db", url])
    assert result.exit_code == 1
    assert f"refs.json: Bundle.entry[{request}].resource.code: " in result.output
    assert "did you mean 'surgery'" in result.output
    assert read_snapshot(url).patients.empty
