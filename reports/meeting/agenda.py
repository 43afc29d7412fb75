"""The meeting's agenda: of a run's proposals, what needs the chairs, most urgent first.

A proposal is on the agenda when it is a referral away from the home department, a projected
breach (or no slot at all), a booking moved later, a hold or an open offer from an earlier
meeting, or a patient on the duty-to-act list. Everything else — bookings kept, patients placed
at home — is summarised, one click away. Decisions stand across runs: each row shows the newest
decision on its patient, who made it and when.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from capacity.storage import schema
from capacity.vocabulary import Action
from reports.meeting.formats import number, signed
from reports.meeting.model import (
    AGENDA_REASONS,
    AlternativeView,
    Figure,
    ProposalRow,
    RegionFigures,
    SlotTaker,
)
from reports.meeting.reasons import why_not_text
from reports.meeting.text import TEXT
from workflow import tables
from workflow.proposals import Proposal
from workflow.referrals import OPEN


@dataclass(frozen=True)
class Standing:
    """The newest decision on a patient up to a run: what, on which run, by whom and when."""

    decision: str
    run_id: int
    department_id: str | None
    reason: str | None
    decided_at: dt.datetime | None
    decided_by: str | None
    offer_status: str | None = None
    #: The day an accept booked (ISO), if any.
    date: str | None = None


def standing_decisions(
    conn: Connection, run_id: int, patient_ids: Sequence[str]
) -> dict[str, Standing]:
    """Per patient, the decision that stands on ``run_id`` or carries over from an earlier run:
    the run's own accept or reject first, else the newest decision on the patient up to this
    run (a hold, an accept whose offer is open or booked, an earlier rejection), with the name
    of the token that made it and, for an accept, its offer's status."""
    if not patient_ids:
        return {}
    d, t, o = tables.decisions.c, tables.api_tokens.c, schema.referral_offers.c
    rows = conn.execute(
        sa.select(
            d.patient_id,
            d.run_id,
            d.decision,
            d.department_id,
            d.date,
            d.reason,
            d.decided_at,
            d.decision_id,
            t.name.label("decided_by"),
        )
        .outerjoin(tables.api_tokens, t.token_id == d.token_id)
        .where(d.run_id <= run_id, d.patient_id.in_(list(patient_ids)))
        .order_by(d.decided_at, d.decision_id)
    ).all()
    offers = {
        (row.patient_id, row.run_id): str(row.status)
        for row in conn.execute(
            sa.select(o.patient_id, o.run_id, o.status)
            .where(o.patient_id.in_(list(patient_ids)), o.run_id <= run_id)
            .order_by(o.offer_id)
        )
    }
    this_run: dict[str, Standing] = {}
    newest: dict[str, Standing] = {}
    for row in rows:
        standing = Standing(
            decision=str(row.decision),
            run_id=int(row.run_id),
            department_id=row.department_id,
            date=row.date.isoformat() if row.date else None,
            reason=row.reason,
            decided_at=row.decided_at,
            decided_by=row.decided_by,
            offer_status=offers.get((row.patient_id, row.run_id))
            if row.decision == "accept"
            else None,
        )
        newest[row.patient_id] = standing
        if row.run_id == run_id:
            kept = this_run.get(row.patient_id)
            if kept is None or kept.decision == "hold" or standing.decision != "hold":
                this_run[row.patient_id] = standing
    return newest | this_run


def agenda_reasons(row: ProposalRow, duty_ids: set[str]) -> tuple[str, ...]:
    """Why ``row`` needs the meeting (:data:`AGENDA_REASONS`, in that order); () when not."""
    found = {
        "breach": row.breach,
        "unassigned": row.action == Action.UNASSIGNED,
        "away": row.away and row.action in (Action.NEW, Action.MOVE),
        "moved_later": row.action == Action.MOVE
        and bool(row.booked_date)
        and (row.date > row.booked_date or row.department_id != row.booked_department_id),
        "held": row.decision == "hold",
        "open_offer": row.decision == "accept" and row.offer_status in {s.value for s in OPEN},
        "duty": row.patient_id in duty_ids,
    }
    return tuple(reason for reason in AGENDA_REASONS if found[reason])


def by_urgency(rows: Iterable[ProposalRow]) -> list[ProposalRow]:
    """Nearest deadline first (passed ones first of all, paused clocks last), then days late."""
    return sorted(rows, key=lambda r: r.urgency)


def counts(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """``(value, count)`` most frequent first, ties by value."""
    counted = Counter(v for v in values if v)
    return tuple(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


def rest_summary(rows: Iterable[ProposalRow]) -> tuple[tuple[str, int], ...]:
    """The proposals not on the agenda, by what they are: kept bookings, new at home, moved
    earlier, other."""
    kinds: Counter[str] = Counter()
    for row in rows:
        if row.action == Action.KEEP:
            kinds["rest_kept"] += 1
        elif row.action == Action.NEW and not row.away:
            kinds["rest_home"] += 1
        elif row.action == Action.MOVE:
            kinds["rest_moved_earlier"] += 1
        else:
            kinds["rest_other"] += 1
    order = ("rest_kept", "rest_home", "rest_moved_earlier", "rest_other")
    return tuple((kind, kinds[kind]) for kind in order if kinds[kind])


def slot_takers(
    proposals: Sequence[Proposal],
) -> dict[tuple[str, str], tuple[SlotTaker, ...]]:
    """Per (department, day), the patients a run newly places there (new or moved slots)."""
    takers: dict[tuple[str, str], list[SlotTaker]] = {}
    for p in proposals:
        if p.action in (Action.NEW, Action.MOVE) and p.department_id and p.date:
            takers.setdefault((p.department_id, p.date), []).append(
                SlotTaker(patient_id=p.patient_id, deadline=p.deadline or "")
            )
    return {key: tuple(found) for key, found in takers.items()}


def _field(option: Any, name: str, default: Any = None) -> Any:
    if isinstance(option, Mapping):
        return option.get(name, default)
    return getattr(option, name, default)


def alternatives_of(proposal: Proposal, lang: str) -> tuple[AlternativeView, ...]:
    """The proposal's stored alternatives not chosen, with their cost in the page's words."""
    stored = getattr(proposal, "alternatives", None) or ()
    views = []
    for option in stored:
        department = _field(option, "department_id")
        day = _field(option, "date")
        if not department or not day:
            continue
        km = _field(option, "travel_km", _field(option, "alternative_km"))
        view = AlternativeView(
            department_id=str(department),
            date=str(day),
            travel_km=None if km is None else float(km),
            category=str(_field(option, "category", "") or ""),
            extra_unassigned=int(_field(option, "extra_unassigned", 0) or 0),
            extra_breaches=int(_field(option, "extra_breaches", 0) or 0),
            extra_days_late=int(_field(option, "extra_days_late", 0) or 0),
        )
        if _field(option, "why_not"):  # the solver's structured why-not (exact, in words)
            views.append(replace(view, cost_text=why_not_text(option, lang)))
        else:  # a run stored before the structured why-not: from the tier costs and km
            views.append(_with_cost(view, proposal.travel_km, lang))
    return tuple(views)


def _with_cost(view: AlternativeView, chosen_km: float | None, lang: str) -> AlternativeView:
    t = TEXT[lang]
    if view.extra_unassigned > 0:
        text = t["alt_unassigned"].format(n=view.extra_unassigned)
    elif view.extra_breaches > 0:
        text = t["alt_breaches"].format(
            n=view.extra_breaches, days=signed(view.extra_days_late, lang)
        )
    elif view.extra_days_late > 0:
        text = t["alt_days"].format(days=view.extra_days_late)
    elif view.travel_km is not None and chosen_km is not None and view.travel_km > chosen_km + 0.5:
        text = t["alt_further"].format(km=number(view.travel_km - chosen_km, lang))
    elif view.travel_km is not None and chosen_km is not None and view.travel_km < chosen_km - 0.5:
        text = t["alt_nearer_policy"].format(km=number(chosen_km - view.travel_km, lang))
    else:
        text = t["alt_policy"]
    return AlternativeView(**{**view.__dict__, "cost_text": text})


def figures(
    rows: Sequence[ProposalRow],
    agenda: Sequence[ProposalRow],
    at_risk: int,
    at_risk_days: int,
    paused: int,
    kpis: Mapping[str, Any] | None,
    lang: str,
) -> tuple[Figure, ...]:
    """The key figures that argue the case: breaches and days late against current practice,
    what needs deciding, the at-risk count, referrals away and travel, decisions so far."""
    t = TEXT[lang]
    baseline = (kpis or {}).get("baseline") or {}
    breaches = sum(r.breach for r in rows)
    days_late = sum(r.days_late or 0 for r in rows if r.deadline_active)
    unassigned = sum(r.action == Action.UNASSIGNED for r in rows)
    away = sum(r.away and r.action in (Action.NEW, Action.MOVE) for r in rows)
    travel = sum(r.travel_km or 0.0 for r in rows)
    decided = Counter(r.decision for r in rows if r.decision and r.decision_run_id)
    to_decide = sum(r.needs_decision for r in agenda)
    scoped = _scoped_baseline(baseline, rows)

    def figure(key: str, value: float | int, base: float | int | None = None) -> Figure:
        return Figure(
            key=key,
            label=t[f"fig_{key}"].format(days=at_risk_days),
            value=value,
            text=number(value, lang),
            baseline=base,
            baseline_text="" if base is None else number(base, lang),
        )

    return (
        figure("breaches", breaches, scoped.get("breaches")),
        figure("days_late", days_late, scoped.get("days_late")),
        figure("unassigned", unassigned, scoped.get("unassigned")),
        figure("to_decide", to_decide),
        figure("agenda", len(agenda)),
        figure("at_risk", at_risk),
        figure("paused", paused),
        figure("away", away),
        figure("travel", round(travel)),
        figure("patients", len(rows)),
        Figure(
            key="decided",
            label=t["fig_decided"],
            value=decided["accept"] + decided["reject"] + decided["hold"],
            text=f"{decided['accept']} / {decided['reject']} / {decided['hold']}",
        ),
    )


def _scoped_baseline(baseline: Mapping[str, Any], rows: Sequence[ProposalRow]) -> dict[str, int]:
    """Current practice's counts for the regions the caller sees (all when they see all)."""
    by_region = baseline.get("by_region") or {}
    regions = {r.home_region for r in rows}
    if not by_region or not regions:
        return {}
    if set(by_region) <= regions:
        return {
            k: int(baseline[k]) for k in ("breaches", "days_late", "unassigned") if k in baseline
        }
    totals: Counter[str] = Counter()
    for region in regions:
        for key, value in (by_region.get(region) or {}).items():
            totals[key] += int(value)
    return dict(totals)


def region_figures(
    rows: Sequence[ProposalRow], kpis: Mapping[str, Any] | None
) -> tuple[RegionFigures, ...]:
    """Per home region: breaches and days late with sharing, and under current practice."""
    by_region = ((kpis or {}).get("baseline") or {}).get("by_region") or {}
    out = []
    for region in sorted({r.home_region for r in rows if r.home_region}):
        mine = [r for r in rows if r.home_region == region]
        base = by_region.get(region) or {}
        out.append(
            RegionFigures(
                region=region,
                patients=len(mine),
                breaches=sum(r.breach for r in mine),
                days_late=sum(r.days_late or 0 for r in mine if r.deadline_active),
                baseline_breaches=base.get("breaches"),
                baseline_days_late=base.get("days_late"),
            )
        )
    return tuple(out)
