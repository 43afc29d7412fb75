"""The append-only audit log, readable by admin only (there is no way to change it)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection

from api import store
from api.security import Principal, Role, connection, require

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("")
def list_audit(
    limit: int = Query(default=1000, ge=1, le=100_000),
    who: Principal = Depends(require(Role.ADMIN)),
    conn: Connection = Depends(connection, scope="function"),
) -> list[dict[str, Any]]:
    """The newest audit entries first: who, when, what, before and after."""
    query = sa.select(store.audit_log).order_by(store.audit_log.c.entry_id.desc()).limit(limit)
    return [
        {k: (v.isoformat() if k == "at" else v) for k, v in row._mapping.items()}
        for row in conn.execute(query)
    ]
