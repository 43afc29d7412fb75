"""FHIR as real systems write it (issue 15): published examples never crash the importer,
mixed-precision planning horizons, contained and versioned references, dk-core regions, SOR
codes, SMART slot-capacity, partial declarations, and kapacitet's own definitions."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from typer.testing import CliRunner

from capacity.frames import Dataset
from capacity.io import read_folder
from capacity.storage import declaration_history, load_dataset, load_folder, read_snapshot
from capacity.validation import ValidationFailed
from interop.fhir import mapping as m
from interop.fhir.definitions import (
    capability_statement,
    code_systems,
    structure_definitions,
    write_definitions,
)
from interop.fhir.exports import capacity_bundle, write_json
from interop.fhir.imports import ImportedBundle, read_bundle, validate_bundle
from interop.fhir.outcome import BundleRejected
from kapacitet import cli
from tests.interop.test_fhir import SHARED, _example, _sor_codes

DATA = Path(__file__).resolve().parents[1] / "data" / "fhir"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "fhir"
DEPARTMENT = "H42-11"
SOR = "9999900000010"  # H42-11's synthetic SOR code (tests.interop.test_fhir._sor_codes)
PUBLISHED_CPR = "0108589995"  # dk-core's published test person


def _published() -> list[Path]:
    return sorted(p for p in DATA.rglob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def _known() -> Dataset:
    """The example week with synthetic SOR codes on its departments."""
    return _sor_codes(_example())


def _read(bundle: Any) -> dict[str, pd.DataFrame]:
    known = _known()
    return validate_bundle(read_bundle(bundle), known.departments, known.services)


def _issues(bundle: Any) -> dict[str, str]:
    known = _known()
    with pytest.raises(BundleRejected) as rejected:
        validate_bundle(read_bundle(bundle), known.departments, known.services)
    return {issue.expression: issue.message for issue in rejected.value.issues}


# -- published material ----------------------------------------------------------------------


@pytest.mark.parametrize("path", _published(), ids=lambda p: str(p.relative_to(DATA)))
def test_published_material_parses_and_never_crashes_the_import(path: Path) -> None:
    """Every fixture parses with kapacitet's models; fed to the importer (wrapped in a Bundle
    when it is a single resource) it is read or refused with issues that each name an
    element of the Bundle, and no CPR number is repeated."""
    document = _load(path)
    resource = get_fhir_model_class(document["resourceType"]).model_validate(document)
    assert resource.get_resource_type() == document["resourceType"]
    bundle = (
        document
        if document["resourceType"] == "Bundle"
        else {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": document}]}
    )
    try:
        imported = read_bundle(bundle)
    except BundleRejected as rejected:
        for issue in rejected.issues:
            assert issue.expression.startswith("Bundle."), issue
            assert PUBLISHED_CPR not in issue.message
        return
    assert isinstance(imported, ImportedBundle)


def test_a_published_argonaut_schedule_with_a_date_only_horizon_is_read() -> None:
    """Argonaut's date-only planningHorizon (2017-07-01 to 2017-07-31) no longer crashes: with
    kapacitet's codes and a department added, the Slots' week is declared (and only it)."""
    bundle = _load(DATA / "argonaut" / "slot-bundle.json")
    schedule = bundle["entry"][2]["resource"]
    schedule["actor"].append({"identifier": {"system": m.SOR_SYSTEM, "value": SOR}})
    _codes(schedule)
    capacity = _read(bundle)["capacity"]
    assert capacity["department_id"].unique().tolist() == [DEPARTMENT]
    assert capacity["date"].min() == pd.Timestamp("2017-07-10")  # Monday of the Slots' week
    assert capacity["date"].max() == pd.Timestamp("2017-07-16")
    assert dict(zip(capacity["date"].dt.day, capacity["free_slots"], strict=True))[15] == 2


def test_smart_slot_capacity_counts_every_appointment() -> None:
    """SMART Scheduling Links' slot-capacity: two Slots of 100 and 600 appointments are 700
    free slots, not 2."""
    bundle = _load(DATA / "smart" / "slot-publisher.json")
    location = bundle["entry"][0]["resource"]
    location["identifier"].append({"system": m.SOR_SYSTEM, "value": SOR})
    _codes(bundle["entry"][1]["resource"])
    capacity = _read(bundle)["capacity"]
    assert capacity["free_slots"].tolist() == [100, 600]
    assert capacity["free_slots"].sum() == 700


def test_a_negative_slot_capacity_is_one_issue_at_the_value() -> None:
    bundle = _load(DATA / "smart" / "slot-publisher.json")
    bundle["entry"][0]["resource"]["identifier"].append({"system": m.SOR_SYSTEM, "value": SOR})
    _codes(bundle["entry"][1]["resource"])
    bundle["entry"][3]["resource"]["extension"][0]["valueInteger"] = -3
    assert list(_issues(bundle)) == ["Bundle.entry[3].resource.extension[0].valueInteger"]


def test_dk_core_patient_region_is_read_and_its_cpr_refused_unechoed() -> None:
    """dk-core's Patient-283: its CPR identifier is refused without being repeated; with a
    pseudonym instead, its region extension (DK-85) is the home region Sjælland."""
    patient = _load(DATA / "dk-core" / "patient-region.json")
    address = patient["address"][0]
    address["extension"].append(_geolocation(55.4, 11.8))
    bundle = _referral_bundle(patient, performer={"system": m.SOR_SYSTEM, "value": SOR})
    issues = _issues(bundle)
    assert list(issues) == [
        "Bundle.entry[0].resource.identifier[0].system",  # the CPR number
        "Bundle.entry[0].resource.identifier",  # and no pseudonym
    ]
    assert PUBLISHED_CPR not in json.dumps(issues)
    patient["identifier"] = [{"system": m.PATIENT_SYSTEM, "value": "pt-dk-core-1"}]
    patients = _read(bundle)["patients"]
    assert patients.loc[0, "home_region"] == "Sjælland"
    assert patients.loc[0, "home_department_id"] == DEPARTMENT


@pytest.mark.parametrize(
    ("state", "region"),
    [
        ("DK-84", "Hovedstaden"),
        ("Region Hovedstaden", "Hovedstaden"),
        ("region sjælland", "Sjælland"),
        ("Capital Region of Denmark", "Hovedstaden"),
        ("Nordjylland", "Nordjylland"),
    ],
)
def test_iso_3166_2_codes_and_region_names_in_state(state: str, region: str) -> None:
    patient = _patient()
    patient["address"] = [{"state": state, "extension": [_geolocation(55.7, 12.5)]}]
    bundle = _referral_bundle(patient, performer={"system": m.SOR_SYSTEM, "value": SOR})
    assert _read(bundle)["patients"].loc[0, "home_region"] == region


def test_an_unknown_region_gets_did_you_mean_at_the_element() -> None:
    patient = _patient()
    patient["address"] = [{"state": "Nordjyland", "extension": [_geolocation(57.0, 9.9)]}]
    bundle = _referral_bundle(patient, performer={"system": m.SOR_SYSTEM, "value": SOR})
    issues = _issues(bundle)
    assert list(issues) == ["Bundle.entry[0].resource.address[0].state"]
    assert "did you mean 'Nordjylland'" in issues["Bundle.entry[0].resource.address[0].state"]


# -- the real-world Bundles ------------------------------------------------------------------


def test_real_world_capacity_bundle_reads_cleanly() -> None:
    """A planningHorizon from a date to a dateTime, a contained Location, a dk-core region
    (no state) and the department only by SOR code: one row per day Monday to Friday, the
    SOR code resolved to the department, its slot-capacity counted."""
    tables = _read(_load(DATA / "kapacitet" / "real-world-capacity.json"))
    capacity = tables["capacity"]
    assert capacity["department_id"].unique().tolist() == [DEPARTMENT]
    assert capacity["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "2026-11-26",
        "2026-11-27",
    ]
    assert capacity["free_slots"].tolist() == [0, 3, 0, 1, 0]
    department = tables["departments"].iloc[0]
    assert (department["department_id"], department["sor_code"]) == (DEPARTMENT, SOR)
    assert (department["region"], department["latitude"]) == ("Nordjylland", 56.81133)
    stored = _known().departments.set_index("department_id").loc[DEPARTMENT]
    assert department["hospital"] == stored["hospital"]


def test_real_world_bundles_import_from_the_command_line_and_leave_the_rest(
    tmp_path: Path,
) -> None:
    """`kapacitet fhir import` of the real-world Bundles into a database holding the example
    week (with SOR codes): only H42-11's breast surgery on the days given changes, as a new
    version of week 48 alone; the referral's SOR-only home department and dk-core region
    are stored as H42-11 and Nordjylland."""
    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    known = _known()
    load_dataset(url, known)
    before = read_snapshot(url)
    runner = CliRunner()
    for name in ("real-world-capacity.json", "real-world-referrals.json"):
        result = runner.invoke(
            cli.app, ["fhir", "import", str(DATA / "kapacitet" / name), "--db", url]
        )
        assert result.exit_code == 0, result.output
    after = read_snapshot(url)
    pd.testing.assert_frame_equal(after.departments, before.departments)
    changed = _cells(after.capacity).compare(_cells(before.capacity))
    assert changed.index.tolist() == [
        (DEPARTMENT, "breast", "surgery", pd.Timestamp("2026-11-24")),
        (DEPARTMENT, "breast", "surgery", pd.Timestamp("2026-11-26")),
    ]
    assert changed[("free_slots", "self")].tolist() == [3, 1]
    history = declaration_history(url, department_id=DEPARTMENT)
    assert history.loc[history["version"] == 2, "week"].tolist() == ["2026-W48"]
    patient = after.patients.set_index("patient_id").loc["pt-real-world-1"]
    assert (patient["home_department_id"], patient["home_region"]) == (DEPARTMENT, "Nordjylland")
    # the same Bundle again changes nothing
    again = runner.invoke(
        cli.app,
        ["fhir", "import", str(DATA / "kapacitet" / "real-world-capacity.json"), "--db", url],
    )
    assert again.exit_code == 0 and "nothing changed" in again.output


def test_a_one_day_bundle_leaves_the_other_days_and_services_as_they_were(
    tmp_path: Path,
) -> None:
    """A capacity Bundle for one service on one day (kapacitet's own export of that one row)
    changes that cell only; every other day, service and department keeps its value."""
    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    example = _example()
    load_dataset(url, example)
    capacity = example.capacity
    one = capacity[
        (capacity["department_id"] == DEPARTMENT)
        & (capacity["collaboration"] == "breast")
        & (capacity["procedure"] == "surgery")
        & (capacity["date"] == "2026-11-25")
    ].assign(free_slots=4)
    assert len(one) == 1
    departments = example.departments[example.departments["department_id"] == DEPARTMENT]
    services = example.services[example.services["department_id"] == DEPARTMENT]
    bundle = capacity_bundle(
        replace(example, departments=departments, services=services, capacity=one)
    )
    path = tmp_path / "one-day.json"
    path.write_text(write_json(bundle), encoding="utf-8")
    result = CliRunner().invoke(cli.app, ["fhir", "import", str(path), "--db", url])
    assert result.exit_code == 0, result.output
    changed = _cells(read_snapshot(url).capacity).compare(_cells(capacity))
    assert changed.index.tolist() == [(DEPARTMENT, "breast", "surgery", pd.Timestamp("2026-11-25"))]
    assert changed[("free_slots", "self")].tolist() == [4]


def test_a_year_long_horizon_declares_only_the_weeks_with_slots() -> None:
    """A Schedule planned for a whole year with Slots in one week declares that week's seven
    days only, not 53 weeks of zeros."""
    bundle = _schedule_bundle({"start": "2026-01-01", "end": "2026-12-31"}, ["2026-11-25"])
    capacity = _read(bundle)["capacity"]
    assert capacity["date"].dt.strftime("%Y-%m-%d").tolist() == [
        f"2026-11-{day}" for day in range(23, 30)
    ]
    assert capacity["free_slots"].tolist() == [0, 0, 1, 0, 0, 0, 0]


@pytest.mark.parametrize(
    ("horizon", "days"),
    [
        ({"start": "2026-11-23", "end": "2026-11-25T16:00:00+01:00"}, ["23", "24", "25"]),
        ({"start": "2026-11-23T08:00:00+01:00", "end": "2026-11-25"}, ["23", "24", "25"]),
        ({"start": "2026-11-24T00:00:00+01:00", "end": "2026-11-26T00:00:00+01:00"}, ["24", "25"]),
        ({"start": "2026-11", "end": "2026-12"}, [str(d) for d in range(23, 30)]),
        ({"start": "2026"}, [str(d) for d in range(23, 30)]),
        ({"start": "2026-11-25"}, ["25"]),
    ],
)
def test_planning_horizons_of_every_r4_precision(horizon: dict[str, str], days: list[str]) -> None:
    """date, dateTime, year-month and year, mixed at will: never a crash, the right days."""
    bundle = _schedule_bundle(horizon, ["2026-11-25"])
    capacity = _read(bundle)["capacity"]
    assert capacity["date"].dt.strftime("%d").tolist() == days


def test_a_horizon_ending_before_it_starts_is_one_issue_at_its_end() -> None:
    bundle = _schedule_bundle({"start": "2026-11-25", "end": "2026-11-20"}, ["2026-11-25"])
    issues = _issues(bundle)
    assert list(issues) == ["Bundle.entry[0].resource.planningHorizon.end"]


def test_a_contained_reference_that_is_not_there_names_the_actor() -> None:
    bundle = _schedule_bundle({"start": "2026-11-25"}, ["2026-11-25"])
    bundle["entry"][0]["resource"]["actor"] = [{"reference": "#nowhere"}]
    assert list(_issues(bundle)) == ["Bundle.entry[0].resource.actor"]


def test_a_patient_without_geolocation_is_one_issue_naming_the_element() -> None:
    """Not "empty, but a value is required" twice at the Patient: one issue at its address's
    extensions saying which extension is missing."""
    patient = _patient()
    patient["address"] = [{"state": "Nordjylland"}]
    issues = _issues(_referral_bundle(patient, performer={"system": m.SOR_SYSTEM, "value": SOR}))
    assert list(issues) == ["Bundle.entry[0].resource.address[0].extension"]
    assert m.GEOLOCATION_EXTENSION in issues["Bundle.entry[0].resource.address[0].extension"]
    patient["address"] = [{"state": "Nordjylland", "extension": [_geolocation(57.0, 9.9)]}]
    del patient["address"][0]["extension"][0]["extension"][1]
    issues = _issues(_referral_bundle(patient, performer={"system": m.SOR_SYSTEM, "value": SOR}))
    assert list(issues) == ["Bundle.entry[0].resource.address[0].extension[0].extension"]
    assert "'longitude'" in next(iter(issues.values()))


def test_a_missing_earliest_date_names_the_element() -> None:
    patient = _patient()
    patient["address"] = [{"state": "Nordjylland", "extension": [_geolocation(57.0, 9.9)]}]
    bundle = _referral_bundle(patient, performer={"system": m.SOR_SYSTEM, "value": SOR})
    del bundle["entry"][1]["resource"]["occurrencePeriod"]["start"]
    issues = _issues(bundle)
    where = "Bundle.entry[1].resource.occurrencePeriod.start"
    assert list(issues) == [where]
    assert "occurrencePeriod.start" in issues[where] and "empty, but" not in issues[where]


# -- departments' SOR codes and CVR numbers --------------------------------------------------


def _folder_with(tmp_path: Path, **columns: list[str]) -> Path:
    folder = tmp_path / "folder"
    shutil.copytree(SHARED / "contract" / "example", folder)
    departments = pd.read_csv(folder / "departments.csv", dtype=str, keep_default_na=False)
    for name, values in columns.items():
        departments[name] = values + [""] * (len(departments) - len(values))
    departments.to_csv(folder / "departments.csv", index=False)
    return folder


def test_sor_codes_and_cvr_numbers_are_validated_with_row_and_column(tmp_path: Path) -> None:
    folder = _folder_with(
        tmp_path,
        sor_code=["9999900000000", "12345", "0101901234", "9999900000000"],
        cvr=["", "", "", "", "64942212", "12345678", "1234"],
    )
    with pytest.raises(ValidationFailed) as failed:
        read_folder(folder)
    found = {(p.row, p.column): p.message for p in failed.value.problems}
    assert set(found) == {(3, "sor_code"), (4, "sor_code"), (5, "sor_code"), (7, "cvr"), (8, "cvr")}
    assert "at least 11 digits" in found[(3, "sor_code")]
    assert "0101901234" not in found[(4, "sor_code")]
    assert "duplicate" in found[(5, "sor_code")]
    assert "modulus 11" in found[(7, "cvr")]


def test_sor_codes_are_stored_kept_and_exported(tmp_path: Path) -> None:
    """A departments.csv with sor_code and cvr stores them (read back unchanged, exported as
    dk-core identifiers); a later load without the columns keeps them."""
    folder = _folder_with(tmp_path, sor_code=[f"99999{n:08d}" for n in range(18)], cvr=[""] * 14)
    departments = pd.read_csv(folder / "departments.csv", dtype=str, keep_default_na=False)
    departments.loc[14, "cvr"] = "64942212"  # P42-15, a private provider
    departments.to_csv(folder / "departments.csv", index=False)
    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    load_folder(url, folder)
    stored = read_snapshot(url)
    pd.testing.assert_frame_equal(stored.departments, read_folder(folder).departments)
    load_folder(url, SHARED / "contract" / "example")
    kept = read_snapshot(url).departments
    assert kept["sor_code"].tolist() == stored.departments["sor_code"].tolist()
    assert kept.loc[14, "cvr"] == "64942212"
    text = write_json(capacity_bundle(read_snapshot(url)))
    assert '"value": "9999900000014"' in text and f'"system": "{m.CVR_SYSTEM}"' in text


def test_two_departments_with_one_sor_code_are_refused_at_load(tmp_path: Path) -> None:
    from capacity.storage import LoadRejected

    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    known = _known()
    load_dataset(url, known)
    # the second department takes the first one's SOR code, which the first keeps
    first = str(known.departments["sor_code"].iloc[0])
    departments = known.departments.iloc[[1]].assign(sor_code=first)
    with pytest.raises(LoadRejected, match="sor_code"):
        load_dataset(url, replace(known, departments=departments))


# -- kapacitet's own definitions -------------------------------------------------------------


def test_capability_statement_and_definitions_validate() -> None:
    statement = CapabilityStatement.model_validate_json(write_json(capability_statement()))
    assert statement.fhirVersion == "4.0.1"
    assert statement.rest is not None
    served = {r.type: r for r in statement.rest[0].resource or []}
    assert {"Schedule", "Slot", "ServiceRequest", "Appointment", "CodeSystem"} <= set(served)
    assert [p.name for p in served["Appointment"].searchParam or []] == ["run"]
    urls = {cs.url for cs in code_systems()}
    assert {m.COLLABORATION_SYSTEM, m.PROCEDURE_SYSTEM, m.PROVIDER_TYPE_SYSTEM} <= urls
    extensions = {sd.url for sd in structure_definitions()}
    assert {m.DEADLINE_STATUS_EXTENSION, m.PRICE_EXTENSION, *m.CLOCK_EXTENSIONS.values()} <= (
        extensions
    )


def test_published_definitions_in_docs_are_current(tmp_path: Path) -> None:
    """docs/fhir/ holds exactly what ``python -m interop.fhir.definitions docs/fhir`` writes."""
    written = write_definitions(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in DOCS.glob("*.json"))
    for path in written:
        assert (DOCS / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


# -- helpers ---------------------------------------------------------------------------------


def _cells(capacity: pd.DataFrame) -> pd.DataFrame:
    return capacity.set_index(["department_id", "collaboration", "procedure", "date"]).sort_index()


def _codes(
    schedule: dict[str, Any], collaboration: str = "breast", procedure: str = "surgery"
) -> None:
    schedule["serviceCategory"] = [
        {"coding": [{"system": m.COLLABORATION_SYSTEM, "code": collaboration}]}
    ]
    schedule["serviceType"] = [
        *schedule.get("serviceType", []),
        _concept(m.PROCEDURE_SYSTEM, procedure),
    ]


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _geolocation(latitude: float, longitude: float) -> dict[str, Any]:
    return {
        "url": m.GEOLOCATION_EXTENSION,
        "extension": [
            {"url": "latitude", "valueDecimal": latitude},
            {"url": "longitude", "valueDecimal": longitude},
        ],
    }


def _patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": m.PATIENT_SYSTEM, "value": "pt-test-1"}],
    }


def _referral_bundle(patient: dict[str, Any], performer: dict[str, str]) -> dict[str, Any]:
    request = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "category": [_concept(m.COLLABORATION_SYSTEM, "breast")],
        "code": _concept(m.PROCEDURE_SYSTEM, "surgery"),
        "subject": {"reference": "urn:uuid:5e0b7a52-1c9e-4f0e-9a57-3c2b1d0e9f01"},
        "performer": [{"identifier": performer}],
        "occurrencePeriod": {"start": "2026-11-23", "end": "2026-12-07"},
    }
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:5e0b7a52-1c9e-4f0e-9a57-3c2b1d0e9f01", "resource": patient},
            {"resource": request},
        ],
    }


def _schedule_bundle(horizon: dict[str, str], slot_days: list[str]) -> dict[str, Any]:
    """A Schedule of H42-11's breast surgery (named by SOR code) with one Slot per day."""
    schedule: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": "s1",
        "actor": [{"identifier": {"system": m.SOR_SYSTEM, "value": SOR}}],
        "planningHorizon": horizon,
    }
    _codes(schedule)
    slots = [
        {
            "resource": {
                "resourceType": "Slot",
                "schedule": {"reference": "Schedule/s1"},
                "status": "free",
                "start": dt.datetime.fromisoformat(f"{day}T09:00:00+01:00").isoformat(),
                "end": dt.datetime.fromisoformat(f"{day}T10:00:00+01:00").isoformat(),
            }
        }
        for day in slot_days
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": copy.deepcopy(schedule)}, *slots],
    }
