"""The append-only audit log, readable by admin only (there is no way to change it)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Query

from api.deps import Conn, ReadsAudit
from workflow import tables

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("")
def list_audit(
    who: ReadsAudit,
    conn: Conn,
    limit: int = Query(default=1000, ge=1, le=100_000),
) -> list[dict[str, Any]]:
    """The newest audit entries first: who, when, what, before and after."""
    query = sa.select(tables.audit_log).order_by(tables.audit_log.c.entry_id.desc()).limit(limit)
    return [
        {k: (v.isoformat() if k == "at" else v) for k, v in row._mapping.items()}
        for row in conn.execute(query)
    ]
