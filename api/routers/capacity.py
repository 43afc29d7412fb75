"""A department's capacity declarations: post its free slots (versioned per ISO week), history."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection

from api.deps import Bound, Caller, DeclaresCapacity
from api.schemas import UpsertSummary
from capacity.storage import declaration_history
from capacity.storage.repository import LoadReport
from capacity.validation import MAX_COUNT
from capacity.vocabulary import Collaboration, Procedure
from workflow import tables
from workflow.capacity import declare_capacity
from workflow.runs import IsoWeek

router = APIRouter(prefix="/v1/capacity", tags=["capacity"])


class CapacityRecord(BaseModel):
    """Free slots of one service on one day (capacity.csv's fields)."""

    model_config = ConfigDict(extra="forbid")

    department_id: str = Field(min_length=1, max_length=64)
    collaboration: Collaboration
    procedure: Procedure
    date: dt.date
    free_slots: int = Field(ge=0, le=MAX_COUNT)


class WeeklyCapRecord(BaseModel):
    """At most ``max_slots`` placements at one service in one ISO week (weekly_caps.csv)."""

    model_config = ConfigDict(extra="forbid")

    department_id: str = Field(min_length=1, max_length=64)
    collaboration: Collaboration
    procedure: Procedure
    week: IsoWeek
    max_slots: int = Field(ge=0, le=1_000_000)


class CapacityIn(BaseModel):
    """A department's declaration: every service-day of the weeks it covers, and weekly caps.

    Each ISO week the rows touch is declared anew: it supersedes the department's previous
    declaration of that week (history kept). Posting the same rows again changes nothing.
    ``weekly_caps`` (optional) cap the placements at a service in a week across its days;
    a cap replaces the stored cap of the same department, service and week.
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
                    ],
                    "weekly_caps": [
                        {
                            "department_id": "H42-11",
                            "collaboration": "breast",
                            "procedure": "radiotherapy",
                            "week": "2026-W48",
                            "max_slots": 8,
                        }
                    ],
                }
            ]
        },
    )

    capacity: list[CapacityRecord] = Field(default=[], max_length=100_000)
    weekly_caps: list[WeeklyCapRecord] = Field(default=[], max_length=10_000)

    @model_validator(mode="after")
    def _something(self) -> CapacityIn:
        if not self.capacity and not self.weekly_caps:
            raise ValueError("declare capacity rows, weekly caps or both")
        return self


class DeclarationSummary(BaseModel):
    """What a declaration changed, per department and ISO week (and in weekly caps, if any)."""

    new: int
    superseded: int
    unchanged: int
    weekly_caps: UpsertSummary | None = None


@router.post("", response_model=DeclarationSummary, response_model_exclude_none=True)
def post_capacity(
    body: CapacityIn,
    request: Request,
    who: DeclaresCapacity,
    bound: Bound,
) -> DeclarationSummary:
    """Declare the department's free slots (versioned per department and ISO week) and its
    weekly caps; 403 for another department's rows, 422 naming the field for invalid ones."""
    records = [row.model_dump(mode="json") for row in body.capacity]
    caps = [row.model_dump(mode="json") for row in body.weekly_caps]

    def summary_of(report: LoadReport) -> DeclarationSummary:
        return DeclarationSummary(
            **asdict(report.declarations),
            weekly_caps=UpsertSummary(**asdict(report.weekly_caps)) if caps else None,
        )

    def audit(conn: Connection, report: LoadReport) -> None:
        tables.append_audit(
            conn,
            who,
            "POST",
            request.url.path,
            str(who.department_id),
            after={
                "capacity": records,
                "weekly_caps": caps,
                "declarations": summary_of(report).model_dump(exclude_none=True),
            },
        )

    report = declare_capacity(
        bound,
        who.department_id,
        f"api: {who.name}",
        capacity=records,
        weekly_caps=caps,
        recorded=audit,
    )
    return summary_of(report)


@router.get("/history")
def capacity_history(
    who: Caller,
    bound: Bound,
    department_id: str | None = None,
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
