"""The straightforward formulation of the contract's tiers 1-3: one arc per patient and slot.

The baseline the solver is benchmarked against, written from ../shared/contract/exchange-formats.md
without any of ``solver/``'s internals. A *slot* is one department, service (collaboration and
procedure) and day; its capacity is the declared free slots plus one per current booking there.
The network is

    patient (supply 1) --eligible slot arc--> slot --capacity--> sink
    patient            --unassigned arc------------------------> sink

with exact big-M weights making tiers 1-3 lexicographic (unassigned >> breach >> day late).
Everything is built with numpy in bulk; the only loops run over a handful of tables, never
patients or arcs. Three solvers read the same arrays: OR-Tools' ``SimpleMinCostFlow``, HiGHS on
the LP (:func:`solve_highs`; a min-cost flow LP is integral) and networkx's network simplex.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from capacity.frames import Dataset
from capacity.geo import great_circle_km

IntArray = npt.NDArray[np.int64]

#: OR-Tools' cost-scaling multiplies costs by about the node count; stay below 2**62.
INT64_HEADROOM: Final = 2**62


@dataclass(frozen=True)
class Tiers:
    """The contract's hard tiers: unassigned patients, breaches, total days late."""

    unassigned: int
    breaches: int
    days_late: int

    def hard(self) -> tuple[int, int, int]:
        """Tiers 1-3 as (unassigned, breaches, days late), as ``solver.solve.TierValues``."""
        return (self.unassigned, self.breaches, self.days_late)


@dataclass(frozen=True)
class Eligibility:
    """Eligible (patient, department, service) pairs and the slots each pair can use.

    Pair ``k`` may use slots ``slot_start[k] .. slot_end[k] - 1`` (slots are sorted by
    department, service and day, so a pair's eligible days are one contiguous run), plus each
    booked patient's own booking (``own_patient``, ``own_slot``) when it is not already among
    them.
    """

    n_patients: int
    slot_capacity: IntArray
    slot_day: IntArray  # days after today
    pair_patient: IntArray
    slot_start: IntArray
    slot_end: IntArray
    own_patient: IntArray
    own_slot: IntArray
    deadline_day: IntArray  # per patient, days after today; only meaningful where active
    active: npt.NDArray[np.bool_]

    def slots_per_patient(self) -> IntArray:
        """The number of eligible slots (department-days) of each patient."""
        counts = np.bincount(
            self.pair_patient, weights=self.slot_end - self.slot_start, minlength=self.n_patients
        ).astype(np.int64)
        return counts + np.bincount(self.own_patient, minlength=self.n_patients)

    def arc_count(self) -> int:
        """Arcs of the straightforward network: eligible slots, unassigned arcs, slot->sink."""
        return int(self.slots_per_patient().sum()) + self.n_patients + len(self.slot_capacity)


@dataclass(frozen=True)
class FlowNetwork:
    """The straightforward min-cost flow network as parallel numpy arrays (sink is the last node).

    Arcs come in three runs: patient -> slot (``n_assign``), patient -> sink (unassigned, one
    per patient), slot -> sink (one per slot).
    """

    n_patients: int
    n_slots: int
    tail: IntArray
    head: IntArray
    capacity: IntArray
    cost: IntArray
    breach: IntArray  # per arc, 0 or 1
    days_late: IntArray  # per arc
    n_assign: int
    weights: dict[str, int]
    fits_int64: bool
    build_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def n_nodes(self) -> int:
        """Patients, slots and the sink."""
        return self.n_patients + self.n_slots + 1

    @property
    def sink(self) -> int:
        """The sink node's number."""
        return self.n_nodes - 1

    def supplies(self) -> IntArray:
        """Node supplies: one per patient, all of them absorbed by the sink."""
        supply = np.zeros(self.n_nodes, dtype=np.int64)
        supply[: self.n_patients] = 1
        supply[self.sink] = -self.n_patients
        return supply

    def tiers(self, flows: npt.ArrayLike) -> Tiers:
        """Tiers 1-3 of an integral flow on the arcs."""
        f = np.rint(np.asarray(flows, dtype=np.float64)).astype(np.int64)
        unassigned = f[self.n_assign : self.n_assign + self.n_patients]
        return Tiers(
            unassigned=int(unassigned.sum()),
            breaches=int((f * self.breach).sum()),
            days_late=int((f * self.days_late).sum()),
        )


def _day_numbers(values: pd.Series, today: np.datetime64) -> IntArray:
    """Days after today (NaT becomes a large negative number; callers mask it)."""
    days = values.to_numpy("datetime64[ns]").astype("datetime64[D]") - today
    out = days.astype(np.int64)
    out[np.isnat(days)] = np.iinfo(np.int32).min
    return out


def _codes(index: pd.Index, values: pd.Series) -> IntArray:
    """Positions of the values in the index (-1 where absent)."""
    return np.asarray(index.get_indexer(pd.Index(values)), dtype=np.int64)


def eligibility(dataset: Dataset, today: dt.date | str) -> Eligibility:
    """Every patient's eligible slots, exactly per the contract's eligibility rule."""
    day0 = np.datetime64(str(today), "D")
    departments = dataset.departments.reset_index(drop=True)
    patients = dataset.patients.reset_index(drop=True)
    n = len(patients)
    dept_index = pd.Index(departments["department_id"].astype(str))
    d_provider = departments["provider_type"].astype(str).to_numpy()
    d_lat = departments["latitude"].to_numpy(np.float64)
    d_lon = departments["longitude"].to_numpy(np.float64)

    def service_keys(frame: pd.DataFrame) -> pd.Series:
        return frame["collaboration"].astype(str) + "/" + frame["procedure"].astype(str)

    service_index = pd.Index(
        pd.unique(pd.concat([service_keys(dataset.services), service_keys(patients)]).to_numpy())
    )
    n_services = len(service_index)
    p_service = _codes(service_index, service_keys(patients))

    # ---- slots: declared free slots on days >= today, plus one per current booking -------------
    cap = dataset.capacity
    c_dept = _codes(dept_index, cap["department_id"].astype(str))
    c_service = _codes(service_index, service_keys(cap))
    c_day = _day_numbers(cap["date"], day0)
    c_keep = (c_dept >= 0) & (c_service >= 0) & (c_day >= 0)
    b_dept = _codes(dept_index, patients["booked_department_id"].fillna("").astype(str))
    b_day = _day_numbers(patients["booked_date"], day0)
    booked = (b_dept >= 0) & (b_day >= 0)
    horizon = int(max(c_day[c_keep].max(initial=0), b_day[booked].max(initial=0))) + 1
    s_dept = np.concatenate([c_dept[c_keep], b_dept[booked]])
    s_service = np.concatenate([c_service[c_keep], p_service[booked]])
    s_day = np.concatenate([c_day[c_keep], b_day[booked]])
    s_count = np.concatenate(
        [cap["free_slots"].to_numpy(np.int64)[c_keep], np.ones(int(booked.sum()), np.int64)]
    )
    s_key = (s_dept * n_services + s_service) * horizon + s_day
    slot_key, slot_of_row = np.unique(s_key, return_inverse=True)
    slot_capacity = np.bincount(slot_of_row, weights=s_count, minlength=len(slot_key)).astype(
        np.int64
    )
    slot_day = slot_key % horizon
    own_slot_all = slot_of_row[int(c_keep.sum()) :]

    # ---- eligible (patient, department) pairs: the department offers the patient's service ----
    offers = pd.DataFrame(
        {
            "service": _codes(service_index, service_keys(dataset.services)),
            "dept": _codes(dept_index, dataset.services["department_id"].astype(str)),
        }
    )
    offers = offers[(offers["service"] >= 0) & (offers["dept"] >= 0)].drop_duplicates()
    offers = offers.sort_values(["service", "dept"])
    o_service = offers["service"].to_numpy(np.int64)
    o_dept = offers["dept"].to_numpy(np.int64)
    o_count = np.bincount(o_service, minlength=n_services).astype(np.int64)
    o_start = np.cumsum(o_count) - o_count
    p_count = np.where(p_service >= 0, o_count[np.maximum(p_service, 0)], 0)
    pair_patient = np.repeat(np.arange(n, dtype=np.int64), p_count)
    within = np.arange(len(pair_patient), dtype=np.int64) - np.repeat(
        np.cumsum(p_count) - p_count, p_count
    )
    pair_dept = o_dept[o_start[p_service[pair_patient]] + within]

    p_lat = patients["latitude"].to_numpy(np.float64)
    p_lon = patients["longitude"].to_numpy(np.float64)
    limit = patients["max_travel_km"].to_numpy(np.float64)
    limit = np.where(np.isnan(limit), np.inf, limit)
    accepts_private = patients["accepts_private"].to_numpy(bool)
    accepts_foreign = patients["accepts_foreign"].to_numpy(bool)
    provider = d_provider[pair_dept]
    ok = (provider != "private") | accepts_private[pair_patient]
    ok &= (provider != "foreign") | accepts_foreign[pair_patient]
    km = great_circle_km(
        p_lat[pair_patient], p_lon[pair_patient], d_lat[pair_dept], d_lon[pair_dept]
    )
    ok &= km <= limit[pair_patient]
    pair_patient, pair_dept = pair_patient[ok], pair_dept[ok]

    # ---- each pair's slots: the department's days of that service on or after the first day ---
    earliest = _day_numbers(patients["earliest_date"], day0)
    first_day = np.maximum(np.where(patients["earliest_date"].isna().to_numpy(), 0, earliest), 0)
    chain = pair_dept * n_services + p_service[pair_patient]
    slot_start = np.searchsorted(slot_key, chain * horizon + first_day[pair_patient], "left")
    slot_end = np.searchsorted(slot_key, chain * horizon + horizon, "left")

    # ---- the own booking, always eligible; skip it where the pair's run already holds it -----
    own_patient = np.flatnonzero(booked).astype(np.int64)
    own_slot = own_slot_all.astype(np.int64)
    in_run = pd.MultiIndex.from_arrays([own_patient, b_dept[booked]]).isin(
        pd.MultiIndex.from_arrays([pair_patient, pair_dept])
    ) & (b_day[booked] >= first_day[own_patient])
    own_patient, own_slot = own_patient[~in_run], own_slot[~in_run]

    deadline = _day_numbers(patients["deadline"], day0)
    active = (patients["deadline_status"].astype(str).to_numpy() == "active") & patients[
        "deadline"
    ].notna().to_numpy()
    return Eligibility(
        n_patients=n,
        slot_capacity=slot_capacity,
        slot_day=slot_day.astype(np.int64),
        pair_patient=pair_patient,
        slot_start=slot_start.astype(np.int64),
        slot_end=slot_end.astype(np.int64),
        own_patient=own_patient,
        own_slot=own_slot,
        deadline_day=np.where(active, deadline, 0).astype(np.int64),
        active=active,
    )


def build_network(dataset: Dataset, today: dt.date | str) -> FlowNetwork:
    """The straightforward network with exact lexicographic weights for tiers 1-3."""
    clock = time.perf_counter()
    if len(dataset.weekly_caps):
        raise ValueError("weekly_caps are not part of the straightforward formulation")
    el = eligibility(dataset, today)
    n, n_slots = el.n_patients, len(el.slot_capacity)
    run = el.slot_end - el.slot_start
    arc_patient = np.concatenate([np.repeat(el.pair_patient, run), el.own_patient])
    offsets = np.arange(int(run.sum()), dtype=np.int64) - np.repeat(np.cumsum(run) - run, run)
    arc_slot = np.concatenate([np.repeat(el.slot_start, run) + offsets, el.own_slot])
    del offsets
    late = np.maximum(el.slot_day[arc_slot] - el.deadline_day[arc_patient], 0)
    late[~el.active[arc_patient]] = 0
    breach = (late > 0).astype(np.int64)

    # Exact lexicographic weights: a breach outweighs every day late any solution can have,
    # an unassigned patient every breach and day late.
    max_late = np.zeros(n, dtype=np.int64)
    np.maximum.at(max_late, arc_patient, late)
    days_total = int(max_late.sum())
    per_day = 1
    per_breach = days_total + 1
    per_unassigned = per_breach * int((max_late > 0).sum()) + days_total + 1
    weights = {"unassigned": per_unassigned, "breach": per_breach, "day": per_day}
    n_nodes = n + n_slots + 1
    max_cost = max(per_unassigned, int(per_breach + late.max(initial=0)))
    fits = max_cost * (n_nodes + 1) < INT64_HEADROOM
    notes = [] if fits else [f"max cost {max_cost} x (nodes {n_nodes} + 1) exceeds 2^62"]

    sink = n_nodes - 1
    patient_ids = np.arange(n, dtype=np.int64)
    slot_nodes = n + np.arange(n_slots, dtype=np.int64)
    n_assign = len(arc_patient)
    return FlowNetwork(
        n_patients=n,
        n_slots=n_slots,
        tail=np.concatenate([arc_patient, patient_ids, slot_nodes]),
        head=np.concatenate([n + arc_slot, np.full(n, sink, np.int64), np.full(n_slots, sink)]),
        capacity=np.concatenate([np.ones(n_assign + n, np.int64), el.slot_capacity]),
        cost=np.concatenate(
            [breach * per_breach + late * per_day, np.full(n, per_unassigned), np.zeros(n_slots)]
        ).astype(np.int64),
        breach=np.concatenate([breach, np.zeros(n + n_slots, np.int64)]),
        days_late=np.concatenate([late, np.zeros(n + n_slots, np.int64)]),
        n_assign=n_assign,
        weights=weights,
        fits_int64=fits,
        build_s=time.perf_counter() - clock,
        notes=notes,
    )


def solve_ortools(net: FlowNetwork) -> Tiers:
    """Tiers 1-3 of the optimal flow by OR-Tools' ``SimpleMinCostFlow`` (checked OPTIMAL)."""
    from ortools.graph.python import min_cost_flow

    if not net.fits_int64:
        raise OverflowError("; ".join(net.notes))
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(net.tail, net.head, net.capacity, net.cost)
    smcf.set_nodes_supplies(np.arange(net.n_nodes, dtype=np.int64), net.supplies())
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"SimpleMinCostFlow ended with status {status}, not OPTIMAL")
    return net.tiers(smcf.flows(arcs))


def solve_highs(net: FlowNetwork, time_limit_s: float = 300.0) -> Tiers:
    """Tiers 1-3 of the LP optimum found by HiGHS (the flow LP is integral; checked optimal)."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    # Variables: patient -> slot and unassigned arcs; slot -> sink arcs become the slot rows.
    m = net.n_assign + net.n_patients
    columns = np.arange(m, dtype=np.int64)
    patient_rows = csr_matrix((np.ones(m), (net.tail[:m], columns)), shape=(net.n_patients, m))
    is_assign = columns < net.n_assign
    slot_rows = csr_matrix(
        (np.ones(net.n_assign), (net.head[: net.n_assign] - net.n_patients, columns[is_assign])),
        shape=(net.n_slots, m),
    )
    result = linprog(
        net.cost[:m].astype(np.float64),
        A_ub=slot_rows,
        b_ub=net.capacity[m:].astype(np.float64),
        A_eq=patient_rows,
        b_eq=np.ones(net.n_patients),
        bounds=(0, 1),
        method="highs",
        options={"time_limit": time_limit_s, "presolve": True},
    )
    if result.status != 0:
        raise RuntimeError(f"HiGHS ended with status {result.status}: {result.message}")
    flows = np.concatenate([result.x, np.zeros(net.n_slots)])
    if np.abs(flows - np.rint(flows)).max(initial=0.0) > 1e-6:
        raise RuntimeError("HiGHS returned a fractional flow")
    return net.tiers(flows)


def solve_networkx(net: FlowNetwork) -> Tiers:
    """Tiers 1-3 by networkx's network simplex on the same arcs (small instances only)."""
    import networkx as nx

    graph = nx.DiGraph()
    supplies = net.supplies()
    graph.add_nodes_from((int(v), {"demand": int(-s)}) for v, s in enumerate(supplies))
    graph.add_edges_from(
        (int(t), int(h), {"capacity": int(c), "weight": int(w)})
        for t, h, c, w in zip(net.tail, net.head, net.capacity, net.cost, strict=True)
    )
    _, flow_dict = nx.network_simplex(graph)
    flows = np.fromiter(
        (flow_dict[int(t)][int(h)] for t, h in zip(net.tail, net.head, strict=True)),
        dtype=np.int64,
        count=len(net.tail),
    )
    return net.tiers(flows)
