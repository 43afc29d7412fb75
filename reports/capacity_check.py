"""The annual capacity check: demand against declared capacity, single points of failure, and
where one more slot avoids the most breaches.

Three analyses, each from the same data (the bundled reference data, or a database of weekly
loads):

1. **Balance** per collaboration, procedure and region over the period's ISO weeks: weekly demand
   (new referrals of the region's residents) against the free slots the region's departments
   declare; utilisation = demand / declared capacity; a *structural deficit* is a service and
   region whose demand exceeds its capacity in at least :data:`PERSISTENT_SHARE` of the weeks.
   Weekly totals only: no solve per week, so a year takes about a second.
2. **Single points of failure** on sampled weeks (a full waiting list and six weeks of slots
   each): the *deadline-compliant* flow network — patient groups (home region x service x
   identical compliant options) -> department-service-day buckets on or before the deadline ->
   sink — and its maximum flow (networkx) is how many patients can be seen in time. For each
   department, the loss of that maximum flow when the department is removed; and the departments
   of the minimum cut (networkx): the slots every maximum flow fills while patients who could use
   them still miss their deadline.
3. **Shadow prices** on the same weeks (:func:`solver.shadow.shadow_prices`): for every declared
   department-day, how many breaches one more slot would avoid; ranked per department and service
   by the best day.

Eligibility (service offered, earliest date, travel limit, provider types accepted, policy) is
the solver's own, read from :func:`solver.model.build_network`.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import jinja2
import matplotlib

matplotlib.use("Agg")  # files only: never open a window

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from capacity.frames import Dataset
from capacity.vocabulary import COLLABORATIONS, DANISH_LABELS, REGIONS, ProviderType
from reports.files import staged_output
from reports.spreadsheet import write_frames
from solver.model import ArcKind, build_network
from solver.policy import Policy
from solver.problem import Problem

TEMPLATES: Final = Path(__file__).with_name("templates")
#: A service and region is in structural deficit when its demand exceeds its declared capacity
#: over the whole period and in at least this share of the weeks.
PERSISTENT_SHARE: Final = 0.5
#: Region label of foreign departments' capacity (no Danish region owns it).
ABROAD: Final = "abroad"
ALL: Final = "all"
#: Weeks of full network analysis (max flow, removals, shadow prices) by default.
NETWORK_WEEKS: Final = 2
TOP: Final = 15

IntArray = npt.NDArray[np.int64]


class CapacityCheckError(ValueError):
    """Input the capacity check cannot use; the message says what to change."""


# ---- the period ---------------------------------------------------------------------------------


def iso_weeks(year: int, weeks: str | None = None) -> list[str]:
    """The ISO week labels of ``year`` (52 or 53), or those named by ``weeks``: ``10-20``,
    ``1,5,9`` or a mix (numbers within the year)."""
    count = dt.date(year, 12, 28).isocalendar()[1]
    if weeks is None or not weeks.strip():
        numbers = list(range(1, count + 1))
    else:
        numbers = []
        for part in weeks.split(","):
            first, _, last = part.strip().partition("-")
            try:
                low, high = int(first), int(last or first)
            except ValueError:
                raise CapacityCheckError(
                    f"--weeks {weeks!r}: expected week numbers such as 1-52 or 10,20,30"
                ) from None
            if not 1 <= low <= high <= count:
                raise CapacityCheckError(
                    f"--weeks {weeks!r}: {part.strip()} is not within weeks 1-{count} of {year}"
                )
            numbers.extend(range(low, high + 1))
        numbers = sorted(set(numbers))
    return [f"{year}-W{n:02d}" for n in numbers]


def monday(week: str) -> dt.date:
    """The Monday of an ISO week label."""
    return dt.date.fromisocalendar(int(week[:4]), int(week[6:]), 1)


def sample_weeks(weeks: Sequence[str], count: int) -> list[str]:
    """``count`` weeks spread evenly over ``weeks``: the middle week of each of ``count`` equal
    parts (one week: the middle of the period)."""
    if count <= 0 or not weeks:
        return []
    count = min(count, len(weeks))
    picks = np.unique(np.floor((np.arange(count) + 0.5) * len(weeks) / count).astype(int))
    return [weeks[i] for i in picks]


# ---- 1. balance --------------------------------------------------------------------------------


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


def reference_balance(
    weeks: Sequence[str], scale: float = 1.0, seed: int = 2026, shortages: bool = True
) -> Balance:
    """Weekly demand and capacity of the bundled reference data over ``weeks``.

    Demand: Poisson draws around the usual weekly referrals per collaboration, procedure and
    home region (``capacity.generate.weekly_referral_rates``). Capacity: Poisson draws around
    what each department declares in the simulation's calibration (``scenarios.simulate``: a
    public department declares 10 % above its home referrals, private and foreign their share;
    with ``shortages`` the reference week's three short services stay short all year).
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
            "replications": 1,
            "seed": seed,
        }
    )
    world = prepare(scenario)
    rng = np.random.default_rng([seed, 7])
    n = len(weeks)
    slots = rng.poisson(np.broadcast_to(world.weekly_slots, (n, len(world.weekly_slots))))
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
    return Balance(_weekly_table(demand, capacity), source)


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
    return Balance(
        _weekly_table(demand, capacity, stored),
        f"database, {len(stored)} stored weeks in the period",
    )


def _week_labels(dates: pd.Series) -> npt.NDArray[np.object_]:
    days = pd.Series(pd.to_datetime(dates).to_numpy())
    iso = days.dt.isocalendar()
    known = days.notna()
    labels = pd.Series("", index=days.index, dtype=object)
    labels[known] = (
        iso["year"][known].astype(int).astype(str)
        + "-W"
        + iso["week"][known].astype(int).map("{:02d}".format)
    )
    return labels.to_numpy(dtype=object)


def _weekly_table(
    demand: pd.DataFrame, capacity: pd.DataFrame, weeks: Sequence[str] | None = None
) -> pd.DataFrame:
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


# ---- 2. the deadline-compliant flow network ----------------------------------------------------


@dataclass(frozen=True)
class CompliantNetwork:
    """Patient groups, department-day buckets and the compliant options between them.

    ``groups``: one row per group (``home_region, collaboration, procedure, patients``); patients
    in a group have identical compliant options, so the aggregation is exact. ``buckets``: one row
    per department, service and day with its slots (free slots plus those held by bookings).
    ``options``: ``group, bucket`` pairs (the bucket's day is on or after the patient's first
    possible day and on or before the deadline; any day for a paused clock).
    """

    groups: pd.DataFrame
    buckets: pd.DataFrame
    options: pd.DataFrame
    patients: int
    without_option: int

    def capacities(self) -> tuple[IntArray, IntArray, IntArray, int, int]:
        """The network as arrays: tails, heads, capacities, source and sink node numbers.

        Nodes: groups first, then buckets, then the source and the sink.
        """
        n_groups, n_buckets = len(self.groups), len(self.buckets)
        source, sink = n_groups + n_buckets, n_groups + n_buckets + 1
        unbounded = int(self.groups["patients"].sum()) + 1
        tails = np.concatenate(
            [
                np.full(n_groups, source),
                self.options["group"].to_numpy(np.int64),
                n_groups + np.arange(n_buckets),
            ]
        ).astype(np.int64)
        heads = np.concatenate(
            [
                np.arange(n_groups),
                n_groups + self.options["bucket"].to_numpy(np.int64),
                np.full(n_buckets, sink),
            ]
        ).astype(np.int64)
        capacity = np.concatenate(
            [
                self.groups["patients"].to_numpy(np.int64),
                np.full(len(self.options), unbounded),
                self.buckets["slots"].to_numpy(np.int64),
            ]
        ).astype(np.int64)
        return tails, heads, capacity, source, sink

    def to_networkx_by_service(self) -> list[nx.DiGraph]:
        """The network as one networkx graph per service (its own component): ``source`` ->
        ``("group", g)`` (capacity: its patients) -> ``("bucket", b)`` (no capacity attribute:
        unbounded) -> ``sink`` (capacity: the bucket's slots)."""
        service = (self.groups["collaboration"] + "/" + self.groups["procedure"]).to_numpy()
        size = self.groups["patients"].to_numpy(np.int64)
        slots = self.buckets["slots"].to_numpy(np.int64)
        option_group = self.options["group"].to_numpy(np.int64)
        option_bucket = self.options["bucket"].to_numpy(np.int64)
        graphs = []
        for name in np.unique(service):
            graph = nx.DiGraph()
            groups = np.flatnonzero(service == name)
            graph.add_edges_from(
                ("source", ("group", int(g)), {"capacity": int(size[g])}) for g in groups
            )
            mine = np.isin(option_group, groups)
            graph.add_edges_from(
                (("group", int(g)), ("bucket", int(b)))
                for g, b in zip(option_group[mine], option_bucket[mine], strict=True)
            )
            graph.add_edges_from(
                (("bucket", int(b)), "sink", {"capacity": int(slots[b])})
                for b in np.unique(option_bucket[mine])
            )
            graphs.append(graph)
        return graphs


def compliant_network(problem: Problem, policy: Policy | None = None) -> CompliantNetwork:
    """The deadline-compliant network of a problem: who can be seen in time, and where."""
    policy = policy or Policy()
    net = build_network(problem, policy)
    n_services = len(net.service_keys)
    chain = net.bucket_department * n_services + net.bucket_service
    # buckets are ordered by department, service and day, so a chain's days are contiguous
    horizon = int(net.bucket_day.max(initial=0)) + 2
    order_key = chain * horizon + net.bucket_day
    chain_end = np.searchsorted(chain, chain, side="right")

    entry = np.flatnonzero(net.kind == ArcKind.ENTRY)
    patient = net.arc_patient[entry]
    first = net.arc_bucket[entry]
    deadline = net.patient_deadline_day[patient]
    last_day = np.minimum(deadline, horizon - 1)
    end = np.searchsorted(order_key, chain[first] * horizon + last_day, side="right")
    end = np.minimum(end, chain_end[first])
    keep = np.flatnonzero(net.kind == ArcKind.KEEP)
    kept = net.arc_bucket[keep]
    kept_ok = net.bucket_day[kept] <= net.patient_deadline_day[net.arc_patient[keep]]
    ranges = pd.DataFrame(
        {
            "patient": np.concatenate([patient, net.arc_patient[keep][kept_ok]]),
            "start": np.concatenate([first, kept[kept_ok]]),
            "end": np.concatenate([end, kept[kept_ok] + 1]),
        }
    )
    ranges = ranges[ranges["end"] > ranges["start"]]
    patients = problem.patients.reset_index(drop=True)
    n = len(patients)
    if ranges.empty:
        return _network(net, problem, pd.DataFrame(), pd.DataFrame(), n)
    # patients with the same home region, service and compliant ranges are one group
    ranges = ranges.sort_values(["patient", "start", "end"], kind="stable")
    text = ranges["start"].astype(str) + ":" + ranges["end"].astype(str)
    signature = text.groupby(ranges["patient"].to_numpy()).agg(",".join)
    members = signature.index.to_numpy()
    label = (
        patients["home_region"].astype(str).to_numpy()[members]
        + "|"
        + patients["collaboration"].astype(str).to_numpy()[members]
        + "|"
        + patients["procedure"].astype(str).to_numpy()[members]
        + "|"
        + signature.to_numpy()
    )
    group_of, keys = pd.factorize(pd.Series(label), sort=True)
    group_code = pd.Series(group_of, index=members)
    ranges = ranges.assign(group=group_code.reindex(ranges["patient"].to_numpy()).to_numpy())
    ranges = ranges.drop_duplicates(["group", "start", "end"])
    length = (ranges["end"] - ranges["start"]).to_numpy(np.int64)
    offsets = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    options = pd.DataFrame(
        {
            "group": np.repeat(ranges["group"].to_numpy(np.int64), length),
            "bucket": np.repeat(ranges["start"].to_numpy(np.int64), length) + offsets,
        }
    ).drop_duplicates(ignore_index=True)
    parts = pd.Series(keys).str.split("|", n=3, expand=True)
    groups = pd.DataFrame(
        {
            "home_region": parts[0].to_numpy(),
            "collaboration": parts[1].to_numpy(),
            "procedure": parts[2].to_numpy(),
            "patients": np.bincount(group_of, minlength=len(keys)).astype(np.int64),
        }
    )
    return _network(net, problem, groups, options, n)


def _network(
    net: Any, problem: Problem, groups: pd.DataFrame, options: pd.DataFrame, n: int
) -> CompliantNetwork:
    service = np.array(net.service_keys, dtype=object)[net.bucket_service]
    buckets = pd.DataFrame(
        {
            "department_id": net.departments["department_id"]
            .astype(str)
            .to_numpy()[net.bucket_department],
            "collaboration": pd.Series([s.split("/")[0] for s in service], dtype=object),
            "procedure": pd.Series([s.split("/")[1] for s in service], dtype=object),
            "date": pd.Timestamp(problem.today) + pd.to_timedelta(net.bucket_day, unit="D"),
            "slots": net.bucket_capacity.astype(np.int64),
        }
    )
    if groups.empty:
        groups = pd.DataFrame(
            {
                "home_region": pd.Series(dtype=object),
                "collaboration": pd.Series(dtype=object),
                "procedure": pd.Series(dtype=object),
                "patients": pd.Series(dtype=np.int64),
            }
        )
        options = pd.DataFrame(
            {"group": pd.Series(dtype=np.int64), "bucket": pd.Series(dtype=np.int64)}
        )
    with_option = int(groups["patients"].sum())
    return CompliantNetwork(groups, buckets, options, n, n - with_option)


@dataclass(frozen=True)
class CompliantFlow:
    """The maximum compliant flow: its value, the flow into each bucket, and the minimum cut's
    buckets (slots every maximum flow fills while some patient who could use them is late)."""

    value: int
    bucket_flow: IntArray
    cut_buckets: IntArray


def max_compliant_flow(network: CompliantNetwork, engine: str = "scipy") -> CompliantFlow:
    """How many patients can be seen in time at most, and the minimum cut.

    ``engine="networkx"`` runs networkx's preflow-push per service (each service is its own
    component) and reads the cut from its residual network; ``engine="scipy"`` runs scipy's
    compiled Dinic algorithm on the same arcs, 100-300 times faster at national scale, and is
    the default. Both give the same value and the same cut: the cut's source side is what the
    source reaches in the residual network of any maximum flow (the minimal minimum cut).
    """
    if engine == "networkx":
        return _networkx_flow(network)
    if engine != "scipy":
        raise ValueError(f"engine {engine!r}: expected scipy or networkx")
    bucket_flow = np.zeros(len(network.buckets), dtype=np.int64)
    if network.groups.empty:
        return CompliantFlow(0, bucket_flow, np.empty(0, np.int64))
    tails, heads, capacity, source, sink = network.capacities()
    nodes = sink + 1
    graph = csr_matrix(
        (capacity.astype(np.int32), (tails, heads)), shape=(nodes, nodes), dtype=np.int32
    )
    result = maximum_flow(graph, source, sink)
    flows = result.flow.tocsr()
    n_groups = len(network.groups)
    bucket_nodes = n_groups + np.arange(len(network.buckets))
    bucket_flow = np.asarray(flows[bucket_nodes, sink].toarray()).ravel().astype(np.int64)
    residual = (graph - flows).tocoo()  # forward: capacity - flow; backward: +flow
    open_arcs = residual.data > 0
    reach = csr_matrix(
        (np.ones(int(open_arcs.sum())), (residual.row[open_arcs], residual.col[open_arcs])),
        shape=(nodes, nodes),
    )
    reached = breadth_first_order(reach, source, directed=True, return_predecessors=False)
    reached = np.asarray(reached, dtype=np.int64)
    cut = np.sort(reached[(reached >= n_groups) & (reached < n_groups + len(network.buckets))])
    return CompliantFlow(int(result.flow_value), bucket_flow, cut - n_groups)


def _networkx_flow(network: CompliantNetwork) -> CompliantFlow:
    bucket_flow = np.zeros(len(network.buckets), dtype=np.int64)
    if network.groups.empty:
        return CompliantFlow(0, bucket_flow, np.empty(0, np.int64))
    value = 0
    cut: list[int] = []
    for graph in network.to_networkx_by_service():
        residual = nx.algorithms.flow.preflow_push(graph, "source", "sink")
        value += int(residual.graph["flow_value"])
        buckets = [node for node in graph if isinstance(node, tuple) and node[0] == "bucket"]
        for node in buckets:
            to_sink = residual[node].get("sink")
            bucket_flow[node[1]] = int(to_sink["flow"]) if to_sink else 0
        # the minimum cut's source side: what the source still reaches in the residual network
        unsaturated = nx.DiGraph(
            (u, v)
            for u, v, attributes in residual.edges(data=True)
            if attributes["flow"] < attributes["capacity"]
        )
        reachable = nx.descendants(unsaturated, "source") if "source" in unsaturated else set()
        cut.extend(node[1] for node in buckets if node in reachable)
    return CompliantFlow(value, bucket_flow, np.array(sorted(cut), dtype=np.int64))


class _Component:
    """One service's part of the network as a compiled CSR graph, solved again cheaply with
    some buckets' slots set to zero."""

    def __init__(
        self,
        tails: IntArray,
        heads: IntArray,
        capacity: IntArray,
        source: int,
        sink: int,
        arc_bucket: IntArray,
    ) -> None:
        nodes, compact = np.unique(
            np.concatenate([[source, sink], tails, heads]), return_inverse=True
        )
        rows, columns = compact[2 : 2 + len(tails)], compact[2 + len(tails) :]
        order = np.lexsort((columns, rows))
        self.size = len(nodes)
        self.source, self.sink = int(compact[0]), int(compact[1])
        self.indices = columns[order].astype(np.int32)
        self.indptr = np.searchsorted(rows[order], np.arange(self.size + 1)).astype(np.int32)
        self.data = capacity[order].astype(np.int32)
        self.bucket = arc_bucket[order]

    def max_flow(self, without: IntArray | None = None) -> int:
        """The component's maximum flow, with the buckets ``without`` holding no slots."""
        data = self.data
        if without is not None:
            data = np.where(np.isin(self.bucket, without), 0, data).astype(np.int32)
        graph = csr_matrix((data, self.indices, self.indptr), shape=(self.size, self.size))
        return int(maximum_flow(graph, self.source, self.sink).flow_value)


def department_losses(network: CompliantNetwork, flow: CompliantFlow) -> pd.DataFrame:
    """Per department: compliant flow through it, and how much the maximum compliant flow
    falls when it is removed (all its services), largest loss first.

    One maximum flow per service of each department that carries flow (scipy's compiled Dinic
    algorithm; a department without flow in some maximum flow loses nothing when removed).
    Each service is a separate component of the network, so only the department's own
    services are solved again.
    """
    tails, heads, capacity, source, sink = network.capacities()
    n_groups, n_options = len(network.groups), len(network.options)
    buckets = network.buckets
    through = (
        pd.Series(flow.bucket_flow, index=buckets.index).groupby(buckets["department_id"]).sum()
    )
    service_of_bucket = (buckets["collaboration"] + "/" + buckets["procedure"]).to_numpy()
    service_of_group = (
        network.groups["collaboration"] + "/" + network.groups["procedure"]
    ).to_numpy()
    arc_service = np.concatenate(
        [
            service_of_group,
            service_of_group[network.options["group"].to_numpy(np.int64)],
            service_of_bucket,
        ]
    )
    arc_bucket = np.concatenate(
        [np.full(n_groups + n_options, -1), np.arange(len(buckets))]
    ).astype(np.int64)
    components = {
        name: _Component(tails[arcs], heads[arcs], capacity[arcs], source, sink, arc_bucket[arcs])
        for name in np.unique(service_of_group)
        for arcs in [np.flatnonzero(arc_service == name)]
    }
    base = {name: component.max_flow() for name, component in components.items()}
    rows = []
    for department, carried in through.items():
        loss = 0
        if carried > 0:
            mine = buckets.index[buckets["department_id"] == department].to_numpy()
            for name in np.unique(service_of_bucket[mine]):
                if name in components:
                    loss += base[name] - components[name].max_flow(without=mine)
        rows.append({"department_id": department, "compliant_flow": int(carried), "loss": loss})
    table = pd.DataFrame(rows, columns=["department_id", "compliant_flow", "loss"])
    return table.sort_values(
        ["loss", "compliant_flow", "department_id"], ascending=[False, False, True]
    ).reset_index(drop=True)


def min_cut_departments(network: CompliantNetwork, flow: CompliantFlow) -> pd.DataFrame:
    """Departments whose slots lie in the minimum cut: binding compliant capacity (slots, by
    service), most slots first."""
    cut = network.buckets.iloc[flow.cut_buckets]
    cut = cut[cut["slots"] > 0]
    if cut.empty:
        return pd.DataFrame(columns=["department_id", "collaboration", "procedure", "slots"])
    table = cut.groupby(["department_id", "collaboration", "procedure"], as_index=False)[
        ["slots"]
    ].sum()
    return table.sort_values(["slots", "department_id"], ascending=[False, True]).reset_index(
        drop=True
    )


# ---- 3. shadow prices --------------------------------------------------------------------------


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


# ---- the whole check ---------------------------------------------------------------------------


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
    dataset: Dataset, week: str, policy: Policy | None = None, engine: str = "scipy"
) -> WeekAnalysis:
    """Maximum compliant flow, department losses, the minimum cut and shadow prices of a week
    (``engine`` computes the flow and the cut: scipy, or networkx; the losses always use
    scipy)."""
    import time

    from solver.shadow import shadow_prices

    started = time.perf_counter()
    problem = Problem.from_dataset(dataset, monday(week))
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
    engine: str = "scipy",
) -> CapacityCheck:
    """The check on the bundled reference data: the balance over the period's weeks, and the
    network analyses on ``network_weeks`` reference weeks spread over it."""
    from capacity.generate import generate_week, reference_departments

    labels = iso_weeks(year, weeks)
    balance = reference_balance(labels, scale=scale, seed=seed)
    # each analysed week is its own draw of the reference week (seed + week number)
    analyses = tuple(
        analyse_week(
            generate_week(week, seed=seed + int(week[6:]), scale=scale), week, None, engine
        )
        for week in sample_weeks(labels, network_weeks)
    )
    return CapacityCheck(year, tuple(labels), balance, analyses, _names(reference_departments()))


def stored_check(
    url: str | None,
    year: int,
    weeks: str | None = None,
    *,
    network_weeks: int = NETWORK_WEEKS,
    engine: str = "scipy",
) -> CapacityCheck:
    """The check on a database of weekly loads: the balance over the stored weeks of the
    period, and the network analyses on up to ``network_weeks`` of the weeks loads were made
    for (a load's first declared week; each the snapshot of that week: its six weeks of slots
    and every stored patient)."""
    from capacity.storage import declaration_history, read_snapshot

    labels = iso_weeks(year, weeks)
    balance = stored_balance(url, labels)
    # the week each load was made for: the first week it declared (a weekly load declares
    # its week and the five after it)
    history = declaration_history(url)
    load_weeks = set(history.groupby("load_id")["week"].min()) if len(history) else set()
    with_slots = [w for w in labels if w in load_weeks]
    analyses = []
    for week in sample_weeks(with_slots, network_weeks):
        dataset = read_snapshot(url, week=week)
        analyses.append(analyse_week(dataset, week, None, engine))
    departments = read_snapshot(url).departments
    loads_in_period = [w for w in labels if w in load_weeks]
    notes = (
        (
            f"The database holds {len(loads_in_period)} weekly load(s) in the period "
            f"({', '.join(loads_in_period) or 'none'}): demand counts the stored patients in "
            "the weeks their deadlines fall in, so weeks without a load show declared capacity "
            "without demand and utilisation reads low. Load every week for a full-year check.",
        )
        if len(loads_in_period) < len(labels) / 2
        else ()
    )
    return CapacityCheck(year, tuple(labels), balance, tuple(analyses), _names(departments), notes)


def _names(departments: pd.DataFrame) -> pd.DataFrame:
    return (
        departments[["department_id", "name", "region"]]
        .astype(str)
        .drop_duplicates("department_id")
    )


# ---- output ------------------------------------------------------------------------------------


def _label(value: str) -> str:
    if value == ALL:
        return "Denmark (all)"
    if value == ABROAD:
        return "abroad"
    return value


def _figure_uri(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def utilisation_figure(check: CapacityCheck) -> str:
    """Heatmap of utilisation (demand / declared capacity) per collaboration and region."""
    table = check.balance.by_collaboration()
    regions = [*REGIONS, ALL]
    grid = (
        table.pivot(index="collaboration", columns="region", values="utilisation")
        .reindex(index=list(COLLABORATIONS), columns=regions)
        .to_numpy(dtype=float)
    )
    figure, axes = plt.subplots(figsize=(8, 3.8))
    shown = np.ma.masked_invalid(grid)
    image = axes.imshow(shown, cmap="RdYlGn_r", vmin=0.5, vmax=1.5, aspect="auto")
    axes.set_xticks(range(len(regions)), [_label(r) for r in regions], rotation=20, ha="right")
    axes.set_yticks(range(len(COLLABORATIONS)), [DANISH_LABELS.get(c, c) for c in COLLABORATIONS])
    for (i, j), value in np.ndenumerate(grid):
        axes.text(
            j,
            i,
            "no slots" if np.isnan(value) else f"{100 * value:.0f} %",
            ha="center",
            va="center",
            fontsize=8,
        )
    figure.colorbar(image, ax=axes, label="demand / declared capacity")
    axes.set_title("Utilisation over the period")
    return _figure_uri(figure)


def weekly_figure(check: CapacityCheck) -> str:
    """Weekly national demand against declared capacity, one panel per collaboration."""
    weekly = check.balance.weekly.groupby(["week", "collaboration"], as_index=False)[
        ["demand", "capacity"]
    ].sum()
    figure, grid = plt.subplots(2, 3, figsize=(10, 5), sharex=True)
    for axes, collaboration in zip(grid.ravel(), COLLABORATIONS, strict=True):
        part = weekly[weekly["collaboration"] == collaboration].sort_values("week")
        x = np.arange(len(part))
        axes.plot(x, part["capacity"], label="declared capacity", color="#1f77b4")
        axes.plot(x, part["demand"], label="demand", color="#d62728")
        axes.set_title(DANISH_LABELS.get(collaboration, collaboration), fontsize=10)
        axes.set_ylim(bottom=0)
        axes.tick_params(labelsize=8)
    grid[0, 0].legend(fontsize=8)
    for axes in grid[1]:
        axes.set_xlabel("week of the period", fontsize=8)
    figure.suptitle("Weekly demand and declared capacity, Denmark")
    figure.tight_layout()
    return _figure_uri(figure)


def bar_figure(labels: Sequence[str], values: Sequence[float], title: str, unit: str) -> str:
    """A horizontal bar chart, largest on top."""
    figure, axes = plt.subplots(figsize=(8, 0.3 * max(len(labels), 3) + 1))
    y = np.arange(len(labels))[::-1]
    axes.barh(y, values, color="#4c72b0")
    axes.set_yticks(y, labels, fontsize=8)
    axes.set_xlabel(unit)
    axes.set_title(title)
    figure.tight_layout()
    return _figure_uri(figure)


def render_html(check: CapacityCheck, generated: dt.datetime | None = None) -> str:
    """The check as one self-contained, printable HTML page with embedded figures."""
    spof = check.single_points_of_failure()
    extra = check.extra_slots()
    top_spof = spof[spof["loss"] > 0].head(TOP)
    saving = extra[["breaches_saved", "unassigned_saved", "days_saved"]].sum(axis=1)
    top_extra = extra[saving > 0].head(TOP)
    figures = {
        "utilisation": utilisation_figure(check),
        "weekly": weekly_figure(check),
        "spof": bar_figure(
            list(top_spof["department_id"]),
            list(top_spof["loss"]),
            "Compliant flow lost if the department is removed",
            "patients of the week's waiting list who could no longer be seen in time",
        )
        if len(top_spof)
        else None,
        "extra": bar_figure(
            [f"{r.department_id} {r.collaboration}/{r.procedure}" for r in top_extra.itertuples()],
            list(top_extra["breaches_saved"]),
            "Breaches one more slot avoids (best day)",
            "breaches avoided (mean over the analysed weeks)",
        )
        if len(top_extra)
        else None,
    }
    by_collaboration = check.balance.by_collaboration()
    by_collaboration = by_collaboration[by_collaboration["region"] != ABROAD]
    by_collaboration["region"] = by_collaboration["region"].map(_label)
    deficits = check.balance.deficits()
    deficits["region"] = deficits["region"].map(_label)
    cut = pd.concat([a.cut.assign(week=a.week) for a in check.analyses]) if check.analyses else None
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("capacity_check.html").render(
        check=check,
        figures=figures,
        by_collaboration=by_collaboration.to_dict(orient="records"),
        deficits=deficits.to_dict(orient="records"),
        spof=top_spof.to_dict(orient="records"),
        extra=top_extra.to_dict(orient="records"),
        cut=[] if cut is None else cut.head(3 * TOP).to_dict(orient="records"),
        persistent=int(PERSISTENT_SHARE * 100),
        generated=(generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_check(
    check: CapacityCheck, out: str | Path, pdf: bool = True, generated: dt.datetime | None = None
) -> list[Path]:
    """Write ``capacity-check-<year>.html`` (and ``.pdf``) and the tables as ``.xlsx`` into
    ``out``; all files are written in a scratch folder first and moved into place together."""
    stem = f"capacity-check-{check.year}"
    with staged_output(out, stem) as staged:
        work = staged.work
        (work / f"{stem}.html").write_text(render_html(check, generated), encoding="utf-8")
        write_frames(
            work / f"{stem}.xlsx",
            {
                "balance": check.balance.by_collaboration(),
                "structural deficits": check.balance.deficits(),
                "single points of failure": check.single_points_of_failure(),
                "one more slot": check.extra_slots(),
                "weekly": check.balance.weekly,
            },
        )
        if pdf:
            from reports.pdf import html_to_pdf

            html_to_pdf(work / f"{stem}.html", work / f"{stem}.pdf")
    return staged.written
