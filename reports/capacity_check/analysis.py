"""The capacity check's analyses: the balance over the period, and on sampled weeks the single
points of failure (max-flow/min-cut on the deadline-compliant network) and where one more slot
avoids the most breaches (shadow prices).

The network analysis itself is the solver's (:mod:`solver.capacity_flow`, one interface to the
networkx and scipy engines); shadow prices come from :func:`solver.shadow.shadow_prices`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Final

import pandas as pd

from capacity import calendar
from capacity.frames import Dataset
from reports.capacity_check import sources, text
from reports.capacity_check.balance import Balance
from reports.capacity_check.period import iso_weeks, sample_weeks
from solver.capacity_flow import (
    FlowEngine,
    compliant_network,
    department_losses,
    max_compliant_flow,
    min_cut_departments,
)
from solver.policy import Policy
from solver.problem import Problem

#: Weeks of full network analysis (max flow, removals, shadow prices) by default.
NETWORK_WEEKS: Final = 2


def best_extra_slots(prices: pd.DataFrame) -> pd.DataFrame:
    """Per department and service, the day where one more slot saves the most (unassigned,
    breaches, then days late), most valuable first; from :func:`solver.shadow.shadow_prices`."""
    ordered = prices.sort_values(
        ["unassigned_saved", "breaches_saved", "days_saved", "date"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    best = ordered.drop_duplicates(["department_id", "collaboration", "procedure"])
    best = best[(best[["unassigned_saved", "breaches_saved", "days_saved"]] > 0).any(axis=1)]
    return best.reset_index(drop=True)[
        [
            "department_id",
            "collaboration",
            "procedure",
            "date",
            "unassigned_saved",
            "breaches_saved",
            "days_saved",
        ]
    ]


@dataclass(frozen=True)
class WeekAnalysis:
    """The network analyses of one week's waiting list and slots."""

    week: str
    patients: int
    without_option: int
    compliant: int
    losses: pd.DataFrame
    cut: pd.DataFrame
    extra_slots: pd.DataFrame
    seconds: float


def analyse_week(
    dataset: Dataset,
    week: str,
    policy: Policy | None = None,
    engine: FlowEngine | str = FlowEngine.SCIPY,
) -> WeekAnalysis:
    """Maximum compliant flow, department losses, the minimum cut and shadow prices of a week
    (``engine`` computes the flow and the cut: scipy, or networkx; the losses always use
    scipy)."""
    from solver.shadow import shadow_prices

    started = time.perf_counter()
    problem = Problem.from_dataset(dataset, calendar.week_monday(week))
    network = compliant_network(problem, policy)
    flow = max_compliant_flow(network, engine)
    losses = department_losses(network, flow)
    cut = min_cut_departments(network, flow)
    extra = best_extra_slots(shadow_prices(problem, policy or Policy()))
    return WeekAnalysis(
        week=week,
        patients=network.patients,
        without_option=network.without_option,
        compliant=flow.value,
        losses=losses,
        cut=cut,
        extra_slots=extra,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class CapacityCheck:
    """The annual check: the period's balance and the sampled weeks' network analyses."""

    year: int
    weeks: tuple[str, ...]
    balance: Balance
    analyses: tuple[WeekAnalysis, ...]
    departments: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: :attr:`notes` in Danish, in the same order.
    notes_da: tuple[str, ...] = field(default_factory=tuple)

    def year_extra_slots(self) -> pd.DataFrame:
        """Where one more slot a week avoids the most breaches over the period
        (:meth:`~reports.capacity_check.balance.Balance.year_extra_slots`), with the
        departments' names and the shadow prices of the analysed weeks beside."""
        table = self.balance.year_extra_slots()
        names = self.departments[["department_id", "name"]]
        table = table.merge(names, on="department_id", how="left")
        shadow = self.extra_slots()[
            ["department_id", "collaboration", "procedure", "breaches_saved"]
        ]
        table = table.merge(shadow, on=["department_id", "collaboration", "procedure"], how="left")
        table["breaches_saved"] = table["breaches_saved"].fillna(0.0)
        return table

    def single_points_of_failure(self) -> pd.DataFrame:
        """Per department over the sampled weeks: mean compliant flow through it, mean loss when
        removed, the weeks it was in the minimum cut; largest loss first."""
        if not self.analyses:
            return pd.DataFrame(
                columns=["department_id", "name", "region", "compliant_flow", "loss", "cut_weeks"]
            )
        weeks = len(self.analyses)
        losses = pd.concat([a.losses for a in self.analyses])
        table = losses.groupby("department_id", as_index=False)[["compliant_flow", "loss"]].sum()
        table[["compliant_flow", "loss"]] = table[["compliant_flow", "loss"]] / weeks
        cut_weeks = pd.concat(
            [a.cut["department_id"].drop_duplicates() for a in self.analyses]
        ).value_counts()
        table["cut_weeks"] = table["department_id"].map(cut_weeks).fillna(0).astype(int)
        table = table.merge(self.departments, on="department_id", how="left")
        return table.sort_values(
            ["loss", "compliant_flow", "department_id"], ascending=[False, False, True]
        ).reset_index(drop=True)[
            ["department_id", "name", "region", "compliant_flow", "loss", "cut_weeks"]
        ]

    def extra_slots(self) -> pd.DataFrame:
        """Per department and service over the sampled weeks: mean breaches (and unassigned,
        days late) one more slot on its best day avoids; most breaches first."""
        if not self.analyses:
            return pd.DataFrame(
                columns=[
                    "department_id",
                    "collaboration",
                    "procedure",
                    "breaches_saved",
                    "unassigned_saved",
                    "days_saved",
                    "weeks",
                ]
            )
        weeks = len(self.analyses)
        both = pd.concat([a.extra_slots for a in self.analyses])
        keys = ["department_id", "collaboration", "procedure"]
        table = both.groupby(keys, as_index=False).agg(
            breaches_saved=("breaches_saved", "sum"),
            unassigned_saved=("unassigned_saved", "sum"),
            days_saved=("days_saved", "sum"),
            weeks=("date", "size"),
        )
        table[["breaches_saved", "unassigned_saved", "days_saved"]] = (
            table[["breaches_saved", "unassigned_saved", "days_saved"]] / weeks
        )
        return table.sort_values(
            ["breaches_saved", "unassigned_saved", "days_saved", "department_id"],
            ascending=[False, False, False, True],
        ).reset_index(drop=True)


def reference_check(
    year: int,
    weeks: str | None = None,
    *,
    scale: float = 1.0,
    seed: int = 2026,
    network_weeks: int = NETWORK_WEEKS,
    engine: FlowEngine | str = FlowEngine.SCIPY,
) -> CapacityCheck:
    """The check on the bundled reference data: the balance over the period's weeks, and the
    network analyses on ``network_weeks`` reference weeks spread over it."""
    labels = iso_weeks(year, weeks)
    balance = sources.reference_balance(labels, scale=scale, seed=seed)
    analyses = tuple(
        analyse_week(sources.reference_week(week, seed, scale), week, None, engine)
        for week in sample_weeks(labels, network_weeks)
    )
    return CapacityCheck(year, tuple(labels), balance, analyses, sources.reference_departments())


def stored_check(
    url: str | None,
    year: int,
    weeks: str | None = None,
    *,
    network_weeks: int = NETWORK_WEEKS,
    engine: FlowEngine | str = FlowEngine.SCIPY,
) -> CapacityCheck:
    """The check on a database of weekly loads: the balance over the stored weeks of the
    period, and the network analyses on up to ``network_weeks`` of the weeks loads were made
    for (a load's first declared week; each the snapshot of that week: its six weeks of slots
    and every stored patient)."""
    labels = iso_weeks(year, weeks)
    balance = sources.stored_balance(url, labels)
    load_weeks = sources.stored_load_weeks(url)
    loads_in_period = [w for w in labels if w in load_weeks]
    analyses = tuple(
        analyse_week(sources.stored_week(url, week), week, None, engine)
        for week in sample_weeks(loads_in_period, network_weeks)
    )
    few = len(loads_in_period) < len(labels) / 2
    notes = (text.few_loads_note(loads_in_period),) if few else ()
    notes_da = (text.few_loads_note(loads_in_period, "da"),) if few else ()
    return CapacityCheck(
        year, tuple(labels), balance, analyses, sources.stored_departments(url), notes, notes_da
    )
