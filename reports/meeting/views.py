"""The meeting built for one caller: their visible proposals of a run in the collaboration as
rows grouped by sending and receiving department, the key figures, the heatmap and the at-risk
list (:func:`build_meeting`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from capacity.vocabulary import Action, ProviderType
from reports.meeting import agenda
from reports.meeting.agenda import Standing, alternatives_of
from reports.meeting.formats import number
from reports.meeting.model import (
    AGENDA_REASONS,
    AT_RISK_DAYS,
    PAGE_SIZE,
    SORT_KEYS,
    Filters,
    Meeting,
    ProposalGroup,
    ProposalRow,
)
from reports.meeting.queries import at_risk_patients, capacity_overview, department_names
from reports.meeting.text import LANGUAGES, TEXT, method_text
from workflow import runs
from workflow.access import Principal
from workflow.duty_to_act import duty_to_act
from workflow.proposals import Proposal
from workflow.runs import SolveRun


def _row(
    proposal: Proposal,
    standing: Standing | None,
    at_risk_ids: set[str],
    today: dt.date,
    lang: str,
    names: Mapping[str, str],
) -> ProposalRow:
    deadline = proposal.deadline or ""
    active = (proposal.deadline_status or "active") == "active" and bool(deadline)
    days_to = (dt.date.fromisoformat(deadline) - today).days if active else None
    return ProposalRow(
        patient_id=proposal.patient_id,
        procedure=proposal.procedure or "",
        home_region=proposal.home_region or "",
        home_department_id=proposal.home_department_id or "",
        deadline=proposal.deadline or "",
        booked_department_id=proposal.booked_department_id or "",
        booked_date=proposal.booked_date or "",
        department_id=proposal.department_id or "",
        region=proposal.region or "",
        date=proposal.date or "",
        travel_km=proposal.travel_km,
        provider_type=proposal.provider_type or "",
        action=proposal.action,
        days_late=proposal.days_late,
        breach=bool(proposal.breach) and active,
        reason=proposal.reason or "",
        at_risk=active
        and (
            bool(proposal.breach)
            or proposal.action == Action.UNASSIGNED
            or proposal.patient_id in at_risk_ids
        ),
        decision=standing.decision if standing else None,
        decision_reason=standing.reason if standing else None,
        decision_run_id=standing.run_id if standing else None,
        decided_by=standing.decided_by if standing else None,
        decided_at=standing.decided_at if standing else None,
        offer_status=standing.offer_status if standing else None,
        decision_department_id=standing.department_id if standing else None,
        decision_date=standing.date if standing else None,
        deadline_active=active,
        days_to_deadline=days_to,
        reason_text=reason_text(proposal, lang, names),
        alternatives=alternatives_of(proposal, lang),
    )


def reason_text(proposal: Proposal, lang: str, names: Mapping[str, str]) -> str:
    """The proposal's reason in ``lang``, from its structured reason where the run stored one."""
    try:
        from reports.meeting.reasons import reason_text as render
    except ImportError:  # pragma: no cover - until the structured reasons land
        return proposal.reason or ""
    return str(render(proposal, lang, names))


def _decidable(row: ProposalRow, run_id: int) -> bool:
    """A new or moved slot not yet accepted or rejected on this run."""
    decided_here = row.decision_run_id == run_id and row.decision in ("accept", "reject")
    return row.action in (Action.NEW, Action.MOVE) and not decided_here


def _matches(row: ProposalRow, filters: Filters) -> bool:
    if filters.region and filters.region not in (row.home_region, row.region):
        return False
    if filters.department and filters.department not in (
        row.home_department_id,
        row.department_id,
    ):
        return False
    if filters.action and row.action != filters.action:
        return False
    if filters.provider_type and row.provider_type != filters.provider_type:
        return False
    if filters.away and row.department_id in ("", row.home_department_id):
        return False
    return not (filters.at_risk and not row.at_risk)


def sort_rows(rows: Iterable[ProposalRow], sort: str) -> list[ProposalRow]:
    """Rows sorted by ``sort`` (a :data:`SORT_KEYS` key, ``-`` for descending), blanks last."""
    key = SORT_KEYS.get(sort.lstrip("-"), "deadline")
    descending = sort.startswith("-")
    rows = sorted(rows, key=lambda r: r.patient_id)
    present = [r for r in rows if getattr(r, key) not in (None, "")]
    blank = [r for r in rows if getattr(r, key) in (None, "")]
    present.sort(key=lambda r: getattr(r, key), reverse=descending)
    return present + blank


def group_rows(
    rows: Iterable[ProposalRow], names: Mapping[str, str], sort: str
) -> tuple[ProposalGroup, ...]:
    """Proposals grouped by sending (home) and receiving department, each group sorted."""
    groups: dict[tuple[str, str], list[ProposalRow]] = {}
    for row in rows:
        groups.setdefault((row.home_department_id, row.department_id), []).append(row)

    def order(key: tuple[str, str]) -> tuple[str, int, str]:
        sending, receiving = key
        # within a sending department: its own slots first, then others, unassigned last
        rank = 0 if receiving == sending else (2 if not receiving else 1)
        return (names.get(sending, sending), rank, names.get(receiving, receiving))

    return tuple(
        ProposalGroup(
            sending=sending,
            sending_name=names.get(sending, sending),
            receiving=receiving,
            receiving_name=names.get(receiving, receiving) if receiving else "",
            rows=tuple(sort_rows(groups[(sending, receiving)], sort)),
        )
        for sending, receiving in sorted(groups, key=order)
    )


def _details(run: SolveRun, lang: str) -> tuple[tuple[str, str], ...]:
    """What the solver proves and how, for the details panel (not the key figures)."""
    t = TEXT[lang]
    proof = run.proof or {}
    tiers = run.tiers or {}
    details = [
        (t["kpi_unassigned"], number(tiers.get("unassigned"), lang)),
        (t["kpi_breaches"], number(tiers.get("breaches"), lang)),
        (t["kpi_days_late"], number(tiers.get("days_late"), lang)),
        (
            f"{t['kpi_certificate']} ({method_text(str(proof.get('method', '')), lang)})",
            t["verified"]
            if proof.get("certificate") == "verified"
            else str(proof.get("certificate") or ""),
        ),
    ]
    if run.snapshot_id:
        details.append((t["snapshot"], str(run.snapshot_id)))
    return tuple((label, value) for label, value in details if value)


def _page_of(rows: list[ProposalRow], page: int) -> tuple[tuple[ProposalRow, ...], int, int]:
    """One page of ``rows`` (:data:`PAGE_SIZE` a page), the page number used, and the count."""
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return tuple(rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]), page, pages


def build_meeting(
    conn: Connection,
    who: Principal,
    run: SolveRun,
    *,
    collaboration: str,
    week: str,
    today: dt.date | None = None,
    filters: Filters | None = None,
    lang: str = "da",
    at_risk_days: int = AT_RISK_DAYS,
    duty: bool = True,
) -> Meeting:
    """The meeting's content for ``who``: their visible proposals of ``run`` in the collaboration.

    The agenda holds what needs the meeting (:mod:`reports.meeting.agenda`), most urgent first
    across departments; ``filters`` narrow the agenda or the full list (``view="all"``, one
    page of :data:`PAGE_SIZE` rows at a time). Key figures count every visible proposal of the
    collaboration against current practice. ``today`` (the run's date by default) anchors the
    at-risk list and the days to each deadline.
    """
    filters = filters or Filters()
    lang = lang if lang in LANGUAGES else "da"
    today = today or run.today
    proposals = [
        p for p in runs.visible_proposals(conn, who, run.run_id) if p.collaboration == collaboration
    ]
    by_patient = {p.patient_id: p for p in proposals}
    at_risk = at_risk_patients(conn, who, collaboration, today, at_risk_days, by_patient)
    at_risk_ids = {r.patient_id for r in at_risk}
    standing = agenda.standing_decisions(conn, run.run_id, list(by_patient))
    names = department_names(conn)
    duty_list = tuple(duty_to_act(conn.engine, who, today, collaboration=collaboration))
    duty_ids = {d.patient_id for d in duty_list}
    takers = agenda.slot_takers(proposals)
    rows = []
    for proposal in proposals:
        row = _row(proposal, standing.get(proposal.patient_id), at_risk_ids, today, lang, names)
        extra: dict[str, Any] = {"needs_decision": _decidable(row, run.run_id)}
        if row.action == Action.MOVE and row.booked_department_id and row.booked_date:
            freed = takers.get((row.booked_department_id, row.booked_date), ())
            extra["slot_to"] = tuple(t for t in freed if t.patient_id != row.patient_id)
        row = replace(row, **extra)
        rows.append(replace(row, agenda=agenda.agenda_reasons(row, duty_ids)))
    on_agenda = agenda.by_urgency(r for r in rows if r.agenda)
    shown = [r for r in rows if _matches(r, filters)]
    if filters.view == "agenda":
        listed = [r for r in on_agenda if _matches(r, filters)]
        if filters.sort != "urgency":
            listed = sort_rows(listed, filters.sort)
        page_rows, page, pages = tuple(listed), 1, 1
    else:
        listed = sort_rows(shown, filters.sort)
        page_rows, page, pages = _page_of(listed, filters.page)
    weeks, capacity = capacity_overview(conn, who, collaboration, week)
    options = {
        "region": tuple(sorted(({r.home_region for r in rows} | {r.region for r in rows}) - {""})),
        "department": tuple(
            sorted(
                ({r.home_department_id for r in rows} | {r.department_id for r in rows}) - {""},
                key=lambda d: names.get(d, d),
            )
        ),
        "action": tuple(a.value for a in Action),
        "provider_type": tuple(p.value for p in ProviderType),
    }
    paused = sum(not r.deadline_active for r in rows)
    figures = agenda.figures(rows, on_agenda, len(at_risk), at_risk_days, paused, run.kpis, lang)
    return Meeting(
        collaboration=collaboration,
        week=week,
        today=today,
        run=run,
        lang=lang,
        filters=replace(filters, page=page),
        groups=group_rows(shown, names, filters.sort),
        kpis=tuple(
            (f.label, f.text if not f.baseline_text else f"{f.text} ({f.baseline_text})")
            for f in figures
        ),
        weeks=weeks,
        capacity=capacity,
        at_risk=at_risk,
        at_risk_days=at_risk_days,
        departments=names,
        options=options,
        total_proposals=len(rows),
        duty_to_act=duty_list if duty else (),
        agenda=tuple(on_agenda),
        agenda_sending=agenda.counts(r.home_department_id for r in on_agenda),
        agenda_receiving=agenda.counts(r.department_id for r in on_agenda if r.away),
        agenda_reasons=tuple(
            (reason, sum(reason in r.agenda for r in on_agenda))
            for reason in AGENDA_REASONS
            if any(reason in r.agenda for r in on_agenda)
        ),
        rest=agenda.rest_summary(r for r in rows if not r.agenda),
        page_rows=page_rows,
        view_total=len(listed),
        pages=pages,
        figures=figures,
        regions=agenda.region_figures(rows, run.kpis),
        details=_details(run, lang),
        paused=paused,
        stale_capacity=tuple((run.kpis or {}).get("stale_capacity") or ()),
    )
