"""Seeded, vectorised generation of a national week: capacity declarations and a waiting list.

:func:`generate_week` builds a contract :class:`~capacity.frames.Dataset` from the bundled
reference data (:mod:`capacity.reference`). The waiting list follows national incidence times the
pathway steps of each collaboration; deadlines come from the bundled maximum-waiting-time rules;
free slots are sized from the demand so that the national week is slightly tight and a few
departments are short. Every figure and its source is in docs/reference-data.md. Everything is
built column-wise: the only loops run over the 24 services or the four tables, never patients.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from capacity import calendar, frames, reference
from capacity.frames import Dataset
from capacity.geo import great_circle_km
from capacity.rules import GIVEN, compute_deadlines, load_rules
from capacity.vocabulary import REGIONS, DeadlineStatus, Procedure, ProviderType

#: Days of capacity declared from the week's Monday (six weeks).
HORIZON_DAYS: Final = 42
#: Clock pauses, as in the 2024 monitoring (Jan-Feb 2024: 7.2 % later for health or wish).
PAUSED_HEALTH_SHARE: Final = 0.04
PAUSED_WISH_SHARE: Final = 0.03
#: Active patients whose deadline passed before Monday: a tight week's backlog.
OVERDUE_SHARE: Final = 0.02
#: Patients who already hold a booking, and how those bookings look.
BOOKED_SHARE: Final = 0.35
BOOKED_AT_HOME_SHARE: Final = 0.85
BOOKED_LATE_SHARE: Final = 0.12
#: Patients who will not travel beyond a limit, and the limits they name (km).
TRAVEL_LIMIT_SHARE: Final = 0.04
TRAVEL_LIMITS_KM: Final = (30.0, 50.0, 75.0, 100.0)
#: Patients who have declined private or foreign providers ("very few accept", brief 3.2).
DECLINES_PRIVATE_SHARE: Final = 0.08
DECLINES_FOREIGN_SHARE: Final = 0.25
#: Days from the clock start before a patient can be seen (lowest, highest), by procedure.
PREPARATION_DAYS: Final[dict[str, tuple[int, int]]] = {
    Procedure.PRE_EXAMINATION: (1, 3),
    Procedure.SURGERY: (3, 8),
    Procedure.CHEMOTHERAPY: (1, 5),
    Procedure.RADIOTHERAPY: (5, 10),
}
#: Days between the referral to treatment and the consent (lowest, highest): above 14 the
#: 28-day outer limit binds before consent + 14.
REFERRAL_TO_CONSENT_DAYS: Final = (0, 18)
#: Days after a paused clock before the patient can be seen (lowest, highest).
PAUSE_DAYS: Final[dict[str, tuple[int, int]]] = {
    DeadlineStatus.PAUSED_HEALTH: (7, 28),
    DeadlineStatus.PAUSED_PATIENT_WISH: (5, 21),
}
#: A public department declares, per week, its own waiting patients / CLEARANCE_WEEKS free
#: slots plus SPILLOVER of an even share of the national demand; private and foreign
#: departments a small share of the national demand each.
CLEARANCE_WEEKS: Final = 2.0
SPILLOVER: Final = 0.3
PRIVATE_SHARE: Final = 0.02
FOREIGN_SHARE: Final = 0.015
#: Free slots are scarcer in the first week (most of it is booked already).
WEEK_WEIGHTS: Final = (0.9, 1.0, 1.0, 1.0, 1.0, 1.0)
WEEKEND_WEIGHT: Final = 0.03
#: Services short of staff this week: share of their usual free slots they declare.
SHORT_SERVICES: Final[dict[tuple[str, str, str], float]] = {
    # AUH colorectal surgery, the 2022-23 breaches (brief 4.3).
    ("AUH-KIR", "lower_gi", "surgery"): 0.4,
    # Rigshospitalet pancreas surgery, the 2018 OR-nurse shortage (brief 3.1).
    ("RH-KIR", "upper_gi", "surgery"): 0.5,
    # Roskilde breast surgery, Region Sjælland's 2018 breast-cancer delays (brief 2.2).
    ("SUHR-BRK", "breast", "surgery"): 0.6,
}
#: Spread of a residence around its population centre, degrees (about 7 km either way).
RESIDENCE_SPREAD_DEG: Final = (0.06, 0.10)


def _week_parts(week: str) -> tuple[str, str]:
    """``("2026", "48")`` for ``2026-W48`` (ValueError for a label that is no ISO week)."""
    calendar.week_monday(week)
    year, number = week.strip().split("-W")
    return year, number


def week_monday(week: str) -> pd.Timestamp:
    """The Monday of an ISO week written ``YYYY-Www`` (e.g. ``2026-W48`` -> 2026-11-23)."""
    return pd.Timestamp(calendar.week_monday(week))


def reference_departments() -> pd.DataFrame:
    """The reference departments as a contract ``departments`` frame."""
    return frames.conform(reference.departments()[list(frames.DEPARTMENTS)], frames.DEPARTMENTS)


def reference_services() -> pd.DataFrame:
    """The reference services (with UNCONFIRMED prices) as a contract ``services`` frame."""
    return frames.conform(reference.services()[list(frames.SERVICES)], frames.SERVICES)


def expected_waiting_list(scale: float = 1.0) -> pd.DataFrame:
    """Expected waiting patients per collaboration and procedure at ``scale`` (see pathways)."""
    table = reference.pathways()
    table["waiting"] *= scale
    table["share"] = table["waiting"] / table["waiting"].sum()
    return table


def generate_week(week: str = "2026-W48", seed: int = 2026, scale: float = 1.0) -> Dataset:
    """A realistic national week: reference departments, their free slots and a waiting list.

    ``scale`` multiplies patients and free slots (1 gives about 5,000 waiting patients, the
    national list on a Monday); departments stay. The same week, seed and scale always give
    the same dataset.
    """
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    today = week_monday(week)
    rng = np.random.default_rng(seed)
    departments = reference_departments()
    services = reference_services()
    patients = _waiting_list(rng, week, today, scale, departments, services)
    capacity = _capacity(rng, today, patients, departments, services)
    return Dataset(
        departments=departments,
        services=services,
        capacity=capacity,
        patients=patients,
        source=f"generated week {week}, seed {seed}, scale {scale:g}",
    )


class _Offerers:
    """The public departments offering each pathway's service, as parallel arrays."""

    def __init__(
        self, pathways: pd.DataFrame, departments: pd.DataFrame, services: pd.DataFrame
    ) -> None:
        public = departments[departments["provider_type"] == ProviderType.PUBLIC]
        offers = services.merge(public, on="department_id")
        self.ids: list[npt.NDArray[np.object_]] = []
        self.latitude: list[npt.NDArray[np.float64]] = []
        self.longitude: list[npt.NDArray[np.float64]] = []
        self.region: list[npt.NDArray[np.int64]] = []
        # One pass over the offers (in their order) instead of a mask per pathway step.
        at: dict[tuple[str, str], list[int]] = {}
        keys = zip(
            offers["collaboration"].astype(str), offers["procedure"].astype(str), strict=True
        )
        for position, key in enumerate(keys):
            at.setdefault(key, []).append(position)
        ids = offers["department_id"].to_numpy(dtype=object)
        latitude = offers["latitude"].to_numpy(dtype=np.float64)
        longitude = offers["longitude"].to_numpy(dtype=np.float64)
        region = _region_codes(offers["region"])
        for collaboration, procedure in zip(
            pathways["collaboration"], pathways["procedure"], strict=True
        ):
            rows = np.asarray(at.get((str(collaboration), str(procedure)), []), dtype=np.int64)
            self.ids.append(ids[rows])
            self.latitude.append(latitude[rows])
            self.longitude.append(longitude[rows])
            self.region.append(region[rows])


def _region_codes(region: pd.Series) -> npt.NDArray[np.int64]:
    """Index of each Danish region in REGIONS (-1 for a foreign country code)."""
    codes = {name: i for i, name in enumerate(REGIONS)}
    return np.asarray(region.map(codes).fillna(-1), dtype=np.int64)


def _waiting_list(
    rng: np.random.Generator,
    week: str,
    today: pd.Timestamp,
    scale: float,
    departments: pd.DataFrame,
    services: pd.DataFrame,
) -> pd.DataFrame:
    pathways = expected_waiting_list(scale)
    n = round(float(pathways["waiting"].sum()))
    step = rng.choice(len(pathways), size=n, p=pathways["share"].to_numpy())
    collaboration = pathways["collaboration"].to_numpy(dtype=object)[step]
    procedure = pathways["procedure"].to_numpy(dtype=object)[step]

    centres = reference.population_centres()
    centre = rng.choice(len(centres), size=n, p=centres["weight"].to_numpy())
    region = _region_codes(centres["region"])[centre]
    latitude = centres["latitude"].to_numpy()[centre] + rng.normal(0, RESIDENCE_SPREAD_DEG[0], n)
    longitude = centres["longitude"].to_numpy()[centre] + rng.normal(0, RESIDENCE_SPREAD_DEG[1], n)
    latitude, longitude = latitude.round(5), longitude.round(5)

    offerers = _Offerers(pathways, departments, services)
    home, home_km = _home_departments(step, region, latitude, longitude, offerers)

    # Day offsets from Monday; turned into dates at the end.
    status = rng.choice(
        np.array(
            [
                DeadlineStatus.ACTIVE,
                DeadlineStatus.PAUSED_PATIENT_WISH,
                DeadlineStatus.PAUSED_HEALTH,
            ],
            dtype=object,
        ),
        size=n,
        p=[1.0 - PAUSED_WISH_SHARE - PAUSED_HEALTH_SHARE, PAUSED_WISH_SHARE, PAUSED_HEALTH_SHARE],
    )
    overdue = rng.random(n) < OVERDUE_SHARE
    clock = -np.where(overdue, rng.integers(15, 29, n), rng.integers(0, 14, n))
    referral_gap = rng.integers(REFERRAL_TO_CONSENT_DAYS[0], REFERRAL_TO_CONSENT_DAYS[1] + 1, n)
    clocks = _rule_clocks(today, procedure, clock, referral_gap)
    deadline_dates = clocks["deadline"]
    deadline = ((deadline_dates - today) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64)

    preparation = np.array([PREPARATION_DAYS[p] for p in pathways["procedure"]])[step]
    ready = clock + rng.integers(preparation[:, 0], preparation[:, 1] + 1)
    earliest = np.minimum(np.maximum(ready, 0), np.maximum(deadline, 0))
    for paused, (low, high) in PAUSE_DAYS.items():
        earliest = np.where(status == paused, rng.integers(low, high + 1, n), earliest)

    booked = rng.random(n) < BOOKED_SHARE
    late = rng.random(n) < BOOKED_LATE_SHARE
    span = np.maximum(deadline - earliest, 0)
    on_time_day = earliest + np.floor(rng.random(n) * (span + 1)).astype(np.int64)
    late_day = np.maximum(deadline, earliest) + rng.integers(1, 15, n)
    booked_day = _weekday(np.where(late, late_day, on_time_day))
    elsewhere = rng.random(n) >= BOOKED_AT_HOME_SHARE
    booked_department = np.where(elsewhere, _any_offerer(step, rng.random(n), offerers), home)

    limited = rng.random(n) < TRAVEL_LIMIT_SHARE
    named_limit = np.array(TRAVEL_LIMITS_KM)[rng.integers(0, len(TRAVEL_LIMITS_KM), n)]
    # A limit never excludes the home department: it only restricts where else to go.
    max_travel_km = np.where(limited, np.maximum(named_limit, np.ceil(home_km / 5 + 1) * 5), np.nan)
    accepts_private = rng.random(n) >= DECLINES_PRIVATE_SHARE
    accepts_foreign = rng.random(n) >= DECLINES_FOREIGN_SHARE

    year, number = _week_parts(week)
    width = max(6, len(str(n - 1)))
    patient_id = f"pt-{year}W{number}-" + pd.Series(np.arange(n)).astype(str).str.zfill(width)
    patients = pd.DataFrame(
        {
            "patient_id": patient_id,
            "collaboration": collaboration,
            "procedure": procedure,
            "home_region": np.array(REGIONS, dtype=object)[region],
            "home_department_id": home,
            "latitude": latitude,
            "longitude": longitude,
            "earliest_date": _dates(today, earliest),
            "deadline": deadline_dates,
            "deadline_status": status,
            "booked_department_id": pd.Series(booked_department).where(booked),
            "booked_date": _dates(today, booked_day, ~booked),
            "max_travel_km": max_travel_km,
            "accepts_private": accepts_private,
            "accepts_foreign": accepts_foreign,
            "referral_received": clocks["referral_received"],
            "consent_date": clocks["consent_date"],
            "referral_to_treatment": clocks["referral_to_treatment"],
            # The file states every deadline (computed above by the bundled rules).
            "deadline_rule": GIVEN,
        }
    )
    return frames.conform(patients, frames.PATIENTS | frames.PATIENT_CLOCKS)


def _home_departments(
    step: npt.NDArray[np.int64],
    region: npt.NDArray[np.int64],
    latitude: npt.NDArray[np.float64],
    longitude: npt.NDArray[np.float64],
    offerers: _Offerers,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64]]:
    """Nearest public department offering the service in the home region (else nationally)."""
    home = np.empty(len(step), dtype=object)
    home_km = np.empty(len(step), dtype=np.float64)
    for k, ids in enumerate(offerers.ids):
        rows = np.flatnonzero(step == k)
        distance = great_circle_km(
            latitude[rows, None],
            longitude[rows, None],
            offerers.latitude[k][None, :],
            offerers.longitude[k][None, :],
        )
        in_region = region[rows, None] == offerers.region[k][None, :]
        allowed = in_region | ~in_region.any(axis=1, keepdims=True)
        nearest = np.where(allowed, distance, np.inf).argmin(axis=1)
        home[rows] = ids[nearest]
        home_km[rows] = distance[np.arange(len(rows)), nearest]
    return home, home_km


def _any_offerer(
    step: npt.NDArray[np.int64], draw: npt.NDArray[np.float64], offerers: _Offerers
) -> npt.NDArray[np.object_]:
    """A public department offering the service, picked uniformly by ``draw`` in [0, 1)."""
    picked = np.empty(len(step), dtype=object)
    for k, ids in enumerate(offerers.ids):
        rows = np.flatnonzero(step == k)
        picked[rows] = ids[(draw[rows] * len(ids)).astype(np.int64)]
    return picked


def _weekday(day: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Day offsets from a Monday moved into the horizon and off weekends (to the next Monday)."""
    last_friday = HORIZON_DAYS - 3
    day = np.clip(day, 0, last_friday)
    weekday = day % 7
    return day + np.where(weekday == 5, 2, 0) + np.where(weekday == 6, 1, 0)


def _rule_clocks(
    today: pd.Timestamp,
    procedure: npt.NDArray[np.object_],
    clock: npt.NDArray[np.int64],
    referral_gap: npt.NDArray[np.int64],
) -> pd.DataFrame:
    """The clock dates of these clock days, with the deadline the bundled rules give them.

    ``clock`` is the referral day of a pre-examination or the consent day of a treatment;
    a treatment's referral to treatment came ``referral_gap`` days before its consent.
    """
    n = len(procedure)
    pre_examination = procedure == Procedure.PRE_EXAMINATION
    clocks = pd.DataFrame(
        {
            "procedure": procedure,
            "deadline": _dates(today, np.zeros(n), np.ones(n, dtype=bool)),
            "referral_received": _dates(today, clock, ~pre_examination),
            "consent_date": _dates(today, clock, pre_examination),
            "referral_to_treatment": _dates(today, clock - referral_gap, pre_examination),
        }
    )
    return compute_deadlines(clocks, load_rules())


def _dates(
    today: pd.Timestamp,
    offset: npt.ArrayLike,
    missing: npt.NDArray[np.bool_] | None = None,
) -> pd.Series:
    """Dates ``offset`` days after ``today`` (NaT where ``missing``)."""
    days = np.asarray(offset, dtype=np.int64).astype("timedelta64[D]")
    values = (np.datetime64(today.date(), "D") + days).astype("datetime64[ns]")
    if missing is not None:
        values[missing] = np.datetime64("NaT")
    return pd.Series(values, dtype=frames.DATE)


def _capacity(
    rng: np.random.Generator,
    today: pd.Timestamp,
    patients: pd.DataFrame,
    departments: pd.DataFrame,
    services: pd.DataFrame,
) -> pd.DataFrame:
    """Free slots per department, service and day over the horizon, sized from the demand."""
    keys = ["collaboration", "procedure"]
    # Demand for a free slot: patients without a booking, or booked after their deadline.
    needs_slot = patients["booked_date"].isna() | (
        patients["booked_date"] > patients["deadline"]
    ).fillna(False)
    demand = patients[needs_slot.to_numpy(dtype=bool)]
    home_demand = demand.groupby(["home_department_id", *keys]).size()
    national = demand.groupby(keys).size()

    offered = services[["department_id", *keys]].merge(
        departments[["department_id", "provider_type"]], on="department_id"
    )
    provider_type = offered["provider_type"].to_numpy(dtype=object)
    public = provider_type == ProviderType.PUBLIC
    service_index = pd.MultiIndex.from_frame(offered[keys])
    national_demand = national.reindex(service_index, fill_value=0).to_numpy(dtype=np.float64)
    public_offerers = offered[public].groupby(keys).size()
    even_share = national_demand / public_offerers.reindex(service_index, fill_value=1).to_numpy()
    own = home_demand.reindex(
        pd.MultiIndex.from_frame(offered[["department_id", *keys]]), fill_value=0
    ).to_numpy(dtype=np.float64)
    short = pd.Series(SHORT_SERVICES).reindex(
        pd.MultiIndex.from_frame(offered[["department_id", *keys]]), fill_value=1.0
    )
    weekly = (
        np.select(
            [public, provider_type == ProviderType.PRIVATE],
            [own + SPILLOVER * even_share, PRIVATE_SHARE * national_demand],
            FOREIGN_SHARE * national_demand,
        )
        * short.to_numpy(dtype=np.float64)
        / CLEARANCE_WEEKS
    )

    day = np.arange(HORIZON_DAYS)
    day_weight = np.where(day % 7 < 5, 1.0, WEEKEND_WEIGHT) / (5 + 2 * WEEKEND_WEIGHT)
    rate = weekly[:, None] * (np.asarray(WEEK_WEIGHTS)[day // 7] * day_weight)[None, :]
    free_slots = rng.poisson(rate)

    capacity = pd.DataFrame(
        {
            "department_id": np.repeat(offered["department_id"].to_numpy(dtype=object), len(day)),
            "collaboration": np.repeat(offered["collaboration"].to_numpy(dtype=object), len(day)),
            "procedure": np.repeat(offered["procedure"].to_numpy(dtype=object), len(day)),
            "date": _dates(today, np.tile(day, len(offered))),
            "free_slots": free_slots.ravel(),
        }
    )
    return frames.conform(capacity, frames.CAPACITY)


def write_folder(dataset: Dataset, folder: str | Path) -> Path:
    """Write the dataset as a contract folder (four CSV files, plus weekly_caps.csv if any).

    Dates are ISO ``YYYY-MM-DD``, booleans ``true``/``false``, missing values empty cells.
    Optional patient clock columns are written where any row has one; ``deadline_rule`` is
    derived on reading and never written.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    tables = {
        "departments": dataset.departments,
        "services": dataset.services,
        "capacity": dataset.capacity,
        "patients": dataset.patients,
    }
    if not dataset.weekly_caps.empty:
        tables["weekly_caps"] = dataset.weekly_caps
    for table, frame in tables.items():
        optional = [
            column
            for column in frames.OPTIONAL_COLUMNS[table]
            if column in frame.columns and column != "deadline_rule" and frame[column].notna().any()
        ]
        columns = [*frames.REQUIRED_COLUMNS[table], *optional]
        _contract_text(frame, columns).to_csv(root / f"{table}.csv", index=False, na_rep="")
    return root


def _contract_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns as the contract writes them: ISO dates, true/false, whole numbers bare."""
    out: dict[str, object] = {}
    for column in columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            days = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
            out[column] = np.where(np.isnat(days), "", np.datetime_as_string(days, unit="D"))
        elif pd.api.types.is_bool_dtype(values):
            out[column] = np.where(values.to_numpy(dtype=bool), "true", "false")
        elif pd.api.types.is_float_dtype(values):
            given = values.dropna()
            whole = bool((given == given.round()).all())
            out[column] = values.astype("Int64") if whole else values
        else:
            out[column] = values
    return pd.DataFrame(out, index=frame.index)


def weekly_referral_rates(scale: float = 1.0) -> pd.DataFrame:
    """Expected new referrals a week per collaboration, procedure and home region at ``scale``.

    The national rate of each pathway step is new cases a year / 52 x ``steps_per_case``
    (pathways.csv), split over the regions by population share (regions.yaml): the same
    incidence the waiting list of :func:`generate_week` is built from. Columns
    ``collaboration, procedure, home_region, per_week``.
    """
    table = reference.pathways()
    national = table["new_cases_per_year"] / 52.0 * table["steps_per_case"] * scale
    shares = reference.region_shares()
    return pd.DataFrame(
        {
            "collaboration": np.repeat(table["collaboration"].to_numpy(dtype=object), len(REGIONS)),
            "procedure": np.repeat(table["procedure"].to_numpy(dtype=object), len(REGIONS)),
            "home_region": np.tile(np.array(REGIONS, dtype=object), len(table)),
            "per_week": np.outer(national.to_numpy(), shares.reindex(REGIONS).to_numpy()).ravel(),
        }
    )


def new_referrals(
    rng: np.random.Generator,
    counts: pd.DataFrame,
    week: str,
    departments: pd.DataFrame,
    services: pd.DataFrame,
) -> pd.DataFrame:
    """New patients referred during ``week``: ``counts`` rows of each pathway step and region.

    ``counts`` has columns ``collaboration, procedure, home_region, count``. Each patient's
    clock starts on a day of the week (Monday to Sunday); residence, home department, deadline
    (by the bundled rules), earliest date, travel limit and provider refusals follow
    :func:`generate_week`'s waiting list. Every clock runs (pauses are the caller's business)
    and nobody holds a booking. Patient ids are ``pt-YYYYWww-r000123``.
    """
    pathways = reference.pathways()
    step_of = pd.MultiIndex.from_frame(pathways[["collaboration", "procedure"]])
    rows = counts[counts["count"] > 0]
    repeat = rows["count"].to_numpy(dtype=np.int64)
    n = int(repeat.sum())
    step = np.repeat(
        step_of.get_indexer(pd.MultiIndex.from_frame(rows[["collaboration", "procedure"]])), repeat
    )
    if (step < 0).any():
        raise ValueError("counts name a collaboration and procedure without a pathway")
    region = np.repeat(_region_codes(rows["home_region"]), repeat)
    if (region < 0).any():
        raise ValueError("counts name a home_region that is not a Danish region")

    # A population centre in the patient's region, by the centres' weights within the region.
    centres = reference.population_centres()
    centre_region = _region_codes(centres["region"])
    order = np.argsort(centre_region, kind="stable")
    weight = centres["weight"].to_numpy()[order]
    by_region = pd.Series(weight).groupby(centre_region[order])
    within = by_region.cumsum().to_numpy() / by_region.transform("sum").to_numpy()
    keys = centre_region[order] + within
    pick = np.searchsorted(keys, region + rng.random(n) * (1 - 1e-12), side="right")
    centre = order[np.minimum(pick, len(order) - 1)]
    latitude = centres["latitude"].to_numpy()[centre] + rng.normal(0, RESIDENCE_SPREAD_DEG[0], n)
    longitude = centres["longitude"].to_numpy()[centre] + rng.normal(0, RESIDENCE_SPREAD_DEG[1], n)
    latitude, longitude = latitude.round(5), longitude.round(5)

    offerers = _Offerers(pathways, departments, services)
    home, home_km = _home_departments(step, region, latitude, longitude, offerers)

    monday = week_monday(week)
    procedure = pathways["procedure"].to_numpy(dtype=object)[step]
    clock = rng.integers(0, 7, n)
    referral_gap = rng.integers(REFERRAL_TO_CONSENT_DAYS[0], REFERRAL_TO_CONSENT_DAYS[1] + 1, n)
    clocks = _rule_clocks(monday, procedure, clock, referral_gap)
    deadline_dates = clocks["deadline"]
    deadline = ((deadline_dates - monday) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64)
    preparation = np.array([PREPARATION_DAYS[p] for p in pathways["procedure"]])[step]
    ready = clock + rng.integers(preparation[:, 0], preparation[:, 1] + 1)
    earliest = np.minimum(ready, np.maximum(deadline, clock))

    limited = rng.random(n) < TRAVEL_LIMIT_SHARE
    named_limit = np.array(TRAVEL_LIMITS_KM)[rng.integers(0, len(TRAVEL_LIMITS_KM), n)]
    max_travel_km = np.where(limited, np.maximum(named_limit, np.ceil(home_km / 5 + 1) * 5), np.nan)
    accepts_private = rng.random(n) >= DECLINES_PRIVATE_SHARE
    accepts_foreign = rng.random(n) >= DECLINES_FOREIGN_SHARE

    year, number = _week_parts(week)
    patient_id = f"pt-{year}W{number}-r" + pd.Series(np.arange(n)).astype(str).str.zfill(6)
    patients = pd.DataFrame(
        {
            "patient_id": patient_id,
            "collaboration": pathways["collaboration"].to_numpy(dtype=object)[step],
            "procedure": procedure,
            "home_region": np.array(REGIONS, dtype=object)[region],
            "home_department_id": home,
            "latitude": latitude,
            "longitude": longitude,
            "earliest_date": _dates(monday, earliest),
            "deadline": deadline_dates,
            "deadline_status": DeadlineStatus.ACTIVE.value,
            "booked_department_id": pd.Series(pd.NA, index=range(n), dtype=frames.STR),
            "booked_date": _dates(monday, np.zeros(n), np.ones(n, dtype=bool)),
            "max_travel_km": max_travel_km,
            "accepts_private": accepts_private,
            "accepts_foreign": accepts_foreign,
            "referral_received": clocks["referral_received"],
            "consent_date": clocks["consent_date"],
            "referral_to_treatment": clocks["referral_to_treatment"],
            "deadline_rule": GIVEN,
        }
    )
    return frames.conform(patients, frames.PATIENTS | frames.PATIENT_CLOCKS)


def expected_home_referrals(
    departments: pd.DataFrame, services: pd.DataFrame, scale: float = 1.0
) -> pd.DataFrame:
    """Expected new referrals a week per home department and service, at ``scale``.

    Each population centre's share of the national weekly rate (:func:`weekly_referral_rates`)
    goes to the department that is home for patients living there: the nearest public
    department offering the service in the centre's region, else nationally (the rule of the
    waiting list's ``home_department_id``). Columns ``department_id, collaboration, procedure,
    per_week``.
    """
    pathways = reference.pathways()
    national = pathways["new_cases_per_year"] / 52.0 * pathways["steps_per_case"] * scale
    centres = reference.population_centres()
    n_steps, n_centres = len(pathways), len(centres)
    step = np.repeat(np.arange(n_steps), n_centres)
    centre = np.tile(np.arange(n_centres), n_steps)
    offerers = _Offerers(pathways, departments, services)
    home, _ = _home_departments(
        step,
        _region_codes(centres["region"])[centre],
        centres["latitude"].to_numpy()[centre],
        centres["longitude"].to_numpy()[centre],
        offerers,
    )
    per_week = national.to_numpy()[step] * centres["weight"].to_numpy()[centre]
    table = pd.DataFrame(
        {
            "department_id": home,
            "collaboration": pathways["collaboration"].to_numpy(dtype=object)[step],
            "procedure": pathways["procedure"].to_numpy(dtype=object)[step],
            "per_week": per_week,
        }
    )
    keys = ["department_id", "collaboration", "procedure"]
    return table.groupby(keys, sort=True)["per_week"].sum().reset_index()
