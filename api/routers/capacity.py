"""A department's capacity declarations: post its free slots (versioned per ISO week), read its
current declaration (with an ``ETag``: a post with a stale ``If-Match`` is 412), history."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
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
from api.deps import Bound, Caller, Conn, DeclaresCapacity
from api.pagination import Paged
from api.schemas import CapacityRecord, UpsertSummary, WeeklyCapRecord
from capacity.errors import Forbidden, NotFound
from capacity.storage import declaration_history, schema
from capacity.storage.repository import LoadReport
from workflow import tables
from workflow.capacity import declare_capacity

router = APIRouter(prefix="/v1/capacity", tags=["capacity"])

__all__ = ["CapacityRecord", "WeeklyCapRecord", "router"]


class CapacityIn(BaseModel):
    """A department's declaration: every service-day of the weeks it covers, and weekly caps.

    Each ISO week the rows touch is declared anew: it supersedes the department's previous
    declaration of that week (history kept). Posting the same rows again changes nothing.
    ``weekly_caps`` (optional) cap the placements at a service in a week across its days;
    a cap replaces the stored cap of the same department, service and week.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "capacity": [
                        {
                            "department_id": "H42-11",
                            "collaboration": "breast",
                            "procedure": "radiotherapy",
                            "date": "2026-11-24",
                            "free_slots": 2,
                        }
                    ],
                    "weekly_caps": [
                        {
                            "department_id": "H42-11",
                            "collaboration": "breast",
                            "procedure": "radiotherapy",
                            "week": "2026-W48",
                            "max_slots": 8,
                        }
                    ],
                }
            ]
        },
    )

    capacity: list[CapacityRecord] = Field(default=[], max_length=100_000)
    weekly_caps: list[WeeklyCapRecord] = Field(default=[], max_length=10_000)

    @model_validator(mode="after")
    def _something(self) -> CapacityIn:
        if not self.capacity and not self.weekly_caps:
            raise ValueError("declare capacity rows, weekly caps or both")
        return self


class DeclarationSummary(BaseModel):
    """What a declaration changed, per department and ISO week (and in weekly caps, if any)."""

    new: int
    superseded: int
    unchanged: int
    weekly_caps: UpsertSummary | None = None


def _current_versions(
    conn: Connection, department_id: str, without_load: int | None = None
) -> list[sa.Row[Any]]:
    """The department's current declaration version of each ISO week (the newest), as it
    was before load ``without_load`` when one is named."""
    d = schema.capacity_declarations
    newer = d.alias("newer")
    query = sa.select(d.c.declaration_id, d.c.week, d.c.version, d.c.load_id).where(
        d.c.department_id == department_id,
        ~sa.exists().where(
            newer.c.department_id == d.c.department_id,
            newer.c.week == d.c.week,
            newer.c.version > d.c.version,
            *([newer.c.load_id != without_load] if without_load is not None else []),
        ),
    )
    if without_load is not None:
        query = query.where(d.c.load_id != without_load)
    return list(conn.execute(query.order_by(d.c.week)))


def declaration_etag(versions: list[sa.Row[Any]]) -> str:
    """The strong ETag of a department's current declaration: its versions' ids."""
    return etag_of("c", sorted(int(v.declaration_id) for v in versions))


@router.post(
    "",
    response_model=DeclarationSummary,
    response_model_exclude_none=True,
    responses={200: {"description": "What the declaration changed", "headers": ETAG_HEADER}},
)
@validation.body_checks(validation.capacity_problems)
def post_capacity(
    body: CapacityIn,
    request: Request,
    response: Response,
    who: DeclaresCapacity,
    bound: Bound,
    if_match: IfMatch = None,
) -> DeclarationSummary:
    """Declare the department's free slots (versioned per department and ISO week) and its
    weekly caps; 403 for another department's rows, 422 naming every field for invalid ones.

    With ``If-Match`` (the ETag of ``GET /v1/capacity/current/{department_id}``) the
    declaration is stored only if the department's current declaration is still that one:
    412 otherwise, checked after the body, inside the write's transaction. The response
    carries the new ETag.
    """
    records = [row.model_dump(mode="json") for row in body.capacity]
    caps = [row.model_dump(mode="json") for row in body.weekly_caps]
    etags: dict[str, str] = {}

    def summary_of(report: LoadReport) -> DeclarationSummary:
        return DeclarationSummary(
            **asdict(report.declarations),
            weekly_caps=UpsertSummary(**asdict(report.weekly_caps)) if caps else None,
        )

    def audit(conn: Connection, report: LoadReport) -> None:
        department = str(who.department_id)
        before = _current_versions(conn, department, without_load=report.load_id)
        check_if_match(if_match, declaration_etag(before), "the department's declaration")
        etags["after"] = declaration_etag(_current_versions(conn, department))
        tables.append_audit(
            conn,
            who,
            "POST",
            request.url.path,
            department,
            after={
                "capacity": records,
                "weekly_caps": caps,
                "declarations": summary_of(report).model_dump(exclude_none=True),
            },
        )

    try:
        report = declare_capacity(
            bound,
            who.department_id,
            f"api: {who.name}",
            capacity=records,
            weekly_caps=caps,
            recorded=audit,
        )
    except Forbidden as refused:
        # another department's rows: if the body is invalid anyway, say everything (422)
        given = {"capacity": records, "weekly_caps": caps}
        checked = [
            problem
            for table, rows in given.items()
            for problem in validation.contract_problems(request, table, rows)
        ]
        scope = validation.department_problems(who.department_id, given)
        error = validation.refusal(checked, scope, refused.message)
        raise (error or refused) from None
    response.headers["ETag"] = etags["after"]
    return summary_of(report)


class CurrentDeclaration(BaseModel):
    """One ISO week's current declaration version of a department."""

    week: str
    version: int
    loaded_at: dt.datetime


class DepartmentCapacity(BaseModel):
    """A department's current capacity declaration: the version of each ISO week it declared
    and their rows (as ``POST /v1/capacity`` takes them), by date; its ETag in the header."""

    department_id: str
    declarations: list[CurrentDeclaration]
    capacity: list[CapacityRecord]


@router.get(
    "/current/{department_id}",
    response_model=DepartmentCapacity,
    responses=CONDITIONAL_READ,
)
def current_capacity(
    department_id: str,
    request: Request,
    response: Response,
    who: Caller,
    conn: Conn,
    if_none_match: IfNoneMatch = None,
) -> Any:
    """The department's current declaration, every week it declared, with its ``ETag`` (send
    it as ``If-Match`` with the next ``POST /v1/capacity``; 304 for a matching
    ``If-None-Match``). Any role may read it: declared free capacity is shared."""
    del who  # any valid token
    known = conn.execute(
        sa.select(schema.departments.c.department_id).where(
            schema.departments.c.department_id == department_id
        )
    ).first()
    if known is None:
        raise NotFound("no such department; see GET /v1/departments")
    versions = _current_versions(conn, department_id)
    etag = declaration_etag(versions)
    unchanged = not_modified_response(request, etag)
    if unchanged is not None:
        return unchanged
    loads = schema.loads.c
    loaded = dict(
        conn.execute(
            sa.select(loads.load_id, loads.loaded_at).where(
                loads.load_id.in_({v.load_id for v in versions})
            )
        ).all()
    )
    c = schema.capacity.c
    rows = conn.execute(
        sa.select(c.department_id, c.collaboration, c.procedure, c.date, c.free_slots)
        .where(c.declaration_id.in_([v.declaration_id for v in versions]))
        .order_by(c.date, c.collaboration, c.procedure)
    ).all()
    response.headers["ETag"] = etag
    return DepartmentCapacity(
        department_id=department_id,
        declarations=[
            CurrentDeclaration(week=v.week, version=v.version, loaded_at=loaded[v.load_id])
            for v in versions
        ],
        capacity=[CapacityRecord.model_validate(row._mapping) for row in rows],
    )


_HISTORY_RESPONSES = pagination.paged()
_HISTORY_RESPONSES[200]["headers"] = {**pagination.PAGE_HEADERS, **ETAG_HEADER}


@router.get("/history", responses=_HISTORY_RESPONSES)
def capacity_history(
    request: Request,
    response: Response,
    who: Caller,
    bound: Bound,
    page: Paged,
    department_id: str | None = None,
) -> list[dict[str, Any]]:
    """Every declaration version, oldest first per department and week (paged), any role
    may read. With ``department_id``, the response carries the ETag of the department's
    current declaration (as ``GET /v1/capacity/current/{department_id}`` does)."""
    del who  # any valid token: declared free capacity is shared across regions
    if department_id is not None:
        with bound.connect() as conn:
            response.headers["ETag"] = declaration_etag(_current_versions(conn, department_id))
    history = declaration_history(bound, department_id=department_id)
    history = history.astype(object).where(history.notna(), None)
    versions = [
        {
            str(k): (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
            for k, v in r.items()
        }
        for r in history.to_dict(orient="records")
    ]
    return pagination.in_memory(
        request,
        response,
        page,
        versions,
        lambda v: (str(v["department_id"]), str(v["week"]), int(v["version"])),
        (str, str, int),
    )
