"""The duty-to-act list: patients the home department cannot start in time, with no offer yet.

When a department cannot start a patient's examination or treatment within the maximum waiting
time, the home region has a duty to act (*handlepligt*): offer referral elsewhere, in time. This
is the early warning the law needs: every waiting patient with an active deadline

- whose newest solve (the newest finished run that proposed for them) does **not** start them at
  their home department on or before the deadline — it moves them, places them late, or finds
  no slot — and
- for whom **no offer of referral is documented** (no ``offer_made`` pathway event since the
  pathway's referral, and no booking away from home that meets the deadline),

sorted by days left to the deadline (overdue first).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Engine

from capacity.pathways import PathwayEvent
from capacity.storage import schema
from workflow import tables
from workflow.access import Principal


@dataclass(frozen=True)
class DutyToAct:
    """One patient on the list: who, the deadline and days left, and what the solve found."""

    patient_id: str
    collaboration: str
    procedure: str
    home_region: str
    home_department_id: str
    deadline: dt.date
    days_left: int
    run_id: int
    why: str  # "moved" (proposed elsewhere), "late" (at home after the deadline), "no_slot"
    proposed_department_id: str | None
    proposed_date: dt.date | None


def _date(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def duty_to_act(
    bound: Engine,
    who: Principal,
    today: dt.date,
    *,
    collaboration: str | None = None,
    home_region: str | None = None,
) -> list[DutyToAct]:
    """The list for ``who``'s scope (and the optional collaboration and region), as of
    ``today``."""
    p, r, runs = schema.patients.c, schema.run_proposals.c, schema.solve_runs.c
    events = schema.pathway_events.c
    newest = (
        sa.select(r.patient_id, sa.func.max(r.run_id).label("run_id"))
        .join(schema.solve_runs, runs.run_id == r.run_id)
        .where(runs.status == "done")
        .group_by(r.patient_id)
        .subquery()
    )
    query = (
        sa.select(
            p.patient_id,
            p.collaboration,
            p.procedure,
            p.home_region,
            p.home_department_id,
            p.deadline,
            r.run_id,
            r.proposal,
        )
        .join(newest, newest.c.patient_id == p.patient_id)
        .join(
            schema.run_proposals,
            (r.patient_id == newest.c.patient_id) & (r.run_id == newest.c.run_id),
        )
        .where(
            p.deadline_status == "active",
            p.deadline.is_not(None),
            # not booked in time (at home, or elsewhere after an offer was accepted)
            sa.or_(p.booked_date.is_(None), p.booked_date > p.deadline),
            # no offer of referral documented
            ~sa.exists().where(
                events.patient_id == p.patient_id,
                events.event == PathwayEvent.OFFER_MADE.value,
            ),
            tables.visible_patients(who),
        )
    )
    if collaboration is not None:
        query = query.where(p.collaboration == collaboration)
    if home_region is not None:
        query = query.where(p.home_region == home_region)
    with bound.connect() as conn:
        rows = conn.execute(query.order_by(p.deadline, p.patient_id)).all()
    found = []
    for row in rows:
        deadline = _date(row.deadline)
        assert deadline is not None
        proposal = row.proposal or {}
        department = proposal.get("department_id") or None
        day = _date(proposal.get("date"))
        if day is None:
            why = "no_slot"
        elif department != row.home_department_id:
            why = "moved"
        elif day > deadline:
            why = "late"
        else:
            continue  # the home department starts the patient in time
        found.append(
            DutyToAct(
                patient_id=row.patient_id,
                collaboration=row.collaboration,
                procedure=row.procedure,
                home_region=row.home_region,
                home_department_id=row.home_department_id,
                deadline=deadline,
                days_left=(deadline - today).days,
                run_id=int(row.run_id),
                why=why,
                proposed_department_id=department,
                proposed_date=day,
            )
        )
    return found  # by days left (the deadline), overdue first
