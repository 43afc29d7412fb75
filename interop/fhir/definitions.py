"""kapacitet's own FHIR definitions: what the server reads and writes (a CapabilityStatement),
its code systems (CodeSystem) and its extensions (StructureDefinition).

``GET /v1/fhir/metadata``, ``/v1/fhir/CodeSystem/{id}`` and ``/v1/fhir/StructureDefinition/{id}``
serve them; ``docs/fhir/`` holds the same resources as files, written by
``python -m interop.fhir.definitions docs/fhir`` (a test checks they are current).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Final

from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.structuredefinition import StructureDefinition

from capacity.vocabulary import COLLABORATIONS, DEADLINE_STATUSES, PROCEDURES, PROVIDER_TYPES
from interop.fhir import mapping as m

#: The definitions' business version and date (change both when a definition changes).
VERSION: Final = "1.0.0"
DATE: Final = "2026-12-08"
PUBLISHER: Final = "kapacitet"
FHIR_VERSION: Final = "4.0.1"

#: code → (English display, Danish designation, definition), per code system.
_CONCEPTS: Final[dict[str, dict[str, tuple[str, str, str]]]] = {
    "collaboration": {
        "breast": ("Breast cancer", "Brystkræft", "The breast cancer collaboration."),
        "lung": ("Lung cancer", "Lungekræft", "The lung cancer collaboration."),
        "urinary": (
            "Urinary tract cancer",
            "Kræft i urinvejene",
            "The urinary tract (urological) cancer collaboration.",
        ),
        "gynaecological": (
            "Gynaecological cancer",
            "Gynækologisk kræft",
            "The gynaecological cancer collaboration.",
        ),
        "upper_gi": (
            "Upper gastrointestinal cancer",
            "Kræft i øvre mave-tarmkanal",
            "The upper gastrointestinal (oesophagus, stomach, pancreas, liver) collaboration.",
        ),
        "lower_gi": (
            "Colorectal cancer",
            "Kræft i tyk- og endetarm",
            "The lower gastrointestinal (colon, rectum, anus) collaboration.",
        ),
    },
    "procedure": {
        "pre_examination": (
            "Pre-examination",
            "Forundersøgelse / udredning",
            "The examination (investigation) that confirms or rules out cancer.",
        ),
        "surgery": ("Surgery", "Operation", "Surgical treatment."),
        "chemotherapy": ("Chemotherapy", "Kemoterapi", "Medical (chemo-) therapy."),
        "radiotherapy": ("Radiotherapy", "Strålebehandling", "Radiation therapy."),
    },
    "provider-type": {
        "public": ("Public hospital", "Offentligt sygehus", "A Danish public hospital."),
        "private": (
            "Private provider",
            "Privat sygehus eller klinik",
            "A Danish private hospital or clinic under agreement.",
        ),
        "foreign": (
            "Foreign provider",
            "Udenlandsk sygehus",
            "A hospital abroad (its region is its ISO 3166-1 country code).",
        ),
    },
    "deadline-status": {
        "active": ("Active", "Aktiv", "The maximum waiting time runs."),
        "paused_patient_wish": (
            "Paused at the patient's wish",
            "Pause efter patientens ønske",
            "The patient has asked to wait; the maximum waiting time does not apply.",
        ),
        "paused_health": (
            "Paused for health reasons",
            "Pause af helbredsmæssige årsager",
            "The patient's health does not allow treatment now; the deadline does not apply.",
        ),
    },
}
_CODE_SYSTEMS: Final[dict[str, tuple[str, str, tuple[str, ...]]]] = {
    "collaboration": (
        m.COLLABORATION_SYSTEM,
        "The six operational cancer collaborations a service, referral or proposal belongs to.",
        COLLABORATIONS,
    ),
    "procedure": (
        m.PROCEDURE_SYSTEM,
        "The procedure of a pathway a capacity slot, referral or proposal is for.",
        PROCEDURES,
    ),
    "provider-type": (
        m.PROVIDER_TYPE_SYSTEM,
        "What kind of provider a department is (Organization.type).",
        PROVIDER_TYPES,
    ),
    "deadline-status": (
        m.DEADLINE_STATUS_SYSTEM,
        "Whether a referral's maximum waiting time runs (the deadline-status extension).",
        DEADLINE_STATUSES,
    ),
}

_EXT: Final = f"{m.BASE}/StructureDefinition"
#: extension id → (value type, the resource it extends, title, definition).
_EXTENSIONS: Final[dict[str, tuple[str, str, str, str]]] = {
    "price-dkk": (
        "Money",
        "HealthcareService",
        "Price of one course (DKK)",
        "The price in Danish kroner of one course of this procedure at this department "
        "(services.csv price_dkk).",
    ),
    "deadline-status": (
        "code",
        "ServiceRequest",
        "Deadline status",
        "Whether the referral's maximum waiting time runs: a code of "
        f"{m.DEADLINE_STATUS_SYSTEM} (active, paused_patient_wish, paused_health).",
    ),
    "max-travel-km": (
        "decimal",
        "ServiceRequest",
        "Longest journey the patient accepts (km)",
        "The patient accepts no department farther from home than this many kilometres.",
    ),
    "accepts-private": (
        "boolean",
        "ServiceRequest",
        "Accepts a private provider",
        "Whether the patient accepts treatment at a private provider (absent: true).",
    ),
    "accepts-foreign": (
        "boolean",
        "ServiceRequest",
        "Accepts a provider abroad",
        "Whether the patient accepts treatment abroad (absent: true).",
    ),
    "clock-start": (
        "date",
        "ServiceRequest",
        "Clock start",
        "The day the maximum waiting time starts (the rules compute a missing deadline).",
    ),
    "referral-received": (
        "date",
        "ServiceRequest",
        "Referral received",
        "The day the referral was received.",
    ),
    "consent-date": (
        "date",
        "ServiceRequest",
        "Consent date",
        "The day the patient consented to the treatment.",
    ),
    "referral-to-treatment": (
        "date",
        "ServiceRequest",
        "Referral to treatment",
        "The day the patient was referred to treatment.",
    ),
    "followon-referral": (
        "date",
        "ServiceRequest",
        "Follow-on referral",
        "The day of the referral to oncological follow-on treatment.",
    ),
}


def code_systems() -> list[CodeSystem]:
    """kapacitet's code systems (collaboration, procedure, provider type, deadline status)."""
    return [_code_system(name) for name in _CODE_SYSTEMS]


def structure_definitions() -> list[StructureDefinition]:
    """The StructureDefinition of each kapacitet extension."""
    return [_extension(name) for name in _EXTENSIONS]


def definition(kind: str, resource_id: str) -> Resource | None:
    """The CodeSystem or StructureDefinition with that id, else None."""
    listed: list[Resource] = []
    if kind == "CodeSystem":
        listed = list(code_systems())
    elif kind == "StructureDefinition":
        listed = list(structure_definitions())
    return next((r for r in listed if r.id == resource_id), None)


def capability_statement(base_url: str | None = None) -> CapabilityStatement:
    """What the server reads and writes: a Bundle POSTed to the base (capacity or referrals,
    all or nothing), Appointments searched by run, its definitions read by id."""
    read = "read in a Bundle POSTed to the base (not stored as a FHIR resource)"
    extensions = ", ".join(
        f"{_EXT}/{name}" for name, spec in _EXTENSIONS.items() if spec[1] == "ServiceRequest"
    )
    resources: list[dict[str, Any]] = [
        _resource(
            "Organization",
            f"{read}: a department (provider type, SOR code urn:oid:1.2.208.176.1.1, CVR "
            f"http://cvr.dk, region in Address.state or dk-core's {m.REGION_EXTENSION}); "
            "written in capacity Bundles with the identifiers dk-core requires",
        ),
        _resource("Location", f"{read}: a department's position; written likewise"),
        _resource(
            "HealthcareService",
            f"{read}: a service (collaboration and procedure codes, {_EXT}/price-dkk); "
            "written likewise",
        ),
        _resource(
            "Schedule",
            f"{read}: capacity of a service (planningHorizon of any precision; a horizon over "
            "seven days declares only the ISO weeks it has Slots in; only the cells given "
            "change); written likewise",
        ),
        _resource(
            "Slot",
            f"{read}: free slots (status free; SMART Scheduling Links' "
            f"{m.SLOT_CAPACITY_EXTENSION} counts); written likewise",
        ),
        _resource(
            "Patient",
            f"{read}: a pseudonym (never a CPR number), region and HL7 geolocation; "
            "written in referral Bundles",
        ),
        _resource(
            "ServiceRequest",
            f"{read}: a referral on the waiting list (extensions {extensions}); "
            "written in referral Bundles",
        ),
        _resource(
            "Appointment",
            "a solve run's proposals (proposed, waitlist, booked, cancelled); read as a "
            "current booking (status booked) in a referral Bundle",
            interactions=("search-type",),
            search=[
                {
                    "name": "run",
                    "type": "number",
                    "documentation": "the solve run whose proposals to return (required)",
                }
            ],
        ),
        _resource(
            "AppointmentResponse",
            "written in the Appointment searchset (search.mode include) for decided proposals",
        ),
        _resource("CodeSystem", "kapacitet's code systems", interactions=("read",)),
        _resource("StructureDefinition", "kapacitet's extensions", interactions=("read",)),
    ]
    statement: dict[str, Any] = {
        "id": "kapacitet",
        "url": f"{m.BASE}/CapabilityStatement/kapacitet",
        "version": VERSION,
        "name": "KapacitetServer",
        "title": "kapacitet FHIR R4 interface",
        "status": "active",
        "experimental": False,
        "date": DATE,
        "publisher": PUBLISHER,
        "description": "Capacity (Schedules and free Slots) and referrals (ServiceRequests) in, "
        "proposals (Appointments) out, for capacity sharing in Danish cancer care.",
        "kind": "instance",
        "software": {"name": "kapacitet", "version": VERSION},
        "implementation": {"description": "kapacitet's HTTP API, FHIR at /v1/fhir"},
        "fhirVersion": FHIR_VERSION,
        "format": [m.FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "POST a capacity or referral Bundle (any Bundle type) to the "
                "base; it is stored all or nothing, or refused with an OperationOutcome naming "
                "each problem's FHIRPath. A department posts only its own capacity, a region "
                "only its own patients.",
                "security": {
                    "description": "Bearer tokens (kapacitet token create); metadata, "
                    "CodeSystem and StructureDefinition need none."
                },
                "resource": resources,
                "interaction": [
                    {
                        "code": "transaction",
                        "documentation": "POST /v1/fhir: a capacity Bundle (departments, "
                        "services, Schedules, Slots) or a referral Bundle (Patients, "
                        "ServiceRequests, booked Appointments)",
                    }
                ],
            }
        ],
    }
    if base_url is not None:
        statement["implementation"]["url"] = base_url
    return CapabilityStatement.model_validate(statement)


def write_definitions(folder: Path) -> list[Path]:
    """Write the CapabilityStatement, CodeSystems and StructureDefinitions as JSON files."""
    from interop.fhir.exports import write_json

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for resource in [capability_statement(), *code_systems(), *structure_definitions()]:
        path = folder / f"{resource.get_resource_type()}-{resource.id}.json"
        path.write_text(write_json(resource) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _code_system(name: str) -> CodeSystem:
    url, description, codes = _CODE_SYSTEMS[name]
    concepts = _CONCEPTS[name]
    return CodeSystem.model_validate(
        {
            "id": name,
            "url": url,
            "version": VERSION,
            "name": "Kapacitet" + "".join(part.title() for part in name.split("-")),
            "title": f"kapacitet {name.replace('-', ' ')}",
            "status": "active",
            "experimental": False,
            "date": DATE,
            "publisher": PUBLISHER,
            "description": description,
            "caseSensitive": True,
            "content": "complete",
            "count": len(codes),
            "concept": [
                {
                    "code": code,
                    "display": concepts[code][0],
                    "definition": concepts[code][2],
                    "designation": [{"language": "da", "value": concepts[code][1]}],
                }
                for code in codes
            ],
        }
    )


def _extension(name: str) -> StructureDefinition:
    value_type, context, title, description = _EXTENSIONS[name]
    url = f"{_EXT}/{name}"
    return StructureDefinition.model_validate(
        {
            "id": name,
            "url": url,
            "version": VERSION,
            "name": "".join(part.title() for part in name.split("-")),
            "title": title,
            "status": "active",
            "experimental": False,
            "date": DATE,
            "publisher": PUBLISHER,
            "description": description,
            "fhirVersion": FHIR_VERSION,
            "kind": "complex-type",
            "abstract": False,
            "context": [{"type": "element", "expression": context}],
            "type": "Extension",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
            "derivation": "constraint",
            "differential": {
                "element": [
                    {
                        "id": "Extension",
                        "path": "Extension",
                        "short": title,
                        "definition": description,
                        "min": 0,
                        "max": "1",
                    },
                    {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
                    {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
                    {
                        "id": "Extension.value[x]",
                        "path": "Extension.value[x]",
                        "min": 1,
                        "type": [{"code": value_type}],
                    },
                ]
            },
        }
    )


def _resource(
    kind: str,
    documentation: str,
    interactions: tuple[str, ...] = (),
    search: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {"type": kind, "documentation": documentation}
    if interactions:
        resource["interaction"] = [{"code": code} for code in interactions]
    if search:
        resource["searchParam"] = search
    return resource


if __name__ == "__main__":  # python -m interop.fhir.definitions docs/fhir
    for written in write_definitions(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/fhir")):
        print(written)
