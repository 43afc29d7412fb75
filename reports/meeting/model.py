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
    "deadline": "deadline",
    "patient": "patient_id",
    "date": "date",
    "travel_km": "travel_km",
    "days_late": "days_late",
    "procedure": "procedure",
}

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
    #: The run the decision was made on (an earlier run's for a hold carried over).
    decision_run_id: int | None = None


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

    @property
    def rows(self) -> tuple[ProposalRow, ...]:
        """Every shown proposal in group order (the Excel sheet's and the tests' rows)."""
        return tuple(row for group in self.groups for row in group.rows)
