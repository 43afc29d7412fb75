"""The balance: weekly demand against declared capacity per collaboration, procedure and region.

Utilisation = demand / declared capacity; a *structural deficit* is a service and region whose
demand exceeds its capacity over the period and in at least :data:`PERSISTENT_SHARE` of the
weeks. Weekly totals only: no solve per week, so a year takes about a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

#: A service and region is in structural deficit when its demand exceeds its declared capacity
#: over the whole period and in at least this share of the weeks.
PERSISTENT_SHARE: Final = 0.5
#: Region label of foreign departments' capacity (no Danish region owns it).
ABROAD: Final = "abroad"
#: Region label of the whole country (every region, private and foreign capacity included).
ALL: Final = "all"
#: Columns of :attr:`Balance.offered`.
OFFERED_COLUMNS: Final = ("department_id", "collaboration", "procedure", "region", "provider_type")
#: Danish public capacity first, then private, then foreign.
PROVIDER_ORDER: Final = {"public": 0, "private": 1, "foreign": 2}


@dataclass(frozen=True)
class Balance:
    """Weekly demand and declared capacity per collaboration, procedure and region.

    ``weekly`` has ``week, collaboration, procedure, region, demand, capacity``; region is the
    patients' home region for demand and the departments' region for capacity (foreign
    capacity under :data:`ABROAD`).
    """

    weekly: pd.DataFrame
    source: str
    #: The departments' services: ``department_id, collaboration, procedure, region,
    #: provider_type`` (region :data:`ABROAD` for foreign departments); empty when unknown.
    offered: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(OFFERED_COLUMNS))
    )

    def by_collaboration(self) -> pd.DataFrame:
        """Per collaboration and region (and the country): mean weekly demand and capacity,
        utilisation, and weeks in deficit."""
        weekly = self.weekly.groupby(["week", "collaboration", "region"], as_index=False)[
            ["demand", "capacity"]
        ].sum()
        country = weekly.groupby(["week", "collaboration"], as_index=False)[
            ["demand", "capacity"]
        ].sum()
        country["region"] = ALL
        return _summary(pd.concat([weekly, country]), ["collaboration", "region"])

    def deficits(self) -> pd.DataFrame:
        """Services and regions in structural deficit (demand above declared capacity over the
        period and in at least :data:`PERSISTENT_SHARE` of its weeks), largest mean shortfall
        first; the country's rows count private and foreign capacity too."""
        keys = ["collaboration", "procedure", "region"]
        country = self.weekly.groupby(["week", "collaboration", "procedure"], as_index=False)[
            ["demand", "capacity"]
        ].sum()
        country["region"] = ALL
        table = _summary(pd.concat([self.weekly, country]), keys)
        over = table["no_capacity"] | (table["utilisation"] > 1)
        table = table[
            over & (table["deficit_share"] >= PERSISTENT_SHARE) & (table["region"] != ABROAD)
        ]
        return table.sort_values("shortfall", ascending=False, kind="stable").reset_index(drop=True)

    def short_weeks(self) -> pd.DataFrame:
        """Per service and region (and :data:`ALL`, the country) and week: whether patients
        are left over, ``short`` = the backlog after the week is above 0.

        The backlog carries over: ``backlog = max(0, backlog before + demand - capacity)``,
        so a week's spare slots serve the previous weeks' overflow and a quiet week's slack
        is no shortage. Columns ``week, collaboration, procedure, region, short``.
        """
        keys = ["week", "collaboration", "procedure"]
        country = self.weekly.groupby(keys, as_index=False)[["demand", "capacity"]].sum()
        country["region"] = ALL
        table = pd.concat([self.weekly, country], ignore_index=True)
        table = table.sort_values(["collaboration", "procedure", "region", "week"], kind="stable")
        names = ["collaboration", "procedure", "region"]
        index = pd.MultiIndex.from_frame(
            table[names].drop_duplicates().sort_values(names).reset_index(drop=True)
        )
        weeks = sorted(table["week"].unique())
        full = pd.MultiIndex.from_tuples(
            [(*g, w) for g in index for w in weeks], names=[*index.names, "week"]
        )
        sums = table.groupby([*index.names, "week"])[["demand", "capacity"]].sum()
        sums = sums.reindex(full, fill_value=0)
        demand = sums["demand"].to_numpy(np.float64).reshape(len(index), len(weeks))
        capacity = sums["capacity"].to_numpy(np.float64).reshape(len(index), len(weeks))
        backlog = np.zeros(len(index))
        short = np.zeros(demand.shape, dtype=bool)
        for w in range(len(weeks)):
            backlog = np.maximum(0.0, backlog + demand[:, w] - capacity[:, w])
            short[:, w] = backlog > 0
        out = pd.DataFrame({"short": short.ravel()}, index=full).reset_index()
        return out[[*keys, "region", "short"]]

    def year_extra_slots(self) -> pd.DataFrame:
        """Per department and service: the breaches one more slot a week would avoid over the
        period; Danish public departments first, most first within each provider type.

        ``breaches_year``: the weeks in which patients of the department's own region are left
        over for the service while the whole country is short too (:meth:`short_weeks`: demand
        beyond declared capacity, carried from week to week). In such a week one more slot a
        week surely sees one more patient in time: one of the region's own, whom no spare slot
        elsewhere could take. A foreign department counts the weeks the country is short.
        ``national_weeks`` (every department): the weeks the country is short, the most the
        slot could avoid if patients travelled anywhere. Danish public departments come first
        (the capacity the regions can add themselves), then private, then foreign ones.
        """
        columns = [*OFFERED_COLUMNS, "breaches_year", "national_weeks", "weeks"]
        if self.offered.empty or self.weekly.empty:
            return pd.DataFrame(columns=columns)
        short = self.short_weeks()
        service = ["collaboration", "procedure"]
        national = (
            short[short["region"] == ALL]
            .groupby(service)
            .agg(national_weeks=("short", "sum"), weeks=("week", "nunique"))
        )
        country = short[short["region"] == ALL][["week", *service, "short"]].rename(
            columns={"short": "country_short"}
        )
        both = short[short["region"] != ALL].merge(country, on=["week", *service])
        regional = (
            (both["short"] & both["country_short"])
            .groupby([both[c] for c in [*service, "region"]])
            .sum()
            .rename("regional_weeks")
        )
        table = self.offered.join(national, on=service).join(regional, on=[*service, "region"])
        counts = ["national_weeks", "regional_weeks", "weeks"]
        table[counts] = table[counts].fillna(0).astype(np.int64)
        foreign = (table["region"] == ABROAD).to_numpy()
        table["breaches_year"] = np.where(foreign, table["national_weeks"], table["regional_weeks"])
        table["provider_rank"] = table["provider_type"].map(PROVIDER_ORDER).fillna(3)
        table = table.sort_values(
            ["provider_rank", "breaches_year", "national_weeks", "department_id", "procedure"],
            ascending=[True, False, False, True, True],
            kind="stable",
        )
        return table[columns].reset_index(drop=True)


def _summary(weekly: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    weekly = weekly.assign(
        in_deficit=weekly["demand"] > weekly["capacity"],
        short=(weekly["demand"] - weekly["capacity"]).clip(lower=0),
    )
    grouped = weekly.groupby(keys, as_index=False).agg(
        weeks=("week", "nunique"),
        demand=("demand", "mean"),
        capacity=("capacity", "mean"),
        deficit_weeks=("in_deficit", "sum"),
        shortfall=("short", "mean"),
    )
    grouped["utilisation"] = grouped["demand"] / grouped["capacity"].where(grouped["capacity"] > 0)
    grouped["deficit_share"] = grouped["deficit_weeks"] / grouped["weeks"]
    grouped["no_capacity"] = grouped["capacity"] == 0
    return grouped


def weekly_table(
    demand: pd.DataFrame, capacity: pd.DataFrame, weeks: Sequence[str] | None = None
) -> pd.DataFrame:
    """Demand and capacity per ``week, collaboration, procedure, region``: every week (of
    ``weeks``, or every week that appears) for every service and region that appears at all,
    zeros where nothing was counted."""
    keys = ["week", "collaboration", "procedure", "region"]
    table = pd.merge(
        demand.groupby(keys)["demand"].sum(),
        capacity.groupby(keys)["capacity"].sum(),
        left_index=True,
        right_index=True,
        how="outer",
    ).fillna(0)
    # every week of every service and region that appears at all: a week without slots is a
    # deficit week, not a missing one
    levels = [
        sorted(weeks) if weeks is not None else sorted(table.index.unique("week")),
        *(table.index.unique(level) for level in keys[1:]),
    ]
    services = table.reset_index()[keys[1:]].drop_duplicates()
    full = pd.MultiIndex.from_frame(
        pd.DataFrame({"week": levels[0]}).merge(services, how="cross")[keys]
    )
    table = table.reindex(full, fill_value=0).reset_index()
    return table.astype({"demand": np.int64, "capacity": np.int64})
