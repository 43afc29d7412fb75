"""What-if scenario runs over the API: POST a YAML scenario, GET its results."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/scenario-runs", tags=["scenario runs"])
