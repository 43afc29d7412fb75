"""From an accepted proposal to a booking: the offer the receiving department confirms and the
patient answers.

A chair's (or region's) accept of a proposal that is not the patient's kept booking creates an
**offer** (:func:`make_offer`). The offered slot is held for the patient at once — the patient's
booking points at it, so later solves keep it and nobody else gets it — but it is not firm:

1. the receiving department confirms or declines it (:func:`answer_for_department`, department
   role: its incoming referrals);
2. the home region presents a confirmed offer to the patient and records the answer
   (:func:`answer_for_patient`, region role).

Only a confirmed and accepted offer is ``booked``. A declined offer — by the department or by the
patient — frees the slot (the booking the patient had before is restored), is remembered (the
pair is never proposed again, as a rejection is), and a patient's decline counts as the
patient's wish. Every step is audited and appended as a pathway event
(:mod:`capacity.pathways`), so the patient's timeline, the duty-to-act list and the quarterly
monitoring read the same facts.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection

from capacity.errors import Conflict, Forbidden, Invalid, NotFound
from capacity.pathways import PathwayEvent
from capacity.storage import pathways as stored_events
from capacity.storage import schema
from workflow import tables
from workflow.access import Principal, Role, may_see_patient, may_see_proposal
from workflow.proposals import Proposal

#: The calendar day of a step is Danish time.
DANISH_TIME: Final = ZoneInfo("Europe/Copenhagen")


class OfferStatus(StrEnum):
    """Where an offer is: with the department, with the patient, booked, or declined."""

    AWAITING_DEPARTMENT = "awaiting_department"
    AWAITING_PATIENT = "awaiting_patient"
    BOOKED = "booked"
    DECLINED_BY_DEPARTMENT = "declined_by_department"
    DECLINED_BY_PATIENT = "declined_by_patient"


OPEN: Final = frozenset({OfferStatus.AWAITING_DEPARTMENT, OfferStatus.AWAITING_PATIENT})


class Offer(BaseModel):
    """One offer with the patient it concerns and every answer so far."""

    offer_id: int
    run_id: int
    patient_id: str
    collaboration: str
    procedure: str
    home_region: str
    home_department_id: str
    department_id: str
    date: dt.date
    deadline: dt.date | None
    status: OfferStatus
    away_from_home: bool
    offered_at: dt.datetime
    department_answer_at: dt.datetime | None = None
    department_reason: str | None = None
    patient_answer_at: dt.datetime | None = None
    patient_reason: str | None = None


def today_in_denmark() -> dt.date:
    """Today's date in Danish time (the day a step is recorded on)."""
    return dt.datetime.now(DANISH_TIME).date()


def make_offer(
    conn: Connection,
    who: Principal,
    run_id: int,
    proposal: Proposal,
    prior: tuple[str | None, dt.date | None],
    day: dt.date,
    path: str,
) -> Offer:
    """Record the offer an accept creates (inside the decision's transaction, whose booking
    already holds the slot); an offer away from home is an *offer of referral* event."""
    offer_id = conn.execute(
        schema.referral_offers.insert()
        .values(
            run_id=run_id,
            patient_id=proposal.patient_id,
            department_id=proposal.department_id,
            date=day,
            status=OfferStatus.AWAITING_DEPARTMENT.value,
            prior_department_id=prior[0],
            prior_date=prior[1],
            offered_at=tables.now(),
            offered_by=who.token_id,
        )
        .returning(schema.referral_offers.c.offer_id)
    ).scalar_one()
    offer = _offer(conn, offer_id)
    if offer.away_from_home:
        _event(conn, who, offer, PathwayEvent.OFFER_MADE, None)
    # audited as the offer it creates (the decision that led to it has its own entry at ``path``)
    tables.append_audit(
        conn,
        who,
        "POST",
        f"/v1/referrals/{offer_id}",
        proposal.patient_id,
        before={"decision": path},
        after=offer.model_dump(mode="json"),
    )
    return offer


def answer_for_department(
    conn: Connection,
    who: Principal,
    offer_id: int,
    confirmed: bool,
    reason: str | None,
    path: str,
) -> Offer:
    """The receiving department confirms (the offer goes to the patient) or declines it (the
    slot is freed, the pair never proposed again). Only that department may answer."""
    tables.lock_decisions(conn)
    offer = _visible(conn, who, offer_id)
    if who.role is not Role.DEPARTMENT or who.department_id != offer.department_id:
        raise Forbidden("only the receiving department confirms or declines an offer")
    if offer.status is not OfferStatus.AWAITING_DEPARTMENT:
        raise Conflict(f"offer {offer_id} is {offer.status.value}; the department has answered")
    if not confirmed and not (reason or "").strip():
        raise Invalid(
            "say why the department declines",
            errors=[{"field": "reason", "message": "a reason is required to decline"}],
        )
    status = OfferStatus.AWAITING_PATIENT if confirmed else OfferStatus.DECLINED_BY_DEPARTMENT
    _update(
        conn,
        offer_id,
        status=status.value,
        department_answer_at=tables.now(),
        department_answer_by=who.token_id,
        department_reason=reason,
    )
    event = PathwayEvent.DEPARTMENT_CONFIRMED if confirmed else PathwayEvent.DEPARTMENT_DECLINED
    _event(conn, who, offer, event, reason)
    if not confirmed:
        _decline(conn, who, offer, reason)
    return _finish(conn, who, offer, path)


def answer_for_patient(
    conn: Connection,
    who: Principal,
    offer_id: int,
    accepted: bool,
    reason: str | None,
    path: str,
) -> Offer:
    """The home region records the patient's answer to a confirmed offer: accepted (the
    booking is firm) or declined (the slot is freed; the patient's wish)."""
    tables.lock_decisions(conn)
    offer = _visible(conn, who, offer_id)
    if who.role is not Role.REGION or who.region != offer.home_region:
        raise Forbidden("only the patient's home region records the patient's answer")
    if offer.status is not OfferStatus.AWAITING_PATIENT:
        waiting = offer.status is OfferStatus.AWAITING_DEPARTMENT
        raise Conflict(
            f"offer {offer_id} is {offer.status.value}"
            + ("; the receiving department confirms it first" if waiting else "")
        )
    status = OfferStatus.BOOKED if accepted else OfferStatus.DECLINED_BY_PATIENT
    _update(
        conn,
        offer_id,
        status=status.value,
        patient_answer_at=tables.now(),
        patient_answer_by=who.token_id,
        patient_reason=reason,
    )
    if accepted:
        _event(conn, who, offer, PathwayEvent.OFFER_ACCEPTED, reason)
        _event(conn, who, offer, PathwayEvent.BOOKED, None)
    else:
        _event(conn, who, offer, PathwayEvent.OFFER_DECLINED, reason)
        _decline(conn, who, offer, reason)
    return _finish(conn, who, offer, path)


def list_offers(conn: Connection, who: Principal, status: OfferStatus | None = None) -> list[Offer]:
    """The offers ``who`` may see, newest first: a department those to it, a region its
    patients', a chair its collaboration's, the specialist unit and admin all."""
    query = _select().order_by(schema.referral_offers.c.offer_id.desc())
    if status is not None:
        query = query.where(schema.referral_offers.c.status == status.value)
    if who.role is Role.DEPARTMENT:  # its incoming referrals (not those it sent)
        query = query.where(schema.referral_offers.c.department_id == who.department_id)
    else:
        query = query.where(tables.visible_patients(who))
    return [_record(row) for row in conn.execute(query)]


# ---- the timeline ------------------------------------------------------------------------------


class TimelineEntry(BaseModel):
    """One thing that happened to a patient: a pathway event or a decision on a proposal."""

    at: dt.datetime
    date: dt.date
    kind: str  # "event" or "decision"
    what: str  # the event (offer_made, ...) or the decision (accept, reject, hold)
    department_id: str | None = None
    detail: str | None = None
    run_id: int | None = None


def timeline(conn: Connection, who: Principal, patient_id: str) -> list[TimelineEntry]:
    """Everything recorded for a patient ``who`` may see, oldest first; NotFound otherwise."""
    p = schema.patients.c
    patient = conn.execute(
        sa.select(
            p.home_region, p.collaboration, p.home_department_id, p.booked_department_id
        ).where(p.patient_id == patient_id)
    ).first()
    events = schema.pathway_events.c
    recorded = conn.execute(
        sa.select(
            events.recorded_at,
            events.date,
            events.event,
            events.department_id,
            events.detail,
            events.home_region,
            events.collaboration,
        )
        .where(events.patient_id == patient_id)
        .order_by(events.event_id)
    ).all()
    scope = patient or (recorded[0] if recorded else None)
    if scope is None or not may_see_patient(
        who,
        home_region=scope.home_region,
        collaboration=scope.collaboration,
        home_department_id=getattr(scope, "home_department_id", None),
        department_id=getattr(scope, "booked_department_id", None),
    ):
        raise NotFound("no such patient among the patients you may see")
    entries = [
        TimelineEntry(
            at=row.recorded_at,
            date=row.date,
            kind="event",
            what=row.event,
            department_id=row.department_id,
            detail=row.detail,
        )
        for row in recorded
    ]
    d = tables.decisions.c
    for row in conn.execute(
        sa.select(d.decided_at, d.decision, d.department_id, d.reason, d.run_id).where(
            d.patient_id == patient_id
        )
    ):
        entries.append(
            TimelineEntry(
                at=row.decided_at,
                date=row.decided_at.astimezone(DANISH_TIME).date(),
                kind="decision",
                what=row.decision,
                department_id=row.department_id,
                detail=row.reason,
                run_id=row.run_id,
            )
        )
    return sorted(entries, key=lambda e: (e.at, e.kind != "decision"))


# ---- helpers -----------------------------------------------------------------------------------


def _select() -> sa.Select[Any]:
    o, p = schema.referral_offers.c, schema.patients.c
    return sa.select(
        o.offer_id,
        o.run_id,
        o.patient_id,
        o.department_id,
        o.date,
        o.status,
        o.offered_at,
        o.department_answer_at,
        o.department_reason,
        o.patient_answer_at,
        o.patient_reason,
        p.collaboration,
        p.procedure,
        p.home_region,
        p.home_department_id,
        p.deadline,
    ).join(schema.patients, p.patient_id == o.patient_id)


def _record(row: Any) -> Offer:
    values = dict(row._mapping)
    values["away_from_home"] = values["department_id"] != values["home_department_id"]
    return Offer.model_validate(values)


def _offer(conn: Connection, offer_id: int) -> Offer:
    row = conn.execute(_select().where(schema.referral_offers.c.offer_id == offer_id)).first()
    if row is None:
        raise NotFound(f"no offer {offer_id} among the offers you may see")
    return _record(row)


def _visible(conn: Connection, who: Principal, offer_id: int) -> Offer:
    offer = _offer(conn, offer_id)
    if not may_see_proposal(who, offer):
        raise NotFound(f"no offer {offer_id} among the offers you may see")
    return offer


def _update(conn: Connection, offer_id: int, **values: Any) -> None:
    conn.execute(
        schema.referral_offers.update()
        .where(schema.referral_offers.c.offer_id == offer_id)
        .values(**values)
    )


def _finish(conn: Connection, who: Principal, before: Offer, path: str) -> Offer:
    after = _offer(conn, before.offer_id)
    tables.append_audit(
        conn,
        who,
        "POST",
        path,
        before.patient_id,
        before=before.model_dump(mode="json"),
        after=after.model_dump(mode="json"),
    )
    return after


def _decline(conn: Connection, who: Principal, offer: Offer, reason: str | None) -> None:
    """Free the offered slot (the patient's booking before the offer comes back, if the
    booking still points at the offer) and never propose the pair again."""
    o, p = schema.referral_offers.c, schema.patients.c
    prior = conn.execute(
        sa.select(o.prior_department_id, o.prior_date).where(o.offer_id == offer.offer_id)
    ).one()
    conn.execute(
        schema.patients.update()
        .where(
            p.patient_id == offer.patient_id,
            p.booked_department_id == offer.department_id,
            p.booked_date == offer.date,
        )
        .values(booked_department_id=prior.prior_department_id, booked_date=prior.prior_date)
    )
    conn.execute(
        tables.decisions.insert().values(
            run_id=offer.run_id,
            patient_id=offer.patient_id,
            department_id=offer.department_id,
            date=offer.date,
            decision="reject",
            reason=None if reason is None else reason[:2000],
            decided_at=tables.now(),
            token_id=who.token_id,
        )
    )


def _event(
    conn: Connection, who: Principal, offer: Offer, event: PathwayEvent, detail: str | None
) -> None:
    """Append one step as a pathway event; ``detail`` is the reason someone gave (in their
    words), if any — the event itself says what happened, in every language."""
    frame = stored_events.event_frame(
        [
            {
                "patient_id": offer.patient_id,
                "collaboration": offer.collaboration,
                "procedure": offer.procedure,
                "home_region": offer.home_region,
                "event": event.value,
                "date": today_in_denmark(),
                "department_id": offer.department_id,
                "detail": None if detail is None else detail[:1000],
                "pathway": None,
            }
        ]
    )
    stored_events.append_events(conn, frame, f"workflow: {who.name}", token_id=who.token_id)
