"""The append-only audit log, readable by admin only (there is no way to change it)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response

from api import pagination
from api.deps import Conn, ReadsAudit
from api.pagination import Page
from workflow import tables

#: The most entries one page of the audit log holds (it took ``?limit=`` up to this before
#: pages had cursors, so clients that ask for that many keep working).
MAX_AUDIT_PAGE = 100_000

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", responses=pagination.paged())
def list_audit(
    request: Request,
    response: Response,
    who: ReadsAudit,
    conn: Conn,
    page: Page = Depends(pagination.page_of(maximum=MAX_AUDIT_PAGE)),
) -> list[dict[str, Any]]:
    """The newest audit entries first: who, when, what, before and after (paged: ``limit``
    1-100000, default 1000, and ``cursor``)."""
    after = page.after_int()
    log = tables.audit_log.c
    query = sa.select(tables.audit_log).order_by(log.entry_id.desc()).limit(page.limit + 1)
    if after is not None:
        query = query.where(log.entry_id < -after)
    entries = [
        {k: (v.isoformat() if k == "at" else v) for k, v in row._mapping.items()}
        for row in conn.execute(query)
    ]
    return pagination.finish(request, response, page, entries, lambda e: (-e["entry_id"],))
