"""The collaboration meeting's content, built once: proposals grouped by sending and receiving
department, key figures, the capacity heatmap and the at-risk list.

The review page (``api.routers.web``) and the meeting pack (``kapacitet report meeting``:
HTML, PDF, Excel) both render a :class:`Meeting`, so what the chairs discuss on screen is what
they print. Runs, proposals and decisions come from :mod:`api.runs` (the same scoping and the
same audit log as the JSON API); the queries here only read.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection

from api import runs, store
from api.schemas import SolveRun
from api.security import Principal, Role
from capacity import calendar
from capacity.storage import HORIZON_WEEKS, schema
from capacity.vocabulary import DANISH_LABELS, Action, ProviderType, is_foreign_region

TEMPLATES = Path(__file__).with_name("templates")
LANGUAGES = ("da", "en")
#: Days ahead the at-risk list looks by default (the early warning's N).
AT_RISK_DAYS = 7

#: The page's and the pack's own words; domain values come from ``DANISH_LABELS``.
TEXT: dict[str, dict[str, str]] = {
    "da": {
        "title": "Forslag til samarbejdsmødet",
        "review": "Forslag",
        "capacity": "Kapacitet",
        "at_risk": "I risiko",
        "collaboration": "Samarbejde",
        "week": "Uge",
        "run": "Kørsel",
        "today": "Dato",
        "patient": "Pseudonym",
        "procedure": "Ydelse",
        "deadline": "Frist",
        "booking": "Nuværende booking",
        "proposed": "Foreslået tid",
        "travel_km": "Afstand (km)",
        "provider_type": "Udbyder",
        "reason": "Begrundelse",
        "action": "Handling",
        "decision": "Beslutning",
        "days_late": "Dage for sent",
        "region": "Region",
        "department": "Afdeling",
        "sending": "Fra (hjemafdeling)",
        "receiving": "Til (modtagende afdeling)",
        "none": "ingen",
        "all": "alle",
        "unassigned_slot": "ingen ledig tid",
        "proposals": "forslag",
        "kpis": "Nøgletal",
        "kpi_patients": "Patienter",
        "kpi_unassigned": "Uden tid (niveau 1)",
        "kpi_breaches": "Fristoverskridelser (niveau 2)",
        "kpi_days_late": "Dage for sent (niveau 3)",
        "kpi_actions": "Behold / flyt / ny",
        "kpi_out_of_region": "Uden for regionen / privat / udland",
        "kpi_travel": "Samlet afstand (km)",
        "kpi_certificate": "Optimalitet niveau 1-3",
        "kpi_decided": "Accepteret / afvist / afventer",
        "kpi_at_risk": "I risiko inden for {days} dage",
        "accept": "accepteret",
        "reject": "afvist",
        "hold": "afventer",
        "capacity_title": "Ledige tider mod efterspørgsel pr. afdeling og uge",
        "capacity_note": (
            "Hver celle: ledige tider / efterspørgsel (patienter uden en booking inden fristen, "
            "efter hjemafdeling og fristens uge; overskredne frister tælles i første uge)."
        ),
        "free": "ledige",
        "demand": "efterspørgsel",
        "legend": "Forklaring",
        "scale_none": "ingen ledige tider og ingen efterspørgsel",
        "scale_surplus": "overskud (mindst 1,5 × efterspørgsel)",
        "scale_balanced": "dækket (1-1,5 ×)",
        "scale_short": "underskud (0,5-1 ×)",
        "scale_severe": "stort underskud (under 0,5 ×)",
        "at_risk_title": "Patienter i risiko",
        "at_risk_note": (
            "Aktive frister inden for {days} dage fra {today}, uden booking på eller før fristen."
        ),
        "days_left": "Dage til frist",
        "overdue": "overskredet",
        "no_patients": "Ingen patienter.",
        "generated": "Udskrevet",
        "certificate": "certifikat",
        "verified": "certifikat verificeret",
    },
    "en": {
        "title": "Proposals for the collaboration meeting",
        "review": "Proposals",
        "capacity": "Capacity",
        "at_risk": "At risk",
        "collaboration": "Collaboration",
        "week": "Week",
        "run": "Run",
        "today": "Date",
        "patient": "Pseudonym",
        "procedure": "Procedure",
        "deadline": "Deadline",
        "booking": "Current booking",
        "proposed": "Proposed slot",
        "travel_km": "Travel (km)",
        "provider_type": "Provider type",
        "reason": "Reason",
        "action": "Action",
        "decision": "Decision",
        "days_late": "Days late",
        "region": "Region",
        "department": "Department",
        "sending": "From (home department)",
        "receiving": "To (receiving department)",
        "none": "none",
        "all": "all",
        "unassigned_slot": "no free slot",
        "proposals": "proposals",
        "kpis": "Key figures",
        "kpi_patients": "Patients",
        "kpi_unassigned": "Unassigned (tier 1)",
        "kpi_breaches": "Breaches (tier 2)",
        "kpi_days_late": "Days late (tier 3)",
        "kpi_actions": "Kept / moved / new",
        "kpi_out_of_region": "Out of region / private / foreign",
        "kpi_travel": "Total travel (km)",
        "kpi_certificate": "Optimality of tiers 1-3",
        "kpi_decided": "Accepted / rejected / on hold",
        "kpi_at_risk": "At risk within {days} days",
        "accept": "accepted",
        "reject": "rejected",
        "hold": "on hold",
        "capacity_title": "Free slots against demand per department and week",
        "capacity_note": (
            "Each cell: free slots / demand (patients without a booking by their deadline, by "
            "home department and the deadline's week; passed deadlines count in the first week)."
        ),
        "free": "free",
        "demand": "demand",
        "legend": "Legend",
        "scale_none": "no free slots and no demand",
        "scale_surplus": "surplus (at least 1.5 × demand)",
        "scale_balanced": "covered (1-1.5 ×)",
        "scale_short": "short (0.5-1 ×)",
        "scale_severe": "severe shortage (under 0.5 ×)",
        "at_risk_title": "Patients at risk",
        "at_risk_note": (
            "Active deadlines within {days} days of {today}, with no booking on or before the "
            "deadline."
        ),
        "days_left": "Days to deadline",
        "overdue": "overdue",
        "no_patients": "No patients.",
        "generated": "Printed",
        "certificate": "certificate",
        "verified": "certificate verified",
    },
}

#: Danish words for the proposal actions (the vocabulary's DANISH_LABELS has no actions).
ACTION_LABELS_DA: dict[str, str] = {
    Action.KEEP: "behold",
    Action.MOVE: "flyt",
    Action.NEW: "ny",
    Action.UNASSIGNED: "uden tid",
}

#: Ways the proposals can be sorted (``-`` in front of a key sorts descending).
SORT_KEYS: dict[str, str] = {
    "deadline": "deadline",
    "patient": "patient_id",
    "date": "date",
    "travel_km": "travel_km",
    "days_late": "days_late",
    "procedure": "procedure",
}

#: Heatmap classes from the ratio of free slots to demand, most constrained last.
SCALE = ("none", "surplus", "balanced", "short", "severe")


def term(value: Any, lang: str) -> str:
    """A domain value in the page's language: Danish labels by default, the code in English."""
    text = "" if value is None else str(value)
    if lang == "en":
        return text.replace("_", " ")
    return ACTION_LABELS_DA.get(text) or DANISH_LABELS.get(text, text)


@dataclass(frozen=True)
class Filters:
    """What the reviewer narrowed the proposals to, and how they are sorted."""

    region: str | None = None
    department: str | None = None
    action: str | None = None
    provider_type: str | None = None
    at_risk: bool = False
    away: bool = False
    sort: str = "deadline"

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        """Filters from query parameters; unknown values are ignored, blanks mean 'all'."""
        sort = params.get("sort") or "deadline"
        if sort.lstrip("-") not in SORT_KEYS:
            sort = "deadline"
        action = params.get("action") or None
        provider = params.get("provider_type") or None
        return cls(
            region=params.get("region") or None,
            department=params.get("department") or None,
            action=action if action in set(Action) else None,
            provider_type=provider if provider in set(ProviderType) else None,
            at_risk=params.get("at_risk") in ("1", "on", "true"),
            away=params.get("away") in ("1", "on", "true"),
            sort=sort,
        )

    def query(self, **changes: Any) -> dict[str, str]:
        """These filters (with ``changes``) as query parameters, blanks left out."""
        chosen = replace(self, **changes)
        params = {
            "region": chosen.region,
            "department": chosen.department,
            "action": chosen.action,
            "provider_type": chosen.provider_type,
            "at_risk": "1" if chosen.at_risk else None,
            "away": "1" if chosen.away else None,
            "sort": None if chosen.sort == "deadline" else chosen.sort,
        }
        return {k: v for k, v in params.items() if v}


@dataclass(frozen=True)
class ProposalRow:
    """One proposal as the meeting sees it, with the decision already taken on it (if any)."""

    patient_id: str
    procedure: str
    home_region: str
    home_department_id: str
    deadline: str
    booked_department_id: str
    booked_date: str
    department_id: str
    region: str
    date: str
    travel_km: float | None
    provider_type: str
    action: str
    days_late: int | None
    breach: bool
    reason: str
    at_risk: bool
    decision: str | None = None
    decision_reason: str | None = None


@dataclass(frozen=True)
class ProposalGroup:
    """The proposals from one sending (home) department to one receiving department."""

    sending: str
    sending_name: str
    receiving: str
    receiving_name: str
    rows: tuple[ProposalRow, ...]


@dataclass(frozen=True)
class CapacityCell:
    """Free slots and demand of one department in one ISO week, and its heatmap class."""

    free: int
    demand: int

    @property
    def level(self) -> str:
        """The heatmap class: none, surplus, balanced, short or severe."""
        if self.demand == 0:
            return "none" if self.free == 0 else "surplus"
        ratio = self.free / self.demand
        if ratio >= 1.5:
            return "surplus"
        if ratio >= 1:
            return "balanced"
        if ratio >= 0.5:
            return "short"
        return "severe"


@dataclass(frozen=True)
class CapacityRowView:
    """One department's cells across the weeks of the heatmap."""

    department_id: str
    name: str
    region: str
    cells: tuple[CapacityCell, ...]


@dataclass(frozen=True)
class AtRiskRow:
    """A patient whose deadline is near and who holds no slot on or before it."""

    patient_id: str
    procedure: str
    home_region: str
    home_department_id: str
    deadline: str
    days_left: int
    booked_department_id: str
    booked_date: str
    proposed_department_id: str
    proposed_date: str
    proposed_action: str
    proposed_days_late: int = 0


@dataclass(frozen=True)
class Meeting:
    """Everything the collaboration meeting looks at for one collaboration, week and run."""

    collaboration: str
    week: str
    today: dt.date
    run: SolveRun
    lang: str
    filters: Filters
    groups: tuple[ProposalGroup, ...]
    kpis: tuple[tuple[str, str], ...]
    weeks: tuple[str, ...]
    capacity: tuple[CapacityRowView, ...]
    at_risk: tuple[AtRiskRow, ...]
    at_risk_days: int
    departments: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    total_proposals: int = 0

    @property
    def rows(self) -> tuple[ProposalRow, ...]:
        """Every shown proposal in group order (the Excel sheet's and the tests' rows)."""
        return tuple(row for group in self.groups for row in group.rows)


# ---- reading the store ------------------------------------------------------------------


iso_week = calendar.week_of
week_monday = calendar.week_monday


def horizon(week: str) -> tuple[str, ...]:
    """``week`` and the weeks after it that a snapshot holds capacity for."""
    monday = week_monday(week)
    return tuple(iso_week(monday + dt.timedelta(weeks=n)) for n in range(HORIZON_WEEKS))


def meeting_runs(
    conn: Connection, collaboration: str, week: str | None = None, limit: int = 50
) -> list[SolveRun]:
    """The finished runs that cover ``collaboration`` (national runs too) in ``week`` (any
    week when None), newest first; queued, running and failed runs have no proposals."""
    r = store.solve_runs.c
    query = sa.select(r.run_id).where(
        sa.or_(r.collaboration == collaboration, r.collaboration.is_(None))
    )
    if week is not None:
        query = query.where(r.week == week)
    ids = conn.execute(query.order_by(r.run_id.desc()).limit(limit)).scalars()
    found = [runs.get_run(conn, run_id) for run_id in ids]
    return [run for run in found if getattr(run, "status", "done") == "done"]


def default_week(conn: Connection, collaboration: str, today: dt.date) -> str:
    """The week a meeting most likely reviews: its newest finished run's, else the first week
    from ``today`` on with declared capacity for the collaboration, else ``today``'s week."""
    for run in meeting_runs(conn, collaboration, limit=20):
        if run.week:
            return run.week
    d, c = schema.capacity_declarations.c, schema.capacity.c
    current = iso_week(today)
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


def latest_decisions(conn: Connection, run_id: int) -> dict[str, tuple[str, str | None]]:
    """The newest decision per patient on one run: ``patient_id -> (decision, reason)``."""
    d = store.decisions.c
    rows = conn.execute(
        sa.select(d.patient_id, d.decision, d.reason)
        .where(d.run_id == run_id)
        .order_by(d.decision_id)
    )
    return {row.patient_id: (row.decision, row.reason) for row in rows}


def _scoped_patients(who: Principal, query: sa.Select[Any]) -> sa.Select[Any]:
    """Limit a patients query to what ``who`` may see (the API's scoping of patients)."""
    p = schema.patients.c
    if who.role is Role.REGION:
        return query.where(p.home_region == who.region)
    if who.role is Role.COLLABORATION_CHAIR:
        return query.where(p.collaboration == who.collaboration)
    if who.role is Role.DEPARTMENT:
        return query.where(
            sa.or_(
                p.home_department_id == who.department_id,
                p.booked_department_id == who.department_id,
            )
        )
    return query


def _without_compliant_slot(
    conn: Connection, who: Principal, collaboration: str
) -> list[sa.Row[Any]]:
    """Active patients of the collaboration who hold no booking on or before their deadline."""
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
        sa.or_(p.booked_date.is_(None), p.booked_date > p.deadline),
    )
    return list(conn.execute(_scoped_patients(who, query).order_by(p.deadline, p.patient_id)))


def at_risk_patients(
    conn: Connection,
    who: Principal,
    collaboration: str,
    today: dt.date,
    days: int,
    proposals: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[AtRiskRow, ...]:
    """The early warning: deadline within ``days`` of ``today`` and no compliant slot held.

    Passed deadlines are included (negative days left). ``proposals`` (by patient) adds what
    the run proposes for each of them.
    """
    horizon_end = today + dt.timedelta(days=days)
    known = proposals or {}
    rows = []
    for patient in _without_compliant_slot(conn, who, collaboration):
        deadline: dt.date = patient.deadline
        if deadline > horizon_end:
            continue
        proposal = known.get(str(patient.patient_id), {})
        booked: dt.date | None = patient.booked_date
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
                proposed_department_id=proposal.get("department_id") or "",
                proposed_date=proposal.get("date") or "",
                proposed_action=proposal.get("action") or "",
                proposed_days_late=int(proposal.get("days_late") or 0),
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
    """
    weeks = horizon(week)
    c, d = schema.capacity.c, schema.capacity_declarations.c
    declared = conn.execute(
        sa.select(c.department_id, d.week, sa.func.sum(c.free_slots).label("free"))
        .join(schema.capacity_declarations, d.declaration_id == c.declaration_id)
        .where(d.superseded.is_(False), c.collaboration == collaboration, d.week.in_(weeks))
        .group_by(c.department_id, d.week)
    )
    free: Counter[tuple[str, str]] = Counter(
        {(row.department_id, row.week): int(row.free) for row in declared}
    )
    held = store.held_by_acceptances(conn)
    for department_id, day, count in held.loc[
        held["collaboration"] == collaboration, ["department_id", "date", "held"]
    ].itertuples(index=False, name=None):
        key = (str(department_id), iso_week(pd.Timestamp(day).date()))
        free[key] = max(free[key] - int(count), 0)
    scope = who if who.role is Role.DEPARTMENT else _everyone(who)
    first = week_monday(weeks[0])
    demand: Counter[tuple[str, str]] = Counter(
        (str(p.home_department_id), iso_week(max(p.deadline, first)))
        for p in _without_compliant_slot(conn, scope, collaboration)
    )
    s = schema.services.c
    offering = set(
        conn.execute(
            sa.select(s.department_id).where(s.collaboration == collaboration).distinct()
        ).scalars()
    )
    shown = offering | {department for department, _ in demand}
    if who.role is Role.DEPARTMENT:
        shown &= {who.department_id}
    dep = schema.departments.c
    departments = conn.execute(
        sa.select(dep.department_id, dep.name, dep.hospital, dep.region).where(
            dep.department_id.in_(sorted(shown))
        )
    ).all()
    rows = [
        CapacityRowView(
            department_id=row.department_id,
            name=", ".join(p for p in (row.name, row.hospital) if p),
            region=row.region,
            cells=tuple(
                CapacityCell(
                    free=free[(row.department_id, w)], demand=demand[(row.department_id, w)]
                )
                for w in weeks
            ),
        )
        # Danish regions first, providers abroad last
        for row in sorted(
            departments,
            key=lambda r: (is_foreign_region(r.region), r.region, r.department_id),
        )
    ]
    return weeks, tuple(rows)


def _everyone(who: Principal) -> Principal:
    """``who`` widened to every patient, for counts that reveal no patient (the heatmap)."""
    return Principal(token_id=who.token_id, name=who.name, role=Role.SPECIALIST_UNIT)


# ---- building the meeting ----------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _row(
    proposal: Mapping[str, Any],
    decided: tuple[str, str | None] | None,
    at_risk_ids: set[str],
) -> ProposalRow:
    travel = proposal.get("travel_km")
    late = proposal.get("days_late")
    patient_id = str(proposal["patient_id"])
    return ProposalRow(
        patient_id=patient_id,
        procedure=_text(proposal.get("procedure")),
        home_region=_text(proposal.get("home_region")),
        home_department_id=_text(proposal.get("home_department_id")),
        deadline=_text(proposal.get("deadline")),
        booked_department_id=_text(proposal.get("booked_department_id")),
        booked_date=_text(proposal.get("booked_date")),
        department_id=_text(proposal.get("department_id")),
        region=_text(proposal.get("region")),
        date=_text(proposal.get("date")),
        travel_km=None if travel is None else float(travel),
        provider_type=_text(proposal.get("provider_type")),
        action=_text(proposal.get("action")),
        days_late=None if late is None else int(late),
        breach=bool(proposal.get("breach")),
        reason=_text(proposal.get("reason")),
        at_risk=bool(proposal.get("breach"))
        or proposal.get("action") == Action.UNASSIGNED
        or patient_id in at_risk_ids,
        decision=decided[0] if decided else None,
        decision_reason=decided[1] if decided else None,
    )


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
            f"{t['kpi_certificate']} ({proof.get('method', '')})",
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
) -> Meeting:
    """The meeting's content for ``who``: their visible proposals of ``run`` in the collaboration.

    Key figures count every visible proposal of the collaboration; ``filters`` narrow the rows
    shown. ``today`` (the run's date by default) anchors the at-risk list.
    """
    filters = filters or Filters()
    lang = lang if lang in LANGUAGES else "da"
    today = today or run.today
    proposals = [
        p
        for p in runs.visible_proposals(conn, who, run.run_id)
        if p.get("collaboration") == collaboration
    ]
    by_patient = {str(p["patient_id"]): p for p in proposals}
    at_risk = at_risk_patients(conn, who, collaboration, today, at_risk_days, by_patient)
    at_risk_ids = {r.patient_id for r in at_risk}
    decided = latest_decisions(conn, run.run_id)
    rows = [_row(p, decided.get(str(p["patient_id"])), at_risk_ids) for p in proposals]
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
    )


# ---- rendering ---------------------------------------------------------------------------


def template_environment(*extra: Path) -> jinja2.Environment:
    """A Jinja environment over the meeting templates (and ``extra`` folders searched first)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*map(str, extra), str(TEMPLATES)]),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["term"] = term
    env.globals["TEXT"] = TEXT
    env.globals["SCALE"] = SCALE
    env.filters["km"] = lambda v: "" if v is None else f"{v:.0f}"
    return env


def render_pack_html(meeting: Meeting, printed: dt.datetime | None = None) -> str:
    """The meeting pack as one self-contained, printable HTML page."""
    env = template_environment()
    return env.get_template("meeting/pack.html").render(
        m=meeting,
        t=TEXT[meeting.lang],
        lang=meeting.lang,
        printed=(printed or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    )
