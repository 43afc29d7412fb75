"""HL7 FHIR R4 exchange: Bundles in (capacity, referrals), Appointments out (proposals).

``POST /v1/fhir`` takes a capacity Bundle (a department's Schedules and free Slots) or a referral
Bundle (a region's ServiceRequests and Patients), checks it with fhir.resources and then exactly
as the JSON routes check posted records (the same helpers), and answers an OperationOutcome: its
issues point at the FHIRPath of each problem. ``GET /v1/fhir/Appointment?run=ID`` returns the
run's proposals the caller may see as a searchset Bundle of Appointments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from sqlalchemy import Connection, Engine

from api import runs, store
from api.problems import RESPONSES, ApiProblem
from api.routers.patients import store_dataset, validated_records
from api.security import Principal, Role, connection, engine, principal, require
from interop.fhir.exports import appointments_bundle
from interop.fhir.imports import ImportedBundle, read_bundle
from interop.fhir.mapping import FHIR_JSON
from interop.fhir.outcome import BundleRejected, FhirIssue, information, operation_outcome

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
    who: Principal = Depends(require(Role.DEPARTMENT, Role.REGION)),
    bound: Engine = Depends(engine),
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
    table = "capacity" if imported.kind == "capacity" else "patients"
    records = imported.records[table]
    if not records:
        return outcome_response(
            422, [FhirIssue("Bundle.entry", f"holds no {table} rows to import", "required")]
        )
    try:
        typed = validated_records(bound, table, records)
        report = store_dataset(bound, who, **{table: typed})
    except ApiProblem as problem:
        return outcome_response(problem.status, _issues(imported, table, problem))
    counts = asdict(report.declarations if table == "capacity" else report.patients)
    with bound.begin() as conn:
        store.append_audit(
            conn,
            who,
            "POST",
            path,
            str(who.department_id if table == "capacity" else who.region),
            after={"fhir": imported.kind, table: records, "counts": counts},
        )
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    what = "capacity rows" if table == "capacity" else "patients"
    kind = "capacity declarations" if table == "capacity" else "patients"
    return fhir_response(
        information(f"stored {len(records)} {what} from the Bundle; {kind}: {summary}")
    )


def _not_yours(imported: ImportedBundle, who: Principal) -> list[FhirIssue]:
    """403 issues: capacity only from its department, referrals only from their region."""
    if imported.kind == "capacity":
        if who.role is not Role.DEPARTMENT:
            return [FhirIssue("Bundle", "only a department may declare capacity", "forbidden")]
        column, own, what = "department_id", who.department_id, "not your department"
        table = "capacity"
    else:
        if who.role is not Role.REGION:
            return [FhirIssue("Bundle", "only a region may send referrals", "forbidden")]
        column, own, what = "home_region", who.region, f"not your region ({who.region})"
        table = "patients"
    return [
        FhirIssue(imported.expression(table, i, column), what, "forbidden")
        for i, record in enumerate(imported.records[table])
        if record[column] != own
    ]


def _issues(imported: ImportedBundle, table: str, problem: ApiProblem) -> list[FhirIssue]:
    """The JSON route's field errors (``capacity[3].date``) at the FHIRPath of each value."""
    if not problem.errors:
        return [FhirIssue("Bundle", problem.detail, "business-rule")]
    issues = []
    for error in problem.errors:
        found = _FIELD.match(str(error.get("field", "")))
        if found is None or found["table"] != table:
            issues.append(FhirIssue("Bundle", str(error["message"]), "business-rule"))
            continue
        where = imported.expression(table, int(found["row"]), found["column"])
        code = "security" if "CPR" in str(error["message"]) else "value"
        issues.append(FhirIssue(where, str(error["message"]), code))
    return issues


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
    run: int | None = None,
    who: Principal = Depends(principal),
    conn: Connection = Depends(connection, scope="function"),
) -> Response:
    """The run's proposals the caller may see, as Appointments (``proposed``, or ``booked`` /
    ``cancelled`` with an AppointmentResponse once decided), in a searchset Bundle."""
    if run is None:
        return outcome_response(
            400, [FhirIssue("Appointment", "give the solve run: ?run=ID", "required")]
        )
    try:
        bundle = run_appointments(conn, who, run)
    except ApiProblem as problem:
        return outcome_response(
            problem.status, [FhirIssue("Appointment", problem.detail, "not-found")]
        )
    return fhir_response(bundle)


def run_appointments(conn: Connection, who: Principal, run_id: int) -> Bundle:
    """The run's visible proposals, with their latest decisions, as a Bundle of Appointments."""
    proposals = runs.visible_proposals(conn, who, run_id)
    return appointments_bundle(run_id, proposals, latest_decisions(conn, run_id))


def latest_decisions(conn: Connection, run_id: int) -> dict[str, dict[str, Any]]:
    """Per patient of the run, the decision that stands: the last accept/reject, else a hold."""
    d = store.decisions.c
    rows = conn.execute(
        sa.select(d.patient_id, d.decision, d.reason)
        .where(d.run_id == run_id)
        .order_by(d.decided_at, d.decision_id)
    )
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        standing = latest.get(row.patient_id)
        if standing is None or standing["decision"] == "hold" or row.decision != "hold":
            latest[row.patient_id] = {"decision": row.decision, "reason": row.reason}
    return latest
