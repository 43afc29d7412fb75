"""The meeting's reads of the store: finished runs, the week to review, department names,
the at-risk patients and the capacity heatmap, each scoped to what the caller may see.

Runs, proposals and decisions come from :mod:`workflow.runs` and :mod:`workflow.tables` (the
same scoping and the same audit log as the JSON API); the queries here only read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from capacity import calendar
from capacity.storage import HORIZON_WEEKS, schema
from reports.meeting.model import AtRiskRow, CapacityCell, CapacityRowView
from workflow import tables
from workflow.access import Principal, Role
from workflow.proposals import Proposal
from workflow.runs import SolveRun
from workflow.status import RunStatus


def horizon(week: str) -> tuple[str, ...]:
    """``week`` and the weeks after it that a snapshot holds capacity for."""
    return tuple(calendar.horizon(week, HORIZON_WEEKS))


def meeting_runs(
    conn: Connection, collaboration: str, week: str | None = None, limit: int = 50
) -> list[SolveRun]:
    """The finished runs that cover ``collaboration`` (national runs too) in ``week`` (any
    week when None), newest first; queued, running and failed runs have no proposals."""
    r = tables.solve_runs.c
    query = sa.select(tables.solve_runs).where(
        sa.or_(r.collaboration == collaboration, r.collaboration.is_(None)),
        r.status == RunStatus.DONE.value,
    )
    if week is not None:
        query = query.where(r.week == week)
    rows = conn.execute(query.order_by(r.run_id.desc()).limit(limit))
    return [tables.record(SolveRun, row) for row in rows]


def default_week(conn: Connection, collaboration: str, today: dt.date) -> str:
    """The week a meeting most likely reviews: its newest finished run's, else the first week
    from ``today`` on with declared capacity for the collaboration, else ``today``'s week."""
    for run in meeting_runs(conn, collaboration, limit=20):
        if run.week:
            return run.week
    d, c = schema.capacity_declarations.c, schema.capacity.c
    current = calendar.week_of(today)
    declared = conn.execute(
        sa.select(sa.func.min(d.week))
        .join(schema.capacity, c.declaration_id == d.declaration_id)
        .where(d.superseded.is_(False), c.collaboration == collaboration, d.week >= current)
    ).scalar()
    return str(declared) if declared else current


def department_names(conn: Connection) -> dict[str, str]:
    """Each department's readable name: ``Afdeling, Hospital``."""
    d = schema.departments.c
    rows = conn.execute(sa.select(d.department_id, d.name, d.hospital))
    return {
        row.department_id: ", ".join(p for p in (row.name, row.hospital) if p) or row.department_id
        for row in rows
    }


#: What the at-risk list shows for a patient the run proposes nothing for.
NOTHING_PROPOSED = Proposal(patient_id="", action="")


def _scoped_patients(who: Principal, query: sa.Select[Any]) -> sa.Select[Any]:
    """Limit a patients query to what ``who`` may see (the API's scoping of patients)."""
    return query.where(tables.visible_patients(who))


def _active_patients(
    conn: Connection, who: Principal, collaboration: str, *, without_compliant_slot: bool = False
) -> list[sa.Row[Any]]:
    """Active patients of the collaboration with a deadline, nearest deadline first; with
    ``without_compliant_slot`` only those holding no booking on or before their deadline."""
    p = schema.patients.c
    query = sa.select(
        p.patient_id,
        p.procedure,
        p.home_region,
        p.home_department_id,
        p.deadline,
        p.booked_department_id,
        p.booked_date,
    ).where(
        p.collaboration == collaboration,
        p.deadline_status == "active",
        p.deadline.is_not(None),
    )
    if without_compliant_slot:
        query = query.where(sa.or_(p.booked_date.is_(None), p.booked_date > p.deadline))
    return list(conn.execute(_scoped_patients(who, query).order_by(p.deadline, p.patient_id)))


def _without_compliant_slot(
    conn: Connection, who: Principal, collaboration: str
) -> list[sa.Row[Any]]:
    """Active patients of the collaboration who hold no booking on or before their deadline."""
    return _active_patients(conn, who, collaboration, without_compliant_slot=True)


def _misses(deadline: dt.date, booked: dt.date | None, proposal: Proposal | None) -> bool:
    """Whether the patient's slot misses the deadline: the run's proposed slot when it has one
    for the patient (none proposed counts as missing), else the current booking."""
    if proposal is not None:
        return (
            proposal.action == "unassigned"
            or not proposal.date
            or proposal.date > (deadline.isoformat())
        )
    return booked is None or booked > deadline


def at_risk_patients(
    conn: Connection,
    who: Principal,
    collaboration: str,
    today: dt.date,
    days: int,
    proposals: Mapping[str, Proposal] | None = None,
) -> tuple[AtRiskRow, ...]:
    """The early warning: an active deadline within ``days`` of ``today`` that the patient's
    *proposed* slot misses (or, for a patient the run does not cover, the current booking).

    Passed deadlines are included (negative days left); paused clocks are never at risk (they
    are shown as paused). ``proposals`` (by patient) are the run's.
    """
    horizon_end = today + dt.timedelta(days=days)
    known = proposals or {}
    rows = []
    for patient in _active_patients(conn, who, collaboration):
        deadline: dt.date = patient.deadline
        if deadline > horizon_end:
            break
        found = known.get(str(patient.patient_id))
        booked: dt.date | None = patient.booked_date
        if not _misses(deadline, booked, found):
            continue
        proposal = found or NOTHING_PROPOSED
        rows.append(
            AtRiskRow(
                patient_id=str(patient.patient_id),
                procedure=str(patient.procedure),
                home_region=str(patient.home_region),
                home_department_id=str(patient.home_department_id),
                deadline=deadline.isoformat(),
                days_left=(deadline - today).days,
                booked_department_id=patient.booked_department_id or "",
                booked_date=booked.isoformat() if booked else "",
                proposed_department_id=proposal.department_id or "",
                proposed_date=proposal.date or "",
                proposed_action=proposal.action,
                proposed_days_late=proposal.days_late or 0,
            )
        )
    return tuple(rows)


def capacity_overview(
    conn: Connection, who: Principal, collaboration: str, week: str
) -> tuple[tuple[str, ...], tuple[CapacityRowView, ...]]:
    """The heatmap: per department and ISO week, declared free slots against demand.

    Free slots are the current declarations' less the slots proposals accepted since then hold
    (as the solve counts them). Demand is the patients holding no booking on or before their
    deadline, by home department and the ISO week of the deadline (passed deadlines count in
    the first week; deadlines after the horizon are left out). A department token sees its own
    row only; every other role sees the collaboration (these are counts, not patients).

    The known demand of :func:`reports.meeting.capacity.capacity_view`, summed over each
    department's procedures (the look-ahead page adds procedures and expected referrals).
    """
    from reports.meeting.capacity import capacity_view  # it reads this module's helpers

    view = capacity_view(conn, who, collaboration, week, expected=False)
    rows = tuple(
        CapacityRowView(
            department_id=department.department_id,
            name=department.name,
            region=department.region,
            cells=tuple(CapacityCell(free=c.free, demand=c.known) for c in department.totals),
        )
        for department in view.departments
    )
    return view.labels, rows


def _everyone(who: Principal) -> Principal:
    """``who`` widened to every patient, for counts that reveal no patient (the heatmap)."""
    return Principal(token_id=who.token_id, name=who.name, role=Role.SPECIALIST_UNIT)
