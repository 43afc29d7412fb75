"""A region's waiting list: post (validated, upserted), list, read and patch its own patients.

The writes are :mod:`workflow.patients`' (the one write path for patients); these routes add
the caller's region, the audit entry and the response.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from sqlalchemy import Connection

from api.deps import Bound, Caller, Conn, PatchesPatient, PostsPatients
from api.schemas import FieldProblem, LoadSummary, PatientPatch, PatientsIn
from capacity.errors import NotFound
from capacity.storage import UpsertCounts, schema
from capacity.storage.repository import LoadConflict, LoadReport
from workflow import patients, tables
from workflow.access import Principal

router = APIRouter(prefix="/v1/patients", tags=["patients"])

_PATIENT_COLUMNS = [c for c in schema.patients.c if c.name not in ("load_id", "position")]


def _plain(record: Mapping[Any, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in record.items()}


def load_summary(counts: UpsertCounts, conflicts: tuple[LoadConflict, ...]) -> LoadSummary:
    """A load's counts of one table and its conflicts, as the API reports them."""
    return LoadSummary(**asdict(counts), conflicts=[FieldProblem(**asdict(c)) for c in conflicts])


@router.post("", response_model=LoadSummary)
def post_patients(
    body: PatientsIn,
    request: Request,
    who: PostsPatients,
    bound: Bound,
) -> LoadSummary:
    """Validate and upsert the region's patients; a missing deadline is computed by the rules.

    A region adds patients of its own and changes only those it owns (403 otherwise, nothing
    stored); a booking made by a decision is kept and reported in ``conflicts``.
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

    report = patients.store_patients(
        bound, str(who.region), records, f"api: {who.name}", recorded=audit
    )
    return load_summary(report.patients, report.conflicts)


@router.get("")
def list_patients(who: Caller, conn: Conn) -> list[dict[str, Any]]:
    """The patients the caller may see, by patient_id."""
    query = (
        sa.select(*_PATIENT_COLUMNS)
        .where(tables.visible_patients(who))
        .order_by(schema.patients.c.patient_id)
    )
    return [_plain(row._mapping) for row in conn.execute(query)]


def _one(conn: Connection, who: Principal, patient_id: str) -> dict[str, Any]:
    """One visible patient; 404 for an unknown one and for one the caller may not see alike."""
    query = sa.select(*_PATIENT_COLUMNS).where(
        schema.patients.c.patient_id == patient_id, tables.visible_patients(who)
    )
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(patients.NO_SUCH_PATIENT)
    return _plain(row._mapping)


@router.get("/{patient_id}")
def get_patient(
    patient_id: str,
    who: Caller,
    conn: Conn,
) -> dict[str, Any]:
    """One patient the caller may see."""
    return _one(conn, who, patient_id)


@router.patch("/{patient_id}")
def patch_patient(
    patient_id: str,
    body: PatientPatch,
    request: Request,
    who: PatchesPatient,
    bound: Bound,
) -> dict[str, Any]:
    """Change a few fields of one of the region's patients (e.g. pause its deadline); the
    changed record is validated as a whole (422 naming the field), 404 for another's."""
    changes = body.model_dump(exclude_unset=True)

    def audit(conn: Connection, before: dict[str, Any], after: dict[str, Any]) -> None:
        tables.append_audit(
            conn, who, "PATCH", request.url.path, patient_id, _plain(before), _plain(after)
        )

    patched = patients.patch_patient(
        bound, str(who.region), patient_id, changes, f"api patch: {who.name}", audit=audit
    )
    return _plain(patched.after)
