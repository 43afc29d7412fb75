"""Which departments have declared their capacity for which weeks, and when: the completeness
and staleness view of the chairs and the specialist unit, and the stale declarations a solve
used.

A department *offers* a collaboration when it has a service of it. For each such department and
each week of the horizon, its current declaration (the newest version not superseded) is
*missing*, *stale* (last changed more than ``stale_after_days`` days before ``now``) or *fresh*.
Stale capacity is the failure every peer system reports: the proposals rest on slots that may be
gone. A solve run records the departments whose capacity it used that are stale, so the review
page and the meeting pack can say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import Connection

from capacity import calendar
from capacity.storage import schema

#: Days after which a declaration counts as stale by default.
STALE_AFTER_DAYS: Final = 7


class Freshness(StrEnum):
    """A department's declaration for one week."""

    FRESH = "fresh"
    STALE = "stale"
    MISSING = "missing"


@dataclass(frozen=True)
class WeekStatus:
    """One department's declaration for one ISO week: when it was last changed (UTC)."""

    week: str
    freshness: Freshness
    declared_at: dt.datetime | None = None
    version: int | None = None
    free_slots: int = 0

    def age_days(self, now: dt.datetime) -> int | None:
        """Whole days since the declaration was last changed (None when missing)."""
        if self.declared_at is None:
            return None
        return (_utc(now) - _utc(self.declared_at)).days


@dataclass(frozen=True)
class DepartmentStatus:
    """A department's declarations across the horizon's weeks."""

    department_id: str
    name: str
    region: str
    weeks: tuple[WeekStatus, ...]

    @property
    def flagged(self) -> bool:
        """Whether any week is missing or stale."""
        return any(w.freshness is not Freshness.FRESH for w in self.weeks)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def freshness_of(
    declared_at: dt.datetime | None, now: dt.datetime, stale_after_days: int
) -> Freshness:
    """Missing without a declaration, stale when older than ``stale_after_days`` days."""
    if declared_at is None:
        return Freshness.MISSING
    if _utc(now) - _utc(declared_at) > dt.timedelta(days=stale_after_days):
        return Freshness.STALE
    return Freshness.FRESH


def current_declarations(
    conn: Connection, weeks: Sequence[str], department_ids: Iterable[str] | None = None
) -> dict[tuple[str, str], tuple[dt.datetime, int, int]]:
    """Per (department, week) of ``weeks``: the current declaration's load time, version and
    free slots in all, one query."""
    d, c, loads = schema.capacity_declarations.c, schema.capacity.c, schema.loads.c
    query = (
        sa.select(
            d.department_id,
            d.week,
            d.version,
            loads.loaded_at,
            sa.func.coalesce(sa.func.sum(c.free_slots), 0).label("free"),
        )
        .join(schema.loads, loads.load_id == d.load_id)
        .outerjoin(schema.capacity, c.declaration_id == d.declaration_id)
        .where(d.superseded.is_(False), d.week.in_(list(weeks)))
        .group_by(d.department_id, d.week, d.version, loads.loaded_at)
    )
    if department_ids is not None:
        query = query.where(d.department_id.in_(list(department_ids)))
    return {
        (row.department_id, row.week): (row.loaded_at, int(row.version), int(row.free))
        for row in conn.execute(query)
    }


def declaration_status(
    conn: Connection,
    weeks: Sequence[str],
    *,
    now: dt.datetime,
    collaboration: str | None = None,
    region: str | None = None,
    stale_after_days: int = STALE_AFTER_DAYS,
) -> tuple[DepartmentStatus, ...]:
    """Every department offering ``collaboration`` (any when None; of ``region`` when given),
    with its declaration's freshness for each of ``weeks``; flagged departments first."""
    dep, s = schema.departments.c, schema.services.c
    query = sa.select(dep.department_id, dep.name, dep.hospital, dep.region).where(
        dep.department_id.in_(
            sa.select(s.department_id)
            .where(s.collaboration == collaboration if collaboration else sa.true())
            .distinct()
        )
    )
    if region:
        query = query.where(dep.region == region)
    departments = conn.execute(query.order_by(dep.region, dep.department_id)).all()
    declared = current_declarations(conn, weeks, [row.department_id for row in departments])
    out = []
    for row in departments:
        cells = []
        for week in weeks:
            found = declared.get((row.department_id, week))
            at = found[0] if found else None
            cells.append(
                WeekStatus(
                    week=week,
                    freshness=freshness_of(at, now, stale_after_days),
                    declared_at=at,
                    version=found[1] if found else None,
                    free_slots=found[2] if found else 0,
                )
            )
        name = ", ".join(p for p in (row.name, row.hospital) if p) or row.department_id
        out.append(DepartmentStatus(row.department_id, name, row.region or "", tuple(cells)))
    return tuple(sorted(out, key=lambda d: (not d.flagged, d.region, d.department_id)))


def stale_capacity(
    conn: Connection,
    capacity: Any,
    *,
    now: dt.datetime,
    stale_after_days: int = STALE_AFTER_DAYS,
) -> list[dict[str, Any]]:
    """The declarations a solve's ``capacity`` frame (department_id, date) rests on that are
    stale: ``[{department_id, week, declared_at, age_days}]``, oldest first (plain JSON)."""
    if capacity is None or len(capacity) == 0:
        return []
    cells = capacity[["department_id", "date"]].drop_duplicates()
    week_of = {
        day: calendar.week_of(day.date() if hasattr(day, "date") else day)
        for day in cells["date"].unique()
    }
    pairs = {
        (str(department), week_of[day])
        for department, day in zip(cells["department_id"], cells["date"], strict=True)
    }
    weeks = sorted({week for _, week in pairs})
    declared = current_declarations(conn, weeks, sorted({d for d, _ in pairs}))
    stale = []
    for (department, week), (at, _version, _free) in declared.items():
        if (department, week) not in pairs:
            continue
        if freshness_of(at, now, stale_after_days) is Freshness.STALE:
            stale.append(
                {
                    "department_id": department,
                    "week": week,
                    "declared_at": _utc(at).isoformat(timespec="seconds"),
                    "age_days": (_utc(now) - _utc(at)).days,
                }
            )
    return sorted(stale, key=lambda s: (s["declared_at"], s["department_id"], s["week"]))
