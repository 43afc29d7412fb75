"""A department's capacity declaration as an Excel workbook over the API: download the
department's template, upload a filled one (issue 15.2). Both are the department's own: the
template names its services and weeks; an upload is stored as a partial declaration (the cells
filled in), every problem named at its ``sheet!cell``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import Response as RawResponse
from sqlalchemy import Connection

from api.deps import Bound, DeclaresCapacity
from capacity.errors import Invalid
from capacity.storage.repository import LoadReport
from interop.capacity_workbook import MAX_BYTES, parse_weeks, read_template, template_bytes
from workflow import tables
from workflow.capacity import declare_capacity

router = APIRouter(prefix="/v1/capacity", tags=["capacity"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Also accepted for an upload: what many HTTP clients send for a file.
BINARY = "application/octet-stream"


@router.get(
    "/template.xlsx",
    response_class=RawResponse,
    responses={200: {"content": {XLSX: {}}, "description": "the department's template"}},
)
def capacity_template(
    who: DeclaresCapacity,
    bound: Bound,
    weeks: Annotated[
        str,
        Query(
            max_length=200,
            description="ISO weeks: 2026-W49, a range 2026-W49..2026-W52 or a comma list",
            examples=["2026-W49..2026-W52"],
        ),
    ],
    lang: Annotated[str, Query(pattern="^(da|en)$")] = "da",
) -> Response:
    """The department's Excel template for ``weeks``: a sheet per week, a row per day, a column
    per service, pre-filled with the current declaration (else the week before's)."""
    department = str(who.department_id)
    chosen = parse_weeks(weeks)
    with bound.connect() as conn:
        data = template_bytes(conn, department, chosen, lang)
    name = f"kapacitet-{department}-{chosen[0]}-{chosen[-1]}.xlsx"
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/workbook",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                XLSX: {"schema": {"type": "string", "format": "binary"}},
                BINARY: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def post_capacity_workbook(
    request: Request, who: DeclaresCapacity, bound: Bound
) -> dict[str, object]:
    """Store a filled template: the cells filled in become a new declaration version of each
    week they change (empty cells stay as they are). The body is the .xlsx file itself
    (``Content-Type`` the spreadsheet type or ``application/octet-stream``). 422 naming every
    bad cell (``2026-W49!C4``); 403 for another department's template."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind not in (XLSX, BINARY):
        raise Invalid(
            f"send the workbook as {XLSX}",
            errors=[{"field": "Content-Type", "message": f"expected {XLSX}"}],
        )
    data = await request.body()
    if len(data) > MAX_BYTES:
        raise Invalid(
            "the workbook is too large", errors=[{"field": "body", "message": "too large"}]
        )
    filled = read_template(data, "workbook")

    def audit(conn: Connection, report: LoadReport) -> None:
        tables.append_audit(
            conn,
            who,
            "POST",
            request.url.path,
            str(who.department_id),
            after={"workbook_cells": len(filled.rows), "weeks": list(filled.weeks)},
        )

    report = declare_capacity(
        bound,
        who.department_id,
        f"workbook: {who.name}",
        capacity=list(filled.rows),
        partial=True,
        recorded=audit,
    )
    counts = report.declarations
    return {
        "cells": len(filled.rows),
        "weeks": list(filled.weeks),
        "new": counts.new,
        "superseded": counts.superseded,
        "unchanged": counts.unchanged,
    }
