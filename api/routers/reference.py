"""Departments and the services they offer (read by any role; paged like every collection)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection

from api import pagination
from api.deps import Caller, Conn
from api.pagination import Page, Paged
from capacity.storage import schema

router = APIRouter(prefix="/v1", tags=["reference"])


def _rows(
    request: Request,
    response: Response,
    conn: Connection,
    page: Page,
    table: sa.Table,
    order: list[str],
) -> list[dict[str, Any]]:
    """One page of ``table``'s rows in ``order`` (a unique key of text columns)."""
    after = page.after(*(str for _ in order))
    columns = [c for c in table.c if c.name not in ("load_id", "position")]
    key = [table.c[name] for name in order]
    query = sa.select(*columns).order_by(*key).limit(page.limit + 1)
    if after is not None:
        query = query.where(sa.tuple_(*key) > sa.tuple_(*after))
    found = [dict(row._mapping) for row in conn.execute(query)]
    return pagination.finish(
        request, response, page, found, lambda row: tuple(str(row[name]) for name in order)
    )


@router.get("/departments", responses=pagination.paged())
def list_departments(
    request: Request, response: Response, who: Caller, conn: Conn, page: Paged
) -> list[dict[str, Any]]:
    """Every department, by id (paged): id, name, hospital, region, provider type, position."""
    return _rows(request, response, conn, page, schema.departments, ["department_id"])


@router.get("/services", responses=pagination.paged())
def list_services(
    request: Request, response: Response, who: Caller, conn: Conn, page: Paged
) -> list[dict[str, Any]]:
    """Every service (department, collaboration, procedure) with its price (paged)."""
    order = ["department_id", "collaboration", "procedure"]
    return _rows(request, response, conn, page, schema.services, order)
