"""OR-Tools min-cost flow runs, residual potentials, and reduced-cost fixing between stages.

The one place that talks to OR-Tools. Costs arrive as int64 arrays already weighted by
:mod:`solver.solve`; this module checks they fit OR-Tools' range, runs the solver, and reads the
flows back as a numpy array aligned with the network's arcs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from ortools.graph.python import min_cost_flow

from solver.model import ArcKind, IntArray, Network

#: OR-Tools multiplies unit costs by (number of nodes + 1) inside its cost-scaling algorithm;
#: costs must stay below this after that multiplication. Its own check is stricter than the
#: product alone (it rejected a 1M-patient part that passed at 2^62), so keep a factor 16 of
#: headroom, and fall back to the staged solve whenever it answers BAD_COST_RANGE anyway.
COST_LIMIT = (1 << 59) - 1


class SolverFailure(RuntimeError):
    """OR-Tools did not return an optimal flow (the message carries its status)."""


class CostRangeError(SolverFailure):
    """The weighted costs are too wide for OR-Tools' int64 arithmetic on this network."""


def fits_cost_range(max_abs_cost: int, n_nodes: int) -> bool:
    """Whether costs up to ``max_abs_cost`` are safe for OR-Tools on ``n_nodes`` nodes."""
    return max_abs_cost * (n_nodes + 1) <= COST_LIMIT


def solve_max_flow_min_cost(net: Network, cost: IntArray) -> IntArray:
    """Flows of a maximum flow of least cost (fewest unassigned patients first).

    UNASSIGNED arcs are left out of the OR-Tools model; their flow is whatever each patient
    could not send, so the returned flow is balanced on the full network.
    """
    real = np.flatnonzero(net.kind != ArcKind.UNASSIGNED)
    flows = _run(
        net.n_nodes,
        net.tail[real],
        net.head[real],
        net.capacity[real],
        cost[real],
        net.supply,
        max_flow=True,
    )
    full = np.zeros(len(net.tail), dtype=np.int64)
    full[real] = flows
    sent = np.bincount(net.tail[real], weights=flows, minlength=net.n_nodes)
    unassigned_arcs = np.flatnonzero(net.kind == ArcKind.UNASSIGNED)
    full[unassigned_arcs] = net.capacity[unassigned_arcs] - sent[net.tail[unassigned_arcs]].astype(
        np.int64
    )
    return full


def _run(
    n_nodes: int,
    tail: IntArray,
    head: IntArray,
    capacity: IntArray,
    cost: IntArray,
    supply: IntArray,
    *,
    max_flow: bool,
) -> IntArray:
    if len(cost) and not fits_cost_range(int(np.abs(cost).max()), n_nodes):
        raise CostRangeError("costs exceed OR-Tools' int64 range for this network")
    smcf = min_cost_flow.SimpleMinCostFlow()
    if len(tail):
        arcs = smcf.add_arcs_with_capacity_and_unit_cost(tail, head, capacity, cost)
    else:
        arcs = np.empty(0, dtype=np.int64)
    smcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int64), supply)
    status = smcf.solve_max_flow_with_min_cost() if max_flow else smcf.solve()
    if status == smcf.BAD_COST_RANGE:
        raise CostRangeError("OR-Tools rejected the cost range (BAD_COST_RANGE)")
    if status != smcf.OPTIMAL:
        raise SolverFailure(f"OR-Tools min-cost flow ended with status {status!r}")
    return np.asarray(smcf.flows(arcs), dtype=np.int64)


@dataclass(frozen=True)
class Potentials:
    """Node potentials proving a flow optimal: no residual arc has negative reduced cost."""

    distance: IntArray
    iterations: int


def residual_potentials(
    net: Network, cost: IntArray, flow: IntArray, *, max_iterations: int = 100_000
) -> Potentials | None:
    """Shortest-path potentials on the flow's residual graph, or None if a negative cycle exists.

    Bellman-Ford from a virtual root joined to every node at cost 0, relaxing all residual arcs
    at once per round (numpy). It converges iff the residual graph has no negative cycle, which
    is exactly the optimality condition of a min-cost flow: the potentials are its certificate.
    """
    forward = flow < net.capacity
    backward = flow > 0
    r_tail = np.concatenate([net.tail[forward], net.head[backward]])
    r_head = np.concatenate([net.head[forward], net.tail[backward]])
    r_cost = np.concatenate([cost[forward], -cost[backward]])
    order = np.argsort(r_head, kind="stable")
    r_tail, r_head, r_cost = r_tail[order], r_head[order], r_cost[order]
    distance = np.zeros(net.n_nodes, dtype=np.int64)
    if len(r_head) == 0:
        return Potentials(distance, 0)
    starts = np.flatnonzero(np.r_[True, r_head[1:] != r_head[:-1]])
    heads = r_head[starts]
    # only arcs that can lower a distance matter at first: negative ones (all others start >= 0)
    for iteration in range(1, min(max_iterations, net.n_nodes + 1) + 1):
        best = np.minimum.reduceat(distance[r_tail] + r_cost, starts)
        improved = best < distance[heads]
        if not improved.any():
            return Potentials(distance, iteration)
        distance[heads[improved]] = best[improved]
    return None


@dataclass(frozen=True)
class FixedNetwork:
    """The arcs free in a later stage, and the flow forced on the others by reduced costs."""

    free: IntArray  # arc indices still free (reduced cost 0)
    forced_flow: IntArray  # full-length flow on fixed arcs (0 or capacity)
    supply: IntArray  # node supplies after routing the forced flow


def fix_by_reduced_cost(net: Network, cost: IntArray, potentials: Potentials) -> FixedNetwork:
    """Restrict the network to flows that stay optimal for ``cost`` (complementary slackness).

    An arc with positive reduced cost carries no flow in any optimal solution, one with negative
    reduced cost is full in every optimal solution; only zero-reduced-cost arcs stay free.
    """
    d = potentials.distance
    reduced = cost + d[net.tail] - d[net.head]
    forced = np.zeros(len(cost), dtype=np.int64)
    saturated = reduced < 0
    forced[saturated] = net.capacity[saturated]
    supply = net.supply.copy()
    np.subtract.at(supply, net.tail[saturated], net.capacity[saturated])
    np.add.at(supply, net.head[saturated], net.capacity[saturated])
    return FixedNetwork(np.flatnonzero(reduced == 0), forced, supply)


def solve_restricted(net: Network, fixed: FixedNetwork, cost: IntArray) -> IntArray:
    """Least-cost flow using only the free arcs (balanced supplies), merged with forced flow."""
    free = fixed.free
    flows = _run(
        net.n_nodes,
        net.tail[free],
        net.head[free],
        net.capacity[free],
        cost[free],
        fixed.supply,
        max_flow=False,
    )
    full = fixed.forced_flow.copy()
    full[free] = flows
    return full


UNREACHABLE = np.int64(1 << 61)


def residual_distances(
    net: Network,
    cost: IntArray,
    flow: IntArray,
    source: int,
    *,
    towards: bool = False,
    max_iterations: int = 100_000,
) -> IntArray:
    """Shortest residual-path costs from ``source`` to every node (UNREACHABLE where none).

    With ``towards=True``, the costs from every node to ``source`` instead. The flow must be
    optimal for ``cost`` (no negative cycle), as after any solve here.
    """
    forward = flow < net.capacity
    backward = flow > 0
    r_tail = np.concatenate([net.tail[forward], net.head[backward]])
    r_head = np.concatenate([net.head[forward], net.tail[backward]])
    if towards:
        r_tail, r_head = r_head, r_tail
    r_cost = np.concatenate([cost[forward], -cost[backward]])
    order = np.argsort(r_head, kind="stable")
    r_tail, r_head, r_cost = r_tail[order], r_head[order], r_cost[order]
    distance = np.full(net.n_nodes, UNREACHABLE, dtype=np.int64)
    distance[source] = 0
    if len(r_head) == 0:
        return distance
    starts = np.flatnonzero(np.r_[True, r_head[1:] != r_head[:-1]])
    heads = r_head[starts]
    for _ in range(min(max_iterations, net.n_nodes + 1)):
        via = np.where(distance[r_tail] >= UNREACHABLE, UNREACHABLE, distance[r_tail] + r_cost)
        best = np.minimum.reduceat(via, starts)
        improved = best < distance[heads]
        if not improved.any():
            break
        distance[heads[improved]] = best[improved]
    return distance


@dataclass(frozen=True)
class MergedPatients:
    """Patients with identical arcs and costs merged into one node each (exact for a stage)."""

    network: Network  # the quotient network (non-representative patients isolated)
    representative: IntArray  # per patient: the patient whose node carries its class
    arcs: IntArray  # the full network's arc behind each quotient arc


def merge_identical_patients(net: Network, cost: IntArray) -> MergedPatients:
    """The quotient network where patients with identical arcs (heads and costs) share a node.

    A class of k patients becomes its representative's node with supply k, its arcs with
    capacity k: every flow of the quotient splits into one flow per patient and back, with the
    same cost, so optima and potentials carry over to every member. Candidate classes come from
    order-independent 64-bit hashes of each patient's arcs; every member is then compared arc by
    arc with its representative, and any mismatch stays a class of its own.
    """
    n = net.n_patients
    own = np.flatnonzero(np.isin(net.kind, [ArcKind.ENTRY, ArcKind.KEEP]))
    order = np.lexsort((cost[own], net.head[own], net.tail[own]))
    arcs = own[order]
    tails, heads, costs = net.tail[arcs], net.head[arcs], cost[arcs]
    counts = np.bincount(tails, minlength=n).astype(np.int64)
    starts = np.cumsum(counts) - counts
    with np.errstate(over="ignore"):
        mix_a = heads.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + costs.astype(
            np.uint64
        ) * np.uint64(0xC2B2AE3D27D4EB4F)
        mix_b = (heads.astype(np.uint64) + np.uint64(0x165667B19E3779F9)) * np.uint64(
            0xD6E8FEB86659FD93
        ) ^ (costs.astype(np.uint64) * np.uint64(0xFF51AFD7ED558CCD))
    hash_a = np.zeros(n, dtype=np.uint64)
    hash_b = np.zeros(n, dtype=np.uint64)
    has_arcs = counts > 0
    if len(arcs):
        hash_a[has_arcs] = np.add.reduceat(mix_a, starts[has_arcs])
        hash_b[has_arcs] = np.add.reduceat(mix_b, starts[has_arcs])
    key = np.lexsort((hash_b, hash_a, counts))
    boundary = np.r_[
        True,
        (np.diff(counts[key]) != 0) | (np.diff(hash_a[key]) != 0) | (np.diff(hash_b[key]) != 0),
    ]
    representative = np.empty(n, dtype=np.int64)
    representative[key] = key[np.flatnonzero(boundary)][np.cumsum(boundary) - 1]
    # verify arc by arc; a member that differs from its representative stands alone
    offsets = _segment_offsets(counts)
    mine = np.repeat(starts, counts) + offsets
    theirs = np.repeat(starts[representative], counts) + offsets
    differs = np.zeros(n, dtype=bool)
    bad = (heads[mine] != heads[theirs]) | (costs[mine] != costs[theirs])
    differs[tails[mine][bad]] = True
    representative[differs] = np.flatnonzero(differs)

    size = np.bincount(representative, minlength=n).astype(np.int64)
    is_rep = size > 0
    patient_arc = np.isin(net.kind, [ArcKind.ENTRY, ArcKind.KEEP, ArcKind.UNASSIGNED])
    keep_arc = ~patient_arc | is_rep[np.where(patient_arc, net.tail, 0)]
    capacity = net.capacity.copy()
    capacity[patient_arc] = size[net.tail[patient_arc]]
    supply = net.supply.copy()
    supply[:n] = size
    kept = np.flatnonzero(keep_arc & (capacity > 0))
    quotient = replace(
        net,
        tail=net.tail[kept],
        head=net.head[kept],
        capacity=capacity[kept],
        kind=net.kind[kept],
        supply=supply,
    )
    return MergedPatients(quotient, representative, kept)


def _segment_offsets(counts: IntArray) -> IntArray:
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
