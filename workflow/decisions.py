"""Decisions on a solve run's proposals: accept (book it), reject (never propose the pair
again) or hold, with the checks that keep two accepts of one slot from both winning.

The JSON route and the review page both call :func:`decide`, so a decision made on the page is
the same write, with the same checks and audit entry, as one made over the API.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection

from capacity.errors import Conflict, Invalid, NotFound
from capacity.storage import schema
from workflow import referrals, tables
from workflow.access import Principal, Role, may_see_proposal
from workflow.proposals import Alternative, Proposal
from workflow.runs import done_run
from workflow.status import RunStatus


class Verdict(StrEnum):
    """A region's or chair's answer to one proposal."""

    ACCEPT = "accept"
    REJECT = "reject"
    HOLD = "hold"


class Decision(BaseModel):
    """A recorded decision."""

    run_id: int
    patient_id: str
    department_id: str | None
    date: dt.date | None
    decision: str
    reason: str | None
    #: The offer an accept created (workflow.referrals): the receiving department confirms it,
    #: then the patient answers; None for a hold, a rejection or an accepted kept booking.
    offer_id: int | None = None
    offer_status: str | None = None
    #: True when the accept chose one of the proposal's stored alternatives instead of the
    #: proposal: ``department_id`` and ``date`` are then the alternative's.
    alternative: bool = False


#: Decision fields that are not columns of the decisions table.
_NOT_STORED = {"offer_id", "offer_status", "alternative"}


def decide(
    conn: Connection,
    who: Principal,
    run_id: int,
    patient_id: str,
    verdict: Verdict | str,
    reason: str | None,
    path: str,
    *,
    department_id: str | None = None,
    date: dt.date | str | None = None,
) -> Decision:
    """Accept (hold the slot and offer it), reject (never propose the pair again) or hold one
    proposal.

    ``decide(conn, who, run_id, patient_id, "accept", reason, path, department_id="AUH-ONK",
    date="2026-11-27")`` accepts one of the proposal's alternatives (``Proposal.alternatives``,
    shown at the meeting) instead of the proposal. A form posts the two fields as they are:
    ``department_id``, and ``date`` as ISO text (or a date); empty fields count as absent, so a
    form may always send both. The pair must be one of the stored alternatives
    (:class:`Invalid` naming ``department_id`` or ``date`` otherwise, 422 over the API; also
    when only one of the two is given, or with a reject or hold) and its slot must still be
    free (:class:`Conflict`). It is then booked exactly as an accept of the proposal is: the
    offer is for the alternative's department and date, the :class:`Decision` carries them
    with ``alternative=True``, and the audit entry names the proposal it replaced
    (``instead_of``). An alternative that is the patient's current booking keeps it (no
    offer). Later solves treat it as any accepted booking: kept, unless moving the patient
    lowers tiers 1-3 (an alternative whose cost was another breach may be undone that way).

    An accept of anything but the patient's kept booking books the slot tentatively — later
    solves keep it and nobody else gets it — and creates an offer (:mod:`workflow.referrals`)
    that becomes a firm booking only when the receiving department confirms it and the patient
    accepts it; a decline on either side frees the slot again.

    Decisions are serialised (:func:`tables.lock_decisions`), so of two accepts of the last free
    slot exactly one wins and the other is :class:`Conflict`; a proposal ``who`` may not see
    is :class:`NotFound`.
    """
    verdict = Verdict(verdict)
    tables.lock_decisions(conn)
    done_run(conn, run_id)
    stored = conn.execute(
        sa.select(tables.run_proposals.c.proposal).where(
            tables.run_proposals.c.run_id == run_id, tables.run_proposals.c.patient_id == patient_id
        )
    ).scalar()
    proposal = Proposal.model_validate(stored) if stored is not None else None
    if proposal is None or not may_see_proposal(who, proposal):
        raise NotFound(f"no proposal for {patient_id!r} in run {run_id} that you may see")
    newer = _newer_run_for(conn, run_id, patient_id)
    if newer is not None:
        raise Conflict(
            f"run {run_id} is not the newest solve run for {patient_id!r}; decide on run {newer}"
        )
    d = tables.decisions.c
    decided = conn.execute(
        sa.select(d.decision).where(
            d.run_id == run_id, d.patient_id == patient_id, d.decision != Verdict.HOLD
        )
    ).scalar()
    if decided is not None:
        raise Conflict(f"this proposal was already decided: {decided}")
    if verdict is not Verdict.HOLD and proposal.action == "unassigned":
        raise Conflict("the proposal has no slot to accept or reject")
    chosen = _chosen_alternative(proposal, verdict, department_id, date)
    offered = proposal if chosen is None else _at_alternative(proposal, chosen)
    day = _date(offered.date)
    patients = schema.patients.c
    before = conn.execute(
        sa.select(patients.booked_department_id, patients.booked_date).where(
            patients.patient_id == patient_id
        )
    ).first()
    if verdict is Verdict.ACCEPT and before is not None:
        booked = (before.booked_department_id, before.booked_date)
        if booked != (proposal.booked_department_id or None, _date(proposal.booked_date)):
            raise Conflict("the patient's booking changed since this run; solve again")
        if offered.action != "keep" and day is not None:
            _check_slot_free(conn, offered, day)
        conn.execute(
            schema.patients.update()
            .where(patients.patient_id == patient_id)
            .values(booked_department_id=offered.department_id, booked_date=day)
        )
    decision = Decision(
        run_id=run_id,
        patient_id=patient_id,
        department_id=offered.department_id or None,
        date=day,
        decision=verdict.value,
        reason=reason,
        alternative=chosen is not None,
    )
    conn.execute(
        tables.decisions.insert().values(
            **decision.model_dump(exclude=_NOT_STORED),
            decided_at=tables.now(),
            token_id=who.token_id,
        )
    )
    after = decision.model_dump(mode="json")
    if chosen is not None:
        after["instead_of"] = {"department_id": proposal.department_id, "date": proposal.date}
    tables.append_audit(
        conn,
        who,
        "POST",
        path,
        patient_id,
        before=None
        if before is None
        else {"booked_department_id": before[0], "booked_date": _iso(before[1])},
        after=after,
    )
    if verdict is Verdict.ACCEPT and offered.action != "keep" and day is not None:
        prior = (None, None) if before is None else (before[0], before[1])
        offer = referrals.make_offer(conn, who, run_id, offered, prior, day, path)
        decision = decision.model_copy(
            update={"offer_id": offer.offer_id, "offer_status": offer.status.value}
        )
    return decision


def _chosen_alternative(
    proposal: Proposal,
    verdict: Verdict,
    department_id: str | None,
    date: dt.date | str | None,
) -> Alternative | None:
    """The stored alternative a decision names (None when it names none), or
    :class:`Invalid` naming the field that is wrong. Empty form fields count as absent."""
    department_id, date = department_id or None, date or None
    if department_id is None and date is None:
        return None
    if verdict is not Verdict.ACCEPT:
        raise _invalid("department_id", "only an accept may choose an alternative")
    if not department_id:
        raise _invalid("department_id", "choosing an alternative needs its department_id")
    if date is None:
        raise _invalid("date", "choosing an alternative needs its date")
    try:
        day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))
    except ValueError:
        raise _invalid("date", "the date must be an ISO date (YYYY-MM-DD)") from None
    listed = proposal.alternatives or []
    same_department = [a for a in listed if a.department_id == department_id]
    if not same_department:
        raise _invalid(
            "department_id",
            "not one of this proposal's alternatives"
            + ("" if listed else " (it has none stored; solve again)"),
        )
    for alternative in same_department:
        if alternative.date == day.isoformat():
            return alternative
    raise _invalid(
        "date",
        f"the alternative at {department_id} is on {same_department[0].date}, not this date",
    )


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", errors=[{"field": field, "message": message}])


def _at_alternative(proposal: Proposal, alternative: Alternative) -> Proposal:
    """The proposal as it would read at ``alternative``: what the accept books and offers."""
    keeps = (alternative.department_id, alternative.date) == (
        proposal.booked_department_id,
        proposal.booked_date,
    )
    action = "keep" if keeps else ("move" if proposal.booked_department_id else "new")
    return proposal.model_copy(
        update={
            "department_id": alternative.department_id,
            "date": alternative.date,
            "travel_km": alternative.travel_km,
            "category": alternative.category,
            "action": action,
        }
    )


def _newer_run_for(conn: Connection, run_id: int, patient_id: str) -> int | None:
    """The newest finished run after ``run_id`` that covers ``patient_id`` in at least this
    run's scope, if any.

    A run's scope is its collaboration (or all) and, when a region started it, that region's
    patients (a region sees only its own). A decision is taken on the newest run for its
    patient of the same or a wider scope: another collaboration's run, or one region's
    whole-store solve, leaves a chair's meeting run decidable; the same chair's, a national or
    (for the region's own runs) the same region's newer run with the patient makes it stale.
    """
    r, p, t = tables.solve_runs.c, tables.run_proposals.c, tables.api_tokens.c
    started_by_region = sa.case((t.role == Role.REGION.value, t.region), else_=None)
    this = conn.execute(
        sa.select(r.collaboration, started_by_region.label("region"))
        .select_from(tables.solve_runs)
        .outerjoin(tables.api_tokens, t.token_id == r.token_id)
        .where(r.run_id == run_id)
    ).one()
    query = (
        sa.select(sa.func.max(p.run_id))
        .select_from(tables.run_proposals)
        .join(tables.solve_runs, p.run_id == r.run_id)
        .outerjoin(tables.api_tokens, t.token_id == r.token_id)
        .where(p.patient_id == patient_id, p.run_id > run_id, r.status == RunStatus.DONE)
    )
    if this.collaboration is None:
        query = query.where(r.collaboration.is_(None))
    else:
        query = query.where(
            sa.or_(r.collaboration.is_(None), r.collaboration == this.collaboration)
        )
    national = sa.or_(t.role.is_(None), t.role != Role.REGION.value)
    if this.region is None:
        query = query.where(national)
    else:
        query = query.where(
            sa.or_(national, sa.and_(t.region == this.region, p.home_region == this.region))
        )
    newer: int | None = conn.execute(query).scalar()
    return newer


def _check_slot_free(conn: Connection, proposal: Proposal, day: dt.date) -> None:
    """:class:`Conflict` when the declared free slots of the proposed day are all held by
    accepted bookings."""
    key = (str(proposal.department_id), str(proposal.collaboration), str(proposal.procedure))
    declared = tables.declared_free_slots(conn, *key, day)
    held = tables.held_by_acceptances(conn)
    taken = held.loc[
        (held["department_id"] == key[0])
        & (held["collaboration"] == key[1])
        & (held["procedure"] == key[2])
        & (held["date"] == pd.Timestamp(day)),
        "held",
    ].sum()
    if taken >= declared:
        raise Conflict(
            f"the slot at {key[0]} on {day.isoformat()} is no longer free "
            f"({declared} declared, {int(taken)} already accepted); solve again",
        )


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def latest_decisions(conn: Connection, run_id: int) -> dict[str, dict[str, Any]]:
    """Per patient of the run, the decision that stands: the last accept/reject, else a hold."""
    d = tables.decisions.c
    rows = conn.execute(
        sa.select(d.patient_id, d.decision, d.reason)
        .where(d.run_id == run_id)
        .order_by(d.decided_at, d.decision_id)
    )
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        standing = latest.get(row.patient_id)
        if standing is None or standing["decision"] == "hold" or row.decision != "hold":
            latest[row.patient_id] = {"decision": row.decision, "reason": row.reason}
    return latest


def standing_decisions(conn: Connection, patient_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per patient, the newest decision on any run that still stands, so holds and decisions
    carry over from run to run until acted on: ``decision``, ``run_id``, ``reason``,
    ``decided_at``, and for an accept its offer's id and status (workflow.referrals).

    A hold stands until a later accept or reject of the patient; an accept while its offer is
    open or booked; a rejection stands for its department for good.
    """
    if not patient_ids:
        return {}
    d, o = tables.decisions.c, schema.referral_offers.c
    newest_first = (d.decided_at.desc(), d.decision_id.desc())
    decided = (
        sa.select(
            d.patient_id,
            d.run_id,
            d.decision,
            d.reason,
            d.decided_at,
            d.department_id,
            sa.func.row_number().over(partition_by=d.patient_id, order_by=newest_first).label("n"),
        )
        .where(d.patient_id.in_(patient_ids))
        .subquery()
    )
    offered = (  # the newest offer an accept on a run made, per patient and run
        sa.select(o.patient_id, o.run_id, sa.func.max(o.offer_id).label("offer_id"))
        .where(o.patient_id.in_(patient_ids))
        .group_by(o.patient_id, o.run_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(decided, o.offer_id, o.status)
        .outerjoin(
            offered,
            (offered.c.patient_id == decided.c.patient_id)
            & (offered.c.run_id == decided.c.run_id)
            & (decided.c.decision == Verdict.ACCEPT.value),
        )
        .outerjoin(schema.referral_offers, o.offer_id == offered.c.offer_id)
        .where(decided.c.n == 1)
    )
    standing: dict[str, dict[str, Any]] = {}
    for row in rows:
        standing[row.patient_id] = {
            "decision": row.decision,
            "run_id": row.run_id,
            "department_id": row.department_id,
            "reason": row.reason,
            "decided_at": row.decided_at.isoformat(),
        } | ({} if row.offer_id is None else {"offer_id": row.offer_id, "offer_status": row.status})
    return standing
