"""Where the capacity check's numbers come from: the bundled reference data or a database of
weekly loads.

Each source gives the period's :class:`~reports.capacity_check.balance.Balance` and the datasets
of the weeks analysed as networks, with the departments' names.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from capacity import calendar
from capacity.frames import Dataset
from capacity.vocabulary import ProviderType
from reports.capacity_check.balance import ABROAD, Balance, weekly_table
from reports.capacity_check.period import CapacityCheckError, week_number


def reference_balance(
    weeks: Sequence[str], scale: float = 1.0, seed: int = 2026, shortages: bool = True
) -> Balance:
    """Weekly demand and capacity of the bundled reference data over ``weeks``.

    Demand: Poisson draws around the usual weekly referrals per collaboration, procedure and
    home region (``capacity.generate.weekly_referral_rates``). Capacity: Poisson draws around
    what each department declares in the simulation's calibration (``scenarios.simulate``: a
    public department declares 10 % above its home referrals, private and foreign their share;
    with ``shortages`` the reference week's three short services stay short all year). Both
    follow the year: the simulation's calendar (public holidays, and the reference year
    profile of referrals and slots per ISO week: summer, Christmas, school holidays).
    """
    from scenarios.schema import scenario_from_mapping
    from scenarios.simulate import prepare

    scenario = scenario_from_mapping(
        {
            "name": "capacity-check",
            "base": {
                "type": "reference",
                "week": weeks[0],
                "seed": seed,
                "scale": scale,
                "shortages": shortages,
            },
            "horizon_weeks": min(len(weeks), 104),
            # the year's calendar: public holidays, summer, Christmas and school holidays
            "calendar": {"holidays": True, "year_profile": True},
            "replications": 1,
            "seed": seed,
        }
    )
    world = prepare(scenario)
    rng = np.random.default_rng([seed, 7])
    n = len(weeks)
    factor = world.week_capacity()
    factor = factor[np.minimum(np.arange(n), len(factor) - 1)]
    slots = rng.poisson(factor[:, None] * world.weekly_slots[None, :])
    rates = world.arrival_rates[np.minimum(np.arange(n), len(world.arrival_rates) - 1)]
    referrals = rng.poisson(rates)
    offered = world.offered
    region = np.where(
        offered["provider_type"].astype(str) == ProviderType.FOREIGN,
        ABROAD,
        offered["region"].astype(str),
    )
    capacity = pd.DataFrame(
        {
            "week": np.repeat(np.array(weeks, dtype=object), len(offered)),
            "collaboration": np.tile(offered["collaboration"].astype(str).to_numpy(), n),
            "procedure": np.tile(offered["procedure"].astype(str).to_numpy(), n),
            "region": np.tile(region, n),
            "capacity": slots.ravel(),
        }
    )
    cells = world.cells
    demand = pd.DataFrame(
        {
            "week": np.repeat(np.array(weeks, dtype=object), len(cells)),
            "collaboration": np.tile(cells["collaboration"].astype(str).to_numpy(), n),
            "procedure": np.tile(cells["procedure"].astype(str).to_numpy(), n),
            "region": np.tile(cells["home_region"].astype(str).to_numpy(), n),
            "demand": referrals.ravel(),
        }
    )
    source = f"bundled reference data, scale {scale:g}, seed {seed}" + (
        "" if shortages else ", without the reference week's shortages"
    )
    offered_rows = pd.DataFrame(
        {
            "department_id": offered["department_id"].astype(str).to_numpy(),
            "collaboration": offered["collaboration"].astype(str).to_numpy(),
            "procedure": offered["procedure"].astype(str).to_numpy(),
            "region": region,
            "provider_type": offered["provider_type"].astype(str).to_numpy(),
        }
    )
    return Balance(weekly_table(demand, capacity), source, offered_rows)


def stored_balance(url: str | None, weeks: Sequence[str]) -> Balance:
    """Weekly demand and capacity from a database of weekly loads over ``weeks``.

    Capacity: the current version of every declaration, summed per ISO week of its dates.
    Demand: every stored patient, in the ISO week of the deadline (the week by which they need
    a slot); a paused patient or one without a deadline in the week of the earliest date.
    """
    from capacity.storage import read_snapshot

    dataset = read_snapshot(url)
    if dataset.capacity.empty and dataset.patients.empty:
        raise CapacityCheckError(
            "the database holds no capacity or patients; load the weeks first "
            "(kapacitet load DIR) or use --reference"
        )
    capacity = dataset.capacity.merge(
        dataset.departments[["department_id", "region", "provider_type"]], on="department_id"
    )
    capacity = pd.DataFrame(
        {
            "week": _week_labels(capacity["date"]),
            "collaboration": capacity["collaboration"].astype(str),
            "procedure": capacity["procedure"].astype(str),
            "region": np.where(
                capacity["provider_type"].astype(str) == ProviderType.FOREIGN,
                ABROAD,
                capacity["region"].astype(str),
            ),
            "capacity": capacity["free_slots"].astype(np.int64),
        }
    )
    patients = dataset.patients
    active = (patients["deadline_status"].astype(str) == "active") & patients["deadline"].notna()
    due = patients["deadline"].where(active, patients["earliest_date"])
    demand = pd.DataFrame(
        {
            "week": _week_labels(due),
            "collaboration": patients["collaboration"].astype(str),
            "procedure": patients["procedure"].astype(str),
            "region": patients["home_region"].astype(str),
            "demand": 1,
        }
    )
    wanted = set(weeks)
    capacity = capacity[capacity["week"].isin(wanted)]
    demand = demand[demand["week"].isin(wanted)]
    if capacity.empty and demand.empty:
        raise CapacityCheckError(
            f"the database holds no capacity or patients in {weeks[0]}..{weeks[-1]}; "
            "load the weeks first (kapacitet load DIR) or choose other --weeks"
        )
    stored = sorted(set(capacity["week"]) | set(demand["week"]))
    services = dataset.services.merge(
        dataset.departments[["department_id", "region", "provider_type"]], on="department_id"
    )
    offered_rows = pd.DataFrame(
        {
            "department_id": services["department_id"].astype(str).to_numpy(),
            "collaboration": services["collaboration"].astype(str).to_numpy(),
            "procedure": services["procedure"].astype(str).to_numpy(),
            "region": np.where(
                services["provider_type"].astype(str) == ProviderType.FOREIGN,
                ABROAD,
                services["region"].astype(str),
            ),
            "provider_type": services["provider_type"].astype(str).to_numpy(),
        }
    ).drop_duplicates(["department_id", "collaboration", "procedure"])
    return Balance(
        weekly_table(demand, capacity, stored),
        f"database, {len(stored)} stored weeks in the period",
        offered_rows,
    )


def _week_labels(dates: pd.Series) -> npt.NDArray[np.object_]:
    """The ISO week of each date, ``""`` where there is none."""
    days = pd.Series(pd.to_datetime(dates).to_numpy())
    labels = pd.Series("", index=days.index, dtype=object)
    known = days.notna()
    labels[known] = calendar.weeks_of(days[known])
    return labels.to_numpy(dtype=object)


def reference_week(week: str, seed: int, scale: float) -> Dataset:
    """The reference week analysed as ``week``: its own draw (seed + the week's number)."""
    from capacity.generate import generate_week

    return generate_week(week, seed=seed + week_number(week), scale=scale)


def reference_departments() -> pd.DataFrame:
    """The reference departments' ids, names and regions."""
    from capacity.generate import reference_departments

    return department_names(reference_departments())


def stored_load_weeks(url: str | None) -> set[str]:
    """The weeks loads were made for: each load's first declared week (a weekly load declares
    its week and the five after it)."""
    from capacity.storage import declaration_history

    history = declaration_history(url)
    return set(history.groupby("load_id")["week"].min()) if len(history) else set()


def stored_week(url: str | None, week: str) -> Dataset:
    """The stored snapshot of ``week``: its six weeks of slots and every stored patient."""
    from capacity.storage import read_snapshot

    return read_snapshot(url, week=week)


def stored_departments(url: str | None) -> pd.DataFrame:
    """The stored departments' ids, names and regions."""
    from capacity.storage import read_snapshot

    return department_names(read_snapshot(url).departments)


def department_names(departments: pd.DataFrame) -> pd.DataFrame:
    """``department_id, name, region`` as text, one row per department."""
    return (
        departments[["department_id", "name", "region"]]
        .astype(str)
        .drop_duplicates("department_id")
    )
