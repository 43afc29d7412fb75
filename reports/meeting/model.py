"""The meeting's content model: what the reviewer filters and sorts by, and the rows, groups,
heatmap cells and at-risk patients a :class:`Meeting` holds. Plain frozen dataclasses: the page,
the printed pack and the workbook all read the same ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from capacity.vocabulary import Action, ProviderType
from workflow.duty_to_act import DutyToAct
from workflow.runs import SolveRun

#: Days ahead the at-risk list looks by default (the early warning's N).
AT_RISK_DAYS: Final = 7

#: Ways the proposals can be sorted (``-`` in front of a key sorts descending).
SORT_KEYS: dict[str, str] = {
    "urgency": "urgency",
    "deadline": "deadline",
    "patient": "patient_id",
    "date": "date",
    "travel_km": "travel_km",
    "days_late": "days_late",
    "procedure": "procedure",
}

#: The review page's views: the agenda (what needs the meeting, the default) and every proposal.
VIEWS = ("agenda", "all")
#: Rows of the full list on one page (no page ships thousands of rows).
PAGE_SIZE = 100

#: Why a proposal is on the agenda, in the order the page names them.
AGENDA_REASONS = ("breach", "unassigned", "away", "moved_later", "held", "open_offer", "duty")

#: Heatmap classes from the ratio of free slots to demand, most constrained last.
SCALE = ("none", "surplus", "balanced", "short", "severe")


@dataclass(frozen=True)
class Filters:
    """What the reviewer narrowed the proposals to, and how they are sorted."""

    region: str | None = None
    department: str | None = None
    action: str | None = None
    provider_type: str | None = None
    at_risk: bool = False
    away: bool = False
    sort: str = "urgency"
    view: str = "agenda"
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        """Filters from query parameters; unknown values are ignored, blanks mean 'all'."""
        sort = params.get("sort") or "urgency"
        if sort.lstrip("-") not in SORT_KEYS:
            sort = "urgency"
        view = params.get("view") or "agenda"
        page = params.get("page") or "1"
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
            view=view if view in VIEWS else "agenda",
            page=int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1,
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
            "sort": None if chosen.sort == "urgency" else chosen.sort,
            "view": None if chosen.view == "agenda" else chosen.view,
            "page": None if chosen.page == 1 else str(chosen.page),
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
    #: The run the decision was made on (an earlier run's for a hold carried over).
    decision_run_id: int | None = None
    #: Who made the standing decision (the token's name) and when (UTC).
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    #: The offer an accept made, while it is open or once booked (workflow.referrals status).
    offer_status: str | None = None
    #: The department an earlier decision was about (an earlier rejection names the pair).
    decision_department_id: str | None = None
    #: The day an accept booked (an alternative's when one was chosen instead).
    decision_date: str | None = None
    #: False while the clock is paused (health or the patient's wish): never shown as late.
    deadline_active: bool = True
    #: Days from the run's date to the deadline (negative once passed; None when paused).
    days_to_deadline: int | None = None
    #: Why the proposal is on the agenda (:data:`AGENDA_REASONS`); empty when it is not.
    agenda: tuple[str, ...] = ()
    #: Whether the meeting can still accept or reject it (a new or moved slot, undecided here).
    needs_decision: bool = False
    #: The reason in the page's language (structured reasons rendered; see reports.meeting.reasons).
    reason_text: str = ""
    #: The best alternatives not chosen (referrals and moved bookings).
    alternatives: tuple[AlternativeView, ...] = ()
    #: For a moved booking: the patients the run gives the freed slot to.
    slot_to: tuple[SlotTaker, ...] = ()

    @property
    def urgency(self) -> tuple[int, int, str]:
        """Sort key: nearest deadline first (paused clocks last), then most days late."""
        days = self.days_to_deadline if self.days_to_deadline is not None else 10**6
        return (days, -(self.days_late or 0), self.patient_id)

    @property
    def away(self) -> bool:
        """A referral away from the home department (a new or moved slot elsewhere)."""
        return bool(self.department_id) and self.department_id != self.home_department_id


@dataclass(frozen=True)
class AlternativeView:
    """An option the solver did not choose for a patient, and what choosing it would cost."""

    department_id: str
    date: str
    travel_km: float | None
    category: str
    extra_unassigned: int = 0
    extra_breaches: int = 0
    extra_days_late: int = 0
    #: What it costs in words (the page's language).
    cost_text: str = ""


@dataclass(frozen=True)
class SlotTaker:
    """A patient the run places in a slot freed by moving another patient's booking."""

    patient_id: str
    deadline: str
    #: Days late the taker would be without the freed slot is not known; None when not visible.
    visible: bool = True


@dataclass(frozen=True)
class Figure:
    """One key figure: a label, its number (typed, for the workbook) and how it reads."""

    key: str
    label: str
    value: float | int | None
    text: str
    #: Current practice's number for comparison, where the run has it.
    baseline: float | int | None = None
    baseline_text: str = ""


@dataclass(frozen=True)
class RegionFigures:
    """Breaches and days late of one home region's patients: with sharing and current practice."""

    region: str
    patients: int
    breaches: int
    days_late: int
    baseline_breaches: int | None = None
    baseline_days_late: int | None = None


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
    #: The duty-to-act list of the collaboration as of ``today`` (empty when not asked for).
    duty_to_act: tuple[DutyToAct, ...] = ()
    #: What needs the meeting, most urgent first, across sending and receiving departments.
    agenda: tuple[ProposalRow, ...] = ()
    #: Agenda items per sending (home) and per receiving department: ``(id, count)``.
    agenda_sending: tuple[tuple[str, int], ...] = ()
    agenda_receiving: tuple[tuple[str, int], ...] = ()
    #: Agenda items per reason (:data:`AGENDA_REASONS`): ``(reason, count)``.
    agenda_reasons: tuple[tuple[str, int], ...] = ()
    #: The proposals not on the agenda, summarised: ``(what, count)`` (kept, at home, ...).
    rest: tuple[tuple[str, int], ...] = ()
    #: The rows the chosen view shows on this page (the agenda, or a page of every proposal).
    page_rows: tuple[ProposalRow, ...] = ()
    #: How many rows the chosen view has in all (after filters), and its number of pages.
    view_total: int = 0
    pages: int = 1
    #: Key figures that argue the case (typed), the per-region comparison, and the details
    #: (tiers, certificate) that belong in a details panel.
    figures: tuple[Figure, ...] = ()
    regions: tuple[RegionFigures, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    #: Patients whose clock is paused, shown as paused (never as late).
    paused: int = 0
    #: The declarations the run's proposals rest on that were stale when it solved:
    #: ``{department_id, week, declared_at, age_days}`` (workflow.completeness).
    stale_capacity: tuple[Mapping[str, Any], ...] = ()

    @property
    def rows(self) -> tuple[ProposalRow, ...]:
        """Every shown proposal in group order (the Excel sheet's and the tests' rows)."""
        return tuple(row for group in self.groups for row in group.rows)
