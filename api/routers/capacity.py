"""A department's capacity declarations: post its free slots (versioned per ISO week), history."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from api import store
from api.problems import ApiProblem
from api.routers.patients import store_dataset, validated_records
from api.security import Principal, Role, engine, principal, require
from capacity.storage import declaration_history
from capacity.vocabulary import Collaboration, Procedure

router = APIRouter(prefix="/v1/capacity", tags=["capacity"])


class CapacityRecord(BaseModel):
    """Free slots of one service on one day (capacity.csv's fields)."""

    model_config = ConfigDict(extra="forbid")

    department_id: str = Field(min_length=1, max_length=64)
    collaboration: Collaboration
    procedure: Procedure
    date: dt.date
    free_slots: int = Field(ge=0)


class CapacityIn(BaseModel):
    """A department's declaration: every service-day of the weeks it covers.

    Each ISO week the rows touch is declared anew: it supersedes the department's previous
    declaration of that week (history kept). Posting the same rows again changes nothing.
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
                    ]
                }
            ]
        },
    )

    capacity: list[CapacityRecord] = Field(min_length=1)


class DeclarationSummary(BaseModel):
    """What a declaration changed, per department and ISO week."""

    new: int
    superseded: int
    unchanged: int


@router.post("", response_model=DeclarationSummary)
def post_capacity(
    body: CapacityIn,
    request: Request,
    who: Principal = Depends(require(Role.DEPARTMENT)),
    bound: Engine = Depends(engine),
) -> DeclarationSummary:
    """Declare the department's free slots; versioned per department and ISO week."""
    foreign = [
        {"field": f"capacity[{i}].department_id", "message": "not your department"}
        for i, row in enumerate(body.capacity)
        if row.department_id != who.department_id
    ]
    if foreign:
        raise ApiProblem(403, "a department may declare only its own capacity", errors=foreign)
    records = [row.model_dump(mode="json") for row in body.capacity]
    capacity = validated_records(bound, "capacity", records)
    report = store_dataset(bound, who, capacity=capacity)
    summary = DeclarationSummary(**asdict(report.declarations))
    with bound.begin() as conn:
        store.append_audit(
            conn,
            who,
            "POST",
            request.url.path,
            str(who.department_id),
            after={"capacity": records, "declarations": summary.model_dump()},
        )
    return summary


@router.get("/history")
def capacity_history(
    department_id: str | None = None,
    who: Principal = Depends(principal),
    bound: Engine = Depends(engine),
) -> list[dict[str, Any]]:
    """Every declaration version (oldest first per department and week), any role may read."""
    del who  # any valid token: declared free capacity is shared across regions
    history = declaration_history(bound, department_id=department_id)
    history = history.astype(object).where(history.notna(), None)
    return [
        {
            str(k): (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
            for k, v in r.items()
        }
        for r in history.to_dict(orient="records")
    ]
