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


def build_network(problem: Problem, policy: Policy) -> Network:
    """The flow network of a problem under a policy (eligibility exactly as in the contract)."""
    today = np.datetime64(problem.today, "D")
    departments = problem.departments.reset_index(drop=True)
    patients = problem.patients.reset_index(drop=True)
    n = len(patients)

    dept_index = pd.Index(departments["department_id"].astype(str))
    d_provider = (
        departments["provider_type"].astype(str).map(PROVIDER_CODES).fillna(0).to_numpy(np.int64)
    )
    d_region = departments["region"].astype(str).to_numpy()
    d_lat = departments["latitude"].to_numpy(np.float64)
    d_lon = departments["longitude"].to_numpy(np.float64)

    # Service codes over every (collaboration, procedure) the problem mentions.
    all_keys = pd.concat(
        [
            problem.services["collaboration"].astype(str)
            + "/"
            + problem.services["procedure"].astype(str),
            patients["collaboration"].astype(str) + "/" + patients["procedure"].astype(str),
        ]
    )
    service_index = pd.Index(pd.unique(all_keys.to_numpy()))
    n_services = len(service_index)

    p_service = _service_codes(patients["collaboration"], patients["procedure"], service_index)
    p_home = np.asarray(
        positions(dept_index, patients["home_department_id"].astype(str)),
        dtype=np.int64,
    )
    p_region = patients["home_region"].astype(str).to_numpy()
    p_lat = patients["latitude"].to_numpy(np.float64)
    p_lon = patients["longitude"].to_numpy(np.float64)
    p_earliest = _day_numbers(patients["earliest_date"], today)
    p_earliest = np.where(patients["earliest_date"].isna().to_numpy(), 0, p_earliest)
    p_entry_day = np.maximum(p_earliest, 0)
    p_active = (patients["deadline_status"].astype(str).to_numpy() == "active") & (
        patients["deadline"].notna().to_numpy()
    )
    p_deadline = np.where(p_active, _day_numbers(patients["deadline"], today), NEVER_LATE)
    p_travel_limit = patients["max_travel_km"].to_numpy(np.float64).copy()
    p_travel_limit[np.isnan(p_travel_limit)] = np.inf
    if policy.max_travel_km is not None:
        p_travel_limit = np.minimum(p_travel_limit, policy.max_travel_km)
    p_accepts_private = patients["accepts_private"].to_numpy(bool) & policy.allow_private
    p_accepts_foreign = patients["accepts_foreign"].to_numpy(bool) & policy.allow_foreign

    booked_dept = np.asarray(
        positions(dept_index, patients["booked_department_id"].fillna("").astype(str)),
        dtype=np.int64,
    )
    booked_day = _day_numbers(patients["booked_date"], today)
    has_booking = (
        (booked_dept >= 0) & patients["booked_date"].notna().to_numpy() & (booked_day >= 0)
    )

    # ---- buckets: declared free slots plus the slots held by current bookings --------------
    cap = problem.capacity
    c_dept = np.asarray(positions(dept_index, cap["department_id"].astype(str)), dtype=np.int64)
    c_service = _service_codes(cap["collaboration"], cap["procedure"], service_index)
    c_day = _day_numbers(cap["date"], today)
    c_slots = cap["free_slots"].to_numpy(np.int64)
    keep_rows = (c_dept >= 0) & (c_service >= 0) & (c_day >= 0) & (c_slots >= 0)
    slot_dept = np.concatenate([c_dept[keep_rows], booked_dept[has_booking]])
    slot_service = np.concatenate([c_service[keep_rows], p_service[has_booking]])
    slot_day = np.concatenate([c_day[keep_rows], booked_day[has_booking]])
    slot_count = np.concatenate(
        [c_slots[keep_rows], np.ones(int(has_booking.sum()), dtype=np.int64)]
    )
    horizon = int(slot_day.max()) + 2 if len(slot_day) else 2
    slot_chain_key = slot_dept * n_services + slot_service
    slot_key = slot_chain_key * horizon + slot_day
    bucket_key, inverse = np.unique(slot_key, return_inverse=True)
    b_capacity = np.bincount(inverse, weights=slot_count, minlength=len(bucket_key)).astype(
        np.int64
    )
    b_chain_key = bucket_key // horizon
    b_day = bucket_key % horizon
    b_dept = b_chain_key // n_services
    b_service = b_chain_key % n_services
    n_buckets = len(bucket_key)
    chain_keys, b_chain = np.unique(b_chain_key, return_inverse=True)
    chain_end = np.searchsorted(b_chain, np.arange(len(chain_keys)), side="right").astype(
        np.int64
    )  # one past each chain's last bucket

    # ---- eligible (patient, department) pairs -------------------------------------------------
    s_dept = np.asarray(
        positions(dept_index, problem.services["department_id"].astype(str)),
        dtype=np.int64,
    )
    s_service = _service_codes(
        problem.services["collaboration"], problem.services["procedure"], service_index
    )
    s_price = problem.services["price_dkk"].to_numpy(np.float64)
    offer = pd.DataFrame({"service": s_service, "dept": s_dept, "price": s_price})
    offer = offer[(offer["dept"] >= 0) & (offer["service"] >= 0)]
    offer = offer.groupby(["service", "dept"], as_index=False, sort=True)[["price"]].min()
    o_service = offer["service"].to_numpy(np.int64)
    o_dept = offer["dept"].to_numpy(np.int64)
    o_price = offer["price"].to_numpy(np.float64)
    o_start = np.searchsorted(o_service, np.arange(n_services), side="left")
    o_count = np.bincount(o_service, minlength=n_services).astype(np.int64)

    counts = np.where(p_service >= 0, o_count[np.maximum(p_service, 0)], 0)
    pair_patient = np.repeat(np.arange(n, dtype=np.int64), counts)
    pair_offer = o_start[p_service[pair_patient]] + _segment_offsets(counts)
    pair_dept = o_dept[pair_offer]
    pair_provider = d_provider[pair_dept]
    pair_same_region = d_region[pair_dept] == p_region[pair_patient]
    ok = np.ones(len(pair_patient), dtype=bool)
    ok &= (pair_provider != 1) | p_accepts_private[pair_patient]
    ok &= (pair_provider != 2) | p_accepts_foreign[pair_patient]
    if not policy.allow_cross_region:
        ok &= pair_same_region | (pair_provider == 2)
    pair_km = great_circle_km(
        p_lat[pair_patient], p_lon[pair_patient], d_lat[pair_dept], d_lon[pair_dept]
    )
    ok &= pair_km <= p_travel_limit[pair_patient]
    if len(problem.excluded_pairs):
        excluded = pd.MultiIndex.from_arrays(
            [
                positions(
                    pd.Index(patients["patient_id"].astype(str)),
                    problem.excluded_pairs["patient_id"].astype(str),
                ),
                positions(dept_index, problem.excluded_pairs["department_id"].astype(str)),
            ]
        )
        ok &= ~pd.MultiIndex.from_arrays([pair_patient, pair_dept]).isin(excluded)
    # first bucket of the department's chain on or after the patient's first possible day
    pair_chain_key = pair_dept * n_services + p_service[pair_patient]
    probe = pair_chain_key * horizon + p_entry_day[pair_patient]
    pos = np.searchsorted(bucket_key, probe, side="left")
    in_range = pos < n_buckets
    ok &= in_range
    ok[in_range] &= b_chain_key[pos[in_range]] == pair_chain_key[in_range]
    pair_patient, pair_dept, pair_km, pos = pair_patient[ok], pair_dept[ok], pair_km[ok], pos[ok]
    pair_price = o_price[pair_offer[ok]]
    pair_category = _categories(
        policy,
        pair_dept,
        p_home[pair_patient],
        pair_provider[ok],
        pair_same_region[ok],
    )
    eligible_departments = np.bincount(pair_patient, minlength=n).astype(np.int64)

    # ---- deadline classes and chain groups ----------------------------------------------------
    pair_chain = b_chain[pos]
    pair_entry_day = b_day[pos]
    last_day = b_day[chain_end[pair_chain] - 1]
    dl = p_deadline[pair_patient]
    pair_class = np.where(
        dl >= last_day, NEVER_LATE, np.where(dl < pair_entry_day, ALREADY_LATE, dl)
    )
    group_key = pd.MultiIndex.from_arrays([pair_chain, pair_class])
    pair_group, group_uniques = pd.factorize(group_key, sort=True)
    pair_group = pair_group.astype(np.int64)
    n_groups = len(group_uniques)
    g_chain = np.asarray(group_uniques.get_level_values(0), dtype=np.int64)
    g_class = np.asarray(group_uniques.get_level_values(1), dtype=np.int64)
    g_first = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(g_first, pair_group, pos)
    # A dated class runs only up to its deadline, then crosses into its chain's one shared
    # "already late" chain: after the deadline every class costs the same per day.
    g_dated = (g_class != NEVER_LATE) & (g_class != ALREADY_LATE)
    g_last_on_time = np.where(
        g_dated,
        np.searchsorted(
            bucket_key, chain_keys[g_chain] * horizon + np.where(g_dated, g_class, 0), "right"
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
    n_groups = len(g_chain)
    late_of_chain = np.full(len(chain_keys), -1, dtype=np.int64)
    late_of_chain[late_existing.index.to_numpy()] = late_existing.to_numpy()
    late_of_chain[missing] = new_late
    g_late = np.where(g_dated, late_of_chain[g_chain], -1)
    dated = np.flatnonzero(g_dated)
    np.minimum.at(g_first, g_late[dated], g_last_on_time[dated] + 1)
    g_end = np.where(g_dated, g_last_on_time + 1, chain_end[g_chain])
    g_size = g_end - g_first

    # ---- node numbering ----------------------------------------------------------------------
    sink = n
    bucket_node0 = n + 1
    cap_frame = problem.weekly_caps
    week_arcs_tail: IntArray = np.empty(0, np.int64)
    week_cap: IntArray = np.empty(0, np.int64)
    bucket_target = np.full(n_buckets, sink, dtype=np.int64)
    week_node0 = bucket_node0 + n_buckets
    n_weeks = 0
    if len(cap_frame):
        w_dept = np.asarray(
            positions(dept_index, cap_frame["department_id"].astype(str)),
            dtype=np.int64,
        )
        w_service = _service_codes(
            cap_frame["collaboration"], cap_frame["procedure"], service_index
        )
        w_keys = pd.Series(
            (w_dept * n_services + w_service).astype(str) + "@" + cap_frame["week"].astype(str)
        )
        bucket_dates = today + b_day.astype("timedelta64[D]")
        iso = pd.DatetimeIndex(bucket_dates).isocalendar()
        b_week = (
            iso["year"].astype(str).to_numpy()
            + "-W"
            + iso["week"].astype(int).map("{:02d}".format).to_numpy()
        )
        b_keys = pd.Series(b_chain_key.astype(str)) + "@" + pd.Series(b_week)
        caps = (
            pd.DataFrame({"key": w_keys, "cap": cap_frame["max_slots"].to_numpy(np.int64)})
            .groupby("key")["cap"]
            .min()
        )
        week_of_bucket = pd.Index(caps.index).get_indexer(b_keys)
        n_weeks = len(caps)
        has_week = week_of_bucket >= 0
        bucket_target[has_week] = week_node0 + week_of_bucket[has_week]
        week_arcs_tail = week_node0 + np.arange(n_weeks, dtype=np.int64)
        week_cap = caps.to_numpy(np.int64)
    chain_node0 = week_node0 + n_weeks
    g_node0 = chain_node0 + np.cumsum(g_size) - g_size
    n_nodes = int(chain_node0 + g_size.sum())

    # chain nodes: group, bucket
    node_group = np.repeat(np.arange(n_groups, dtype=np.int64), g_size)
    node_bucket = np.repeat(g_first, g_size) + _segment_offsets(g_size)
    node_id = chain_node0 + np.arange(len(node_group), dtype=np.int64)

    # ---- policy points ----------------------------------------------------------------------
    date_points = np.rint(policy.per_day * b_day).astype(np.int64)

    def base_points(km: FloatArray, price: FloatArray, bucket: IntArray) -> IntArray:
        travel = np.rint(policy.per_km * km).astype(np.int64)
        cost = np.rint(policy.per_10k_dkk * np.nan_to_num(price, nan=0.0) / 1e4).astype(np.int64)
        return travel + cost + date_points[bucket]

    # ---- arcs ----------------------------------------------------------------------------------
    # ENTRY
    entry_tail = pair_patient
    entry_head = g_node0[pair_group] + (pos - g_first[pair_group])
    entry_late = np.where(p_active[pair_patient], np.maximum(b_day[pos] - dl, 0), 0)
    entry_points = base_points(pair_km, pair_price, pos)
    # KEEP
    keep_patient = np.flatnonzero(has_booking).astype(np.int64)
    keep_chain_key = booked_dept[keep_patient] * n_services + p_service[keep_patient]
    keep_bucket = np.searchsorted(bucket_key, keep_chain_key * horizon + booked_day[keep_patient])
    keep_dept = booked_dept[keep_patient]
    keep_km = great_circle_km(
        p_lat[keep_patient], p_lon[keep_patient], d_lat[keep_dept], d_lon[keep_dept]
    )
    keep_price_lookup = pd.Series(o_price, index=pd.MultiIndex.from_arrays([o_service, o_dept]))
    keep_price = keep_price_lookup.reindex(
        pd.MultiIndex.from_arrays([p_service[keep_patient], keep_dept])
    ).to_numpy(np.float64)
    keep_late = np.where(
        p_active[keep_patient], np.maximum(b_day[keep_bucket] - p_deadline[keep_patient], 0), 0
    )
    keep_points = base_points(keep_km, keep_price, keep_bucket)
    keep_category = np.full(len(keep_patient), policy.category_rank("keep"), dtype=np.int64)

    step = int(max(entry_points.max(initial=0), keep_points.max(initial=0))) + 1
    entry_policy = entry_points + pair_category * step
    keep_policy = keep_points + keep_category * step

    # CHAIN arcs (node -> next node of the same group); lateness only on "already late" chains
    has_next = node_bucket + 1 < g_end[node_group]
    ch_from = node_id[has_next]
    ch_bucket = node_bucket[has_next]
    already = g_class[node_group[has_next]] == ALREADY_LATE
    ch_days = np.where(already, b_day[ch_bucket + 1] - b_day[ch_bucket], 0)
    ch_breach = np.zeros(len(ch_from), dtype=np.int64)
    ch_points = date_points[ch_bucket + 1] - date_points[ch_bucket]
    # CROSS arcs: a dated class's last on-time day -> the late chain's next day
    cr_group = dated
    cr_bucket = g_last_on_time[dated] + 1
    cr_late = g_late[dated]
    cr_from = g_node0[cr_group] + (g_end[cr_group] - 1 - g_first[cr_group])
    cr_to = g_node0[cr_late] + (cr_bucket - g_first[cr_late])
    cr_days = b_day[cr_bucket] - g_class[cr_group]
    cr_points = date_points[cr_bucket] - date_points[cr_bucket - 1]

    n_entry, n_keep, n_chain = len(entry_tail), len(keep_patient), len(ch_from)
    n_exit = len(node_id)
    unbounded = max(n, 1)
    blocks_tail = [
        entry_tail,
        keep_patient,
        np.arange(n, dtype=np.int64),
        ch_from,
        node_id,
        bucket_node0 + np.arange(n_buckets, dtype=np.int64),
        week_arcs_tail,
        cr_from,
    ]
    blocks_head = [
        entry_head,
        bucket_node0 + keep_bucket,
        np.full(n, sink, dtype=np.int64),
        ch_from + 1,
        bucket_node0 + node_bucket,
        bucket_target,
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
            b_capacity,
            week_cap,
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
    arc_department = index_column({ArcKind.ENTRY: pair_dept, ArcKind.KEEP: keep_dept})
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
            ArcKind.ENTRY: pair_group,
            ArcKind.CHAIN: node_group[has_next],
            ArcKind.EXIT: node_group,
            ArcKind.CROSS: cr_group,
        }
    )
    arc_category = index_column({ArcKind.ENTRY: pair_category, ArcKind.KEEP: keep_category})
    arc_km = np.full(len(kinds), np.nan)
    arc_km[:n_entry] = pair_km
    arc_km[n_entry : n_entry + n_keep] = keep_km

    # per-patient bounds used to derive exact tier weights
    max_days = np.zeros(n, dtype=np.int64)
    chain_last_day = b_day[chain_end - 1]
    reach_late = np.where(
        p_active[pair_patient],
        np.maximum(chain_last_day[pair_chain] - p_deadline[pair_patient], 0),
        0,
    )
    np.maximum.at(max_days, pair_patient, reach_late)
    np.maximum.at(max_days, keep_patient, keep_late)
    max_points = np.zeros(n, dtype=np.int64)
    # an entry's policy points grow along its chain by at most the date points to the chain end
    reach_points = entry_policy + date_points[chain_end[pair_chain] - 1] - date_points[pos]
    np.maximum.at(max_points, pair_patient, reach_points)
    np.maximum.at(max_points, keep_patient, keep_policy)

    supply = np.zeros(n_nodes, dtype=np.int64)
    supply[:n] = 1
    supply[sink] = -n
    return Network(
        n_nodes=n_nodes,
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
        bucket_department=b_dept,
        bucket_service=b_service,
        bucket_day=b_day,
        bucket_capacity=b_capacity,
        departments=departments,
        service_keys=tuple(service_index.astype(str)),
        category_step=step,
        group_late=g_late,
        max_days_late=max_days,
        max_policy_points=max_points,
        can_breach=max_days > 0,
        eligible_departments=eligible_departments,
    )
