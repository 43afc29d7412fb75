"""Liveness (the process answers) and readiness (the store is reachable and migrated)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import inspect

from api.deps import Bound
from api.problems import ApiProblem
from workflow import tables

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(bound: Bound) -> dict[str, Any]:
    """The database answers and holds the contract's and the API's tables."""
    try:
        with bound.connect() as conn:
            present = set(inspect(conn).get_table_names())
    except Exception as error:  # any driver error means: not ready
        raise ApiProblem(503, f"database unreachable: {type(error).__name__}") from error
    missing = sorted({"alembic_version", "patients", *tables.API_TABLES} - present)
    if missing:
        raise ApiProblem(503, f"database not migrated; missing tables: {', '.join(missing)}")
    return {"status": "ready"}
