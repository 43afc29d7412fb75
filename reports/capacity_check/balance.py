"""The balance: weekly demand against declared capacity per collaboration, procedure and region.

Utilisation = demand / declared capacity; a *structural deficit* is a service and region whose
demand exceeds its capacity over the period and in at least :data:`PERSISTENT_SHARE` of the
weeks. Weekly totals only: no solve per week, so a year takes about a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Balance:
    """Weekly demand and declared capacity per collaboration, procedure and region.

    ``weekly`` has ``week, collaboration, procedure, region, demand, capacity``; region is the
    patients' home region for demand and the departments' region for capacity (foreign
    capacity under :data:`ABROAD`).
    """

    weekly: pd.DataFrame
    source: str

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
