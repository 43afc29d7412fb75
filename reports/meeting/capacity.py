"""Capacity that looks ahead: free slots against known and expected demand per department,
procedure and ISO week, with the weeks that hold a Danish public holiday marked.

*Known* demand is the waiting list now: patients holding no booking on or before their
deadline, by home department, procedure and the ISO week of the deadline (passed deadlines
count in the first week, deadlines after the horizon are left out). *Expected* demand is the
referrals not yet on the list: from the first week's Monday on, new referrals arrive at the
usual weekly rate of each home department and procedure (the reference incidence and pathway
steps, :func:`capacity.generate.expected_home_referrals`, the rates the simulation draws its
arrivals from), spread evenly over the days, each with its deadline the bundled maximum waiting
time after it arrives (14 days today: :func:`deadline_days`). A referral counts in the week of
its deadline, as the known patients do, so expected demand starts in the third week. The rates
are scaled to the size of the stored list (stored patients of the collaboration / the reference
list's; a scaled-down test store gets scaled-down arrivals). The heatmap class is computed on
free slots against known + expected demand.

The pure functions build the view from plain mappings; :func:`capacity_view` is the one query.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection

from capacity import calendar, frames
from capacity.generate import expected_home_referrals, expected_waiting_list
from capacity.holidays import NAMES_DA, holidays_in_week
from capacity.rules import compute_deadlines, load_rules
from capacity.storage import HORIZON_WEEKS, schema
from capacity.vocabulary import PROCEDURES, ProviderType, is_foreign_region
from reports.meeting.queries import _everyone, _without_compliant_slot
from reports.meeting.text import TEXT
from workflow import tables
from workflow.access import Principal, Role

#: A (department, procedure, ISO week) key of the mappings below.
Key = tuple[str, str, str]

#: Stand-in home department for pathway steps no stored public department offers (dropped).
_NOBODY: Final = "\x00nobody"


def level(free: float, demand: float) -> str:
    """The heatmap class of ``free`` slots against ``demand`` (the legend's; the same rule as
    :attr:`reports.meeting.model.CapacityCell.level`, for a demand that may be fractional)."""
    if demand <= 0:
        return "none" if free == 0 else "surplus"
    ratio = free / demand
    if ratio >= 1.5:
        return "surplus"
    if ratio >= 1:
        return "balanced"
    if ratio >= 0.5:
        return "short"
    return "severe"


@dataclass(frozen=True)
class WeekColumn:
    """One ISO week of the view and the public holidays in it (``(date, key)``)."""

    week: str
    holidays: tuple[tuple[dt.date, str], ...] = ()

    @property
    def holiday(self) -> bool:
        """Whether a public holiday falls in this week."""
        return bool(self.holidays)


@dataclass(frozen=True)
class LookaheadCell:
    """Free slots, known demand and expected new referrals of one service in one week."""

    free: int
    known: int
    expected: float = 0.0

    @property
    def total(self) -> float:
        """Known + expected demand."""
        return self.known + self.expected

    @property
    def level(self) -> str:
        """The heatmap class, on the total demand as shown (expected to one decimal)."""
        return level(self.free, self.known + round(self.expected, 1))


@dataclass(frozen=True)
class ProcedureRow:
    """One procedure of a department across the weeks."""

    procedure: str
    cells: tuple[LookaheadCell, ...]


@dataclass(frozen=True)
class DepartmentCapacity:
    """A department's procedures across the weeks (the rows of one group)."""

    department_id: str
    name: str
    region: str
    rows: tuple[ProcedureRow, ...]

    @property
    def totals(self) -> tuple[LookaheadCell, ...]:
        """The department's cells summed over its procedures, week by week."""
        columns = zip(*(row.cells for row in self.rows), strict=True)
        return tuple(
            LookaheadCell(
                free=sum(c.free for c in cells),
                known=sum(c.known for c in cells),
                expected=sum(c.expected for c in cells),
            )
            for cells in columns
        )


@dataclass(frozen=True)
class CapacityView:
    """The look-ahead capacity of one collaboration from one week on."""

    collaboration: str
    weeks: tuple[WeekColumn, ...]
    departments: tuple[DepartmentCapacity, ...]
    #: The regions of the departments a region filter can choose (Danish first).
    regions: tuple[str, ...] = ()
    #: The region shown (None: all).
    region: str | None = None
    #: Expected arrivals are the reference rates x this (the stored list's size).
    scale: float = 1.0
    #: Days from a referral to its deadline, per procedure (the bundled rules).
    deadline_days: Mapping[str, int] | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        """The weeks as labels (``2026-W48``, ...)."""
        return tuple(w.week for w in self.weeks)


# ---- pure functions --------------------------------------------------------------------------


def week_columns(weeks: Iterable[str]) -> tuple[WeekColumn, ...]:
    """The weeks with their public holidays."""
    return tuple(WeekColumn(week=w, holidays=holidays_in_week(w)) for w in weeks)


@cache
def deadline_days() -> Mapping[str, int]:
    """Days from a new referral to its deadline, per procedure, by the bundled rules.

    A new referral's clocks (referral received, consent, referral to treatment) all start on
    the day it arrives; the rules' earliest enabled limit gives the deadline (14 days for every
    procedure in the 2024 rules). A procedure no rule serves from these clocks is left out.
    """
    day = pd.Timestamp("2026-01-05")
    clocks = pd.DataFrame(
        {
            "procedure": list(PROCEDURES),
            "deadline": pd.Series([pd.NaT] * len(PROCEDURES), dtype=frames.DATE),
            "referral_received": day,
            "consent_date": day,
            "referral_to_treatment": day,
        }
    )
    computed = compute_deadlines(clocks, load_rules())
    return {
        str(procedure): int((deadline - day).days)
        for procedure, deadline in zip(computed["procedure"], computed["deadline"], strict=True)
        if not pd.isna(deadline)
    }


def arrivals_by_deadline_week(per_week: float, days_to_deadline: int, weeks: int) -> list[float]:
    """Expected new referrals whose deadline falls in each of ``weeks`` weeks.

    Referrals arrive at ``per_week`` a week, evenly over the days from the first week's Monday
    (day 0) on; one arriving on day ``t`` has its deadline on day ``t + days_to_deadline``.
    """
    counts = []
    for k in range(weeks):
        first, last = max(0, 7 * k - days_to_deadline), 7 * k + 6 - days_to_deadline
        counts.append(per_week * max(0, last - first + 1) / 7)
    return counts


def expected_demand(
    rates: Iterable[tuple[str, str, float]],
    weeks: Sequence[str],
    days_to_deadline: Mapping[str, int],
) -> dict[Key, float]:
    """Expected new referrals per (department, procedure, week) by their deadline's week,
    from weekly rates ``(department, procedure, per_week)``."""
    expected: dict[Key, float] = {}
    for department, procedure, per_week in rates:
        lag = days_to_deadline.get(procedure)
        if lag is None or per_week <= 0:
            continue
        for w, count in zip(
            weeks, arrivals_by_deadline_week(per_week, lag, len(weeks)), strict=True
        ):
            if count > 0:
                key = (department, procedure, w)
                expected[key] = expected.get(key, 0.0) + count
    return expected


def known_demand(
    patients: Iterable[tuple[str, str, dt.date]], weeks: Sequence[str]
) -> Counter[Key]:
    """Patients ``(home department, procedure, deadline)`` per (department, procedure, week of
    the deadline); passed deadlines count in the first week, later ones than the last week are
    left out."""
    first = calendar.week_monday(weeks[0])
    shown = set(weeks)
    demand: Counter[Key] = Counter()
    for department, procedure, deadline in patients:
        week = calendar.week_of(max(deadline, first))
        if week in shown:
            demand[(department, procedure, week)] += 1
    return demand


def list_scale(stored: int, collaboration: str) -> float:
    """How large the stored list is against the reference list of ``collaboration``: its
    stored patients / the expected national waiting list (1 for a national list)."""
    table = expected_waiting_list(1.0)
    reference = float(table.loc[table["collaboration"] == collaboration, "waiting"].sum())
    return stored / reference if reference > 0 else 0.0


def home_rates(
    departments: pd.DataFrame, services: pd.DataFrame, collaboration: str, scale: float
) -> list[tuple[str, str, float]]:
    """Usual new referrals a week ``(home department, procedure, per_week)`` of
    ``collaboration`` at ``scale``, by :func:`capacity.generate.expected_home_referrals` over
    these departments (``department_id, region, provider_type, latitude, longitude``) and
    services (``department_id, collaboration, procedure``).

    Pathway steps that no public department here offers have no home department (a store of
    one collaboration only): a stand-in public department far away takes them and is dropped.
    """
    if scale <= 0:
        return []
    keys = ["collaboration", "procedure"]
    public = departments.loc[departments["provider_type"] == ProviderType.PUBLIC, "department_id"]
    offered = services[services["department_id"].isin(public)][keys].drop_duplicates()
    steps = expected_waiting_list(1.0)[keys]
    missing = steps.merge(offered, on=keys, how="left", indicator=True)
    missing = missing[missing["_merge"] == "left_only"][keys]
    if len(missing):
        nobody = {
            "department_id": _NOBODY,
            "region": "",
            "provider_type": ProviderType.PUBLIC.value,
            "latitude": 0.0,
            "longitude": 0.0,
        }
        departments = pd.concat([departments, pd.DataFrame([nobody])], ignore_index=True)
        services = pd.concat([services, missing.assign(department_id=_NOBODY)], ignore_index=True)
    table = expected_home_referrals(departments, services, scale)
    table = table[(table["collaboration"] == collaboration) & (table["department_id"] != _NOBODY)]
    return [
        (str(d), str(p), float(r))
        for d, p, r in table[["department_id", "procedure", "per_week"]].itertuples(
            index=False, name=None
        )
    ]


def _department_order(region: str, department_id: str) -> tuple[bool, str, str]:
    """Danish regions first, providers abroad last, then by region and department."""
    return (is_foreign_region(region), region, department_id)


def look_ahead(
    collaboration: str,
    weeks: Sequence[str],
    services: Iterable[tuple[str, str]],
    departments: Mapping[str, tuple[str, str]],
    free: Mapping[Key, int],
    known: Mapping[Key, int],
    expected: Mapping[Key, float] | None = None,
    *,
    region: str | None = None,
    only: str | None = None,
) -> CapacityView:
    """The view: a row per (department, procedure) offered or with demand, grouped by
    department (``departments``: id -> (name, region)), each cell free / known + expected.

    ``region`` keeps the departments of that region (an unknown region keeps all); ``only``
    keeps one department (a department's own view).
    """
    expected = expected or {}
    pairs = set(services) | {(d, p) for d, p, _ in known} | {(d, p) for d, p, _ in expected}
    pairs = {(d, p) for d, p in pairs if d in departments}
    if only is not None:
        pairs = {(d, p) for d, p in pairs if d == only}
    shown = sorted({d for d, _ in pairs}, key=lambda d: _department_order(departments[d][1], d))
    regions = tuple(
        sorted({departments[d][1] for d in shown}, key=lambda r: _department_order(r, ""))
    )
    chosen = region if region in regions else None
    order = {p: i for i, p in enumerate(PROCEDURES)}
    groups = []
    for department in shown:
        name, where = departments[department]
        if chosen is not None and where != chosen:
            continue
        procedures = sorted(
            (p for d, p in pairs if d == department), key=lambda p: (order.get(p, len(order)), p)
        )
        rows = tuple(
            ProcedureRow(
                procedure=procedure,
                cells=tuple(
                    LookaheadCell(
                        free=int(free.get((department, procedure, w), 0)),
                        known=int(known.get((department, procedure, w), 0)),
                        expected=float(expected.get((department, procedure, w), 0.0)),
                    )
                    for w in weeks
                ),
            )
            for procedure in procedures
        )
        groups.append(DepartmentCapacity(department, name, where, rows))
    return CapacityView(
        collaboration=collaboration,
        weeks=week_columns(weeks),
        departments=tuple(groups),
        regions=regions,
        region=chosen,
    )


def expected_text(value: float, lang: str) -> str:
    """An expected count as shown: ``0`` when none, else one decimal (``4,2`` in Danish)."""
    if round(value, 1) == 0:
        return "0"
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "da" else text


def holiday_name(key: str, lang: str) -> str:
    """A public holiday's name in the page's language (Danish: the calendar's own name)."""
    if lang == "da":
        return NAMES_DA.get(key, key)
    return TEXT.get(lang, {}).get(f"holiday_{key}", key.replace("_", " "))


# ---- the query -------------------------------------------------------------------------------


def _frame(conn: Connection, query: sa.Select[Any]) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def capacity_view(
    conn: Connection,
    who: Principal,
    collaboration: str,
    week: str,
    *,
    region: str | None = None,
    expected: bool = True,
) -> CapacityView:
    """The look-ahead capacity of ``collaboration`` from ``week`` (and the weeks after it that
    a snapshot holds capacity for), as ``who`` may see it.

    Free slots are the current declarations' less the slots proposals accepted since then hold
    (as the solve counts them), per department, procedure and week. A department token sees its
    own rows only; every other role sees the collaboration (counts, not patients). ``expected``
    False leaves expected referrals out (known demand only).
    """
    weeks = calendar.horizon(week, HORIZON_WEEKS)
    c, d = schema.capacity.c, schema.capacity_declarations.c
    declared = conn.execute(
        sa.select(c.department_id, c.procedure, d.week, sa.func.sum(c.free_slots).label("free"))
        .join(schema.capacity_declarations, d.declaration_id == c.declaration_id)
        .where(d.superseded.is_(False), c.collaboration == collaboration, d.week.in_(weeks))
        .group_by(c.department_id, c.procedure, d.week)
    )
    free: Counter[Key] = Counter(
        {(row.department_id, row.procedure, row.week): int(row.free) for row in declared}
    )
    held = tables.held_by_acceptances(conn)
    mine = held.loc[
        held["collaboration"] == collaboration, ["department_id", "procedure", "date", "held"]
    ]
    for department_id, procedure, day, count in mine.itertuples(index=False, name=None):
        key = (str(department_id), str(procedure), calendar.week_of(pd.Timestamp(day).date()))
        if key in free:
            free[key] = max(free[key] - int(count), 0)

    scope = who if who.role is Role.DEPARTMENT else _everyone(who)
    known = known_demand(
        (
            (str(p.home_department_id), str(p.procedure), p.deadline)
            for p in _without_compliant_slot(conn, scope, collaboration)
        ),
        weeks,
    )
    s = schema.services.c
    services = _frame(conn, sa.select(s.department_id, s.collaboration, s.procedure))
    dep = schema.departments.c
    departments = _frame(
        conn,
        sa.select(
            dep.department_id,
            dep.name,
            dep.hospital,
            dep.region,
            dep.provider_type,
            dep.latitude,
            dep.longitude,
        ),
    )
    names = {
        str(row.department_id): (
            ", ".join(str(x) for x in (row.name, row.hospital) if x) or str(row.department_id),
            str(row.region),
        )
        for row in departments.itertuples(index=False)
    }
    offered = services.loc[
        services["collaboration"] == collaboration, ["department_id", "procedure"]
    ].itertuples(index=False, name=None)

    scale, arrivals = 0.0, {}
    if expected and len(departments):
        p = schema.patients.c
        stored = conn.execute(
            sa.select(sa.func.count()).where(p.collaboration == collaboration)
        ).scalar_one()
        scale = list_scale(int(stored), collaboration)
        arrivals = expected_demand(
            home_rates(departments, services, collaboration, scale), weeks, deadline_days()
        )
    view = look_ahead(
        collaboration,
        weeks,
        ((str(a), str(b)) for a, b in offered),
        names,
        free,
        known,
        arrivals,
        region=region,
        only=who.department_id if who.role is Role.DEPARTMENT else None,
    )
    return CapacityView(
        collaboration=view.collaboration,
        weeks=view.weeks,
        departments=view.departments,
        regions=view.regions,
        region=view.region,
        scale=scale,
        deadline_days=deadline_days(),
    )
