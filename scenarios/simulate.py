"""Rolling-horizon simulation of a scenario: one replication, week by week, deterministic.

Each simulated week, on Monday: some waiting clocks pause (health, the patient's wish); the
solver proposes slots for everyone without a good booking on the free slots departments declare
for the coming six weeks; patients accept or decline offers away from their home department;
accepted proposals become bookings, and a decliner is booked at home (or nearer). Patients
whose booking falls in the week are treated and leave the list, with the monitoring's outcome
(within the deadline, or exceeded for capacity, health or the patient's wish). New referrals
arriving during the week join the list for the next Monday. The model and its assumptions are
documented in docs/scenarios.md.

Everything is vectorised over patients and slots; the only loops run over weeks and over the
scenario's few capacity changes. Random numbers come from separate streams per purpose
(capacity, arrivals, new patients, pauses, acceptance), spawned from
``SeedSequence([scenario.seed, replication])``: the same scenario and replication always give
identical frames, and two scenarios that differ only in policy or capacity share their arrivals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from capacity import calendar, frames, holidays
from capacity.frames import Dataset
from capacity.generate import (
    SHORT_SERVICES,
    WEEKEND_WEIGHT,
    expected_home_referrals,
    expected_waiting_list,
    generate_week,
    new_referrals,
    week_monday,
    weekly_referral_rates,
)
from capacity.geo import great_circle_km
from capacity.reference import region_shares
from capacity.vocabulary import DeadlineStatus, ProviderType
from scenarios.schema import (
    Close,
    DatabaseBase,
    ExtraSessions,
    FolderBase,
    Foreign,
    PrivateAgreement,
    Reduce,
    ReferenceBase,
    Scenario,
    ScenarioError,
    check_against,
)
from solver.policy import Policy
from solver.problem import Problem
from solver.solve import solve

#: Days of free slots each Monday's solve sees (the contract's six-week horizon).
LOOKAHEAD_DAYS: Final = 42
#: ``policy.offers: ranked``: days after Monday from which a decliner's fallback offer can be
#: booked (the first offer is answered within days; the fallback is made then, not next week).
FALLBACK_DAYS: Final = 3
WEEKDAY_INDEX: Final = {
    d: i
    for i, d in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
#: Reasons a treated patient's outcome is recorded under (the 2024 monitoring's categories).
WITHIN, CAPACITY, HEALTH, WISH = "within", "capacity", "health", "wish"
PAUSE_REASONS: Final = {
    DeadlineStatus.PAUSED_HEALTH: HEALTH,
    DeadlineStatus.PAUSED_PATIENT_WISH: WISH,
}

WEEKLY_COLUMNS: Final = (
    "replication",
    "week",
    "week_label",
    "arrivals",
    "waiting",
    "treated",
    "treated_within",
    "within_share",
    "exceeded_capacity",
    "exceeded_health",
    "exceeded_wish",
    "days_late_total",
    "days_late_mean",
    "moves",
    "out_of_region",
    "private",
    "foreign",
    "offers",
    "offers_declined",
    "travel_km_total",
    "cost_dkk",
    "waiting_overdue",
)
DEPARTMENT_COLUMNS: Final = (
    "replication",
    "week",
    "department_id",
    "collaboration",
    "procedure",
    "slots",
    "used",
    "utilisation",
)
PATIENT_COLUMNS: Final = (
    "replication",
    "patient_id",
    "collaboration",
    "procedure",
    "home_region",
    "department_id",
    "provider_type",
    "treated_week",
    "days_late",
    "exceed_reason",
    "travel_km",
    "out_of_region",
    "offered_in_time",
)
SOLVER_PATIENT_COLUMNS: Final = tuple(frames.PATIENTS | frames.PATIENT_CLOCKS)


@dataclass(frozen=True)
class ReplicationResult:
    """One replication's frames: ``weekly`` KPIs, ``departments`` per week, treated ``patients``.

    Columns are :data:`WEEKLY_COLUMNS`, :data:`DEPARTMENT_COLUMNS` and :data:`PATIENT_COLUMNS`.
    """

    weekly: pd.DataFrame
    departments: pd.DataFrame
    patients: pd.DataFrame


def load_base(scenario: Scenario) -> Dataset:
    """The scenario's starting dataset: the reference week, a contract folder or a snapshot."""
    base = scenario.base
    if isinstance(base, ReferenceBase):
        return generate_week(base.week, seed=base.seed, scale=base.scale)
    if isinstance(base, FolderBase):
        from capacity.io import read_folder

        return read_folder(base.path)
    from capacity.storage import read_snapshot

    assert isinstance(base, DatabaseBase)
    return read_snapshot(base.url, week=base.week)


@dataclass(frozen=True)
class World:
    """What every replication of a scenario shares: base data, services and expected rates.

    ``offered`` has one row per department and service (the calendar's rows) with provider
    type, region, position and price; ``weekly_slots`` its expected free slots a week;
    ``arrival_rates`` the expected new referrals per simulated week (rows) and ``cells`` (a
    frame of collaboration, procedure, home_region).
    """

    dataset: Dataset
    start: pd.Timestamp
    offered: pd.DataFrame
    weekly_slots: npt.NDArray[np.float64]
    cells: pd.DataFrame
    arrival_rates: npt.NDArray[np.float64]
    policy: Policy
    #: Share of a week's expected slots declared on each day from the start Monday (the horizon
    #: and the last solve's six weeks): weekdays and weekends, holidays and the year profile.
    day_weights: npt.NDArray[np.float64]

    def week_capacity(self) -> npt.NDArray[np.float64]:
        """Per simulated week, its slots relative to an ordinary week (1 without a calendar)."""
        weeks = len(self.day_weights) // 7
        return self.day_weights[: 7 * weeks].reshape(weeks, 7).sum(axis=1)


def prepare(scenario: Scenario) -> World:
    """The deterministic part of a scenario: base data, calendar rows and expected rates."""
    dataset = load_base(scenario)
    if not isinstance(scenario.base, ReferenceBase):
        problems = check_against(scenario, dataset.departments, dataset.services)
        if problems:
            raise ScenarioError(scenario.name, problems)
    start = _start_monday(scenario, dataset)
    offered = (
        dataset.services.merge(
            dataset.departments[
                ["department_id", "provider_type", "region", "latitude", "longitude"]
            ],
            on="department_id",
        )
        .drop_duplicates(["department_id", "collaboration", "procedure"])
        .reset_index(drop=True)
    )
    scale = (
        scenario.base.scale
        if isinstance(scenario.base, ReferenceBase)
        else len(dataset.patients) / float(expected_waiting_list(1.0)["waiting"].sum())
    )
    usual = weekly_referral_rates(scale)
    weekly_slots = _weekly_slots(scenario, dataset, offered, start, usual, scale)
    cells = usual[["collaboration", "procedure", "home_region"]]
    arrival_rates = _arrival_rates(scenario, usual, start)
    days = 7 * scenario.horizon_weeks + LOOKAHEAD_DAYS
    return World(
        dataset,
        start,
        offered,
        weekly_slots,
        cells,
        arrival_rates,
        scenario.solver_policy(),
        day_weights(scenario, start, days),
    )


@cache
def year_profile() -> pd.DataFrame:
    """The reference year profile: per ISO week, referrals and weekday slots relative to an
    ordinary week (``scenarios/data/year_profile.csv``; weeks not listed are ordinary)."""
    from importlib.resources import files

    text = files("scenarios.data").joinpath("year_profile.csv").read_text(encoding="utf-8")
    import io

    table = pd.read_csv(io.StringIO(text))
    return table.set_index("iso_week")[["referrals", "capacity"]].astype(np.float64)


#: Days customarily off besides the public holidays (day, month): Christmas Eve, New Year's Eve.
DAYS_OFF: Final = ((24, 12), (31, 12))


def is_day_off(day: dt.date) -> bool:
    """A Danish public holiday, or 24 or 31 December."""
    return holidays.holiday(day) is not None or (day.day, day.month) in DAYS_OFF


def day_weights(scenario: Scenario, start: pd.Timestamp, days: int) -> npt.NDArray[np.float64]:
    """Each day's share of a week's expected slots from ``start``.

    An ordinary week: weekdays 1, weekend days :data:`WEEKEND_WEIGHT`, normalised to sum to 1.
    With ``calendar.holidays`` a day off (:func:`is_day_off`) weighs as a weekend day; with
    ``calendar.year_profile`` weekdays are scaled by their ISO week's ``capacity``.
    """
    weekday = np.arange(days) % 7
    weight = np.where(weekday < 5, 1.0, WEEKEND_WEIGHT)
    settings = scenario.calendar
    if settings.holidays or settings.year_profile:
        dates = [(start + pd.Timedelta(days=d)).date() for d in range(days)]
        if settings.year_profile:
            profile = year_profile()["capacity"]
            week = np.array([d.isocalendar().week for d in dates])
            factor = pd.Series(week).map(profile).fillna(1.0).to_numpy(np.float64)
            weight = np.where(weekday < 5, weight * factor, weight)
        if settings.holidays:
            off = np.array([is_day_off(d) for d in dates], dtype=bool)
            weight = np.where(off & (weekday < 5), WEEKEND_WEIGHT, weight)
    return weight / (5 + 2 * WEEKEND_WEIGHT)


def _start_monday(scenario: Scenario, dataset: Dataset) -> pd.Timestamp:
    if scenario.start_week is not None:
        return week_monday(scenario.start_week)
    base = scenario.base
    if isinstance(base, ReferenceBase | DatabaseBase):
        return week_monday(base.week)
    first = dataset.capacity["date"].min()
    if pd.isna(first):
        raise ScenarioError(scenario.name, ["base: the folder declares no capacity"])
    return pd.Timestamp(first) - pd.Timedelta(days=pd.Timestamp(first).weekday())


def _weekly_slots(
    scenario: Scenario,
    dataset: Dataset,
    offered: pd.DataFrame,
    start: pd.Timestamp,
    usual: pd.DataFrame,
    scale: float,
) -> npt.NDArray[np.float64]:
    """Expected free slots a week per calendar row.

    A public department declares ``headroom`` x the usual weekly referrals of patients whose
    home it is; a private or foreign department its share of the base's declared slots for the
    service (weeks after the first) x the service's usual weekly referrals.
    """
    keys = ["department_id", "collaboration", "procedure"]
    rows = pd.MultiIndex.from_frame(offered[keys])
    home = expected_home_referrals(dataset.departments, dataset.services, scale)
    own = _pooled_by_hospital(home, dataset.departments, offered).to_numpy(np.float64)
    if isinstance(scenario.base, ReferenceBase) and scenario.base.shortages:
        own = own * pd.Series(SHORT_SERVICES).reindex(rows, fill_value=1.0).to_numpy(np.float64)
    capacity = dataset.capacity
    later = capacity[capacity["date"] >= start + pd.Timedelta(days=7)]
    declared = (later if len(later) else capacity).groupby(keys)["free_slots"].sum()
    declared_slots = declared.reindex(rows, fill_value=0).to_numpy(dtype=np.float64)
    service = offered["collaboration"].astype(str) + "/" + offered["procedure"].astype(str)
    total = pd.Series(declared_slots).groupby(service.to_numpy()).transform("sum").to_numpy()
    share = declared_slots / np.where(total > 0, total, 1.0)
    arrivals = usual.groupby(["collaboration", "procedure"])["per_week"].sum()
    service_arrivals = arrivals.reindex(
        pd.MultiIndex.from_frame(offered[["collaboration", "procedure"]]), fill_value=0.0
    ).to_numpy(dtype=np.float64)
    public = (offered["provider_type"] == ProviderType.PUBLIC).to_numpy()
    return np.where(public, scenario.capacity.headroom * own, share * service_arrivals)


def _pooled_by_hospital(
    home: pd.DataFrame, departments: pd.DataFrame, offered: pd.DataFrame
) -> pd.Series:
    """Expected home referrals a week per calendar row, shared by a hospital's departments.

    The home department of a patient is the nearest public department offering the service;
    departments of one hospital stand at the same place, and the tie goes to the first listed
    (AUH-THX, not AUH-KIR, for upper-GI surgery). A hospital's home referrals for a service are
    therefore split evenly between its public departments offering it, so each declares slots.
    """
    hospital = departments.set_index("department_id")["hospital"].astype(str)
    public = (offered["provider_type"] == ProviderType.PUBLIC).to_numpy(dtype=bool)
    rows = offered.assign(
        hospital=offered["department_id"].map(hospital).fillna(offered["department_id"]),
        public=public,
    )
    totals = (
        home.assign(hospital=home["department_id"].map(hospital).fillna(home["department_id"]))
        .groupby(["hospital", "collaboration", "procedure"])["per_week"]
        .sum()
    )
    group = ["hospital", "collaboration", "procedure"]
    sharing = rows[public].groupby(group)["department_id"].transform("size")
    pooled = totals.reindex(pd.MultiIndex.from_frame(rows[group]), fill_value=0.0).to_numpy()
    count = np.ones(len(rows))
    count[public] = sharing.to_numpy(dtype=np.float64)
    return pd.Series(np.where(public, pooled / count, 0.0), index=rows.index)


def _arrival_rates(
    scenario: Scenario, usual: pd.DataFrame, start: pd.Timestamp
) -> npt.NDArray[np.float64]:
    """Expected new referrals per simulated week and cell (demand settings applied)."""
    demand = scenario.demand
    horizon = scenario.horizon_weeks
    rate = usual["per_week"].to_numpy(dtype=np.float64) * demand.arrival_scale
    shares = region_shares()
    for override in demand.rates:
        match = _cell_mask(usual, override.collaboration, override.procedure, override.region)
        per_region = (
            np.full(len(usual), override.per_week)
            if override.region is not None
            else override.per_week * usual["home_region"].map(shares).to_numpy(dtype=np.float64)
        )
        rate = np.where(match, per_region, rate)
    mondays = [start + pd.Timedelta(days=7 * w) for w in range(horizon)]
    iso_week = np.array([m.isocalendar().week for m in mondays], dtype=np.float64)
    season = 1.0 + demand.seasonality.amplitude * np.cos(
        2 * np.pi * (iso_week - demand.seasonality.peak_week) / 52.0
    )
    if scenario.calendar.year_profile:
        season = season * pd.Series(iso_week).map(year_profile()["referrals"]).fillna(1.0).to_numpy(
            np.float64
        )
    rates = season[:, None] * rate[None, :]
    for surge in demand.surges:
        match = _cell_mask(usual, surge.collaboration, surge.procedure, surge.region)
        first, last = surge.weeks
        rates[first - 1 : last, match] *= surge.factor
    return rates


def _cell_mask(
    cells: pd.DataFrame, collaboration: str, procedure: str | None, region: str | None
) -> npt.NDArray[np.bool_]:
    # Comparisons may hand back read-only views (pandas' copy-on-write): combine with ``&``,
    # never in place.
    mask = (cells["collaboration"] == collaboration).to_numpy(dtype=bool)
    if procedure is not None:
        mask = mask & (cells["procedure"] == procedure).to_numpy(dtype=bool)
    if region is not None:
        mask = mask & (cells["home_region"] == region).to_numpy(dtype=bool)
    return mask


# ---- the calendar of slots -------------------------------------------------------------------


def _calendar(scenario: Scenario, world: World, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Free slots per calendar row and day from the start Monday, capacity changes applied.

    Days: the horizon plus the six weeks the last solve sees. Slots are Poisson draws around
    the expected weekly slots spread over the days by the world's day weights (weekends at 3 %
    of a weekday as the generator; holidays and the year profile where the scenario asks for
    them); a reduction keeps
    ``floor(slots x (1 - percent/100) + u)`` with one uniform ``u`` per row and day, drawn
    whatever the scenario, so two scenarios share their calendar except where they differ.
    """
    days = 7 * scenario.horizon_weeks + LOOKAHEAD_DAYS
    weekday = np.arange(days) % 7
    pattern = world.day_weights[:days]
    slots = rng.poisson(world.weekly_slots[:, None] * pattern[None, :])
    dither = rng.random(slots.shape)
    offered = world.offered
    keep = np.ones(slots.shape, dtype=np.float64)
    extra = np.zeros(slots.shape, dtype=np.int64)
    for change in scenario.capacity.changes:
        on_days = _days_of(change.weeks, days)
        if isinstance(change, Reduce | Close):
            rows = _rows(offered, change.department, change.collaboration, change.procedure)
            factor = 0.0 if isinstance(change, Close) else 1.0 - change.percent / 100.0
            keep[np.ix_(rows, on_days)] *= factor
        elif isinstance(change, Foreign):
            if change.enabled:
                continue  # foreign capacity is on unless a change turns it off
            rows = (offered["provider_type"] == ProviderType.FOREIGN).to_numpy(dtype=bool)
            if change.countries is not None:
                rows = rows & offered["region"].isin(change.countries).to_numpy(dtype=bool)
            keep[np.ix_(rows, on_days)] = 0.0
        elif isinstance(change, ExtraSessions | PrivateAgreement):
            rows = _rows(offered, change.department, change.collaboration, change.procedure)
            weekdays = (
                change.weekdays
                if isinstance(change, ExtraSessions)
                else ["monday", "tuesday", "wednesday", "thursday", "friday"]
            )
            extra[np.ix_(rows, on_days)] += _spread(change.slots_per_week, weekdays)[
                weekday[on_days]
            ][None, :]
    reduced = np.floor(slots * keep + dither).astype(np.int64)
    return np.minimum(slots, reduced) + extra


def _days_of(weeks: list[int] | None, days: int) -> npt.NDArray[np.bool_]:
    on = np.ones(days, dtype=bool)
    if weeks is not None:
        day = np.arange(days)
        on = (day >= 7 * (weeks[0] - 1)) & (day < 7 * weeks[1])
    return on


def _rows(
    offered: pd.DataFrame, department: str, collaboration: str | None, procedure: str | None
) -> npt.NDArray[np.bool_]:
    rows = (offered["department_id"] == department).to_numpy(dtype=bool)
    if collaboration is not None:
        rows = rows & (offered["collaboration"] == collaboration).to_numpy(dtype=bool)
    if procedure is not None:
        rows = rows & (offered["procedure"] == procedure).to_numpy(dtype=bool)
    return rows


def _spread(per_week: int, weekdays: list[str]) -> npt.NDArray[np.int64]:
    """Slots per weekday (Monday first): ``per_week`` spread evenly, the rest to the first."""
    days = sorted({WEEKDAY_INDEX[d] for d in weekdays})
    out = np.zeros(7, dtype=np.int64)
    out[days] = per_week // len(days)
    out[days[: per_week % len(days)]] += 1
    return out


# ---- one replication -------------------------------------------------------------------------


def run_replication(
    scenario: Scenario,
    replication: int,
    world: World | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> ReplicationResult:
    """Play the scenario out for ``horizon_weeks``: weekly KPIs, department use, outcomes.

    ``world`` (from :func:`prepare`) may be passed to share the base data between replications;
    the result does not depend on it. ``checkpoint`` is called before each week; whatever it
    raises stops the replication (a cancelled run).
    """
    world = world or prepare(scenario)
    streams = np.random.SeedSequence([scenario.seed, replication]).spawn(5)
    capacity_rng, arrivals_rng, referrals_rng, pauses_rng, acceptance_rng = (
        np.random.default_rng(s) for s in streams
    )
    simulation = _Simulation(scenario, world, _calendar(scenario, world, capacity_rng))
    weekly, departments, treated = [], [], []
    for week in range(1, scenario.horizon_weeks + 1):
        if checkpoint is not None:
            checkpoint()
        simulation.pause_clocks(week, pauses_rng)
        offers, declined = simulation.propose_and_book(week, acceptance_rng)
        outcome = simulation.treat(week)
        counts = arrivals_rng.poisson(world.arrival_rates[week - 1])
        arrivals = simulation.refer(week, counts, referrals_rng)
        weekly.append(_week_row(week, simulation, outcome, arrivals, offers, declined))
        departments.append(simulation.department_use(week))
        treated.append(outcome)
    patients = pd.concat(treated, ignore_index=True)
    result = ReplicationResult(
        weekly=pd.DataFrame(weekly),
        departments=pd.concat(departments, ignore_index=True),
        patients=patients,
    )
    for frame in (result.weekly, result.departments, result.patients):
        frame.insert(0, "replication", replication)
    return ReplicationResult(
        weekly=result.weekly[list(WEEKLY_COLUMNS)],
        departments=result.departments[list(DEPARTMENT_COLUMNS)],
        patients=result.patients[list(PATIENT_COLUMNS)],
    )


class _Simulation:
    """The mutable state of one replication: the waiting list and the slot calendar."""

    def __init__(self, scenario: Scenario, world: World, slots: npt.NDArray[np.int64]) -> None:
        self.scenario = scenario
        self.world = world
        self.slots = slots
        self.used = np.zeros_like(slots)
        self.days = slots.shape[1]
        offered = world.offered
        self.row_index = pd.MultiIndex.from_frame(
            offered[["department_id", "collaboration", "procedure"]].astype(str)
        )
        departments = world.dataset.departments.set_index("department_id")
        self.department_region = departments["region"].astype(str)
        self.department_position = departments[["latitude", "longitude"]]
        self.cross_region = world.policy.allow_cross_region
        self.waiting = self._list_entries(world.dataset.patients, on_list_since=world.start)
        booked = self.waiting["booked_date"].notna().to_numpy(dtype=bool)
        row, day = self._cells(self.waiting)
        holds = booked & (row >= 0) & (day >= 0) & (day < self.days)
        # A booking in the base data holds a slot the capacity file does not list.
        np.add.at(self.slots, (row[holds], day[holds]), 1)
        np.add.at(self.used, (row[holds], day[holds]), 1)
        self.waiting.loc[~holds, ["booked_department_id", "booked_date"]] = pd.NA

    # -- the list --------------------------------------------------------------------------

    def _list_entries(self, patients: pd.DataFrame, on_list_since: pd.Timestamp) -> pd.DataFrame:
        """Patients as list entries: the legal deadline kept apart from the paused-clock one."""
        entries = frames.conform(patients, frames.PATIENTS | frames.PATIENT_CLOCKS)[
            list(SOLVER_PATIENT_COLUMNS)
        ].copy()
        status = entries["deadline_status"].astype(str)
        reason = status.map(PAUSE_REASONS).fillna("")
        paused = (reason != "").to_numpy(dtype=bool)
        entries["legal_deadline"] = entries["deadline"]
        remaining = (entries["earliest_date"] - on_list_since).dt.days.clip(lower=0).fillna(0)
        entries.loc[paused, "deadline"] = entries.loc[paused, "deadline"] + pd.to_timedelta(
            remaining[paused], unit="D"
        )
        entries["deadline_status"] = DeadlineStatus.ACTIVE.value
        entries["pause_reason"] = reason.to_numpy(dtype=object)
        entries["declined"] = False
        entries["declined_in_time"] = False
        # An offer of referral away from home made on or before the legal deadline: a later
        # capacity exceedance is then "rules complied (capacity)", else "not complied".
        entries["offered_in_time"] = False
        home = entries["home_department_id"].astype(str)
        position = self.department_position.reindex(home)
        entries["home_km"] = great_circle_km(
            entries["latitude"], entries["longitude"], position["latitude"], position["longitude"]
        )
        entries["home_department_region"] = (
            self.department_region.reindex(home).fillna(entries["home_region"]).to_numpy()
        )
        return entries.reset_index(drop=True)

    def _cells(self, patients: pd.DataFrame) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
        """Calendar row and day of each patient's booking (-1 where none)."""
        keys = pd.MultiIndex.from_arrays(
            [
                patients["booked_department_id"].fillna("").astype(str),
                patients["collaboration"].astype(str),
                patients["procedure"].astype(str),
            ]
        )
        row = self.row_index.get_indexer(keys).astype(np.int64)
        day = (patients["booked_date"] - self.world.start).dt.days
        return row, day.fillna(-1).to_numpy(dtype=np.int64)

    def _release(self, patients: pd.DataFrame) -> None:
        row, day = self._cells(patients)
        held = (row >= 0) & (day >= 0) & (day < self.days)
        np.subtract.at(self.used, (row[held], day[held]), 1)

    def _hold(self, patients: pd.DataFrame) -> None:
        row, day = self._cells(patients)
        held = (row >= 0) & (day >= 0) & (day < self.days)
        np.add.at(self.used, (row[held], day[held]), 1)

    # -- the week's steps ------------------------------------------------------------------

    def monday(self, week: int) -> pd.Timestamp:
        return self.world.start + pd.Timedelta(days=7 * (week - 1))

    def pause_clocks(self, week: int, rng: np.random.Generator) -> None:
        """Pause some clocks (each patient at most once): the deadline moves by the pause,
        the patient cannot be seen before it ends, and a booking is given up."""
        pauses = self.scenario.behaviour.pauses
        n = len(self.waiting)
        draw = rng.random(n)
        health_days = rng.integers(pauses.health_days[0], pauses.health_days[1] + 1, n)
        wish_days = rng.integers(pauses.wish_days[0], pauses.wish_days[1] + 1, n)
        never = (self.waiting["pause_reason"] == "").to_numpy(dtype=bool)
        health = never & (draw < pauses.health_per_week)
        wish = never & ~health & (draw < pauses.health_per_week + pauses.wish_per_week)
        paused = health | wish
        if not paused.any():
            return
        length = pd.to_timedelta(np.where(health, health_days, wish_days)[paused], unit="D")
        entries = self.waiting.loc[paused]
        self._release(entries)
        resume = pd.Series(self.monday(week) + length, index=entries.index)
        earliest = entries["earliest_date"]
        self.waiting.loc[paused, "earliest_date"] = earliest.where(earliest > resume, resume)
        self.waiting.loc[paused, "deadline"] = entries["deadline"] + length
        self.waiting.loc[paused, "pause_reason"] = np.where(health[paused], HEALTH, WISH)
        self.waiting.loc[paused, ["booked_department_id", "booked_date"]] = pd.NA

    def _solve(self, week: int, patients: pd.DataFrame) -> pd.DataFrame:
        """The solver's proposals for ``patients`` on the free slots of the coming six weeks."""
        first = 7 * (week - 1)
        free = (self.slots - self.used)[:, first : first + LOOKAHEAD_DAYS]
        row, day = np.nonzero(free > 0)
        offered = self.world.offered
        capacity = pd.DataFrame(
            {
                "department_id": offered["department_id"].to_numpy(dtype=object)[row],
                "collaboration": offered["collaboration"].to_numpy(dtype=object)[row],
                "procedure": offered["procedure"].to_numpy(dtype=object)[row],
                "date": self.monday(week) + pd.to_timedelta(day, unit="D"),
                "free_slots": free[row, day],
            }
        )
        asked = patients[list(SOLVER_PATIENT_COLUMNS)].copy()
        declined = patients["declined"].to_numpy(dtype=bool)
        # A decliner is only offered the home department or anything no further away.
        asked.loc[declined, "max_travel_km"] = np.fmin(
            asked.loc[declined, "max_travel_km"].to_numpy(dtype=np.float64),
            patients.loc[declined, "home_km"].to_numpy(dtype=np.float64) + 1.0,
        )
        asked.loc[declined, ["accepts_private", "accepts_foreign"]] = False
        if not self.cross_region:
            # Without sharing, a patient stays within the home department's region (Sjælland's
            # lung surgery patients belong to Rigshospitalet).
            asked["home_region"] = patients["home_department_region"].to_numpy()
        problem = Problem(
            departments=self.world.dataset.departments,
            services=self.world.dataset.services,
            capacity=frames.conform(capacity, frames.CAPACITY),
            patients=asked.reset_index(drop=True),
            today=self.monday(week).date(),
        )
        proposals = placements(problem, self.world.policy)
        proposals.index = patients.index
        return proposals

    def propose_and_book(self, week: int, rng: np.random.Generator) -> tuple[int, int]:
        """Solve, let patients accept or decline offers elsewhere, book; (offers, declined)."""
        waiting = self.waiting
        needs_slot = waiting["booked_date"].isna() | (
            waiting["booked_date"] > waiting["deadline"]
        ).fillna(False)
        asked = waiting[needs_slot.to_numpy(dtype=bool)]
        if asked.empty:
            return 0, 0
        proposals = self._solve(week, asked)
        date = proposals["date"]
        department = proposals["department_id"].astype(str)
        placed = date.notna().to_numpy(dtype=bool)
        changed = placed & (
            (department != asked["booked_department_id"].fillna("").astype(str)).to_numpy()
            | (date != asked["booked_date"]).fillna(True).to_numpy(dtype=bool)
        )
        elsewhere = (
            changed
            & (department != asked["home_department_id"].astype(str)).to_numpy(dtype=bool)
            & ~asked["declined"].to_numpy(dtype=bool)
        )
        accepts = rng.random(len(asked)) < self._acceptance(proposals)
        declines = elsewhere & ~accepts
        moves = changed & ~declines
        mover = asked.index[moves]
        self._release(waiting.loc[mover])
        waiting.loc[mover, "booked_department_id"] = department[moves].to_numpy()
        waiting.loc[mover, "booked_date"] = date[moves].to_numpy()
        self._hold(waiting.loc[mover])
        # The solver may leave a booked patient without a slot (an unassigned patient is no
        # breach) and give the slot to someone else: the booking is then given up.
        bumped = asked.index[~placed & asked["booked_date"].notna().to_numpy(dtype=bool)]
        self._release(waiting.loc[bumped])
        waiting.loc[bumped, ["booked_department_id", "booked_date"]] = pd.NA
        offered = elsewhere & (self.monday(week) <= asked["legal_deadline"]).fillna(False).to_numpy(
            dtype=bool
        )
        waiting.loc[asked.index[offered], "offered_in_time"] = True
        decliner = asked.index[declines]
        waiting.loc[decliner, "declined"] = True
        # Declining an offer that met the deadline: no right to a new one within it (brief
        # 1.4), so a later exceedance is the patient's wish.
        in_time = declines & (date <= asked["deadline"]).fillna(False).to_numpy(dtype=bool)
        waiting.loc[asked.index[in_time], "declined_in_time"] = True
        if self.world.policy.offers == "ranked" and len(decliner):
            # Bookings whose slot the first solve gave away are given up before the fallback
            # solve, which would otherwise offer that slot once more.
            self._drop_overbooked(decliner)
            # Only decliners left without a booking get a fallback (the others keep theirs).
            unbooked = decliner[self.waiting.loc[decliner, "booked_date"].isna().to_numpy()]
            offers, declined = int(elsewhere.sum()), int(declines.sum())
            if len(unbooked):
                offers, declined, unbooked = self._offer_next(
                    week, proposals.loc[unbooked], rng, (offers, declined)
                )
            self._book_at_home(week, unbooked)
            return offers, declined
        # A decliner keeps a current booking unless the solve gave its slot to someone else.
        self._drop_overbooked(decliner)
        self._book_at_home(week, decliner)
        return int(elsewhere.sum()), int(declines.sum())

    def _offer_next(
        self,
        week: int,
        first_offers: pd.DataFrame,
        rng: np.random.Generator,
        offers_so_far: tuple[int, int],
    ) -> tuple[int, int, pd.Index]:
        """``policy.offers: ranked``: a decliner is offered the next option the same week.

        The fallback is the solver's best option on the slots still free, strictly nearer than
        the declined one, from :data:`FALLBACK_DAYS` after Monday (the decline takes days), no
        private or foreign provider if one was declined. The patient accepts it with the
        acceptance model's chance; accepted fallbacks become bookings and the patient counts as
        not having declined. Returns (offers, declined) of the week and those still declining.
        """
        waiting = self.waiting
        asked = waiting.loc[first_offers.index].copy()
        asked["declined"] = False
        declined_km = first_offers["travel_km"].to_numpy(dtype=np.float64)
        asked["max_travel_km"] = np.fmin(
            asked["max_travel_km"].to_numpy(dtype=np.float64), np.maximum(declined_km - 1.0, 0.0)
        )
        provider = first_offers["provider_type"].astype(str).to_numpy()
        asked.loc[provider == ProviderType.PRIVATE, "accepts_private"] = False
        asked.loc[provider == ProviderType.FOREIGN, "accepts_foreign"] = False
        soonest = self.monday(week) + pd.Timedelta(days=FALLBACK_DAYS)
        earliest = asked["earliest_date"]
        asked["earliest_date"] = earliest.where(earliest > soonest, soonest)
        proposals = self._solve(week, asked)
        date = proposals["date"]
        department = proposals["department_id"].astype(str)
        placed = date.notna().to_numpy(dtype=bool)
        current = asked["booked_department_id"].fillna("").astype(str)
        changed = placed & (
            (department != current).to_numpy()
            | (date != asked["booked_date"]).fillna(True).to_numpy(dtype=bool)
        )
        elsewhere = changed & (department != asked["home_department_id"].astype(str)).to_numpy(
            dtype=bool
        )
        accepts = ~elsewhere | (rng.random(len(asked)) < self._acceptance(proposals))
        moves = changed & accepts
        mover = asked.index[moves]
        self._release(waiting.loc[mover])
        waiting.loc[mover, "booked_department_id"] = department[moves].to_numpy()
        waiting.loc[mover, "booked_date"] = date[moves].to_numpy()
        self._hold(waiting.loc[mover])
        waiting.loc[mover, "declined"] = False
        offered = elsewhere & (self.monday(week) <= asked["legal_deadline"]).fillna(False).to_numpy(
            dtype=bool
        )
        waiting.loc[asked.index[offered], "offered_in_time"] = True
        offers, declined = offers_so_far
        still = elsewhere & ~accepts
        return (
            offers + int(elsewhere.sum()),
            declined + int(still.sum()),
            asked.index[~moves],
        )

    def _book_at_home(self, week: int, decliners: pd.Index) -> None:
        """Book decliners without a booking at the home department's first free slot.

        Slots go first-come by deadline: each round every decliner still without a slot asks
        for its first free day on or after its earliest date; a day's slots go to the earliest
        deadlines, the rest ask again. Decliners with no free home slot in six weeks wait.
        """
        waiting = self.waiting
        homeless = waiting.loc[decliners]
        homeless = homeless[homeless["booked_date"].isna()].sort_values("deadline", kind="stable")
        if homeless.empty:
            return
        first = 7 * (week - 1)
        last = min(first + LOOKAHEAD_DAYS, self.days)
        row = self.row_index.get_indexer(
            pd.MultiIndex.from_arrays(
                [
                    homeless["home_department_id"].astype(str),
                    homeless["collaboration"].astype(str),
                    homeless["procedure"].astype(str),
                ]
            )
        )
        earliest = (homeless["earliest_date"] - self.world.start).dt.days.fillna(first)
        start = np.maximum(earliest.to_numpy(dtype=np.int64), first)
        day = np.full(len(homeless), -1, dtype=np.int64)
        asking = (row >= 0) & (start < last)
        days = np.arange(first, last)
        while asking.any():
            ask = np.flatnonzero(asking)
            free = (self.slots - self.used)[row[ask], first:last] > 0
            free &= days[None, :] >= start[ask, None]
            has_slot = free.any(axis=1)
            asking[ask[~has_slot]] = False
            ask, wanted = ask[has_slot], first + free[has_slot].argmax(axis=1)
            cell = row[ask] * self.days + wanted
            rank = pd.Series(cell).groupby(cell).cumcount().to_numpy()
            wins = rank < (self.slots - self.used)[row[ask], wanted]
            np.add.at(self.used, (row[ask][wins], wanted[wins]), 1)
            day[ask[wins]] = wanted[wins]
            asking[ask[wins]] = False
        booked = day >= 0
        index = homeless.index[booked]
        waiting.loc[index, "booked_department_id"] = homeless["home_department_id"][booked]
        waiting.loc[index, "booked_date"] = self.world.start + pd.to_timedelta(
            day[booked], unit="D"
        )

    def _acceptance(self, proposals: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Chance each proposal away from home is accepted (logistic in distance and provider)."""
        model = self.scenario.behaviour.acceptance
        provider = proposals["provider_type"].astype(str)
        logit = (
            model.intercept
            + model.per_100km * proposals["travel_km"].fillna(0.0).to_numpy(dtype=np.float64) / 100
            + np.where(provider == ProviderType.PRIVATE, model.private_offset, 0.0)
            + np.where(provider == ProviderType.FOREIGN, model.foreign_offset, 0.0)
        )
        return 1.0 / (1.0 + np.exp(-logit))

    def _drop_overbooked(self, decliners: pd.Index) -> None:
        """Give up decliners' bookings on days that now hold more patients than slots."""
        kept = self.waiting.loc[decliners]
        kept = kept[kept["booked_date"].notna()]
        if kept.empty:
            return
        row, day = self._cells(kept)
        excess = self.used[row, day] - self.slots[row, day]
        rank = pd.Series(row * self.days + day).groupby(row * self.days + day).cumcount()
        drop = kept.index[(rank.to_numpy() < excess)]
        if len(drop):
            self._release(self.waiting.loc[drop])
            self.waiting.loc[drop, ["booked_department_id", "booked_date"]] = pd.NA

    def treat(self, week: int) -> pd.DataFrame:
        """Patients whose booking falls in the week leave the list; their outcomes."""
        monday = self.monday(week)
        booked = self.waiting["booked_date"]
        done = ((booked >= monday) & (booked < monday + pd.Timedelta(days=7))).fillna(False)
        treated = self.waiting[done.to_numpy(dtype=bool)]
        self.waiting = self.waiting[~done.to_numpy(dtype=bool)].reset_index(drop=True)
        return self._outcomes(week, treated)

    def _outcomes(self, week: int, treated: pd.DataFrame) -> pd.DataFrame:
        department = treated["booked_department_id"].astype(str)
        rows = self.row_index.get_indexer(
            pd.MultiIndex.from_arrays(
                [
                    department,
                    treated["collaboration"].astype(str),
                    treated["procedure"].astype(str),
                ]
            )
        )
        offered = self.world.offered.iloc[rows]
        late = (treated["booked_date"] - treated["legal_deadline"]).dt.days
        days_late = late.clip(lower=0).fillna(0).astype(np.int64).to_numpy()
        within_pause = (treated["booked_date"] <= treated["deadline"]).fillna(True)
        paused = (treated["pause_reason"] != "").to_numpy(dtype=bool)
        reason = np.select(
            [
                days_late == 0,
                paused & within_pause.to_numpy(dtype=bool),
                treated["declined_in_time"].to_numpy(dtype=bool),
            ],
            [WITHIN, treated["pause_reason"].to_numpy(dtype=object), WISH],
            CAPACITY,
        )
        provider = offered["provider_type"].astype(str).to_numpy()
        out_of_region = (provider != ProviderType.FOREIGN) & (
            offered["region"].astype(str).to_numpy()
            != treated["home_department_region"].astype(str).to_numpy()
        )
        return pd.DataFrame(
            {
                "patient_id": treated["patient_id"].astype(str).to_numpy(),
                "collaboration": treated["collaboration"].astype(str).to_numpy(),
                "procedure": treated["procedure"].astype(str).to_numpy(),
                "home_region": treated["home_region"].astype(str).to_numpy(),
                "home_department_id": treated["home_department_id"].astype(str).to_numpy(),
                "department_id": department.to_numpy(),
                "provider_type": provider,
                "treated_week": week,
                "days_late": days_late,
                "exceed_reason": reason,
                "travel_km": great_circle_km(
                    treated["latitude"],
                    treated["longitude"],
                    offered["latitude"],
                    offered["longitude"],
                ).round(1),
                "out_of_region": out_of_region,
                "offered_in_time": treated["offered_in_time"].to_numpy(dtype=bool),
                "price_dkk": offered["price_dkk"].to_numpy(dtype=np.float64),
            }
        )

    def refer(self, week: int, counts: npt.NDArray[np.int64], rng: np.random.Generator) -> int:
        """New referrals during the week join the list (seen from next Monday); how many."""
        table = self.world.cells.assign(count=counts)
        label = calendar.week_of(self.monday(week))
        new = new_referrals(
            rng, table, label, self.world.dataset.departments, self.world.dataset.services
        )
        if len(new):
            entries = self._list_entries(new, on_list_since=self.monday(week))
            self.waiting = pd.concat([self.waiting, entries], ignore_index=True)
        return len(new)

    def overdue(self, week: int) -> int:
        """Patients still waiting after the week past their deadline (paused days added)."""
        sunday = self.monday(week) + pd.Timedelta(days=6)
        return int((self.waiting["deadline"] < sunday).sum())

    def department_use(self, week: int) -> pd.DataFrame:
        """Slots and used slots per department and service in the week (rows with any)."""
        first = 7 * (week - 1)
        slots = self.slots[:, first : first + 7].sum(axis=1)
        used = self.used[:, first : first + 7].sum(axis=1)
        any_slots = slots > 0
        offered = self.world.offered[any_slots]
        return pd.DataFrame(
            {
                "week": week,
                "department_id": offered["department_id"].astype(str).to_numpy(),
                "collaboration": offered["collaboration"].astype(str).to_numpy(),
                "procedure": offered["procedure"].astype(str).to_numpy(),
                "slots": slots[any_slots],
                "used": used[any_slots],
                "utilisation": used[any_slots] / slots[any_slots],
            }
        )


def placements(problem: Problem, policy: Policy) -> pd.DataFrame:
    """Each patient's proposed department and date (NaT when unassigned), travel and provider.

    The solver's own solve, without the reason texts the simulation never reads.
    """
    proposed = solve(problem, policy, verify=False, workers=1, explain_reasons=False).proposals
    placed = (proposed["department_id"] != "").to_numpy()
    return pd.DataFrame(
        {
            "department_id": proposed["department_id"].to_numpy(object),
            "date": pd.to_datetime(proposed["date"].where(placed, None)),
            "travel_km": proposed["travel_km"].to_numpy(np.float64),
            "provider_type": proposed["provider_type"].where(placed, None).to_numpy(object),
        }
    )


def _week_row(
    week: int,
    simulation: _Simulation,
    outcome: pd.DataFrame,
    arrivals: int,
    offers: int,
    declined: int,
) -> dict[str, object]:
    reason = outcome["exceed_reason"]
    exceeded = int((reason != WITHIN).sum())
    treated = len(outcome)
    within = treated - exceeded
    days_late = int(outcome["days_late"].sum())
    provider = outcome["provider_type"]
    return {
        "week": week,
        "week_label": calendar.week_of(simulation.monday(week)),
        "arrivals": arrivals,
        "waiting": len(simulation.waiting),
        "treated": treated,
        "treated_within": within,
        "within_share": within / treated if treated else np.nan,
        "exceeded_capacity": int((reason == CAPACITY).sum()),
        "exceeded_health": int((reason == HEALTH).sum()),
        "exceeded_wish": int((reason == WISH).sum()),
        "days_late_total": days_late,
        "days_late_mean": days_late / exceeded if exceeded else np.nan,
        "moves": int((outcome["department_id"] != outcome["home_department_id"]).sum()),
        "out_of_region": int(outcome["out_of_region"].sum()),
        "private": int((provider == ProviderType.PRIVATE).sum()),
        "foreign": int((provider == ProviderType.FOREIGN).sum()),
        "offers": offers,
        "offers_declined": declined,
        "travel_km_total": float(outcome["travel_km"].sum()),
        "cost_dkk": float(outcome["price_dkk"].sum()),
        "waiting_overdue": simulation.overdue(week),
    }
