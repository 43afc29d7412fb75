"""A region's waiting list: post (validated, upserted), list, read and patch its own patients.

The writes are :mod:`workflow.patients`' (the one write path for patients); these routes add
the caller's region, the audit entry and the response. A patient carries a strong ``ETag``
(:mod:`api.conditional`): a ``PATCH`` with a stale ``If-Match`` is 412, a ``GET`` with the
current tag in ``If-None-Match`` 304. A body with problems is answered with all of them at
once (:mod:`api.validation`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection

from api import pagination, validation
from api.conditional import (
    CONDITIONAL_READ,
    ETAG_HEADER,
    IfMatch,
    IfNoneMatch,
    check_if_match,
    etag_of,
)
from api.conditional import not_modified as not_modified_response
from api.deps import Bound, Caller, Conn, PatchesPatient, PostsPatients
from api.pagination import Paged
from api.schemas import FieldProblem, LoadSummary, PatientPatch, PatientsIn
from capacity.errors import Forbidden, Invalid, NotFound
from capacity.storage import UpsertCounts, schema
from capacity.storage.repository import LoadConflict, LoadReport
from workflow import patients, tables
from workflow.access import Principal

router = APIRouter(prefix="/v1/patients", tags=["patients"])

_PATIENT_COLUMNS = [c for c in schema.patients.c if c.name not in ("load_id", "position")]


def _plain(record: Mapping[Any, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in record.items()}


def patient_etag(record: Mapping[str, Any]) -> str:
    """The strong ETag of a stored patient: a hash of the record as the API returns it."""
    return etag_of("p", _plain(record))


def load_summary(counts: UpsertCounts, conflicts: tuple[LoadConflict, ...]) -> LoadSummary:
    """A load's counts of one table and its conflicts, as the API reports them."""
    return LoadSummary(**asdict(counts), conflicts=[FieldProblem(**asdict(c)) for c in conflicts])


@router.post("", response_model=LoadSummary)
@validation.body_checks(validation.patients_problems)
def post_patients(
    body: PatientsIn,
    request: Request,
    who: PostsPatients,
    bound: Bound,
) -> LoadSummary:
    """Validate and upsert the region's patients; a missing deadline is computed by the rules.

    Every problem of the body comes back at once (422, each at its path, with a did-you-mean
    for vocabulary such as ``home_region``), another region's patients among them. A body
    whose only problem is another region's ``home_region`` is 403 with those fields; a valid
    one holding a pseudonym another region owns is 403 (nothing stored, nothing of it
    shown). A booking made by a decision is kept and reported in ``conflicts``.
    """
    records = [patient.model_dump() for patient in body.patients]

    def audit(conn: Connection, report: LoadReport) -> None:
        tables.append_audit(
            conn,
            who,
            "POST",
            request.url.path,
            ",".join(r["patient_id"] for r in records)[:200],
            after={
                "patients": [patient.model_dump(mode="json") for patient in body.patients],
                "counts": load_summary(report.patients, report.conflicts).model_dump(),
            },
        )

    try:
        report = patients.store_patients(
            bound, str(who.region), records, f"api: {who.name}", recorded=audit
        )
    except Forbidden as refused:
        # another region's patients: if the body is invalid anyway, say everything (422)
        scope = validation.region_problems(who.region, records)
        if not scope:
            raise  # a pseudonym another region holds: the fixed 403, nothing else
        checked = validation.contract_problems(request, "patients", records)
        error = validation.refusal(checked, scope, refused.message)
        raise (error or refused) from None
    return load_summary(report.patients, report.conflicts)


@router.get("", responses=pagination.paged())
def list_patients(
    request: Request, response: Response, who: Caller, conn: Conn, page: Paged
) -> list[dict[str, Any]]:
    """The patients the caller may see, by patient_id (paged: ``limit``, ``cursor``)."""
    after = page.after_str()
    p = schema.patients.c
    query = sa.select(*_PATIENT_COLUMNS).where(tables.visible_patients(who))
    if after is not None:
        query = query.where(p.patient_id > after)
    query = query.order_by(p.patient_id).limit(page.limit + 1)
    found = [_plain(row._mapping) for row in conn.execute(query)]
    return pagination.finish(request, response, page, found, lambda r: (r["patient_id"],))


def _one(conn: Connection, who: Principal, patient_id: str) -> dict[str, Any]:
    """One visible patient; 404 for an unknown one and for one the caller may not see alike."""
    query = sa.select(*_PATIENT_COLUMNS).where(
        schema.patients.c.patient_id == patient_id, tables.visible_patients(who)
    )
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(patients.NO_SUCH_PATIENT)
    return _plain(row._mapping)


@router.get("/{patient_id}", responses=CONDITIONAL_READ)
def get_patient(
    patient_id: str,
    request: Request,
    response: Response,
    who: Caller,
    conn: Conn,
    if_none_match: IfNoneMatch = None,
) -> Any:
    """One patient the caller may see, with its ``ETag`` (304 for a matching
    ``If-None-Match``)."""
    record = _one(conn, who, patient_id)
    etag = patient_etag(record)
    unchanged = not_modified_response(request, etag)
    if unchanged is not None:
        return unchanged
    response.headers["ETag"] = etag
    return record


@router.patch(
    "/{patient_id}",
    responses={200: {"description": "The patient as stored now", "headers": ETAG_HEADER}},
)
@validation.body_checks(validation.patch_problems)
def patch_patient(
    patient_id: str,
    body: PatientPatch,
    request: Request,
    response: Response,
    who: PatchesPatient,
    bound: Bound,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Change a few fields of one of the region's patients (e.g. pause its deadline); the
    changed record is validated as a whole (422 naming every field at once, the schema's
    problems with the record's), 404 for another's.

    With ``If-Match`` (the ETag of a GET) the change is made only if the patient is still as
    read: 412 otherwise, checked after the body and inside the change's transaction. The
    response carries the new ETag.
    """
    changes = body.model_dump(exclude_unset=True)
    etags: dict[str, str] = {}

    def audit(conn: Connection, before: dict[str, Any], after: dict[str, Any]) -> None:
        check_if_match(if_match, patient_etag(before), "the patient")
        etags["after"] = patient_etag(after)
        tables.append_audit(
            conn, who, "PATCH", request.url.path, patient_id, _plain(before), _plain(after)
        )

    try:
        patched = patients.patch_patient(
            bound, str(who.region), patient_id, changes, f"api patch: {who.name}", audit=audit
        )
    except Invalid as invalid:  # at the body's paths (deadline), not the record's
        fields = validation.record_fields(invalid.errors or [])
        raise Invalid(invalid.message, errors=fields) from None
    response.headers["ETag"] = etags.get("after") or patient_etag(patched.after)
    return _plain(patched.after)
