"""The deadline-compliant capacity network: who can be seen in time, where, and what binds.

A week's waiting list and slots as a flow network: patient groups (home region x service x
identical compliant options) -> department-service-day buckets on or before the deadline ->
sink. Its maximum flow is how many patients can be seen in time at most; its minimum cut's
buckets are the slots every maximum flow fills while patients who could use them still miss
their deadline; removing a department and solving again gives its loss. Eligibility (service
offered, earliest date, travel limit, provider types accepted, policy) is the solver's own, read
from :func:`solver.model.build_network`.

One interface, two engines: :func:`max_compliant_flow` takes a :class:`FlowEngine` (or its
name) and looks its function up in :data:`ENGINES` — networkx's preflow-push per service, or
scipy's compiled Dinic algorithm, 100-300 times faster at national scale. Both give the same
value and the same cut (the minimal minimum cut: what the source reaches in the residual
network of any maximum flow).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from solver.model import ArcKind, IntArray, Network, build_network
from solver.policy import Policy
from solver.problem import Problem


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
    net: Network, problem: Problem, groups: pd.DataFrame, options: pd.DataFrame, n: int
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


class FlowEngine(StrEnum):
    """Which maximum-flow implementation computes the flow and the cut."""

    NETWORKX = "networkx"
    SCIPY = "scipy"


def max_compliant_flow(
    network: CompliantNetwork, engine: FlowEngine | str = FlowEngine.SCIPY
) -> CompliantFlow:
    """How many patients can be seen in time at most, the flow into each bucket, and the
    minimum cut, computed by ``engine`` (:data:`ENGINES`; scipy by default)."""
    try:
        compute = ENGINES[FlowEngine(engine)]
    except ValueError:
        raise ValueError(
            f"engine {engine!r}: expected {' or '.join(sorted(FlowEngine, reverse=True))}"
        ) from None
    return compute(network)


def _no_flow(network: CompliantNetwork) -> CompliantFlow:
    """The flow of a network without patients: nothing flows and nothing is cut."""
    return CompliantFlow(0, np.zeros(len(network.buckets), dtype=np.int64), np.empty(0, np.int64))


def scipy_flow(network: CompliantNetwork) -> CompliantFlow:
    """The maximum compliant flow by scipy's Dinic algorithm on the whole network at once; the
    cut is what the source reaches by breadth-first search in the residual network."""
    if network.groups.empty:
        return _no_flow(network)
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


def networkx_flow(network: CompliantNetwork) -> CompliantFlow:
    """The maximum compliant flow by networkx's preflow-push, one service (its own component)
    at a time; the cut is read from each residual network."""
    if network.groups.empty:
        return _no_flow(network)
    bucket_flow = np.zeros(len(network.buckets), dtype=np.int64)
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


#: The engines behind :func:`max_compliant_flow`, by name.
ENGINES: Final[Mapping[FlowEngine, Callable[[CompliantNetwork], CompliantFlow]]] = {
    FlowEngine.NETWORKX: networkx_flow,
    FlowEngine.SCIPY: scipy_flow,
}


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
