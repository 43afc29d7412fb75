"""A region's waiting list: post (validated, upserted), list, read and patch its own patients."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection, Engine

from api import store
from api.problems import ApiProblem
from api.schemas import LoadSummary, PatientPatch, PatientsIn
from api.security import Principal, Role, connection, engine, principal, require
from capacity import frames
from capacity.frames import Dataset
from capacity.rules import load_rules
from capacity.storage import LoadRejected, LoadReport, load_dataset, schema
from capacity.validation import RawTable, validate_tables

router = APIRouter(prefix="/v1/patients", tags=["patients"])

_PATIENT_COLUMNS = [c for c in schema.patients.c if c.name not in ("load_id", "position")]


def visible(who: Principal) -> sa.ColumnElement[bool]:
    """The patients ``who`` may see: a region its own, a chair its collaboration, and so on."""
    p = schema.patients.c
    if who.role is Role.REGION:
        return p.home_region == who.region
    if who.role is Role.COLLABORATION_CHAIR:
        return p.collaboration == who.collaboration
    if who.role is Role.DEPARTMENT:
        return sa.or_(
            p.home_department_id == who.department_id,
            p.booked_department_id == who.department_id,
        )
    return sa.true()


def _plain(row: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row._mapping.items()}


def _text_table(table: str, records: list[dict[str, Any]]) -> RawTable:
    """Records as the string table a JSON file would give the validator, located by ``$[i]``."""
    frame = pd.DataFrame.from_records(records)
    text = {
        str(name): frame[name]
        .map(
            lambda v: ("true" if v else "false") if isinstance(v, bool) else str(v),
            na_action="ignore",
        )
        .astype(frames.STR)
        for name in frame.columns
    }
    return RawTable(table, table, pd.DataFrame(text))


def _stored_table(conn: Connection, table: sa.Table, name: str) -> RawTable:
    columns = [c for c in table.c if c.name not in ("load_id", "position")]
    rows = [dict(row._mapping) for row in conn.execute(sa.select(*columns))]
    if not rows:
        spec = frames.REQUIRED_COLUMNS[name]
        return RawTable(name, name, pd.DataFrame({c: pd.Series(dtype=frames.STR) for c in spec}))
    return _text_table(name, rows)


def validated_records(bound: Engine, table: str, records: list[dict[str, Any]]) -> pd.DataFrame:
    """Posted records of one contract table, validated against the stored departments and
    services exactly as a file would be; 422 problem+json with ``table[i].column`` paths."""
    with bound.begin() as conn:
        tables = {
            "departments": _stored_table(conn, schema.departments, "departments"),
            "services": _stored_table(conn, schema.services, "services"),
            table: _text_table(table, records),
        }
    typed, problems = validate_tables(tables, load_rules())
    errors = [
        {"field": f"{table}{str(p.row).removeprefix('$')}.{p.column}", "message": p.message}
        if p.file == table and p.row is not None and p.column
        else {"field": table, "message": p.message}
        for p in problems
    ]
    if errors:
        raise ApiProblem(
            422, f"{len(errors)} problem(s) in the {table}", kind="validation", errors=errors
        )
    return typed[table]


def store_dataset(bound: Engine, who: Principal, **frames_given: pd.DataFrame) -> LoadReport:
    """Load the given contract frames (the rest empty) in one transaction; 422 if rejected."""
    dataset = Dataset(
        departments=frames_given.get("departments", frames.empty(frames.DEPARTMENTS)),
        services=frames_given.get("services", frames.empty(frames.SERVICES)),
        capacity=frames_given.get("capacity", frames.empty(frames.CAPACITY)),
        patients=frames_given.get("patients", frames.empty(frames.PATIENTS)),
        weekly_caps=frames_given.get("weekly_caps", frames.empty(frames.WEEKLY_CAPS)),
        source=f"api: {who.name}",
    )
    try:
        return load_dataset(bound, dataset)
    except LoadRejected as error:
        raise ApiProblem(422, str(error), kind="validation") from error


@router.post("", response_model=LoadSummary)
def post_patients(
    body: PatientsIn,
    request: Request,
    who: Principal = Depends(require(Role.REGION)),
    bound: Engine = Depends(engine),
) -> LoadSummary:
    """Validate and upsert the region's patients; a missing deadline is computed by the rules."""
    foreign = [
        {"field": f"patients[{i}].home_region", "message": f"not your region ({who.region})"}
        for i, patient in enumerate(body.patients)
        if patient.home_region != who.region
    ]
    if foreign:
        raise ApiProblem(403, "a region may post only its own patients", errors=foreign)
    records = [patient.model_dump(mode="json") for patient in body.patients]
    patients = validated_records(bound, "patients", records)
    report = store_dataset(bound, who, patients=patients)
    summary = LoadSummary(**asdict(report.patients))
    with bound.begin() as conn:
        store.append_audit(
            conn,
            who,
            "POST",
            request.url.path,
            ",".join(r["patient_id"] for r in records)[:200],
            after={"patients": records, "counts": summary.model_dump()},
        )
    return summary


@router.get("")
def list_patients(
    who: Principal = Depends(principal), conn: Connection = Depends(connection, scope="function")
) -> list[dict[str, Any]]:
    """The patients the caller may see, by patient_id."""
    query = sa.select(*_PATIENT_COLUMNS).where(visible(who)).order_by(schema.patients.c.patient_id)
    return [_plain(row) for row in conn.execute(query)]


def _one(conn: Connection, who: Principal, patient_id: str) -> dict[str, Any]:
    """One visible patient; 404 for an unknown one and for one the caller may not see alike."""
    query = sa.select(*_PATIENT_COLUMNS).where(
        schema.patients.c.patient_id == patient_id, visible(who)
    )
    row = conn.execute(query).first()
    if row is None:
        raise ApiProblem(404, f"no patient {patient_id!r} among the patients you may see")
    return _plain(row)


@router.get("/{patient_id}")
def get_patient(
    patient_id: str,
    who: Principal = Depends(principal),
    conn: Connection = Depends(connection, scope="function"),
) -> dict[str, Any]:
    """One patient the caller may see."""
    return _one(conn, who, patient_id)


@router.patch("/{patient_id}")
def patch_patient(
    patient_id: str,
    body: PatientPatch,
    request: Request,
    who: Principal = Depends(require(Role.REGION)),
    conn: Connection = Depends(connection, scope="function"),
) -> dict[str, Any]:
    """Change a few fields of one of the region's patients (e.g. pause its deadline)."""
    # A patch is a load of its own, so the store's data version moves (api.store); it holds
    # the lock a solve's snapshot read can pause (store.writes_paused), taken first.
    store.lock_decisions(conn)
    load_id = store.new_load(conn, f"api patch: {who.name}")
    before = _one(conn, who, patient_id)
    changes = body.model_dump(exclude_unset=True)
    if changes:
        conn.execute(
            schema.patients.update()
            .where(schema.patients.c.patient_id == patient_id)
            .values(**changes, load_id=load_id)
        )
    after = _one(conn, who, patient_id)
    store.append_audit(conn, who, "PATCH", request.url.path, patient_id, before, after)
    return after
