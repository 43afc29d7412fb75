"""The review web page for collaboration meetings (server-rendered HTML under ``/web``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/web", tags=["web"], include_in_schema=False)
