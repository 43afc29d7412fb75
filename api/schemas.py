"""Pydantic request and response bodies; field names are the contract's vocabulary.

The workflow's records that a route returns as they are (:class:`SolveRun`, :class:`Decision`)
are re-exported from :mod:`workflow`, so the OpenAPI document names them once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from capacity.validation import MAX_COUNT
from capacity.vocabulary import Collaboration, DeadlineStatus, Procedure, Region
from workflow.decisions import Decision
from workflow.runs import IsoWeek, SolveRequest, SolveRun

__all__ = [
    "MAX_ROW_ID",
    "CapacityRecord",
    "Decision",
    "DecisionIn",
    "FieldProblem",
    "LoadSummary",
    "PatientPatch",
    "PatientRecord",
    "PatientsIn",
    "Reason",
    "RowId",
    "SolveRun",
    "SolveRunIn",
    "UpsertSummary",
    "WeeklyCapRecord",
]

EXAMPLE_PATIENT: dict[str, Any] = {
    "patient_id": "pt42x00003",
    "collaboration": "breast",
    "procedure": "pre_examination",
    "home_region": "Nordjylland",
    "home_department_id": "H42-11",
    "latitude": 57.05,
    "longitude": 9.92,
    "earliest_date": "2026-11-24",
    "deadline": "2026-12-01",
    "deadline_status": "active",
    "accepts_private": True,
    "accepts_foreign": False,
}


#: The largest row id a store holds (a 32-bit database integer).
MAX_ROW_ID = 2_147_483_647
#: A stored row's id in a path (larger ones are 422, not a driver's overflow and a 500).
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


def storable(text: str) -> str:
    """``text`` when both stores can hold it: ValueError for a NUL character."""
    if "\x00" in text:
        raise ValueError("a NUL character cannot be stored; remove it")
    return text


#: A reason a person gives, in their words: at most 2,000 characters and no NUL character
#: (PostgreSQL cannot store one; SQLite would), so both stores answer 422 alike.
Reason = Annotated[str, Field(max_length=2000), AfterValidator(storable)]


class PatientRecord(BaseModel):
    """One waiting patient as in patients.csv; a missing deadline is computed by the rules.

    Checked by the contract validator as a patients file is (dates within 2000-2100, ids never
    CPR-like); numbers must be finite.
    """

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [EXAMPLE_PATIENT]}
    )

    patient_id: str
    collaboration: Collaboration
    procedure: Procedure
    home_region: Region
    home_department_id: str
    latitude: float
    longitude: float
    earliest_date: dt.date | None = None
    deadline: dt.date | None = None
    deadline_status: DeadlineStatus = DeadlineStatus.ACTIVE
    booked_department_id: str | None = None
    booked_date: dt.date | None = None
    max_travel_km: float | None = None
    accepts_private: bool
    accepts_foreign: bool
    clock_start: dt.date | None = None
    referral_received: dt.date | None = None
    consent_date: dt.date | None = None
    referral_to_treatment: dt.date | None = None
    followon_referral: dt.date | None = None


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


class PatientsIn(BaseModel):
    """A region's waiting list (or part of it), upserted by ``patient_id``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"patients": [EXAMPLE_PATIENT]}]})

    patients: list[PatientRecord] = Field(min_length=1)


class PatientPatch(BaseModel):
    """Fields a region may change on one of its patients.

    The stored record with these changes applied is validated as a whole, as a patients file
    row is: ``null`` clears a field only where the contract allows it empty (``deadline``:
    computed again from the clock dates; ``max_travel_km``: no limit).
    """

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={"examples": [{"deadline_status": "paused_health"}]},
    )

    deadline_status: DeadlineStatus | None = None
    deadline: dt.date | None = None
    earliest_date: dt.date | None = None
    max_travel_km: float | None = None
    accepts_private: bool | None = None
    accepts_foreign: bool | None = None

    @field_validator("deadline_status", "earliest_date", "accepts_private", "accepts_foreign")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("needs a value; null cannot be stored here")
        return value


class FieldProblem(BaseModel):
    """One field's problem or conflict: its path (``patients[3].booked_department_id``)."""

    field: str
    message: str


class UpsertSummary(BaseModel):
    """Rows of one table a write inserted, updated or found identical."""

    inserted: int
    updated: int
    unchanged: int


class LoadSummary(UpsertSummary):
    """What a post of patients changed; ``conflicts`` lists values kept as stored (a booking
    made by a decision stays until a decision changes it), one per patient."""

    conflicts: list[FieldProblem] = []


class SolveRunIn(SolveRequest):
    """Start a solve on the store as it is now."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"today": "2026-11-23", "week": "2026-W48"}]},
    )


class DecisionIn(BaseModel):
    """A region's or chair's answer to one proposal.

    An accept may name one of the proposal's ``alternatives`` instead of the proposal, by its
    ``department_id`` and ``date`` (both, as listed): that slot is then booked and offered
    (422 at the field for a department or date that is not a listed alternative).
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"decision": "accept", "reason": "patient agreed"},
                {
                    "decision": "accept",
                    "reason": "the patient prefers Aarhus",
                    "department_id": "AUH-ONK",
                    "date": "2026-11-27",
                },
            ]
        },
    )

    decision: Literal["accept", "reject", "hold"]
    reason: Reason | None = None
    department_id: str | None = Field(
        default=None,
        max_length=64,
        description="With an accept: the department of the chosen alternative",
        examples=["AUH-ONK"],
    )
    date: dt.date | None = Field(
        default=None,
        description="With an accept: the date of the chosen alternative",
        examples=["2026-11-27"],
    )
