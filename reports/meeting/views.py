"""The meeting built for one caller: their visible proposals of a run in the collaboration as
rows grouped by sending and receiving department, the key figures, the heatmap and the at-risk
list (:func:`build_meeting`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection

from capacity.vocabulary import Action, ProviderType
from reports.meeting.model import (
    AT_RISK_DAYS,
    SORT_KEYS,
    AtRiskRow,
    Filters,
    Meeting,
    ProposalGroup,
    ProposalRow,
)
from reports.meeting.queries import at_risk_patients, capacity_overview, department_names
from reports.meeting.text import LANGUAGES, TEXT, method_text
from workflow import decisions, runs
from workflow.access import Principal
from workflow.decisions import Verdict
from workflow.duty_to_act import duty_to_act
from workflow.proposals import Proposal
from workflow.runs import SolveRun


def _row(
    proposal: Proposal,
    decided: Mapping[str, Any] | None,
    at_risk_ids: set[str],
) -> ProposalRow:
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
        breach=bool(proposal.breach),
        reason=proposal.reason or "",
        at_risk=bool(proposal.breach)
        or proposal.action == Action.UNASSIGNED
        or proposal.patient_id in at_risk_ids,
        decision=decided["decision"] if decided else None,
        decision_reason=decided["reason"] if decided else None,
        decision_run_id=decided.get("run_id") if decided else None,
    )


def _decisions(conn: Connection, run_id: int, patient_ids: list[str]) -> dict[str, Any]:
    """Per patient, the decision that stands on ``run_id`` (workflow's), else a hold made on an
    earlier run that still stands (holds carry over from run to run until acted on)."""
    decided: dict[str, Any] = decisions.latest_decisions(conn, run_id)
    undecided = [patient_id for patient_id in patient_ids if patient_id not in decided]
    for patient_id, standing in decisions.standing_decisions(conn, undecided).items():
        if standing["decision"] == Verdict.HOLD and standing["run_id"] < run_id:
            decided[patient_id] = standing
    return decided


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


def _kpis(
    run: SolveRun,
    rows: list[ProposalRow],
    at_risk: tuple[AtRiskRow, ...],
    days: int,
    lang: str,
) -> tuple[tuple[str, str], ...]:
    """Key figures of the collaboration's proposals (as the caller may see them)."""
    t = TEXT[lang]
    count = {a: sum(r.action == a for r in rows) for a in Action}
    decided = {d: sum(r.decision == d for r in rows) for d in ("accept", "reject", "hold")}
    out_of_region = sum(1 for r in rows if r.region and r.region != r.home_region)
    private = sum(r.provider_type == ProviderType.PRIVATE for r in rows)
    foreign = sum(r.provider_type == ProviderType.FOREIGN for r in rows)
    travel = sum(r.travel_km or 0.0 for r in rows)
    proof = run.proof or {}
    return (
        (t["kpi_patients"], str(len(rows))),
        (t["kpi_unassigned"], str(count[Action.UNASSIGNED])),
        (t["kpi_breaches"], str(sum(r.breach for r in rows))),
        (t["kpi_days_late"], str(sum(r.days_late or 0 for r in rows))),
        (
            t["kpi_actions"],
            f"{count[Action.KEEP]} / {count[Action.MOVE]} / {count[Action.NEW]}",
        ),
        (t["kpi_out_of_region"], f"{out_of_region} / {private} / {foreign}"),
        (t["kpi_travel"], f"{travel:,.0f}".replace(",", "." if lang == "da" else ",")),
        (
            t["kpi_decided"],
            f"{decided['accept']} / {decided['reject']} / {decided['hold']}",
        ),
        (t["kpi_at_risk"].format(days=days), str(len(at_risk))),
        (
            f"{t['kpi_certificate']} ({method_text(str(proof.get('method', '')), lang)})",
            t["verified"]
            if proof.get("certificate") == "verified"
            else str(proof.get("certificate")),
        ),
    )


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

    Key figures count every visible proposal of the collaboration; ``filters`` narrow the rows
    shown. ``today`` (the run's date by default) anchors the at-risk list.
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
    decided = _decisions(conn, run.run_id, list(by_patient))
    rows = [_row(p, decided.get(p.patient_id), at_risk_ids) for p in proposals]
    names = department_names(conn)
    shown = [r for r in rows if _matches(r, filters)]
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
    duty_list = (
        tuple(duty_to_act(conn.engine, who, today, collaboration=collaboration)) if duty else ()
    )
    return Meeting(
        collaboration=collaboration,
        week=week,
        today=today,
        run=run,
        lang=lang,
        filters=filters,
        groups=group_rows(shown, names, filters.sort),
        kpis=_kpis(run, rows, at_risk, at_risk_days, lang),
        weeks=weeks,
        capacity=capacity,
        at_risk=at_risk,
        at_risk_days=at_risk_days,
        departments=names,
        options=options,
        total_proposals=len(rows),
        duty_to_act=duty_list,
    )
