"""HL7 FHIR R4 exchange: Bundles in (capacity, referrals), Appointments out (proposals).

``POST /v1/fhir`` takes a capacity Bundle (a department's Schedules and free Slots) or a referral
Bundle (a region's ServiceRequests and Patients), checks it with fhir.resources and then exactly
as the JSON routes check posted records (the same helpers), and answers an OperationOutcome: its
issues point at the FHIRPath of each problem. ``GET /v1/fhir/Appointment?run=ID`` returns the
run's proposals the caller may see as a searchset Bundle of Appointments. ``GET /v1/fhir/metadata``
is the CapabilityStatement, ``GET /v1/fhir/CodeSystem/{id}`` and ``/StructureDefinition/{id}``
kapacitet's own definitions (these three need no token: they describe the interface only).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import pandas as pd
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fhir.resources.R4B.operationoutcome import OperationOutcomeIssue
from fhir.resources.R4B.resource import Resource
from sqlalchemy import Connection, Engine, select

from api.deps import Bound, Caller, Conn, ImportsFhir
from api.problems import RESPONSES, domain_status
from api.schemas import MAX_ROW_ID
from capacity.errors import KapacitetError
from capacity.pseudonym import redact
from capacity.storage import schema
from capacity.storage.repository import LoadReport, Recorded
from interop.fhir.definitions import capability_statement, definition
from interop.fhir.imports import ImportedBundle, read_bundle, resolve_sor_codes
from interop.fhir.mapping import FHIR_JSON
from interop.fhir.outcome import BundleRejected, FhirIssue, information, operation_outcome
from interop.fhir.runs import run_appointments
from workflow import tables
from workflow.access import Principal, Role
from workflow.capacity import declare_capacity
from workflow.patients import store_patients

router = APIRouter(prefix="/v1/fhir", tags=["fhir"])

_OUTCOME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {"resourceType": {"const": "OperationOutcome"}, "issue": {"type": "array"}},
}
_BUNDLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType", "type"],
    "properties": {
        "resourceType": {"const": "Bundle"},
        "type": {"type": "string"},
        "entry": {"type": "array", "items": {"type": "object"}},
    },
}


def _fhir(
    description: str, schema: dict[str, Any] | None = None, problem: bool = False
) -> dict[str, Any]:
    """An OpenAPI response in FHIR JSON (an OperationOutcome unless ``schema`` says otherwise);
    ``problem``: the role check may answer it as problem+json too."""
    content: dict[str, Any] = {FHIR_JSON: {"schema": schema or _OUTCOME_SCHEMA}}
    if problem:
        content |= RESPONSES["4XX"]["content"]
    return {"description": description, "content": content}


_FIELD = re.compile(r"^(?P<table>\w+)\[(?P<row>\d+)\]\.(?P<column>\w+)$")
_ACCEPTED_TYPES = ("application/fhir+json", "application/json")


def fhir_response(resource: Resource, status_code: int = 200) -> Response:
    """The resource as an ``application/fhir+json`` response."""
    return Response(
        resource.model_dump_json(exclude_none=True), status_code=status_code, media_type=FHIR_JSON
    )


def outcome_response(status_code: int, issues: Sequence[FhirIssue]) -> Response:
    """An OperationOutcome listing ``issues`` (each with its FHIRPath) with ``status_code``."""
    return fhir_response(operation_outcome(issues), status_code)


@router.post(
    "",
    response_class=Response,
    responses={
        200: _fhir("stored: an informational OperationOutcome saying what changed"),
        403: _fhir("not the caller's department or region (issues at each element)", problem=True),
        415: _fhir("not application/fhir+json"),
        422: _fhir("an invalid Bundle: an OperationOutcome with an issue per problem"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {FHIR_JSON: {"schema": _BUNDLE_SCHEMA}},
        }
    },
)
async def post_bundle(
    request: Request,
    who: ImportsFhir,
    bound: Bound,
) -> Response:
    """Import a capacity Bundle (departments: their own Slots) or a referral Bundle (regions:
    their own patients); every problem comes back in an OperationOutcome at its FHIRPath."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _ACCEPTED_TYPES:
        return outcome_response(
            415,
            [
                FhirIssue(
                    "Bundle",
                    f"content type {media or 'none'!r}: send the Bundle as {FHIR_JSON}",
                    "not-supported",
                )
            ],
        )
    body = await request.body()
    return await run_in_threadpool(_import, body, who, bound, request.url.path)


def _import(body: bytes, who: Principal, bound: Engine, path: str) -> Response:
    try:
        imported = read_bundle(body)
    except BundleRejected as rejected:
        return outcome_response(422, rejected.issues)
    forbidden = _not_yours(imported, who)
    if forbidden:
        return outcome_response(403, forbidden)
    try:
        imported = resolve_sor_codes(imported, _stored_departments(bound))
    except BundleRejected as rejected:
        return outcome_response(422, rejected.issues)
    table = "capacity" if imported.kind == "capacity" else "patients"
    records = imported.records[table]
    if not records:
        return outcome_response(
            422, [FhirIssue("Bundle.entry", f"holds no {table} rows to import", "required")]
        )

    def counts_of(report: LoadReport) -> dict[str, int]:
        return asdict(report.declarations if table == "capacity" else report.patients)

    def audit(conn: Connection, report: LoadReport) -> None:
        tables.append_audit(
            conn,
            who,
            "POST",
            path,
            str(who.department_id if table == "capacity" else who.region),
            after={
                "fhir": imported.kind,
                table: records,
                "counts": counts_of(report),
                "conflicts": [asdict(conflict) for conflict in report.conflicts],
            },
        )

    try:
        report = _store(bound, who, table, records, audit)
    except KapacitetError as error:
        return outcome_response(domain_status(error), _issues(imported, table, error))
    counts = counts_of(report)
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    what = "capacity rows" if table == "capacity" else "patients"
    kind = "capacity declarations" if table == "capacity" else "patients"
    stored = information(f"stored {len(records)} {what} from the Bundle; {kind}: {summary}")
    for conflict in report.conflicts:
        stored.issue.append(_kept(imported, conflict.field, conflict.message))
    return fhir_response(stored)


def _store(
    bound: Engine, who: Principal, table: str, records: list[Any], recorded: Recorded
) -> LoadReport:
    """The Bundle's records stored through the one write path of their kind (audited by
    ``recorded`` in the same transaction). Capacity is a partial declaration: only the
    (service, day) cells the Bundle gives change."""
    source = f"api: {who.name}"
    if table == "capacity":
        return declare_capacity(
            bound, who.department_id, source, capacity=records, recorded=recorded, partial=True
        )
    return store_patients(bound, str(who.region), records, source, recorded=recorded)


def _stored_departments(bound: Engine) -> pd.DataFrame:
    """The stored departments' ids and SOR codes (what an SOR code in a Bundle is looked up in)."""
    d = schema.departments.c
    with bound.connect() as connection:
        rows = connection.execute(select(d.department_id, d.sor_code)).all()
    return pd.DataFrame(rows, columns=["department_id", "sor_code"])


def _not_yours(imported: ImportedBundle, who: Principal) -> list[FhirIssue]:
    """403 issues: capacity only from a department, referrals only from a region (which rows
    are theirs the write path checks)."""
    if imported.kind == "capacity":
        if who.role is not Role.DEPARTMENT:
            return [FhirIssue("Bundle", "only a department may declare capacity", "forbidden")]
    elif who.role is not Role.REGION:
        return [FhirIssue("Bundle", "only a region may send referrals", "forbidden")]
    return []


def _issues(imported: ImportedBundle, table: str, error: KapacitetError) -> list[FhirIssue]:
    """The write path's field errors (``capacity[3].date``) at the FHIRPath of each value."""
    if not error.errors:
        return [FhirIssue("Bundle", error.message, "business-rule")]
    code = "forbidden" if domain_status(error) == 403 else None
    issues = []
    for found_error in error.errors:
        found = _FIELD.match(str(found_error.get("field", "")))
        message = str(found_error["message"])
        if found is None or found["table"] != table:
            issues.append(FhirIssue("Bundle", message, code or "business-rule"))
            continue
        where = imported.expression(table, int(found["row"]), found["column"])
        issues.append(FhirIssue(where, message, code or _value_code(message)))
    return issues


def _value_code(message: str) -> str:
    return "security" if "CPR" in message else "value"


def _kept(imported: ImportedBundle, field: str, message: str) -> OperationOutcomeIssue:
    """A warning issue for a loaded value the store kept as it was (a decided booking)."""
    found = _FIELD.match(field)
    where = (
        imported.expression(found["table"], int(found["row"]), found["column"])
        if found is not None
        else "Bundle"
    )
    return OperationOutcomeIssue(
        severity="warning", code="conflict", diagnostics=message, expression=[where]
    )


@router.get(
    "/Appointment",
    response_class=Response,
    responses={
        200: _fhir("a searchset Bundle of Appointments (and AppointmentResponses)", _BUNDLE_SCHEMA),
        400: _fhir("no run given"),
        404: _fhir("no such solve run"),
    },
)
def search_appointments(
    who: Caller,
    conn: Conn,
    run: int | None = Query(default=None, ge=1, le=MAX_ROW_ID),
) -> Response:
    """The run's proposals the caller may see, as Appointments (``proposed``, or ``booked`` /
    ``cancelled`` with an AppointmentResponse once decided), in a searchset Bundle."""
    if run is None:
        return outcome_response(
            400, [FhirIssue("Appointment", "give the solve run: ?run=ID", "required")]
        )
    try:
        bundle = run_appointments(conn, who, run)
    except KapacitetError as problem:
        return outcome_response(
            domain_status(problem), [FhirIssue("Appointment", problem.message, "not-found")]
        )
    return fhir_response(bundle)


@router.get(
    "/metadata",
    response_class=Response,
    responses={200: _fhir("the CapabilityStatement", {"type": "object"})},
)
def metadata(request: Request) -> Response:
    """The CapabilityStatement: which resources kapacitet reads and writes, how, and its
    extensions and code systems (no token needed)."""
    base = str(request.url).removesuffix("/metadata").split("?")[0]
    return fhir_response(capability_statement(base))


@router.get(
    "/CodeSystem/{resource_id}",
    response_class=Response,
    responses={200: _fhir("the CodeSystem", {"type": "object"}), 404: _fhir("no such CodeSystem")},
)
def read_code_system(resource_id: str) -> Response:
    """One of kapacitet's code systems (collaboration, procedure, provider-type,
    deadline-status), no token needed."""
    return _definition("CodeSystem", resource_id)


@router.get(
    "/StructureDefinition/{resource_id}",
    response_class=Response,
    responses={
        200: _fhir("the StructureDefinition", {"type": "object"}),
        404: _fhir("no such StructureDefinition"),
    },
)
def read_structure_definition(resource_id: str) -> Response:
    """The definition of one of kapacitet's extensions (e.g. deadline-status), no token
    needed."""
    return _definition("StructureDefinition", resource_id)


def _definition(kind: str, resource_id: str) -> Response:
    found = definition(kind, resource_id)
    if found is None:
        named = redact(resource_id[:64])
        issue = FhirIssue(kind, f"kapacitet defines no {kind} {named!r}", "not-found")
        return outcome_response(404, [issue])
    return fhir_response(found)
