"""The vocabulary shared by FHIR import and export: identifier systems, code systems, extensions.

kapacitet speaks FHIR R4 through ``fhir.resources.R4B`` (R4's technical correction: Slot,
Schedule, Appointment, AppointmentResponse, ServiceRequest, Patient, HealthcareService, Location
and Organization have the same elements as in R4.0.1). Every value the contract has and FHIR has
no element for travels in a kapacitet extension named here; docs/fhir.md has the full mapping.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final
from zoneinfo import ZoneInfo

#: The Danish SOR (Sundhedsvæsenets Organisationsregister) code of an organisation or department.
SOR_SYSTEM: Final = "urn:oid:1.2.208.176.1.1"
#: The Danish CPR number: never accepted, never sent.
CPR_SYSTEM: Final = "urn:oid:1.2.208.176.1.2"
#: The Danish CVR number (Det Centrale Virksomhedsregister) of a company, as dk-core names it.
CVR_SYSTEM: Final = "http://cvr.dk"

#: HL7 Denmark's dk-core: the region of an Address (valueCodeableConcept, ISO 3166-2 codes).
REGION_EXTENSION: Final = (
    "http://hl7.dk/fhir/core/StructureDefinition/dk-core-RegionalSubDivisionCodes"
)
#: dk-core's code system of the five regions' ISO 3166-2 codes (``DK-81`` ... ``DK-85``).
REGION_SYSTEM: Final = "http://hl7.dk/fhir/core/CodeSystem/dk-core-regional-subdivision-codes"
#: ISO 3166-2 itself, as some senders name it.
ISO_3166_2_SYSTEM: Final = "urn:iso:std:iso:3166:-2"
#: kapacitet's region (the contract's name) → its ISO 3166-2 code.
REGION_CODES: Final[dict[str, str]] = {
    "Nordjylland": "DK-81",
    "Midtjylland": "DK-82",
    "Syddanmark": "DK-83",
    "Hovedstaden": "DK-84",
    "Sjælland": "DK-85",
}
#: Other names the regions go by in an ``Address.state`` (lower case) → the contract's name.
_REGION_NAMES: Final[dict[str, str]] = {
    **{code.lower(): name for name, code in REGION_CODES.items()},
    **{code[3:]: name for name, code in REGION_CODES.items()},
    **{name.lower(): name for name in REGION_CODES},
    **{f"region {name.lower()}": name for name in REGION_CODES},
    "sjaelland": "Sjælland",
    "region sjaelland": "Sjælland",
    "region zealand": "Sjælland",
    "capital region of denmark": "Hovedstaden",
    "north denmark region": "Nordjylland",
    "central denmark region": "Midtjylland",
    "region of southern denmark": "Syddanmark",
}
#: SMART Scheduling Links: how many appointments one Slot stands for (valueInteger).
SLOT_CAPACITY_EXTENSION: Final = (
    "http://fhir-registry.smarthealthit.org/StructureDefinition/slot-capacity"
)

BASE: Final = "https://kapacitet.dk/fhir"
#: kapacitet's department_id (Organization, Location; SOR codes may stand beside it).
DEPARTMENT_SYSTEM: Final = f"{BASE}/sid/department-id"
#: A department's service: ``department_id/collaboration/procedure`` (HealthcareService).
SERVICE_SYSTEM: Final = f"{BASE}/sid/service"
#: The patient pseudonym (patient_id): Patient and, as the referral's id, ServiceRequest.
PATIENT_SYSTEM: Final = f"{BASE}/sid/patient-pseudonym"
#: The referral (ServiceRequest) of a patient on the waiting list: its patient_id.
REFERRAL_SYSTEM: Final = f"{BASE}/sid/referral"
#: A solve run's proposal for one patient: ``run_id/patient_id`` (Appointment).
PROPOSAL_SYSTEM: Final = f"{BASE}/sid/proposal"

COLLABORATION_SYSTEM: Final = f"{BASE}/CodeSystem/collaboration"
PROCEDURE_SYSTEM: Final = f"{BASE}/CodeSystem/procedure"
PROVIDER_TYPE_SYSTEM: Final = f"{BASE}/CodeSystem/provider-type"
#: The codes of the deadline-status extension (``valueCode``): active or paused, and why.
DEADLINE_STATUS_SYSTEM: Final = f"{BASE}/CodeSystem/deadline-status"

_EXT: Final = f"{BASE}/StructureDefinition"
PRICE_EXTENSION: Final = f"{_EXT}/price-dkk"
DEADLINE_STATUS_EXTENSION: Final = f"{_EXT}/deadline-status"
MAX_TRAVEL_EXTENSION: Final = f"{_EXT}/max-travel-km"
ACCEPTS_PRIVATE_EXTENSION: Final = f"{_EXT}/accepts-private"
ACCEPTS_FOREIGN_EXTENSION: Final = f"{_EXT}/accepts-foreign"
#: One extension per clock date the rules compute a missing deadline from (valueDate).
CLOCK_EXTENSIONS: Final[dict[str, str]] = {
    "clock_start": f"{_EXT}/clock-start",
    "referral_received": f"{_EXT}/referral-received",
    "consent_date": f"{_EXT}/consent-date",
    "referral_to_treatment": f"{_EXT}/referral-to-treatment",
    "followon_referral": f"{_EXT}/followon-referral",
}
#: HL7's standard extension for a geographic point on an Address (Patient.address).
GEOLOCATION_EXTENSION: Final = "http://hl7.org/fhir/StructureDefinition/geolocation"

#: Danish local time: a declared day's slots run from 08:00 to 16:00 there.
TIMEZONE: Final = ZoneInfo("Europe/Copenhagen")
DAY_START: Final = dt.time(8, 0)
DAY_END: Final = dt.time(16, 0)

#: The content type of every FHIR request and response body.
FHIR_JSON: Final = "application/fhir+json"

_NAMESPACE: Final = uuid.UUID("6f1c7f8e-3b0a-4c55-9a43-6b1d2c7e9a10")


def full_url(kind: str, *key: object) -> str:
    """A stable ``urn:uuid:`` for the resource of ``kind`` with ``key`` (same input, same URL)."""
    return f"urn:uuid:{resource_id(kind, *key)}"


def resource_id(kind: str, *key: object) -> str:
    """A stable FHIR id (a UUID) for the resource of ``kind`` with ``key``.

    Contract ids may hold ``_``, which a FHIR id may not, so ids are derived, never copied.
    """
    return str(uuid.uuid5(_NAMESPACE, "/".join([kind, *(str(part) for part in key)])))


def day_start(day: dt.date) -> dt.datetime:
    """08:00 Danish time on ``day`` (the start of a declared slot or proposed appointment)."""
    return dt.datetime.combine(day, DAY_START, TIMEZONE)


def day_end(day: dt.date) -> dt.datetime:
    """16:00 Danish time on ``day``."""
    return dt.datetime.combine(day, DAY_END, TIMEZONE)


def local_day(moment: dt.datetime | dt.date) -> dt.date:
    """The Danish calendar day of an instant (a date stays itself)."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            return moment.date()
        return moment.astimezone(TIMEZONE).date()
    return moment


def region_name(text: str) -> str | None:
    """The contract's region for a region code or name (``DK-84``, ``Region Hovedstaden``,
    ``Hovedstaden``, ``Capital Region of Denmark``), else None."""
    return _REGION_NAMES.get(" ".join(text.split()).lower())
