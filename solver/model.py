"""The time-indexed min-cost flow network, built in bulk with numpy.

Nodes: one per patient, the sink, one *bucket* per department, service and day with free slots,
optional *week* nodes for weekly caps, and *chain* nodes. Patients whose deadlines behave alike on
a department's days share a chain of that department's days ("deadline class"); flow entering a
chain at the patient's first eligible day can move along it to any later day and leave into that
day's bucket. Lateness and date costs sit on the chain arcs, travel, category and price on the
patient's one entry arc per eligible department. This keeps the arc count near
patients x departments instead of patients x department-days.

Arcs carry their cost as separate tier components (unassigned, breach, days late, policy points)
so that :mod:`solver.solve` can weigh them lexicographically or in stages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from capacity import calendar
from capacity.geo import great_circle_km
from solver.policy import CATEGORIES, Policy
from solver.problem import Problem

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Deadline-class keys for chains on which a patient is never late / already late on entry.
NEVER_LATE = np.int64(1 << 40)
ALREADY_LATE = np.int64(-(1 << 40))

PROVIDER_CODES = {"public": 0, "private": 1, "foreign": 2}


class ArcKind:
    """Integer tags of the arc blocks, in the order they are laid out."""

    ENTRY = 0  # patient -> chain node of an eligible department (capacity 1)
    KEEP = 1  # booked patient -> the bucket of the current booking (capacity 1)
    UNASSIGNED = 2  # patient -> sink (capacity 1); not passed to OR-Tools (max-flow solve)
    CHAIN = 3  # chain node -> next day's chain node (unbounded)
    EXIT = 4  # chain node -> that day's bucket (unbounded)
    BUCKET = 5  # bucket -> sink or week node (the day's free slots)
    WEEK = 6  # week node -> sink (the weekly cap)
    CROSS = 7  # a dated chain's last on-time day -> the shared late chain's next day


@dataclass(frozen=True)
class Network:
    """A flow network with tiered arc costs and the indices needed to read a solution back."""

    n_nodes: int
    sink: int
    supply: IntArray
    tail: IntArray
    head: IntArray
    capacity: IntArray
    kind: IntArray
    # cost components per arc
    unassigned: IntArray
    breach: IntArray
    days_late: IntArray
    policy_points: IntArray
    # patients
    n_patients: int
    patient_deadline_day: IntArray  # days after today; NEVER_LATE when the clock is paused
    patient_active: BoolArray
    # entry/keep arcs: which patient, department and bucket (KEEP) or chain group (ENTRY)
    arc_patient: IntArray  # -1 for arcs that are not ENTRY/KEEP/UNASSIGNED
    arc_department: IntArray  # department index, -1 where not applicable
    arc_bucket: IntArray  # bucket index (KEEP: the booking; ENTRY: the entry day), -1 otherwise
    arc_group: IntArray  # chain group (ENTRY, CHAIN, EXIT; CROSS: the group crossed from)
    arc_km: FloatArray  # travel km (ENTRY, KEEP), NaN otherwise
    arc_category: IntArray  # tier-4 category rank (ENTRY, KEEP), -1 otherwise
    # buckets: department, service, day, free slots
    bucket_department: IntArray
    bucket_service: IntArray
    bucket_day: IntArray
    bucket_capacity: IntArray
    # indices for lookups
    departments: pd.DataFrame
    service_keys: tuple[str, ...]
    category_step: int
    group_late: IntArray  # per chain group: the late group it crosses into, -1 if none
    max_days_late: IntArray  # per patient: most days late any of its options can be
    max_policy_points: IntArray  # per patient: largest policy points of any of its options
    can_breach: BoolArray  # per patient: some option is after an active deadline
    eligible_departments: IntArray  # per patient: number of departments with an eligible day


def positions(index: pd.Index, values: pd.Series | npt.ArrayLike) -> IntArray:
    """Position of each value in ``index`` (-1 where absent)."""
    return np.asarray(index.get_indexer(pd.Index(np.asarray(values))), dtype=np.int64)


def _day_numbers(values: pd.Series, today: np.datetime64) -> IntArray:
    """Days after ``today`` of a datetime column (NaT becomes the smallest int64)."""
    days = (values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]") - today).astype(
        np.int64
    )
    return np.asarray(days, dtype=np.int64)


def _service_codes(collaboration: pd.Series, procedure: pd.Series, index: pd.Index) -> IntArray:
    keys = collaboration.astype(str).to_numpy() + "/" + procedure.astype(str).to_numpy()
    return np.asarray(index.get_indexer(keys), dtype=np.int64)


def _segment_offsets(counts: IntArray) -> IntArray:
    """For each element of the concatenated segments, its offset within its segment."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(starts, counts)


def _categories(
    policy: Policy,
    department: IntArray,
    home_department: IntArray,
    provider: IntArray,
    same_region: BoolArray,
) -> IntArray:
    rank = {name: policy.category_rank(name) for name in CATEGORIES}
    return np.select(
        [
            department == home_department,
            (provider == 0) & same_region,
            provider == 0,
            provider == 1,
        ],
        [
            rank["home_department"],
            rank["public_home_region"],
            rank["public_other_region"],
            rank["private"],
        ],
        default=rank["foreign"],
    ).astype(np.int64)


@dataclass(frozen=True)
class _Inputs:
    """The problem's departments and patients as arrays (days counted from ``today``)."""

    today: np.datetime64
    departments: pd.DataFrame
    patient_ids: npt.NDArray[np.object_]
    n: int
    dept_index: pd.Index
    d_provider: IntArray
    d_region: npt.NDArray[np.object_]
    d_lat: FloatArray
    d_lon: FloatArray
    service_index: pd.Index
    n_services: int
    p_service: IntArray
    local_service: IntArray  # per prepared service code: its code in ``service_index``, -1
    p_home: IntArray
    p_region: npt.NDArray[np.object_]
    p_lat: FloatArray
    p_lon: FloatArray
    p_entry_day: IntArray
    p_active: BoolArray
    p_deadline: IntArray
    p_travel_limit: FloatArray
    p_accepts_private: BoolArray
    p_accepts_foreign: BoolArray
    booked_dept: IntArray
    booked_day: IntArray
    has_booking: BoolArray


def _keys(frame: pd.DataFrame) -> npt.NDArray[np.object_]:
    """Each row's service key ``collaboration/procedure`` (an object array of str)."""
    return np.asarray(
        frame["collaboration"].astype(str).to_numpy(object)
        + "/"
        + frame["procedure"].astype(str).to_numpy(object),
        dtype=object,
    )


@dataclass(frozen=True)
class Prepared:
    """A problem's frames converted to arrays once (policy-independent), so the networks of
    its service parts are built by slicing arrays instead of converting frames per part.

    Every conversion is row by row, so slicing a prepared column gives exactly what
    converting the sliced frame would: :func:`build_part` of a part's rows builds the same
    network as :func:`build_network` of that part as its own problem.
    """

    problem: Problem
    today: np.datetime64
    departments: pd.DataFrame
    dept_index: pd.Index
    d_provider: IntArray
    d_region: npt.NDArray[np.object_]
    d_lat: FloatArray
    d_lon: FloatArray
    # patients (in the problem's row order)
    p_id: npt.NDArray[np.object_]
    p_key: npt.NDArray[np.object_]
    p_home: IntArray
    p_region: npt.NDArray[np.object_]
    p_lat: FloatArray
    p_lon: FloatArray
    p_entry_day: IntArray
    p_active: BoolArray
    p_deadline: IntArray
    p_max_travel: FloatArray  # the patient's own limit (inf: none)
    p_accepts_private: BoolArray
    p_accepts_foreign: BoolArray
    booked_dept: IntArray
    booked_day: IntArray
    has_booking: BoolArray
    # services, capacity and weekly caps rows
    s_key: npt.NDArray[np.object_]
    #: every service key the problem mentions (patients, services, capacity), and each row's
    #: position in it, so a part looks its keys up by integer code
    keys: npt.NDArray[np.object_]
    p_code: IntArray
    s_code: IntArray
    c_code: IntArray
    s_dept: IntArray
    s_price: FloatArray
    c_key: npt.NDArray[np.object_]
    c_dept: IntArray
    c_day: IntArray
    c_slots: IntArray
    w_key: npt.NDArray[np.object_]


def prepare(problem: Problem) -> Prepared:
    """The problem's columns as arrays, converted once for all its parts."""
    today = np.datetime64(problem.today, "D")
    departments = problem.departments.reset_index(drop=True)
    patients = problem.patients.reset_index(drop=True)
    dept_index = pd.Index(departments["department_id"].astype(str))

    p_earliest = _day_numbers(patients["earliest_date"], today)
    p_earliest = np.where(patients["earliest_date"].isna().to_numpy(), 0, p_earliest)
    p_active = (patients["deadline_status"].astype(str).to_numpy() == "active") & (
        patients["deadline"].notna().to_numpy()
    )
    p_max_travel = patients["max_travel_km"].to_numpy(np.float64).copy()
    p_max_travel[np.isnan(p_max_travel)] = np.inf
    booked_dept = np.asarray(
        positions(dept_index, patients["booked_department_id"].fillna("").astype(str)),
        dtype=np.int64,
    )
    booked_day = _day_numbers(patients["booked_date"], today)
    has_booking = (
        (booked_dept >= 0) & patients["booked_date"].notna().to_numpy() & (booked_day >= 0)
    )
    services, cap = problem.services, problem.capacity
    caps = problem.weekly_caps
    p_key, s_key, c_key = _keys(patients), _keys(services), _keys(cap)
    codes, keys = pd.factorize(np.concatenate([p_key, s_key, c_key]))
    codes = np.asarray(codes, dtype=np.int64)
    return Prepared(
        problem=problem,
        today=today,
        departments=departments,
        dept_index=dept_index,
        d_provider=np.asarray(
            departments["provider_type"].astype(str).map(PROVIDER_CODES).fillna(0), np.int64
        ),
        d_region=departments["region"].astype(str).to_numpy(),
        d_lat=departments["latitude"].to_numpy(np.float64),
        d_lon=departments["longitude"].to_numpy(np.float64),
        p_id=patients["patient_id"].astype(str).to_numpy(object),
        p_key=p_key,
        p_home=np.asarray(
            positions(dept_index, patients["home_department_id"].astype(str)), dtype=np.int64
        ),
        p_region=patients["home_region"].astype(str).to_numpy(),
        p_lat=patients["latitude"].to_numpy(np.float64),
        p_lon=patients["longitude"].to_numpy(np.float64),
        p_entry_day=np.maximum(p_earliest, 0),
        p_active=p_active,
        p_deadline=np.where(p_active, _day_numbers(patients["deadline"], today), NEVER_LATE),
        p_max_travel=p_max_travel,
        p_accepts_private=patients["accepts_private"].to_numpy(bool),
        p_accepts_foreign=patients["accepts_foreign"].to_numpy(bool),
        booked_dept=booked_dept,
        booked_day=booked_day,
        has_booking=has_booking,
        s_key=s_key,
        keys=np.asarray(keys, dtype=object),
        p_code=codes[: len(p_key)],
        s_code=codes[len(p_key) : len(p_key) + len(s_key)],
        c_code=codes[len(p_key) + len(s_key) :],
        s_dept=np.asarray(
            positions(dept_index, services["department_id"].astype(str)), dtype=np.int64
        ),
        s_price=services["price_dkk"].to_numpy(np.float64),
        c_key=c_key,
        c_dept=np.asarray(positions(dept_index, cap["department_id"].astype(str)), dtype=np.int64),
        c_day=_day_numbers(cap["date"], today),
        c_slots=cap["free_slots"].to_numpy(np.int64),
        w_key=_keys(caps) if len(caps) else np.empty(0, dtype=object),
    )


@dataclass(frozen=True)
class PartRows:
    """The rows of one independent part: its patients, services, capacity and weekly caps."""

    patients: IntArray
    services: IntArray
    capacity: IntArray
    weekly_caps: IntArray


def all_rows(prep: Prepared) -> PartRows:
    """The whole problem as one part."""
    problem = prep.problem
    return PartRows(
        patients=np.arange(len(problem.patients), dtype=np.int64),
        services=np.arange(len(problem.services), dtype=np.int64),
        capacity=np.arange(len(problem.capacity), dtype=np.int64),
        weekly_caps=np.arange(len(problem.weekly_caps), dtype=np.int64),
    )


def _inputs(prep: Prepared, rows: PartRows, policy: Policy) -> _Inputs:
    r = rows.patients
    # Service codes over every (collaboration, procedure) the part mentions, services first.
    used = pd.unique(np.concatenate([prep.s_code[rows.services], prep.p_code[r]]))
    service_index = pd.Index(prep.keys[used])
    local = np.full(len(prep.keys), -1, dtype=np.int64)
    local[used] = np.arange(len(used), dtype=np.int64)
    p_travel_limit = prep.p_max_travel[r]
    if policy.max_travel_km is not None:
        p_travel_limit = np.minimum(p_travel_limit, policy.max_travel_km)
    return _Inputs(
        today=prep.today,
        departments=prep.departments,
        patient_ids=prep.p_id[r],
        n=len(r),
        dept_index=prep.dept_index,
        d_provider=prep.d_provider,
        d_region=prep.d_region,
        d_lat=prep.d_lat,
        d_lon=prep.d_lon,
        service_index=service_index,
        n_services=len(service_index),
        p_service=local[prep.p_code[r]],
        local_service=local,
        p_home=prep.p_home[r],
        p_region=prep.p_region[r],
        p_lat=prep.p_lat[r],
        p_lon=prep.p_lon[r],
        p_entry_day=prep.p_entry_day[r],
        p_active=prep.p_active[r],
        p_deadline=prep.p_deadline[r],
        p_travel_limit=p_travel_limit,
        p_accepts_private=prep.p_accepts_private[r] & policy.allow_private,
        p_accepts_foreign=prep.p_accepts_foreign[r] & policy.allow_foreign,
        booked_dept=prep.booked_dept[r],
        booked_day=prep.booked_day[r],
        has_booking=prep.has_booking[r],
    )


@dataclass(frozen=True)
class _Buckets:
    """One bucket per department, service and day: declared free slots plus held bookings.

    Buckets are sorted by ``key`` = (department x service) x horizon + day, so each
    department's service forms one *chain* of consecutive buckets.
    """

    key: IntArray
    capacity: IntArray
    chain_key: IntArray
    day: IntArray
    dept: IntArray
    service: IntArray
    chain_keys: IntArray
    chain: IntArray  # per bucket: its chain
    chain_end: IntArray  # per chain: one past its last bucket
    horizon: int

    def __len__(self) -> int:
        return len(self.key)


def _buckets(prep: Prepared, rows: PartRows, x: _Inputs) -> _Buckets:
    c = rows.capacity
    c_dept = prep.c_dept[c]
    c_service = x.local_service[prep.c_code[c]]
    c_day = prep.c_day[c]
    c_slots = prep.c_slots[c]
    keep_rows = (c_dept >= 0) & (c_service >= 0) & (c_day >= 0) & (c_slots >= 0)
    slot_dept = np.concatenate([c_dept[keep_rows], x.booked_dept[x.has_booking]])
    slot_service = np.concatenate([c_service[keep_rows], x.p_service[x.has_booking]])
    slot_day = np.concatenate([c_day[keep_rows], x.booked_day[x.has_booking]])
    slot_count = np.concatenate(
        [c_slots[keep_rows], np.ones(int(x.has_booking.sum()), dtype=np.int64)]
    )
    horizon = int(slot_day.max()) + 2 if len(slot_day) else 2
    slot_key = (slot_dept * x.n_services + slot_service) * horizon + slot_day
    bucket_key, inverse = np.unique(slot_key, return_inverse=True)
    b_capacity = np.bincount(inverse, weights=slot_count, minlength=len(bucket_key)).astype(
        np.int64
    )
    b_chain_key = bucket_key // horizon
    chain_keys, b_chain = np.unique(b_chain_key, return_inverse=True)
    chain_end = np.searchsorted(b_chain, np.arange(len(chain_keys)), side="right").astype(np.int64)
    return _Buckets(
        key=bucket_key,
        capacity=b_capacity,
        chain_key=b_chain_key,
        day=bucket_key % horizon,
        dept=b_chain_key // x.n_services,
        service=b_chain_key % x.n_services,
        chain_keys=chain_keys,
        chain=b_chain,
        chain_end=chain_end,
        horizon=horizon,
    )


@dataclass(frozen=True)
class _Offers:
    """Each service's departments (sorted by service) with the cheapest price there."""

    service: IntArray
    dept: IntArray
    price: FloatArray
    start: IntArray  # per service: first offer
    count: IntArray  # per service: number of offers


def _offers(prep: Prepared, rows: PartRows, x: _Inputs) -> _Offers:
    s = rows.services
    s_dept = prep.s_dept[s]
    s_service = x.local_service[prep.s_code[s]]
    s_price = prep.s_price[s]
    valid = (s_dept >= 0) & (s_service >= 0)
    s_dept, s_service, s_price = s_dept[valid], s_service[valid], s_price[valid]
    # the cheapest price per (service, department), sorted by both; NaN only where all are NaN
    order = np.lexsort((s_dept, s_service))
    s_dept, s_service, s_price = s_dept[order], s_service[order], s_price[order]
    first = np.flatnonzero(
        np.r_[True, (s_service[1:] != s_service[:-1]) | (s_dept[1:] != s_dept[:-1])]
    )[: len(s_service)]
    o_service = s_service[first]
    price = np.fmin.reduceat(s_price, first) if len(first) else np.empty(0, dtype=np.float64)
    return _Offers(
        service=o_service,
        dept=s_dept[first],
        price=np.asarray(price, dtype=np.float64),
        start=np.searchsorted(o_service, np.arange(x.n_services), side="left"),
        count=np.bincount(o_service, minlength=x.n_services).astype(np.int64),
    )


@dataclass(frozen=True)
class _Pairs:
    """The eligible (patient, department) pairs, each entering at its first bucket ``pos``."""

    patient: IntArray
    dept: IntArray
    km: FloatArray
    pos: IntArray  # the pair's entry bucket
    chain: IntArray  # the entry bucket's chain
    day: IntArray  # the entry bucket's day
    price: FloatArray
    category: IntArray
    eligible_departments: IntArray  # per patient


def _pairs(problem: Problem, policy: Policy, x: _Inputs, b: _Buckets, o: _Offers) -> _Pairs:
    """Eligibility exactly as in the contract: provider consent, region, travel, exclusions,
    and a bucket of the department's service on or after the patient's first possible day."""
    counts = np.where(x.p_service >= 0, o.count[np.maximum(x.p_service, 0)], 0)
    pair_patient = np.repeat(np.arange(x.n, dtype=np.int64), counts)
    pair_offer = o.start[x.p_service[pair_patient]] + _segment_offsets(counts)
    pair_dept = o.dept[pair_offer]
    pair_provider = x.d_provider[pair_dept]
    pair_same_region = x.d_region[pair_dept] == x.p_region[pair_patient]
    ok = np.ones(len(pair_patient), dtype=bool)
    ok &= (pair_provider != 1) | x.p_accepts_private[pair_patient]
    ok &= (pair_provider != 2) | x.p_accepts_foreign[pair_patient]
    if not policy.allow_cross_region:
        ok &= pair_same_region | (pair_provider == 2)
    pair_km = great_circle_km(
        x.p_lat[pair_patient], x.p_lon[pair_patient], x.d_lat[pair_dept], x.d_lon[pair_dept]
    )
    ok &= pair_km <= x.p_travel_limit[pair_patient]
    if len(problem.excluded_pairs):
        excluded = pd.MultiIndex.from_arrays(
            [
                positions(
                    pd.Index(x.patient_ids),
                    problem.excluded_pairs["patient_id"].astype(str),
                ),
                positions(x.dept_index, problem.excluded_pairs["department_id"].astype(str)),
            ]
        )
        ok &= ~pd.MultiIndex.from_arrays([pair_patient, pair_dept]).isin(excluded)
    # first bucket of the department's chain on or after the patient's first possible day
    pair_chain_key = pair_dept * x.n_services + x.p_service[pair_patient]
    probe = pair_chain_key * b.horizon + x.p_entry_day[pair_patient]
    pos = np.searchsorted(b.key, probe, side="left")
    in_range = pos < len(b)
    ok &= in_range
    ok[in_range] &= b.chain_key[pos[in_range]] == pair_chain_key[in_range]
    pair_patient, pair_dept = pair_patient[ok], pair_dept[ok]
    return _Pairs(
        patient=pair_patient,
        dept=pair_dept,
        km=pair_km[ok],
        pos=pos[ok],
        chain=b.chain[pos[ok]],
        day=b.day[pos[ok]],
        price=o.price[pair_offer[ok]],
        category=_categories(
            policy, pair_dept, x.p_home[pair_patient], pair_provider[ok], pair_same_region[ok]
        ),
        eligible_departments=np.bincount(pair_patient, minlength=x.n).astype(np.int64),
    )


@dataclass(frozen=True)
class _Groups:
    """Chain groups: a department's chain of days per deadline class of the patients on it.

    A dated class runs only up to its deadline, then crosses into its chain's one shared
    "already late" group (``late``): after the deadline every class costs the same per day.
    """

    pair_group: IntArray  # per pair
    chain: IntArray
    klass: IntArray
    first: IntArray  # first bucket of the group
    end: IntArray  # one past its last bucket
    late: IntArray  # the late group a dated group crosses into, -1 if none
    last_on_time: IntArray  # a dated group's last on-time bucket, -1 otherwise
    dated: IntArray  # indices of the dated groups

    @property
    def size(self) -> IntArray:
        return self.end - self.first


def _groups(x: _Inputs, b: _Buckets, pairs: _Pairs) -> _Groups:
    pair_chain, pair_entry_day = pairs.chain, pairs.day
    last_day = b.day[b.chain_end[pair_chain] - 1]
    dl = x.p_deadline[pairs.patient]
    pair_class = np.where(
        dl >= last_day, NEVER_LATE, np.where(dl < pair_entry_day, ALREADY_LATE, dl)
    )
    # groups: the distinct (chain, class) pairs in sorted order, numbered 0, 1, ...
    order = np.lexsort((pair_class, pair_chain))
    sorted_chain, sorted_class = pair_chain[order], pair_class[order]
    starts = np.r_[
        True, (sorted_chain[1:] != sorted_chain[:-1]) | (sorted_class[1:] != sorted_class[:-1])
    ][: len(order)]
    pair_group = np.empty(len(order), dtype=np.int64)
    pair_group[order] = np.cumsum(starts) - 1
    n_groups = int(starts.sum())
    g_chain = np.asarray(sorted_chain[starts], dtype=np.int64)
    g_class = np.asarray(sorted_class[starts], dtype=np.int64)
    g_first = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(g_first, pair_group, pairs.pos)
    g_dated = (g_class != NEVER_LATE) & (g_class != ALREADY_LATE)
    g_last_on_time = np.where(
        g_dated,
        np.searchsorted(
            b.key, b.chain_keys[g_chain] * b.horizon + np.where(g_dated, g_class, 0), "right"
        )
        - 1,
        -1,
    )
    late_existing = pd.Series(
        np.flatnonzero(g_class == ALREADY_LATE), index=g_chain[g_class == ALREADY_LATE]
    )
    crossing_chains = np.unique(g_chain[g_dated])
    missing = crossing_chains[~np.isin(crossing_chains, late_existing.index.to_numpy())]
    new_late = n_groups + np.arange(len(missing), dtype=np.int64)
    g_chain = np.concatenate([g_chain, missing])
    g_class = np.concatenate([g_class, np.full(len(missing), ALREADY_LATE, dtype=np.int64)])
    g_first = np.concatenate([g_first, np.full(len(missing), np.iinfo(np.int64).max)])
    g_dated = np.concatenate([g_dated, np.zeros(len(missing), dtype=bool)])
    g_last_on_time = np.concatenate([g_last_on_time, np.full(len(missing), -1, dtype=np.int64)])
    late_of_chain = np.full(len(b.chain_keys), -1, dtype=np.int64)
    late_of_chain[late_existing.index.to_numpy()] = late_existing.to_numpy()
    late_of_chain[missing] = new_late
    g_late = np.where(g_dated, late_of_chain[g_chain], -1)
    dated = np.flatnonzero(g_dated)
    np.minimum.at(g_first, g_late[dated], g_last_on_time[dated] + 1)
    return _Groups(
        pair_group=pair_group,
        chain=g_chain,
        klass=g_class,
        first=g_first,
        end=np.where(g_dated, g_last_on_time + 1, b.chain_end[g_chain]),
        late=g_late,
        last_on_time=g_last_on_time,
        dated=dated,
    )


@dataclass(frozen=True)
class _Nodes:
    """Node numbering: patients, the sink, buckets, week nodes, then each group's chain."""

    sink: int
    bucket0: int
    bucket_target: IntArray  # per bucket: the sink or its week node
    week_tail: IntArray
    week_cap: IntArray
    group0: IntArray  # per group: its first chain node
    n_nodes: int
    node_group: IntArray  # per chain node
    node_bucket: IntArray
    node_id: IntArray


def _week_caps(
    prep: Prepared, rows: PartRows, x: _Inputs, b: _Buckets, week0: int, sink: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Week nodes for weekly caps: (bucket target, week node ids, their caps)."""
    bucket_target = np.full(len(b), sink, dtype=np.int64)
    if not len(rows.weekly_caps):
        return bucket_target, np.empty(0, np.int64), np.empty(0, np.int64)
    caps_frame = prep.problem.weekly_caps.iloc[rows.weekly_caps]
    if not len(caps_frame):
        return bucket_target, np.empty(0, np.int64), np.empty(0, np.int64)
    w_dept = np.asarray(
        positions(x.dept_index, caps_frame["department_id"].astype(str)), dtype=np.int64
    )
    w_service = _service_codes(
        caps_frame["collaboration"], caps_frame["procedure"], x.service_index
    )
    w_keys = pd.Series(
        (w_dept * x.n_services + w_service).astype(str) + "@" + caps_frame["week"].astype(str)
    )
    bucket_dates = pd.Series(x.today + b.day.astype("timedelta64[D]")).astype("datetime64[ns]")
    b_keys = pd.Series(b.chain_key.astype(str)) + "@" + calendar.weeks_of(bucket_dates)
    caps = (
        pd.DataFrame({"key": w_keys, "cap": caps_frame["max_slots"].to_numpy(np.int64)})
        .groupby("key")["cap"]
        .min()
    )
    week_of_bucket = pd.Index(caps.index).get_indexer(b_keys)
    has_week = week_of_bucket >= 0
    bucket_target[has_week] = week0 + week_of_bucket[has_week]
    return bucket_target, week0 + np.arange(len(caps), dtype=np.int64), caps.to_numpy(np.int64)


def _nodes(prep: Prepared, rows: PartRows, x: _Inputs, b: _Buckets, g: _Groups) -> _Nodes:
    sink = x.n
    bucket0 = x.n + 1
    week0 = bucket0 + len(b)
    bucket_target, week_tail, week_cap = _week_caps(prep, rows, x, b, week0, sink)
    chain0 = week0 + len(week_tail)
    size = g.size
    node_group = np.repeat(np.arange(len(size), dtype=np.int64), size)
    return _Nodes(
        sink=sink,
        bucket0=bucket0,
        bucket_target=bucket_target,
        week_tail=week_tail,
        week_cap=week_cap,
        group0=chain0 + np.cumsum(size) - size,
        n_nodes=int(chain0 + size.sum()),
        node_group=node_group,
        node_bucket=np.repeat(g.first, size) + _segment_offsets(size),
        node_id=chain0 + np.arange(len(node_group), dtype=np.int64),
    )


def build_network(problem: Problem, policy: Policy) -> Network:
    """The flow network of a problem under a policy (eligibility exactly as in the contract)."""
    prep = prepare(problem)
    return build_part(prep, all_rows(prep), policy)


def build_part(prep: Prepared, rows: PartRows, policy: Policy) -> Network:
    """The network of the part of a prepared problem in ``rows`` — the same network as
    :func:`build_network` of that part as a problem of its own."""
    x = _inputs(prep, rows, policy)
    b = _buckets(prep, rows, x)
    o = _offers(prep, rows, x)
    pairs = _pairs(prep.problem, policy, x, b, o)
    g = _groups(x, b, pairs)
    nodes = _nodes(prep, rows, x, b, g)
    return _arcs(policy, x, b, o, pairs, g, nodes)


def _arcs(
    policy: Policy, x: _Inputs, b: _Buckets, o: _Offers, pairs: _Pairs, g: _Groups, nodes: _Nodes
) -> Network:
    """The arcs in blocks of :class:`ArcKind`, their tiered costs and the lookup columns."""
    n, sink, n_buckets = x.n, nodes.sink, len(b)
    p_active, p_deadline = x.p_active, x.p_deadline
    pair_patient, pos = pairs.patient, pairs.pos
    pair_chain = pairs.chain
    node_group, node_bucket, node_id = nodes.node_group, nodes.node_bucket, nodes.node_id
    g_end = g.end

    # ---- policy points ----------------------------------------------------------------------
    date_points = np.rint(policy.per_day * b.day).astype(np.int64)

    def base_points(km: FloatArray, price: FloatArray, bucket: IntArray) -> IntArray:
        travel = np.rint(policy.per_km * km).astype(np.int64)
        cost = np.rint(policy.per_10k_dkk * np.nan_to_num(price, nan=0.0) / 1e4).astype(np.int64)
        return travel + cost + date_points[bucket]

    # ENTRY
    entry_tail = pair_patient
    entry_head = nodes.group0[g.pair_group] + (pos - g.first[g.pair_group])
    entry_late = np.where(
        p_active[pair_patient], np.maximum(pairs.day - p_deadline[pair_patient], 0), 0
    )
    entry_points = base_points(pairs.km, pairs.price, pos)
    # KEEP
    keep_patient = np.flatnonzero(x.has_booking).astype(np.int64)
    keep_chain_key = x.booked_dept[keep_patient] * x.n_services + x.p_service[keep_patient]
    keep_bucket = np.searchsorted(b.key, keep_chain_key * b.horizon + x.booked_day[keep_patient])
    keep_dept = x.booked_dept[keep_patient]
    keep_km = np.asarray(
        great_circle_km(
            x.p_lat[keep_patient], x.p_lon[keep_patient], x.d_lat[keep_dept], x.d_lon[keep_dept]
        ),
        np.float64,
    )
    # the offer's price at the booked department (NaN where it does not offer the service)
    n_depts = max(len(x.dept_index), 1)
    offer_key = o.service * n_depts + o.dept  # sorted: offers are sorted by service, dept
    wanted = x.p_service[keep_patient] * n_depts + keep_dept
    at = np.minimum(np.searchsorted(offer_key, wanted), max(len(offer_key) - 1, 0))
    found = (offer_key[at] == wanted) if len(offer_key) else np.zeros(len(wanted), dtype=bool)
    keep_price: FloatArray = np.full(len(wanted), np.nan, dtype=np.float64)
    keep_price[found] = o.price[at[found]]
    keep_late = np.where(
        p_active[keep_patient], np.maximum(b.day[keep_bucket] - p_deadline[keep_patient], 0), 0
    )
    keep_points = base_points(keep_km, keep_price, keep_bucket)
    keep_category = np.full(len(keep_patient), policy.category_rank("keep"), dtype=np.int64)

    step = int(max(entry_points.max(initial=0), keep_points.max(initial=0))) + 1
    entry_policy = entry_points + pairs.category * step
    keep_policy = keep_points + keep_category * step

    # CHAIN arcs (node -> next node of the same group); lateness only on "already late" chains
    has_next = node_bucket + 1 < g_end[node_group]
    ch_from = node_id[has_next]
    ch_bucket = node_bucket[has_next]
    already = g.klass[node_group[has_next]] == ALREADY_LATE
    ch_days = np.where(already, b.day[ch_bucket + 1] - b.day[ch_bucket], 0)
    ch_breach = np.zeros(len(ch_from), dtype=np.int64)
    ch_points = date_points[ch_bucket + 1] - date_points[ch_bucket]
    # CROSS arcs: a dated class's last on-time day -> the late chain's next day
    dated = g.dated
    cr_group = dated
    cr_bucket = g.last_on_time[dated] + 1
    cr_late = g.late[dated]
    cr_from = nodes.group0[cr_group] + (g_end[cr_group] - 1 - g.first[cr_group])
    cr_to = nodes.group0[cr_late] + (cr_bucket - g.first[cr_late])
    cr_days = b.day[cr_bucket] - g.klass[cr_group]
    cr_points = date_points[cr_bucket] - date_points[cr_bucket - 1]

    n_weeks = len(nodes.week_tail)
    n_entry, n_keep, n_chain = len(entry_tail), len(keep_patient), len(ch_from)
    n_exit = len(node_id)
    unbounded = max(n, 1)
    blocks_tail = [
        entry_tail,
        keep_patient,
        np.arange(n, dtype=np.int64),
        ch_from,
        node_id,
        nodes.bucket0 + np.arange(n_buckets, dtype=np.int64),
        nodes.week_tail,
        cr_from,
    ]
    blocks_head = [
        entry_head,
        nodes.bucket0 + keep_bucket,
        np.full(n, sink, dtype=np.int64),
        ch_from + 1,
        nodes.bucket0 + node_bucket,
        nodes.bucket_target,
        np.full(n_weeks, sink, dtype=np.int64),
        cr_to,
    ]
    sizes = [n_entry, n_keep, n, n_chain, n_exit, n_buckets, n_weeks, len(cr_from)]
    n_kinds = len(sizes)
    kinds = np.repeat(np.arange(n_kinds, dtype=np.int64), sizes)
    capacity = np.concatenate(
        [
            np.ones(n_entry + n_keep + n, dtype=np.int64),
            np.full(n_chain + n_exit, unbounded, dtype=np.int64),
            b.capacity,
            nodes.week_cap,
            np.full(len(cr_from), unbounded, dtype=np.int64),
        ]
    )
    zeros = {k: np.zeros(s, dtype=np.int64) for k, s in enumerate(sizes)}

    def column(parts: dict[int, IntArray]) -> IntArray:
        return np.concatenate([parts.get(k, zeros[k]) for k in range(n_kinds)]).astype(np.int64)

    entry_breach = (entry_late > 0).astype(np.int64)
    keep_breach = (keep_late > 0).astype(np.int64)
    unassigned = column({ArcKind.UNASSIGNED: np.ones(n, dtype=np.int64)})
    breach = column(
        {
            ArcKind.ENTRY: entry_breach,
            ArcKind.KEEP: keep_breach,
            ArcKind.CHAIN: ch_breach,
            ArcKind.CROSS: np.ones(len(cr_from), dtype=np.int64),
        }
    )
    days_late = column(
        {
            ArcKind.ENTRY: entry_late,
            ArcKind.KEEP: keep_late,
            ArcKind.CHAIN: ch_days,
            ArcKind.CROSS: cr_days,
        }
    )
    policy_points = column(
        {
            ArcKind.ENTRY: entry_policy,
            ArcKind.KEEP: keep_policy,
            ArcKind.CHAIN: ch_points,
            ArcKind.CROSS: cr_points,
        }
    )
    minus = {k: np.full(s, -1, dtype=np.int64) for k, s in enumerate(sizes)}

    def index_column(parts: dict[int, IntArray]) -> IntArray:
        return np.concatenate([parts.get(k, minus[k]) for k in range(n_kinds)]).astype(np.int64)

    arc_patient = index_column(
        {
            ArcKind.ENTRY: pair_patient,
            ArcKind.KEEP: keep_patient,
            ArcKind.UNASSIGNED: np.arange(n, dtype=np.int64),
        }
    )
    arc_department = index_column({ArcKind.ENTRY: pairs.dept, ArcKind.KEEP: keep_dept})
    arc_bucket = index_column(
        {
            ArcKind.ENTRY: pos,
            ArcKind.KEEP: keep_bucket,
            ArcKind.EXIT: node_bucket,
            ArcKind.BUCKET: np.arange(n_buckets, dtype=np.int64),
            ArcKind.CROSS: cr_bucket,
        }
    )
    arc_group = index_column(
        {
            ArcKind.ENTRY: g.pair_group,
            ArcKind.CHAIN: node_group[has_next],
            ArcKind.EXIT: node_group,
            ArcKind.CROSS: cr_group,
        }
    )
    arc_category = index_column({ArcKind.ENTRY: pairs.category, ArcKind.KEEP: keep_category})
    arc_km = np.full(len(kinds), np.nan)
    arc_km[:n_entry] = pairs.km
    arc_km[n_entry : n_entry + n_keep] = keep_km

    # per-patient bounds used to derive exact tier weights
    max_days = np.zeros(n, dtype=np.int64)
    chain_last_day = b.day[b.chain_end - 1]
    reach_late = np.where(
        p_active[pair_patient],
        np.maximum(chain_last_day[pair_chain] - p_deadline[pair_patient], 0),
        0,
    )
    np.maximum.at(max_days, pair_patient, reach_late)
    np.maximum.at(max_days, keep_patient, keep_late)
    max_points = np.zeros(n, dtype=np.int64)
    # an entry's policy points grow along its chain by at most the date points to the chain end
    reach_points = entry_policy + date_points[b.chain_end[pair_chain] - 1] - date_points[pos]
    np.maximum.at(max_points, pair_patient, reach_points)
    np.maximum.at(max_points, keep_patient, keep_policy)

    supply = np.zeros(nodes.n_nodes, dtype=np.int64)
    supply[:n] = 1
    supply[sink] = -n
    return Network(
        n_nodes=nodes.n_nodes,
        sink=sink,
        supply=supply,
        tail=np.concatenate(blocks_tail).astype(np.int64),
        head=np.concatenate(blocks_head).astype(np.int64),
        capacity=capacity,
        kind=kinds,
        unassigned=unassigned,
        breach=breach,
        days_late=days_late,
        policy_points=policy_points,
        n_patients=n,
        patient_deadline_day=p_deadline,
        patient_active=p_active,
        arc_patient=arc_patient,
        arc_department=arc_department,
        arc_bucket=arc_bucket,
        arc_group=arc_group,
        arc_km=arc_km,
        arc_category=arc_category,
        bucket_department=b.dept,
        bucket_service=b.service,
        bucket_day=b.day,
        bucket_capacity=b.capacity,
        departments=x.departments,
        service_keys=tuple(x.service_index.astype(str)),
        category_step=step,
        group_late=g.late,
        max_days_late=max_days,
        max_policy_points=max_points,
        can_breach=max_days > 0,
        eligible_departments=pairs.eligible_departments,
    )
