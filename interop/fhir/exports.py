"""Contract data as FHIR R4 Bundles: capacity (Slots), referrals (ServiceRequests), proposals.

Every resource is a ``fhir.resources.R4B`` model object, so whatever is built is validated by the
library before it is serialised; nothing here writes FHIR JSON by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
from fhir.resources.R4B.address import Address
from fhir.resources.R4B.appointment import Appointment, AppointmentParticipant
from fhir.resources.R4B.appointmentresponse import AppointmentResponse
from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntrySearch
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.location import Location, LocationPosition
from fhir.resources.R4B.money import Money
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.slot import Slot

from capacity.frames import Dataset
from capacity.rules import GIVEN
from interop.fhir import mapping as m

#: What a decision on a proposal makes of its Appointment and the AppointmentResponse.
DECISION_STATUS = {"accept": "booked", "reject": "cancelled", "hold": "proposed"}
RESPONSE_STATUS = {"accept": "accepted", "reject": "declined", "hold": "tentative"}


def capacity_bundle(dataset: Dataset) -> Bundle:
    """The dataset's departments, services and free slots as a FHIR collection Bundle.

    Each department is an Organization (provider type, region with dk-core's region code,
    hospital; its SOR code and CVR number where known) and a Location (its position); each
    service a HealthcareService; each capacity row a Schedule covering that day, with one free
    Slot per free slot (a Schedule without Slots declares a day with none free).
    """
    entries: list[BundleEntry] = []
    for row in _rows(dataset.departments):
        entries += _department(row)
    for row in _rows(dataset.services):
        entries.append(_entry(_healthcare_service(row)))
    capacity = dataset.capacity
    for position, row in enumerate(_rows(capacity)):
        schedule = _schedule(row, position)
        entries.append(_entry(schedule))
        for number in range(int(row["free_slots"])):
            entries.append(_entry(_slot(row, schedule, number)))
    return Bundle(type="collection", timestamp=_now(), entry=entries)


def referrals_bundle(patients: pd.DataFrame) -> Bundle:
    """The waiting list as a FHIR collection Bundle: per patient a Patient (pseudonym only), a
    ServiceRequest (the referral) and, for a current booking, a booked Appointment.

    A deadline the rules computed is left out (its clock dates go instead), so an import computes
    it again and names the same rule.
    """
    entries: list[BundleEntry] = []
    for row in _rows(patients):
        patient = _patient(row)
        request = _service_request(row, patient)
        entries += [_entry(patient), _entry(request)]
        if _given(row["booked_department_id"]):
            entries.append(_entry(_booking(row, patient, request)))
    return Bundle(type="collection", timestamp=_now(), entry=entries)


def appointments_bundle(
    run_id: int,
    proposals: Sequence[Mapping[str, Any]],
    decisions: Mapping[str, Mapping[str, Any]] | None = None,
) -> Bundle:
    """A solve run's proposals as a FHIR searchset Bundle of Appointments.

    A placed patient's proposal is a ``proposed`` Appointment at the receiving department on the
    proposed day, an unassigned patient's a ``waitlist`` Appointment without a time; the reason is
    the Appointment's ``comment``. A decision (``decisions`` by patient_id: decision, reason)
    makes it ``booked`` (accept) or ``cancelled`` (reject) and adds an AppointmentResponse.
    """
    decisions = decisions or {}
    entries: list[BundleEntry] = []
    for proposal in proposals:
        decision = decisions.get(str(proposal["patient_id"]))
        appointment = _appointment(run_id, proposal, decision)
        entries.append(_entry(appointment, search="match"))
        if decision is not None:
            entries.append(_entry(_response(appointment, proposal, decision), search="include"))
    return Bundle(type="searchset", total=len(proposals), timestamp=_now(), entry=entries)


def write_json(resource: Resource) -> str:
    """The resource as FHIR JSON text (what the library serialises, indented for people)."""
    text: str = resource.model_dump_json(exclude_none=True, indent=1)
    return text


# -- departments and services ----------------------------------------------------------------


def _department(row: Mapping[str, Any]) -> list[BundleEntry]:
    department_id = str(row["department_id"])
    identifiers = _department_identifiers(row)
    region = str(row["region"])
    foreign = row["provider_type"] == "foreign"
    organization = Organization(
        id=m.resource_id("Organization", department_id),
        identifier=identifiers,
        name=_text(row["name"]),
        partOf=Reference(display=str(row["hospital"])) if _given(row["hospital"]) else None,
        type=[_concept(m.PROVIDER_TYPE_SYSTEM, row["provider_type"])],
        address=[Address(country=region) if foreign else _danish_address(region)],
    )
    location = Location(
        id=m.resource_id("Location", department_id),
        identifier=[i for i in identifiers if i.system != m.CVR_SYSTEM],
        name=_text(row["name"]),
        position=LocationPosition(
            latitude=_decimal(row["latitude"]), longitude=_decimal(row["longitude"])
        ),
        managingOrganization=_ref(organization),
    )
    return [_entry(organization), _entry(location)]


def _department_identifiers(row: Mapping[str, Any]) -> list[Identifier]:
    """kapacitet's department id, and the identifiers HL7 Denmark's dk-core Organization
    profile knows: the SOR code and the CVR number (``use = official``), where known."""
    identifiers = [
        Identifier(use="usual", system=m.DEPARTMENT_SYSTEM, value=str(row["department_id"]))
    ]
    for column, system in (("sor_code", m.SOR_SYSTEM), ("cvr", m.CVR_SYSTEM)):
        if _given(row.get(column)):
            identifiers.append(Identifier(use="official", system=system, value=str(row[column])))
    return identifiers


def _danish_address(region: str) -> Address:
    """A Danish address of ``region``: its name as ``state`` and, for one of the five regions,
    dk-core's region extension with the ISO 3166-2 code (``DK-84``)."""
    code = m.REGION_CODES.get(region)
    extension = (
        [
            Extension(
                url=m.REGION_EXTENSION,
                valueCodeableConcept=_concept(m.REGION_SYSTEM, code),
            )
        ]
        if code is not None
        else None
    )
    return Address(extension=extension, state=region, country="DK")


def _service_key(row: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(row["department_id"]), str(row["collaboration"]), str(row["procedure"]))


def _healthcare_service(row: Mapping[str, Any]) -> HealthcareService:
    key = _service_key(row)
    department_id, collaboration, procedure = key
    price = row.get("price_dkk")
    return HealthcareService(
        id=m.resource_id("HealthcareService", *key),
        identifier=[Identifier(system=m.SERVICE_SYSTEM, value="/".join(key))],
        providedBy=Reference(reference=m.full_url("Organization", department_id)),
        location=[Reference(reference=m.full_url("Location", department_id))],
        category=[_concept(m.COLLABORATION_SYSTEM, collaboration)],
        type=[_concept(m.PROCEDURE_SYSTEM, procedure)],
        name=f"{collaboration} {procedure}".replace("_", " "),
        extension=[
            Extension(
                url=m.PRICE_EXTENSION,
                valueMoney=Money(value=_decimal(price), currency="DKK"),
            )
        ]
        if _given(price)
        else None,
    )


def _schedule(row: Mapping[str, Any], position: int) -> Schedule:
    key = _service_key(row)
    day = _day(row["date"])
    return Schedule(
        id=m.resource_id("Schedule", position, *key, day.isoformat()),
        active=True,
        actor=[
            Reference(reference=m.full_url("HealthcareService", *key)),
            Reference(reference=m.full_url("Location", key[0])),
        ],
        serviceCategory=[_concept(m.COLLABORATION_SYSTEM, key[1])],
        serviceType=[_concept(m.PROCEDURE_SYSTEM, key[2])],
        planningHorizon=Period(start=m.day_start(day), end=m.day_end(day)),
    )


def _slot(row: Mapping[str, Any], schedule: Schedule, number: int) -> Slot:
    day = _day(row["date"])
    return Slot(
        id=m.resource_id("Slot", schedule.id, number),
        schedule=_ref(schedule),
        status="free",
        serviceCategory=[_concept(m.COLLABORATION_SYSTEM, row["collaboration"])],
        serviceType=[_concept(m.PROCEDURE_SYSTEM, row["procedure"])],
        start=m.day_start(day),
        end=m.day_end(day),
    )


# -- patients and referrals ------------------------------------------------------------------


def _patient(row: Mapping[str, Any]) -> Patient:
    patient_id = str(row["patient_id"])
    where = Extension(
        url=m.GEOLOCATION_EXTENSION,
        extension=[
            Extension(url="latitude", valueDecimal=_decimal(row["latitude"])),
            Extension(url="longitude", valueDecimal=_decimal(row["longitude"])),
        ],
    )
    address = _danish_address(str(row["home_region"]))
    address.extension = [*(address.extension or []), where]
    return Patient(
        id=m.resource_id("Patient", patient_id),
        identifier=[Identifier(system=m.PATIENT_SYSTEM, value=patient_id)],
        address=[address],
    )


def _service_request(row: Mapping[str, Any], patient: Patient) -> ServiceRequest:
    patient_id = str(row["patient_id"])
    extensions = [Extension(url=m.DEADLINE_STATUS_EXTENSION, valueCode=str(row["deadline_status"]))]
    if _given(row.get("max_travel_km")):
        extensions.append(
            Extension(url=m.MAX_TRAVEL_EXTENSION, valueDecimal=_decimal(row["max_travel_km"]))
        )
    extensions += [
        Extension(url=m.ACCEPTS_PRIVATE_EXTENSION, valueBoolean=bool(row["accepts_private"])),
        Extension(url=m.ACCEPTS_FOREIGN_EXTENSION, valueBoolean=bool(row["accepts_foreign"])),
    ]
    for column, url in m.CLOCK_EXTENSIONS.items():
        if _given(row.get(column)):
            extensions.append(Extension(url=url, valueDate=_day(row[column])))
    given_deadline = _given(row["deadline"]) and row.get("deadline_rule", GIVEN) in (GIVEN, None)
    return ServiceRequest(
        id=m.resource_id("ServiceRequest", patient_id),
        identifier=[Identifier(system=m.REFERRAL_SYSTEM, value=patient_id)],
        status="active" if row["deadline_status"] == "active" else "on-hold",
        intent="order",
        category=[_concept(m.COLLABORATION_SYSTEM, row["collaboration"])],
        code=_concept(m.PROCEDURE_SYSTEM, row["procedure"]),
        subject=_ref(patient),
        performer=[_department_ref(row["home_department_id"])],
        occurrencePeriod=Period.model_validate(
            {
                "start": _day(row["earliest_date"]).isoformat()
                if _given(row["earliest_date"])
                else None,
                "end": _day(row["deadline"]).isoformat() if given_deadline else None,
            }
        ),
        extension=extensions,
    )


def _booking(row: Mapping[str, Any], patient: Patient, request: ServiceRequest) -> Appointment:
    day = _day(row["booked_date"])
    return Appointment(
        id=m.resource_id("Appointment", "booking", row["patient_id"]),
        status="booked",
        basedOn=[_ref(request)],
        serviceCategory=[_concept(m.COLLABORATION_SYSTEM, row["collaboration"])],
        serviceType=[_concept(m.PROCEDURE_SYSTEM, row["procedure"])],
        start=m.day_start(day),
        end=m.day_end(day),
        participant=[
            AppointmentParticipant(actor=_ref(patient), status="accepted"),
            AppointmentParticipant(
                actor=_department_ref(row["booked_department_id"], "Location"), status="accepted"
            ),
        ],
    )


# -- proposals and decisions -----------------------------------------------------------------


def _appointment(
    run_id: int, proposal: Mapping[str, Any], decision: Mapping[str, Any] | None
) -> Appointment:
    patient_id = str(proposal["patient_id"])
    department_id = proposal.get("department_id")
    placed = bool(department_id) and bool(proposal.get("date"))
    if decision is not None and placed:
        status = DECISION_STATUS[str(decision["decision"])]
    else:
        status = "proposed" if placed else "waitlist"
    participant_status = {"booked": "accepted", "cancelled": "declined"}.get(status, "needs-action")
    patient = Reference(
        type="Patient", identifier=Identifier(system=m.PATIENT_SYSTEM, value=patient_id)
    )
    participants = [
        AppointmentParticipant(actor=patient, required="required", status=participant_status)
    ]
    start = end = None
    if placed:
        key = (str(department_id), str(proposal["collaboration"]), str(proposal["procedure"]))
        participants += [
            AppointmentParticipant(
                actor=Reference(
                    type="HealthcareService",
                    identifier=Identifier(system=m.SERVICE_SYSTEM, value="/".join(key)),
                ),
                required="required",
                status=participant_status,
            ),
            AppointmentParticipant(
                actor=_department_ref(department_id, "Location"),
                required="required",
                status=participant_status,
            ),
        ]
        day = dt.date.fromisoformat(str(proposal["date"])[:10])
        start, end = m.day_start(day), m.day_end(day)
    return Appointment(
        id=m.resource_id("Appointment", "proposal", run_id, patient_id),
        identifier=[Identifier(system=m.PROPOSAL_SYSTEM, value=f"{run_id}/{patient_id}")],
        status=status,
        basedOn=[
            Reference(
                type="ServiceRequest",
                identifier=Identifier(system=m.REFERRAL_SYSTEM, value=patient_id),
            )
        ],
        serviceCategory=[_concept(m.COLLABORATION_SYSTEM, proposal["collaboration"])],
        serviceType=[_concept(m.PROCEDURE_SYSTEM, proposal["procedure"])],
        description=_description(proposal),
        comment=_text(proposal.get("reason")),
        start=start,
        end=end,
        participant=participants,
    )


def _description(proposal: Mapping[str, Any]) -> str:
    """One line a person reads first: action, where and when, against which deadline."""
    action = str(proposal.get("action") or "")
    what = f"{proposal['collaboration']} {proposal['procedure']}".replace("_", " ")
    if not proposal.get("department_id"):
        return f"{action}: no slot for {what} (deadline {proposal.get('deadline')})"
    late = proposal.get("days_late")
    lateness = f", {int(late)} days late" if late else ""
    return (
        f"{action}: {what} at {proposal['department_id']} on {proposal['date']} "
        f"(deadline {proposal.get('deadline')}{lateness})"
    )


def _response(
    appointment: Appointment, proposal: Mapping[str, Any], decision: Mapping[str, Any]
) -> AppointmentResponse:
    patient_id = str(proposal["patient_id"])
    return AppointmentResponse(
        id=m.resource_id("AppointmentResponse", appointment.id),
        appointment=_ref(appointment),
        participantStatus=RESPONSE_STATUS[str(decision["decision"])],
        actor=Reference(
            type="Patient", identifier=Identifier(system=m.PATIENT_SYSTEM, value=patient_id)
        ),
        start=appointment.start,
        end=appointment.end,
        comment=_text(decision.get("reason")),
    )


# -- small builders --------------------------------------------------------------------------


def _rows(frame: pd.DataFrame) -> Iterable[dict[str, Any]]:
    """The frame's rows as dicts with None where a value is missing."""
    plain = frame.astype(object).where(frame.notna(), None)
    return plain.to_dict(orient="records")  # type: ignore[return-value]


def _entry(resource: Resource, search: str | None = None) -> BundleEntry:
    return BundleEntry(
        fullUrl=f"urn:uuid:{resource.id}",
        resource=resource,
        search=BundleEntrySearch(mode=search) if search else None,
    )


def _ref(resource: Resource) -> Reference:
    return Reference(reference=f"urn:uuid:{resource.id}")


def _department_ref(department_id: object, kind: str = "Organization") -> Reference:
    """A logical reference to a department by its department_id (no resource needed)."""
    return Reference(
        type=kind, identifier=Identifier(system=m.DEPARTMENT_SYSTEM, value=str(department_id))
    )


def _concept(system: str, code: object) -> CodeableConcept:
    return CodeableConcept(coding=[Coding(system=system, code=str(code))])


def _given(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and value != value) and value != ""


def _text(value: object) -> str | None:
    return str(value) if _given(value) else None


def _decimal(value: object) -> Decimal:
    """A number as the shortest decimal that reads back as the same float."""
    return Decimal(repr(float(value)))  # type: ignore[arg-type]


def _day(value: object) -> dt.date:
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
