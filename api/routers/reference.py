"""Departments and the services they offer (read by any role)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from sqlalchemy import Connection

from api.deps import Caller, Conn
from capacity.storage import schema

router = APIRouter(prefix="/v1", tags=["reference"])


def _rows(conn: Connection, table: sa.Table, order: list[str]) -> list[dict[str, Any]]:
    columns = [c for c in table.c if c.name not in ("load_id", "position")]
    result = conn.execute(sa.select(*columns).order_by(*(table.c[name] for name in order)))
    return [dict(row._mapping) for row in result]


@router.get("/departments")
def list_departments(who: Caller, conn: Conn) -> list[dict[str, Any]]:
    """Every department: id, name, hospital, region, provider type and position."""
    return _rows(conn, schema.departments, ["department_id"])


@router.get("/services")
def list_services(who: Caller, conn: Conn) -> list[dict[str, Any]]:
    """Every service (department, collaboration, procedure) with its price."""
    return _rows(conn, schema.services, ["department_id", "collaboration", "procedure"])
