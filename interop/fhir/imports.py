"""FHIR R4 Bundles in: capacity (Schedules and free Slots) and referrals (ServiceRequests).

Reading is all or nothing, like a contract folder: :func:`read_bundle` checks the Bundle with
fhir.resources and turns it into contract records, each value remembering the FHIRPath it came
from; :func:`validate_bundle` runs the contract's own validation (capacity.validation, the rules
for missing deadlines) and reports every problem at that FHIRPath. Nothing here touches a database.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pandas as pd
import pydantic
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

from capacity import frames
from capacity.pseudonym import looks_like_cpr, redact
from capacity.rules import Rules, load_rules
from capacity.validation import DEPARTMENT_CODES, Problem, RawTable, as_text, validate_tables
from interop.fhir import mapping as m
from interop.fhir.outcome import BundleRejected, FhirIssue, issues_from_validation

Kind = Literal["capacity", "referrals"]
Record = dict[str, str | None]
#: Where each value of a record came from: column → FHIRPath; ``""`` is the resource itself.
Where = dict[str, str]

_CPR_MESSAGE: Final = (
    "a Danish CPR number must not be sent to kapacitet; identify the patient by a pseudonym "
    f"(an identifier with system {m.PATIENT_SYSTEM})"
)


@dataclass(frozen=True)
class ImportedBundle:
    """A Bundle read into contract records (strings, as a JSON file holds them), by table.

    ``kind`` is ``capacity`` (departments, services and capacity described by the Bundle) or
    ``referrals`` (patients). ``where[table][i][column]`` is the FHIRPath of a record's value.
    """

    kind: Kind
    records: dict[str, list[Record]] = field(default_factory=dict)
    where: dict[str, list[Where]] = field(default_factory=dict)
    #: ``(table, position, column)`` of each value that is an SOR code naming a department,
    #: not yet a department id: :func:`resolve_sor_codes` looks it up.
    sor: set[tuple[str, int, str]] = field(default_factory=set)

    def expression(self, table: str, position: int | None, column: str | None) -> str:
        """The FHIRPath of a record's value (the record's resource, or the Bundle, as fallback)."""
        located = self.where.get(table, [])
        if position is None or not 0 <= position < len(located):
            return "Bundle"
        paths = located[position]
        return paths.get(column or "", paths[""])

    def count(self, table: str) -> int:
        """How many records of ``table`` the Bundle holds."""
        return len(self.records.get(table, []))


def read_bundle(data: bytes | str | Mapping[str, Any]) -> ImportedBundle:
    """The contract records in a capacity or referral Bundle; raises :class:`BundleRejected`
    listing every problem found (FHIR structure first, then what kapacitet needs)."""
    document = _document(data)
    unknown = _unknown_resource_types(document)
    if unknown:
        raise BundleRejected(unknown)
    try:
        bundle = Bundle.model_validate(document)
    except pydantic.ValidationError as error:
        raise BundleRejected(issues_from_validation(error)) from None
    except (TypeError, ValueError, KeyError, RecursionError) as error:
        # fhir.resources raises a few plain errors for shapes pydantic never sees
        issue = FhirIssue("Bundle", f"not a FHIR R4 Bundle: {error}", "structure")
        raise BundleRejected([issue]) from None
    return _Reader(bundle).read()


def validate_bundle(
    imported: ImportedBundle,
    departments: pd.DataFrame | None = None,
    services: pd.DataFrame | None = None,
    rules: Rules | None = None,
) -> dict[str, pd.DataFrame]:
    """The Bundle's records as typed contract frames, checked exactly as a contract folder is.

    ``departments`` and ``services`` are those already known (e.g. stored); the Bundle's own
    descriptions come first and win. Missing deadlines are computed by ``rules`` (default: the
    bundled maximum waiting times). Raises :class:`BundleRejected` with each problem at its
    FHIRPath. Returns the tables the Bundle holds (for capacity: departments, services and
    capacity as described in it; for referrals: patients).
    """
    imported = resolve_sor_codes(imported, departments)
    tables: dict[str, RawTable] = {}
    known = {"departments": departments, "services": services}
    for table in ("departments", "services"):
        own = imported.records.get(table, [])
        tables[table] = _raw_table(table, own, known[table])
    for table in ("capacity", "patients"):
        if table in imported.records:
            tables[table] = _raw_table(table, imported.records[table], None)
    typed, problems = validate_tables(tables, rules if rules is not None else load_rules())
    if problems:
        raise BundleRejected([_issue(imported, problem) for problem in problems])
    return {
        table: typed[table].iloc[: imported.count(table)].reset_index(drop=True)
        for table in imported.records
    }


def resolve_sor_codes(
    imported: ImportedBundle, departments: pd.DataFrame | None = None
) -> ImportedBundle:
    """The Bundle with every department named by SOR code replaced by its department id.

    An SOR code is looked up among the departments the Bundle describes, then among
    ``departments`` (e.g. those stored, with their ``sor_code`` column); a code that is itself
    a department's id stands (a department registered under its SOR code). Raises
    :class:`BundleRejected` with an issue at each code no department has (never echoing a
    CPR-like value).
    """
    if not imported.sor:
        return imported
    by_code: dict[str, str] = {}
    ids: set[str] = set()
    if departments is not None and len(departments):
        ids |= {str(i) for i in departments["department_id"].dropna()}
        if "sor_code" in departments.columns:
            known = departments.dropna(subset=["sor_code"])
            by_code |= dict(
                zip(known["sor_code"].astype(str), known["department_id"].astype(str), strict=True)
            )
    described = imported.records.get("departments", [])
    for record in described:
        if record.get("sor_code"):
            by_code.setdefault(str(record["sor_code"]), str(record["department_id"]))
    records = {table: [dict(r) for r in rows] for table, rows in imported.records.items()}
    own = {str(r["department_id"]) for r in described if r.get("department_id")}
    issues = []
    for table, position, column in sorted(imported.sor):
        value = str(records[table][position][column])
        found = by_code.get(value)
        if found is None and (value in ids or value in own):
            found = value  # a department registered under its SOR code
        if found is not None and not looks_like_cpr(found):
            records[table][position][column] = found
        else:
            issues.append(
                FhirIssue(
                    imported.expression(table, position, column),
                    f"no department has SOR code {redact(value)!r}: load the department with "
                    "its sor_code (departments.csv), or describe it in the Bundle with "
                    f"kapacitet's department id ({m.DEPARTMENT_SYSTEM}) beside the SOR code",
                    "not-found",
                )
            )
    if issues:
        raise BundleRejected(issues)
    return ImportedBundle(imported.kind, records, imported.where, set())


# -- reading ----------------------------------------------------------------------------------


def _document(data: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except UnicodeDecodeError:
            raise BundleRejected(
                [FhirIssue("Bundle", "not UTF-8: send FHIR JSON as UTF-8", "structure")]
            ) from None
        except json.JSONDecodeError as error:
            where = f"line {error.lineno}, column {error.colno}"
            message = f"not valid JSON ({where}: {error.msg}); send a FHIR JSON Bundle"
            raise BundleRejected([FhirIssue("Bundle", message, "structure")]) from None
    if not isinstance(data, Mapping) or data.get("resourceType") != "Bundle":
        found = data.get("resourceType") if isinstance(data, Mapping) else type(data).__name__
        raise BundleRejected(
            [
                FhirIssue(
                    "Bundle.resourceType",
                    f"expected a Bundle, got {found!r}; wrap Slots/Schedules or ServiceRequests/"
                    "Patients in a Bundle (type collection, transaction or batch)",
                    "structure",
                )
            ]
        )
    return data


def _unknown_resource_types(document: Mapping[str, Any]) -> list[FhirIssue]:
    """Issues for entries whose resourceType FHIR R4 does not define (fhir.resources would fail
    on them without saying where)."""
    entries = document.get("entry")
    if not isinstance(entries, list):
        return []
    issues = []
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping):
            continue
        kind = resource.get("resourceType")
        try:
            known = issubclass(get_fhir_model_class(str(kind)), Resource)
        except ValueError:
            known = False
        if not known:
            issues.append(
                FhirIssue(
                    f"Bundle.entry[{i}].resource.resourceType",
                    f"{kind!r} is not a FHIR R4 resource type",
                    "structure",
                )
            )
    return issues


class _Reader:
    """One pass over a validated Bundle, collecting records and issues.

    Resources contained in an entry (``contained``) are read as entries of their own, at
    ``Bundle.entry[i].resource.contained[k]``; a ``#id`` reference finds them within the
    resource that contains them.
    """

    def __init__(self, bundle: Bundle) -> None:
        self.entries: list[Resource | None] = []
        self.paths: list[str] = []
        #: The entry whose ``contained`` a resource is in (itself for an entry's resource).
        self.scope: list[int] = []
        self.issues: list[FhirIssue] = []
        self.by_url: dict[str, int] = {}
        self.local: dict[tuple[int, str], int] = {}
        contained: list[tuple[int, int, Resource]] = []
        for i, entry in enumerate(bundle.entry or []):
            resource = entry.resource
            self.entries.append(resource)
            self.paths.append(f"Bundle.entry[{i}].resource")
            self.scope.append(i)
            if resource is None:
                continue
            if entry.fullUrl:
                self.by_url.setdefault(_unversioned(str(entry.fullUrl)), i)
            if resource.id:
                self.by_url.setdefault(f"{resource.get_resource_type()}/{resource.id}", i)
            for k, inner in enumerate(getattr(resource, "contained", None) or []):
                contained.append((i, k, inner))
        for i, k, inner in contained:
            index = len(self.entries)
            self.entries.append(inner)
            self.paths.append(f"{self.paths[i]}.contained[{k}]")
            self.scope.append(i)
            if inner.id:
                self.local.setdefault((i, str(inner.id)), index)

    def read(self) -> ImportedBundle:
        types = {r.get_resource_type() for r in self.entries if r is not None}
        capacity = bool(types & {"Slot", "Schedule"})
        referrals = "ServiceRequest" in types
        for i, patient in self._all("Patient"):
            self._check_patient_identifiers(i, patient)
        if capacity and referrals:
            self.issues.append(
                FhirIssue(
                    "Bundle.entry",
                    "holds both capacity (Schedule/Slot) and referrals (ServiceRequest); "
                    "send them as two Bundles",
                    "business-rule",
                )
            )
        elif not capacity and not referrals:
            self.issues.append(
                FhirIssue(
                    "Bundle.entry",
                    "holds no Schedule or Slot (capacity) and no ServiceRequest (referrals); "
                    "nothing to import",
                    "required",
                )
            )
        if not capacity ^ referrals:
            raise BundleRejected(self.issues)
        imported = self._capacity() if capacity else self._referrals()
        if self.issues:
            raise BundleRejected(self.issues)
        return imported

    def _path(self, i: int) -> str:
        return self.paths[i]

    # -- capacity ----------------------------------------------------------------------------

    def _capacity(self) -> ImportedBundle:
        out = ImportedBundle("capacity", defaultdict(list), defaultdict(list))
        self._departments(out)
        for i, service in self._all("HealthcareService"):
            self._service(out, i, service)
        free: dict[int, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
        slot_days: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
        for i, slot in self._all("Slot"):
            path = self._path(i)
            if slot.status != "free":
                self.issues.append(
                    FhirIssue(
                        f"{path}.status",
                        f"slot is {slot.status!r}: only free slots are declared capacity; "
                        "leave booked or blocked slots out",
                        "business-rule",
                    )
                )
                continue
            target = self._resolve(slot.schedule, i)
            if target is None or self._type(target) != "Schedule":
                self.issues.append(
                    FhirIssue(
                        f"{path}.schedule",
                        "does not refer to a Schedule in this Bundle (by fullUrl, Schedule/id, "
                        "a versioned Schedule/id/_history/n or a contained #id)",
                        "not-found",
                    )
                )
                continue
            places = self._slot_capacity(i, slot)
            if places is None:
                continue
            day = m.local_day(slot.start)
            free[target][day] += places
            slot_days[target].append((day, f"{path}.start"))
        for i, schedule in self._all("Schedule"):
            self._schedule_rows(out, i, schedule, free.get(i, {}), slot_days.get(i, []))
        return _finished(out, ("departments", "services", "capacity"))

    def _slot_capacity(self, i: int, slot: Any) -> int | None:
        """How many appointments a free Slot offers: SMART Scheduling Links' ``slot-capacity``
        extension (``valueInteger``), else one; None (and an issue) for an unusable count."""
        found = _extension(slot.extension, m.SLOT_CAPACITY_EXTENSION)
        if found is None:
            return 1
        extension, k = found
        value = extension.valueInteger
        if value is None or value < 0:
            self.issues.append(
                FhirIssue(
                    f"{self._path(i)}.extension[{k}].valueInteger",
                    "the slot-capacity extension needs valueInteger: how many appointments "
                    "this Slot offers (0 or more)",
                    "required" if value is None else "value",
                )
            )
            return None
        return int(value)

    def _departments(self, out: ImportedBundle) -> None:
        """Departments the Bundle fully describes: an Organization with a provider type, and the
        Location it manages (or with the same department id) giving the position."""
        locations: dict[str, tuple[int, Any]] = {}
        for i, location in self._all("Location"):
            found = self._department_of(i)
            if found is not None:
                locations.setdefault(found[0], (i, location))
            managing = self._resolve(location.managingOrganization, i)
            if managing is not None:
                by_org = self._department_of(managing)
                if by_org is not None:
                    locations[by_org[0]] = (i, location)
        for i, organization in self._all("Organization"):
            found = self._department_of(i)
            kind = _code(organization.type, m.PROVIDER_TYPE_SYSTEM)
            if found is None or kind is None:
                continue  # a reference target only; the department must be known already
            department_id, id_path = found[0], found[1]
            path = self._path(i)
            region = _address_region(organization.address, path)
            located = locations.get(department_id)
            position = located[1].position if located is not None else None
            if position is None:
                self.issues.append(
                    FhirIssue(
                        path,
                        "describes a department (it has a provider type) but no Location gives "
                        "its position: add a Location with position.latitude and "
                        "position.longitude whose managingOrganization is this Organization",
                        "required",
                    )
                )
                continue
            assert located is not None
            position_path = f"{self._path(located[0])}.position"
            identifiers = organization.identifier or []
            sor = _identifier(identifiers, (m.SOR_SYSTEM,))
            cvr = _identifier(identifiers, (m.CVR_SYSTEM,))
            record: Record = {
                "department_id": department_id,
                "name": organization.name or located[1].name,
                "hospital": organization.partOf.display if organization.partOf else None,
                "region": region[0] if region else None,
                "provider_type": kind[0],
                "latitude": _str(position.latitude),
                "longitude": _str(position.longitude),
            }
            where: Where = {
                "": path,
                "department_id": id_path,
                "name": f"{path}.name",
                "hospital": f"{path}.partOf.display",
                "region": region[1] if region else f"{path}.address",
                "provider_type": f"{path}.type[{kind[1]}]",
                "latitude": f"{position_path}.latitude",
                "longitude": f"{position_path}.longitude",
            }
            for column, given in (("sor_code", sor), ("cvr", cvr)):
                if given is not None:
                    record[column] = given[0]
                    where[column] = f"{path}.identifier[{given[1]}].value"
            if found[2]:
                out.sor.add(("departments", len(out.records["departments"]), "department_id"))
            out.records["departments"].append(record)
            out.where["departments"].append(where)

    def _service(self, out: ImportedBundle, i: int, service: Any) -> None:
        """A HealthcareService with a collaboration and a procedure code is an offered service."""
        collaboration = _code(service.category, m.COLLABORATION_SYSTEM)
        procedure = _code(service.type, m.PROCEDURE_SYSTEM)
        if collaboration is None or procedure is None:
            return
        department = self._service_department(i)
        path = self._path(i)
        if department is None:
            self.issues.append(
                FhirIssue(
                    f"{path}.providedBy",
                    "names no department: refer to an Organization or Location with a "
                    f"department id ({m.DEPARTMENT_SYSTEM}) or SOR code ({m.SOR_SYSTEM})",
                    "required",
                )
            )
            return
        price = _extension(service.extension, m.PRICE_EXTENSION)
        if department[2]:
            out.sor.add(("services", len(out.records["services"]), "department_id"))
        out.records["services"].append(
            {
                "department_id": department[0],
                "collaboration": collaboration[0],
                "procedure": procedure[0],
                "price_dkk": _str(price[0].valueMoney.value)
                if price and price[0].valueMoney
                else None,
            }
        )
        out.where["services"].append(
            {
                "": path,
                "department_id": department[1],
                "collaboration": f"{path}.category[{collaboration[1]}]",
                "procedure": f"{path}.type[{procedure[1]}]",
                "price_dkk": f"{path}.extension[{price[1]}].valueMoney"
                if price
                else f"{path}.extension",
            }
        )

    def _schedule_rows(
        self,
        out: ImportedBundle,
        i: int,
        schedule: Any,
        free: Mapping[dt.date, int],
        slot_days: list[tuple[dt.date, str]],
    ) -> None:
        """One capacity row per day the Schedule declares: its free Slots that day (0 if none).

        A planningHorizon of at most a week declares each of its days; a longer one (a year,
        say) only the days of the ISO weeks it has Slots in, so weeks it gives no Slots for
        are left as they were. Without a planningHorizon the days are those of its Slots.
        """
        path = self._path(i)
        department: tuple[str, str, bool] | None = None
        collaboration = procedure = None
        for j, actor in enumerate(schedule.actor or []):
            target = self._resolve(actor, i)
            kind = self._type(target) if target is not None else actor.type
            found = (
                self._service_department(target)
                if kind == "HealthcareService" and target is not None
                else self._department_of(target)
                if target is not None
                else _identified_department(actor.identifier)
            )
            if found is not None and department is None:
                department = (found[0], f"{path}.actor[{j}]", found[2])
            if kind == "HealthcareService" and target is not None:
                service = self.entries[target]
                category = _code(getattr(service, "category", None), m.COLLABORATION_SYSTEM)
                service_type = _code(getattr(service, "type", None), m.PROCEDURE_SYSTEM)
                if category and collaboration is None:
                    collaboration = (category[0], f"{path}.actor[{j}]")
                if service_type and procedure is None:
                    procedure = (service_type[0], f"{path}.actor[{j}]")
        own_category = _code(schedule.serviceCategory, m.COLLABORATION_SYSTEM)
        own_type = _code(schedule.serviceType, m.PROCEDURE_SYSTEM)
        if own_category:
            collaboration = (own_category[0], f"{path}.serviceCategory[{own_category[1]}]")
        if own_type:
            procedure = (own_type[0], f"{path}.serviceType[{own_type[1]}]")
        missing = [
            FhirIssue(f"{path}.{element}", message, "required")
            for found, element, message in (
                (
                    department,
                    "actor",
                    "names no department: refer to a HealthcareService, Location or Organization "
                    f"with a department id ({m.DEPARTMENT_SYSTEM}) or SOR code ({m.SOR_SYSTEM})",
                ),
                (
                    collaboration,
                    "serviceCategory",
                    f"needs the collaboration: a coding with system {m.COLLABORATION_SYSTEM}",
                ),
                (
                    procedure,
                    "serviceType",
                    f"needs the procedure: a coding with system {m.PROCEDURE_SYSTEM}",
                ),
            )
            if found is None
        ]
        horizon = _horizon(schedule.planningHorizon)
        if horizon is not None and horizon[1] < horizon[0]:
            missing.append(
                FhirIssue(
                    f"{path}.planningHorizon.end",
                    f"the planningHorizon ends ({horizon[1].isoformat()}) before it starts "
                    f"({horizon[0].isoformat()})",
                    "value",
                )
            )
        elif horizon is not None:
            for day, slot_path in slot_days:
                if not horizon[0] <= day <= horizon[1]:
                    missing.append(
                        FhirIssue(
                            slot_path,
                            f"slot on {day.isoformat()} is outside its Schedule's planningHorizon "
                            f"({horizon[0].isoformat()} to {horizon[1].isoformat()})",
                            "business-rule",
                        )
                    )
        if missing:
            self.issues += missing
            return
        assert department and collaboration and procedure
        for day in _declared_days(horizon, free):
            if department[2]:
                out.sor.add(("capacity", len(out.records["capacity"]), "department_id"))
            out.records["capacity"].append(
                {
                    "department_id": department[0],
                    "collaboration": collaboration[0],
                    "procedure": procedure[0],
                    "date": day.isoformat(),
                    "free_slots": str(free.get(day, 0)),
                }
            )
            out.where["capacity"].append(
                {
                    "": path,
                    "department_id": department[1],
                    "collaboration": collaboration[1],
                    "procedure": procedure[1],
                    "date": f"{path}.planningHorizon" if horizon else path,
                    "free_slots": path,
                }
            )

    # -- referrals ---------------------------------------------------------------------------

    def _referrals(self) -> ImportedBundle:
        out = ImportedBundle("referrals", defaultdict(list), defaultdict(list))
        bookings: dict[int, tuple[int, Any]] = {}
        for i, appointment in self._all("Appointment"):
            if appointment.status != "booked":
                continue  # only a booked Appointment is a current booking
            for basis in appointment.basedOn or []:
                target = self._resolve(basis, i)
                if target is not None and self._type(target) == "ServiceRequest":
                    bookings[target] = (i, appointment)
        for i, request in self._all("ServiceRequest"):
            self._referral(out, i, request, bookings.get(i))
        return _finished(out, ("patients",))

    def _referral(
        self, out: ImportedBundle, i: int, request: Any, booking: tuple[int, Any] | None
    ) -> None:
        path = self._path(i)
        issues: list[FhirIssue] = []
        if request.status not in ("active", "on-hold"):
            issues.append(
                FhirIssue(
                    f"{path}.status",
                    f"referral is {request.status!r}: only active or on-hold referrals wait; "
                    "leave the others out",
                    "business-rule",
                )
            )
        subject = self._resolve(request.subject, i)
        if subject is None or self._type(subject) != "Patient":
            issues.append(
                FhirIssue(
                    f"{path}.subject",
                    "does not refer to a Patient in this Bundle (by fullUrl, Patient/id or a "
                    "contained #id)",
                    "not-found",
                )
            )
        collaboration = _code(request.category, m.COLLABORATION_SYSTEM)
        procedure = _code([request.code] if request.code else None, m.PROCEDURE_SYSTEM)
        if collaboration is None:
            issues.append(
                FhirIssue(
                    f"{path}.category",
                    f"needs the collaboration: a coding with system {m.COLLABORATION_SYSTEM}",
                    "required",
                )
            )
        if procedure is None:
            issues.append(
                FhirIssue(
                    f"{path}.code",
                    f"needs the procedure: a coding with system {m.PROCEDURE_SYSTEM}",
                    "required",
                )
            )
        home = None
        for j, performer in enumerate(request.performer or []):
            found = self._referenced_department(performer, i)
            if found is not None:
                home = (found, f"{path}.performer[{j}]")
                break
        if home is None:
            issues.append(
                FhirIssue(
                    f"{path}.performer",
                    "needs the home department: a performer referring to a department by "
                    f"identifier ({m.DEPARTMENT_SYSTEM} or SOR {m.SOR_SYSTEM})",
                    "required",
                )
            )
        status = _extension(request.extension, m.DEADLINE_STATUS_EXTENSION)
        deadline_status = status[0].valueCode if status else None
        if deadline_status is None:
            if request.status == "on-hold":
                issues.append(
                    FhirIssue(
                        f"{path}.extension",
                        "an on-hold referral needs the deadline-status extension "
                        f"({m.DEADLINE_STATUS_EXTENSION}: paused_patient_wish or paused_health)",
                        "required",
                    )
                )
            deadline_status = "active"
        pseudonym = self._pseudonym(subject) if subject is not None else None
        if subject is not None and pseudonym is None:
            issues.append(
                FhirIssue(
                    f"{self._path(subject)}.identifier",
                    f"needs the patient's pseudonym: an identifier with system {m.PATIENT_SYSTEM}",
                    "required",
                )
            )
        home_place = self._home(subject, issues) if subject is not None else None
        if issues:
            self.issues += issues
            return
        assert subject is not None and pseudonym is not None and home is not None
        assert collaboration is not None and procedure is not None and home_place is not None
        region, latitude, longitude = home_place
        period = request.occurrencePeriod
        record: Record = {
            "patient_id": pseudonym[0],
            "collaboration": collaboration[0],
            "procedure": procedure[0],
            "home_region": region[0],
            "home_department_id": home[0][0],
            "latitude": latitude[0],
            "longitude": longitude[0],
            "earliest_date": _date_text(period.start) if period else None,
            "deadline": _date_text(period.end) if period else None,
            "deadline_status": deadline_status,
            "booked_department_id": None,
            "booked_date": None,
            "max_travel_km": None,
            "accepts_private": None,
            "accepts_foreign": None,
        }
        where: Where = {
            "": path,
            "patient_id": pseudonym[1],
            "collaboration": f"{path}.category[{collaboration[1]}]",
            "procedure": f"{path}.code",
            "home_region": region[1],
            "home_department_id": home[1],
            "latitude": latitude[1],
            "longitude": longitude[1],
            "earliest_date": f"{path}.occurrencePeriod.start",
            "deadline": f"{path}.occurrencePeriod.end",
            "deadline_status": f"{path}.extension[{status[1]}].valueCode"
            if status
            else f"{path}.status",
        }
        position = len(out.records["patients"])
        if home[0][2]:
            out.sor.add(("patients", position, "home_department_id"))
        for column, url, value in (
            ("max_travel_km", m.MAX_TRAVEL_EXTENSION, "valueDecimal"),
            ("accepts_private", m.ACCEPTS_PRIVATE_EXTENSION, "valueBoolean"),
            ("accepts_foreign", m.ACCEPTS_FOREIGN_EXTENSION, "valueBoolean"),
            *((column, url, "valueDate") for column, url in m.CLOCK_EXTENSIONS.items()),
        ):
            given = _extension(request.extension, url)
            if given is not None:
                record[column] = _str(getattr(given[0], value))
                where[column] = f"{path}.extension[{given[1]}].{value}"
        if booking is not None:
            j, appointment = booking
            for k, participant in enumerate(appointment.participant or []):
                target = participant.actor
                department = self._referenced_department(target, j) if target else None
                if department is not None:
                    record["booked_department_id"] = department[0]
                    where["booked_department_id"] = f"{self._path(j)}.participant[{k}].actor"
                    if department[2]:
                        out.sor.add(("patients", position, "booked_department_id"))
                    break
            if appointment.start is not None:
                record["booked_date"] = m.local_day(appointment.start).isoformat()
            where["booked_date"] = f"{self._path(j)}.start"
            where.setdefault("booked_department_id", f"{self._path(j)}.participant")
        out.records["patients"].append(record)
        out.where["patients"].append(where)

    def _home(
        self, subject: int, issues: list[FhirIssue]
    ) -> tuple[tuple[str, str], tuple[str, str], tuple[str, str]] | None:
        """The patient's home region, latitude and longitude, each with its FHIRPath; an issue
        naming the missing element for each that is not given."""
        patient = self.entries[subject]
        path = self._path(subject)
        addresses = getattr(patient, "address", None) or []
        found = []
        region = _address_region(addresses, path)
        if region is None:
            where = f"{path}.address[0]" if addresses else f"{path}.address"
            issues.append(
                FhirIssue(
                    where,
                    "needs the patient's home region: Address.state with the region's name, or "
                    f"the dk-core region extension ({m.REGION_EXTENSION}, DK-81 to DK-85)",
                    "required",
                )
            )
        geo = None
        for a, address in enumerate(addresses):
            given = _extension(address.extension, m.GEOLOCATION_EXTENSION)
            if given is not None:
                geo = (given[0], f"{path}.address[{a}].extension[{given[1]}]")
                break
        if geo is None:
            where = f"{path}.address[0].extension" if addresses else f"{path}.address"
            issues.append(
                FhirIssue(
                    where,
                    "needs the patient's home position: an address with HL7's geolocation "
                    f"extension ({m.GEOLOCATION_EXTENSION}) holding latitude and longitude "
                    "(valueDecimal)",
                    "required",
                )
            )
            return None
        for part in ("latitude", "longitude"):
            value = next(
                (
                    (_str(e.valueDecimal), f"{geo[1]}.extension[{k}].valueDecimal")
                    for k, e in enumerate(geo[0].extension or [])
                    if e.url == part
                ),
                None,
            )
            if value is None or value[0] is None:
                issues.append(
                    FhirIssue(
                        value[1] if value is not None else f"{geo[1]}.extension",
                        f"the geolocation extension needs its {part!r} extension with "
                        "valueDecimal (WGS84 degrees)",
                        "required",
                    )
                )
            else:
                found.append((value[0], value[1]))
        if region is None or len(found) != 2:
            return None
        return region, found[0], found[1]

    def _check_patient_identifiers(self, i: int, patient: Any) -> None:
        """A CPR identifier, by system or by a CPR-like value, is refused (never echoed)."""
        for j, identifier in enumerate(patient.identifier or []):
            if identifier.system == m.CPR_SYSTEM:
                self.issues.append(
                    FhirIssue(f"{self._path(i)}.identifier[{j}].system", _CPR_MESSAGE, "security")
                )
            elif identifier.value and looks_like_cpr(identifier.value):
                self.issues.append(
                    FhirIssue(
                        f"{self._path(i)}.identifier[{j}].value",
                        "looks like a Danish CPR number (DDMMYY-XXXX or ten digits); "
                        + _CPR_MESSAGE,
                        "security",
                    )
                )

    def _pseudonym(self, i: int) -> tuple[str, str] | None:
        for j, identifier in enumerate(getattr(self.entries[i], "identifier", None) or []):
            if identifier.system == m.PATIENT_SYSTEM and identifier.value:
                return str(identifier.value), f"{self._path(i)}.identifier[{j}].value"
        return None

    # -- references and departments ----------------------------------------------------------

    def _all(self, kind: str) -> Iterator[tuple[int, Any]]:
        for i, resource in enumerate(self.entries):
            if resource is not None and resource.get_resource_type() == kind:
                yield i, resource

    def _type(self, i: int) -> str | None:
        resource = self.entries[i]
        return resource.get_resource_type() if resource is not None else None

    def _resolve(self, reference: Reference | None, within: int) -> int | None:
        """The resource a literal reference in resource ``within`` points at, else None.

        ``#id`` is a resource contained in the same entry (``#`` the entry itself); others are
        matched by fullUrl, then by their ``Type/id`` (so ``Schedule/s1``,
        ``https://example.org/fhir/Schedule/s1`` and ``Schedule/s1/_history/2`` all find the
        entry with id ``s1``); a version is ignored (the Bundle holds one version).
        """
        if reference is None or not reference.reference:
            return None
        text = str(reference.reference)
        scope = self.scope[within]
        if text.startswith("#"):
            return scope if text == "#" else self.local.get((scope, text[1:]))
        text = _unversioned(text)
        found = self.by_url.get(text)
        if found is not None:
            return found
        tail = _TYPE_ID.search(text)
        return self.by_url.get(f"{tail['type']}/{tail['id']}") if tail else None

    def _department_of(self, i: int | None) -> tuple[str, str, bool] | None:
        """The department (id or SOR code, its FHIRPath, whether it is an SOR code) an
        Organization or Location identifies."""
        if i is None:
            return None
        resource = self.entries[i]
        found = _identified_department(getattr(resource, "identifier", None))
        if found is None:
            return None
        return found[0], f"{self._path(i)}.identifier[{found[1]}].value", found[2]

    def _service_department(self, i: int) -> tuple[str, str, bool] | None:
        """The department offering a HealthcareService: providedBy, else its first location."""
        service = self.entries[i]
        path = self._path(i)
        for element, reference in [
            ("providedBy", getattr(service, "providedBy", None)),
            *(
                (f"location[{k}]", r)
                for k, r in enumerate(getattr(service, "location", None) or [])
            ),
        ]:
            if reference is None:
                continue
            target = self._resolve(reference, i)
            found = (
                self._department_of(target)
                if target is not None
                else _identified_department(reference.identifier)
            )
            if found is not None:
                return found[0], f"{path}.{element}", found[2]
        return None

    def _referenced_department(
        self, reference: Reference, within: int
    ) -> tuple[str, str, bool] | None:
        """The department a reference names: by logical identifier or the resource it points at."""
        target = self._resolve(reference, within)
        if target is not None:
            if self._type(target) == "HealthcareService":
                return self._service_department(target)
            return self._department_of(target)
        found = _identified_department(reference.identifier)
        return (found[0], "", found[2]) if found is not None else None


# -- small readers ----------------------------------------------------------------------------


def _finished(out: ImportedBundle, tables: tuple[str, ...]) -> ImportedBundle:
    """The collected records with every table of the Bundle's kind present (perhaps empty)."""
    return ImportedBundle(
        out.kind,
        {table: out.records.get(table, []) for table in tables},
        {table: out.where.get(table, []) for table in tables},
        out.sor,
    )


_TYPE_ID: Final = re.compile(r"(?:^|/)(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})$")
_HISTORY: Final = re.compile(r"/_history/[^/]+$")
#: A partial FHIR date: ``YYYY`` or ``YYYY-MM``.
_PARTIAL_DATE: Final = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2}))?$")
#: A planningHorizon of at most this many days declares every one of its days.
SHORT_HORIZON_DAYS: Final = 7


def _unversioned(reference: str) -> str:
    """A reference without its ``/_history/n`` version."""
    return _HISTORY.sub("", reference)


def _identified_department(
    identifiers: list[Identifier] | Identifier | None,
) -> tuple[str, int, bool] | None:
    """A department from identifiers: kapacitet's department id first, else an SOR code; with
    the identifier's index and whether it is an SOR code."""
    if identifiers is None:
        return None
    listed = identifiers if isinstance(identifiers, list) else [identifiers]
    for system in (m.DEPARTMENT_SYSTEM, m.SOR_SYSTEM):
        for k, identifier in enumerate(listed):
            if identifier.system == system and identifier.value:
                return str(identifier.value), k, system == m.SOR_SYSTEM
    return None


def _identifier(identifiers: list[Identifier], systems: tuple[str, ...]) -> tuple[str, int] | None:
    """The first identifier value of one of ``systems``, with its index."""
    for k, identifier in enumerate(identifiers):
        if identifier.system in systems and identifier.value:
            return str(identifier.value), k
    return None


def _address_region(addresses: list[Any] | None, path: str) -> tuple[str, str] | None:
    """The region of the first address that gives one, with its FHIRPath: dk-core's region
    extension (ISO 3166-2, ``DK-84``), else ``state`` (a region's name or code), else for a
    foreign provider ``country``. A state kapacitet does not know is passed on as written (the
    contract's validation then says what it expected)."""
    for a, address in enumerate(addresses or []):
        here = f"{path}.address[{a}]"
        given = _extension(address.extension, m.REGION_EXTENSION)
        concept = given[0].valueCodeableConcept if given else None
        for c, coding in enumerate(concept.coding or [] if concept else []):
            name = m.region_name(str(coding.code)) if coding.code else None
            if name is not None:
                assert given is not None
                return name, f"{here}.extension[{given[1]}].valueCodeableConcept.coding[{c}]"
        if given is not None:
            code = (
                next((str(c.code) for c in concept.coding or [] if c.code), None)
                if concept
                else None
            )
            if code is not None:
                return code, f"{here}.extension[{given[1]}].valueCodeableConcept.coding[0]"
        if address.state:
            return m.region_name(str(address.state)) or str(address.state), f"{here}.state"
        if address.country and str(address.country).upper() not in ("DK", "DNK", "DENMARK"):
            return str(address.country), f"{here}.country"
    return None


def _code(concepts: list[CodeableConcept] | None, system: str) -> tuple[str, int] | None:
    """The code of ``system`` in the concepts, with the index of the concept holding it."""
    for k, concept in enumerate(concepts or []):
        for coding in concept.coding or []:
            if coding.system == system and coding.code:
                return str(coding.code), k
    return None


def _extension(extensions: list[Extension] | None, url: str) -> tuple[Extension, int] | None:
    for k, extension in enumerate(extensions or []):
        if extension.url == url:
            return extension, k
    return None


def _horizon(period: Any) -> tuple[dt.date, dt.date] | None:
    """The first and last Danish calendar day a planning horizon touches (None without a
    start). Any R4 precision works: a dateTime, a date, a year-month or a year (``2026-11``
    as the start is 1 November, as the end 30 November); an end at midnight ends the day
    before; without an end the horizon is its start's day (or month, or year)."""
    if period is None or period.start is None:
        return None
    first = _bound(period.start, last=False)
    end = period.end if period.end is not None else period.start
    if isinstance(end, dt.datetime) and period.end is not None:
        start = period.start
        if not isinstance(start, dt.datetime) or end > start:
            end = end - dt.timedelta(microseconds=1)  # an end at midnight ends the day before
    last = _bound(end, last=True)
    if period.end is None or isinstance(period.end, dt.datetime):
        last = max(first, last)
    return first, last


def _bound(value: Any, *, last: bool) -> dt.date:
    """The Danish calendar day a FHIR dateTime (any precision) starts or ends on."""
    if isinstance(value, dt.datetime | dt.date):
        return m.local_day(value)
    found = _PARTIAL_DATE.match(str(value))
    if found is None:
        return dt.date.fromisoformat(str(value)[:10])
    year = int(found["year"])
    if found["month"] is None:
        return dt.date(year, 12, 31) if last else dt.date(year, 1, 1)
    month = int(found["month"])
    return dt.date(year, month, calendar.monthrange(year, month)[1] if last else 1)


def _declared_days(
    horizon: tuple[dt.date, dt.date] | None, free: Mapping[dt.date, int]
) -> list[dt.date]:
    """The days a Schedule declares: every day of a short horizon; of a longer one only the
    days of the ISO weeks holding a free Slot (within the horizon); without one its Slots'."""
    if horizon is None:
        return sorted(free)
    first, last = horizon
    if (last - first).days < SHORT_HORIZON_DAYS:
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    days: set[dt.date] = set()
    for day in free:
        monday = day - dt.timedelta(days=day.weekday())
        days.update(
            d for d in (monday + dt.timedelta(days=n) for n in range(7)) if first <= d <= last
        )
    return sorted(days)


def _date_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return m.local_day(value).isoformat()
    return str(value)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _raw_table(table: str, records: list[Record], known: pd.DataFrame | None) -> RawTable:
    """Records (and known typed rows after them) as the string table a JSON file gives."""
    spec = frames.REQUIRED_COLUMNS[table] | frames.OPTIONAL_COLUMNS[table]
    if table == "departments":
        given = {c for r in records for c, v in r.items() if v is not None}
        if known is not None:
            given |= {c for c in DEPARTMENT_CODES if c in known and known[c].notna().any()}
        spec = spec | {c: t for c, t in DEPARTMENT_CODES.items() if c in given}
    frame = pd.DataFrame.from_records(records, columns=[c for c in spec if c != "deadline_rule"])
    parts = [frame.astype(frames.STR)]
    if known is not None and len(known):
        ours = set(frame["department_id"]) if table == "departments" else set()
        key = ["department_id", "collaboration", "procedure"]
        if table == "services" and len(frame):
            own = pd.MultiIndex.from_frame(frame[key])
            keep = ~pd.MultiIndex.from_frame(known[key].astype(object)).isin(own)
        else:
            keep = ~known["department_id"].isin(ours).to_numpy()
        kept = known.loc[keep, [c for c in frame.columns if c in known.columns]]
        parts.append(pd.DataFrame({name: as_text(kept[name]) for name in kept.columns}))
    text = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return RawTable(table, table, text.reset_index(drop=True))


def _issue(imported: ImportedBundle, problem: Problem) -> FhirIssue:
    """A contract validation problem at the FHIRPath its value came from."""
    position = None
    if isinstance(problem.row, str) and problem.row.startswith("$["):
        position = int(problem.row[2:-1])
    table = problem.file
    code = "business-rule" if "not in departments" in problem.message else "value"
    if problem.column == "patient_id" and "CPR" in problem.message:
        code = "security"
    if position is not None and position >= imported.count(table):
        return FhirIssue("Bundle", f"stored {table}: {problem.message}", "exception")
    message = problem.message
    if message == "empty, but a value is required" and problem.column:
        element = _REQUIRED.get((table, problem.column), problem.column.replace("_", " "))
        message = f"missing {element}: a value is required"
        code = "required"
    return FhirIssue(imported.expression(table, position, problem.column), message, code)


#: What a required contract value is called in FHIR, for "missing ..." messages.
_REQUIRED: Final[dict[tuple[str, str], str]] = {
    ("departments", "region"): "the department's region (Organization.address: the dk-core "
    "region extension or state; a foreign provider's country)",
    ("departments", "latitude"): "the department's latitude (Location.position.latitude)",
    ("departments", "longitude"): "the department's longitude (Location.position.longitude)",
    ("patients", "earliest_date"): "the earliest date (ServiceRequest.occurrencePeriod.start)",
    ("patients", "home_region"): "the patient's home region (Patient.address)",
    ("patients", "latitude"): "the patient's latitude (Patient.address geolocation extension)",
    ("patients", "longitude"): "the patient's longitude (Patient.address geolocation extension)",
}
