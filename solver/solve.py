"""``solve(problem, policy) -> Solution``: exact lexicographic proposals for a waiting list.

Tiers, in order: fewest unassigned patients, fewest breaches of active deadlines, fewest days
late, then the tier-4 policy (:mod:`solver.policy`). Tier 1 is a maximum flow (OR-Tools'
max-flow-with-min-cost), so no weight is needed for it. Tiers 2-4 are weighted with weights derived
from the instance so that no amount of a lower tier can buy a higher one; when those weights do
not fit OR-Tools' int64 cost range, the solve is staged: tiers 1-3 first, then tier 4 on the
arcs that reduced costs prove can still be part of a tier-1-3 optimum.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver import explain, flow
from solver.model import (
    ArcKind,
    IntArray,
    Network,
    PartRows,
    Prepared,
    all_rows,
    build_part,
    positions,
    prepare,
)
from solver.policy import Policy
from solver.problem import Problem


@dataclass(frozen=True)
class TierValues:
    """The objective's tiers: 1-3 are the contract's hard tiers, 4 the policy's points."""

    unassigned: int
    breaches: int
    days_late: int
    policy_points: int

    def hard(self) -> tuple[int, int, int]:
        """Tiers 1-3 as (unassigned, breaches, days late)."""
        return (self.unassigned, self.breaches, self.days_late)


class Certificate(StrEnum):
    """Whether tiers 1-3 were proven optimal: a residual-graph check passed, was skipped, or
    failed (``Proof.certificate_detail`` says why)."""

    VERIFIED = "verified"
    SKIPPED = "skipped"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Proof:
    """How the solve reached its tiers and the evidence that tiers 1-3 are optimal."""

    method: str  # "single-pass" or "staged"
    solver_status: str
    weights: dict[str, int]
    certificate: Certificate
    certificate_detail: str = ""
    rounds: int = 0  # Bellman-Ford rounds of the certificate


@dataclass(frozen=True)
class SolvedPart:
    """One independent part of a solve: its patients' ids, network, optimal flow and policy."""

    patient_ids: npt.NDArray[np.object_]
    net: Network
    flows: IntArray
    policy: Policy


@dataclass(frozen=True)
class Solution:
    """Proposals (one row per patient, contract columns first), tier values, KPIs and proof."""

    proposals: pd.DataFrame
    tiers: TierValues
    kpis: dict[str, Any]
    proof: Proof
    timings: dict[str, float] = field(default_factory=dict)
    #: Each service part's network and optimal flow (solved in process with method "auto"
    #: only; None otherwise), so :func:`solver.alternatives.ranked_alternatives` can price
    #: options without building and solving the networks again. Not compared, not shown.
    parts: tuple[SolvedPart, ...] | None = field(default=None, compare=False, repr=False)

    def summary(self) -> str:
        """A few lines for a terminal: tiers, proof and the main KPIs."""
        k = self.kpis
        return "\n".join(
            [
                f"patients {k['patients']}: placed {k['placed']}, unassigned {k['unassigned']}",
                f"breaches {k['breaches']}, days late {k['days_late']}",
                f"kept {k['kept']}, moved {k['moved']}, new {k['new']}; "
                f"out of region {k['out_of_region']}, private {k['private']}, "
                f"foreign {k['foreign']}",
                f"travel {k['travel_km_total']:.0f} km (mean {k['travel_km_mean']:.1f}), "
                f"cost {k['cost_dkk']:,.0f} DKK",
                f"optimality of tiers 1-3: {self.proof.solver_status} ({self.proof.method}), "
                f"certificate {self.proof.certificate}"
                + (
                    f": {self.proof.certificate_detail}"
                    if self.proof.certificate is Certificate.FAILED
                    else ""
                ),
            ]
        )


def tier_weights(net: Network) -> dict[str, int]:
    """Weights making tiers 2-4 lexicographic for this instance (Python ints, may be huge).

    A day late must outweigh all policy points any solution can hold, and a breach all days
    late plus all policy points: the bounds are sums of each patient's worst option.
    """
    policy_total = int(net.max_policy_points.sum())
    days_total = int(net.max_days_late.sum())
    per_day = policy_total + 1
    per_breach = per_day * days_total + policy_total + 1
    return {"breach": per_breach, "day": per_day, "point": 1}


def _hard_cost(net: Network) -> tuple[IntArray, dict[str, int]]:
    """Arc costs of tiers 1-3 alone (unassigned arcs weighted for the residual analysis)."""
    days_total = int(net.max_days_late.sum())
    per_breach = days_total + 1
    per_unassigned = per_breach * int(net.can_breach.sum()) + days_total + 1
    cost = net.unassigned * per_unassigned + net.breach * per_breach + net.days_late
    return cost, {"unassigned": per_unassigned, "breach": per_breach, "day": 1}


def _max_cost(net: Network, weights: dict[str, int]) -> int:
    real = net.kind != ArcKind.UNASSIGNED
    return (
        int(net.breach[real].max(initial=0)) * weights["breach"]
        + int(net.days_late[real].max(initial=0)) * weights["day"]
        + int(net.policy_points[real].max(initial=0)) * weights["point"]
    )


def solve(
    problem: Problem,
    policy: Policy | None = None,
    *,
    method: str = "auto",
    verify: bool = True,
    workers: int | None = None,
    explain_reasons: bool = True,
) -> Solution:
    """Propose a slot for every patient, tiers 1-3 exactly optimal, tier 4 by the policy.

    ``method`` is "auto" (one weighted pass when the weights fit OR-Tools' cost range, else
    staged), "single-pass" or "staged". ``verify`` checks tiers 1-3 independently with residual
    potentials (a Bellman-Ford certificate). Pure and deterministic: same input, same output.

    Patients waiting for different services (collaboration and procedure) never compete for a
    slot, so each service is solved on its own network: the tier vectors of independent parts
    add up, so optimising each part lexicographically optimises the whole, on smaller networks
    with tighter weights. ``workers`` > 1 solves the parts in that many forked processes (the
    default uses both cores from 50,000 patients on); the result does not depend on it.
    ``explain_reasons=False`` skips the reason texts (about half of a small solve's time) for
    callers that only need the placements, such as the scenario simulation.
    """
    policy = policy or Policy()
    clock = time.perf_counter()
    prep = prepare(problem)
    pieces = split_rows(prep)
    prepare_s = time.perf_counter() - clock
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(problem.patients) >= 50_000 else 1
    parts = _solve_parts(prep, pieces, policy, method, verify, workers, explain_reasons)
    timings = {k: sum(p.timings.get(k, 0.0) for p in parts) for k in parts[0].timings}
    timings["build_s"] = timings.get("build_s", 0.0) + prepare_s

    clock = time.perf_counter()
    result = explain.combined(
        prep.departments,
        len(problem.patients),
        [(rows.patients, part.outcome) for rows, part in zip(pieces, parts, strict=True)],
    )
    explained = [p.proposals for p in parts if p.proposals is not None]
    if len(explained) == len(parts) > 1:
        # forked workers explained their own parts (in parallel): put them in patient order
        proposals = pd.concat(explained, ignore_index=True)
        order = pd.Index(proposals["patient_id"]).get_indexer(prep.p_id)
        proposals = proposals.iloc[order].reset_index(drop=True)
    else:
        proposals = explain.outcome_proposals(problem, result, with_reasons=explain_reasons)
    tiers = TierValues(
        unassigned=int((result.dept < 0).sum()),
        breaches=int(proposals["breach"].sum()),
        days_late=int(proposals["days_late"].fillna(0).sum()),
        policy_points=int(sum(p.policy_points for p in parts)),
    )
    kpis = explain.kpis(proposals)
    timings["explain_s"] = timings.get("explain_s", 0.0) + time.perf_counter() - clock
    solved = (
        tuple(
            SolvedPart(prep.p_id[rows.patients], p.net, p.flows, policy)
            for rows, p in zip(pieces, parts, strict=True)
            if p.net is not None and p.flows is not None
        )
        if method == "auto" and all(p.net is not None for p in parts)
        else None
    )
    if len(parts) == 1:
        proof = parts[0].proof
        return Solution(proposals, tiers, kpis, proof, timings, solved)
    methods = sorted({p.proof.method for p in parts})
    certificates = {p.proof.certificate for p in parts}
    proof = Proof(
        method=" + ".join(methods) + f" ({len(parts)} services)",
        solver_status="OPTIMAL",
        weights=max((p.proof.weights for p in parts), key=lambda w: max(w.values(), default=0)),
        certificate=_combined(certificates),
        certificate_detail=(
            "no negative cycle in any service's residual graph under tier-1-3 costs "
            f"(Bellman-Ford, at most {max(p.proof.rounds for p in parts)} rounds)"
            if certificates == {Certificate.VERIFIED}
            else "; ".join(sorted({p.proof.certificate_detail for p in parts} - {""}))
        ),
        rounds=max(p.proof.rounds for p in parts),
    )
    return Solution(proposals, tiers, kpis, proof, timings, solved)


TIER_FIELDS = ("unassigned", "breaches", "days_late", "policy_points")


@dataclass(frozen=True)
class _PartResult:
    """One part's solve: its outcome for the explanations, tier-4 points, proof and timings;
    its network and flow when solved in this process (not sent back from forked workers)."""

    outcome: explain.Outcome
    policy_points: int
    proof: Proof
    timings: dict[str, float]
    net: Network | None = None
    flows: IntArray | None = None
    proposals: pd.DataFrame | None = None  # the part's own proposals (forked workers only)


# Parts handed to forked workers by position: inherited through fork, never pickled.
_PENDING: list[tuple[Prepared, PartRows, Policy, str, bool, bool]] = []


def _solve_pending(index: int) -> _PartResult:
    """A forked worker's part: solved and explained there (the workers explain in parallel;
    the frame equals the part's rows of the one-pass frame), sent back without its network."""
    prep, rows, policy, method, verify, reasons = _PENDING[index]
    part = _solve_part(prep, rows, policy, method=method, verify=verify)
    clock = time.perf_counter()
    proposals = explain.outcome_proposals(
        part_problem(prep.problem, rows), part.outcome, with_reasons=reasons
    )
    timings = part.timings | {"explain_s": part.timings["explain_s"] + time.perf_counter() - clock}
    return replace(part, net=None, flows=None, proposals=proposals, timings=timings)


def part_problem(problem: Problem, rows: PartRows) -> Problem:
    """The part of ``problem`` in ``rows`` as a problem of its own (as :func:`split_by_service`
    makes it)."""
    return Problem(
        departments=problem.departments,
        services=problem.services.iloc[rows.services],
        capacity=problem.capacity.iloc[rows.capacity],
        patients=problem.patients.iloc[rows.patients],
        today=problem.today,
        weekly_caps=problem.weekly_caps.iloc[rows.weekly_caps]
        if len(problem.weekly_caps)
        else problem.weekly_caps,
        excluded_pairs=problem.excluded_pairs,
    )


def _solve_parts(
    prep: Prepared,
    pieces: list[PartRows],
    policy: Policy,
    method: str,
    verify: bool,
    workers: int,
    explain_reasons: bool = True,
) -> list[_PartResult]:
    """Solve independent parts, in forked worker processes when asked and possible."""
    # daemonic processes (e.g. Dask or multiprocessing pool workers) may not have children
    if (
        workers <= 1
        or len(pieces) <= 1
        or "fork" not in mp.get_all_start_methods()
        or mp.current_process().daemon
    ):
        return [_solve_part(prep, p, policy, method=method, verify=verify) for p in pieces]
    # biggest parts first, so the two workers finish close together
    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i].patients))
    _PENDING[:] = [(prep, pieces[i], policy, method, verify, explain_reasons) for i in order]
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            solved = pool.map(_solve_pending, range(len(order)), chunksize=1)
    finally:
        _PENDING.clear()
    by_piece: list[_PartResult | None] = [None] * len(pieces)
    for position, index in enumerate(order):
        by_piece[index] = solved[position]
    return [s for s in by_piece if s is not None]


def split_rows(prep: Prepared) -> list[PartRows]:
    """The rows of each service (collaboration, procedure) with patients waiting, in the order
    and with the rows of :func:`split_by_service`."""
    patient_rows = pd.Series(np.arange(len(prep.p_key))).groupby(prep.p_key, sort=True)
    if patient_rows.ngroups <= 1:
        return [all_rows(prep)]
    by_capacity = pd.Series(np.arange(len(prep.c_code))).groupby(prep.c_code).indices
    by_service = pd.Series(np.arange(len(prep.s_code))).groupby(prep.s_code).indices
    by_cap = (
        pd.Series(np.arange(len(prep.w_key))).groupby(prep.w_key).indices if len(prep.w_key) else {}
    )
    empty = np.empty(0, np.int64)
    return [
        PartRows(
            patients=np.asarray(rows, dtype=np.int64),
            services=np.asarray(by_service.get(prep.p_code[rows[0]], empty), dtype=np.int64),
            capacity=np.asarray(by_capacity.get(prep.p_code[rows[0]], empty), dtype=np.int64),
            weekly_caps=np.asarray(by_cap.get(key, empty), dtype=np.int64),
        )
        for key, rows in patient_rows.indices.items()
    ]


def split_by_service(problem: Problem) -> list[Problem]:
    """One sub-problem per service (collaboration, procedure) that has patients waiting."""

    def keys(frame: pd.DataFrame) -> pd.Series:
        return frame["collaboration"].astype(str) + "/" + frame["procedure"].astype(str)

    patient_rows = pd.Series(np.arange(len(problem.patients))).groupby(
        keys(problem.patients).to_numpy(), sort=True
    )
    if patient_rows.ngroups <= 1:
        return [problem]
    capacity_rows = keys(problem.capacity).to_numpy()
    service_rows = keys(problem.services).to_numpy()
    cap_rows = keys(problem.weekly_caps).to_numpy() if len(problem.weekly_caps) else None
    by_capacity = pd.Series(np.arange(len(capacity_rows))).groupby(capacity_rows).indices
    parts = []
    for key, rows in patient_rows.indices.items():
        parts.append(
            Problem(
                departments=problem.departments,
                services=problem.services[service_rows == key],
                capacity=problem.capacity.iloc[by_capacity.get(key, np.empty(0, np.int64))],
                patients=problem.patients.iloc[rows],
                today=problem.today,
                weekly_caps=problem.weekly_caps[cap_rows == key]
                if cap_rows is not None
                else problem.weekly_caps,
                excluded_pairs=problem.excluded_pairs,
            )
        )
    return parts


def optimal_flows(net: Network, method: str = "auto") -> tuple[IntArray, str, dict[str, int]]:
    """A lexicographically optimal flow of the network, the method used, and its weights."""
    weights = tier_weights(net)
    single_fits = flow.fits_cost_range(_max_cost(net, weights), net.n_nodes)
    if method == "auto":
        if single_fits:
            try:
                return optimal_flows(net, "single-pass")
            except flow.CostRangeError:
                pass  # OR-Tools' own range check is stricter than ours: stage the solve
        method = "staged"
    if method == "single-pass":
        if not single_fits:
            raise flow.CostRangeError("single-pass weights exceed OR-Tools' cost range; use staged")
        cost = net.breach * weights["breach"] + net.days_late * weights["day"] + net.policy_points
        return flow.solve_max_flow_min_cost(net, cost), method, weights
    if method == "staged":
        hard_cost, hard_weights = _hard_cost(net)
        # Tiers 1-3 do not see travel, category or price, so patients with the same options
        # and deadlines are interchangeable: solve stage 1 on the merged (quotient) network.
        merged = flow.merge_identical_patients(net, hard_cost)
        quotient_cost = hard_cost[merged.arcs]
        stage_a = flow.solve_max_flow_min_cost(merged.network, quotient_cost)
        potentials = flow.residual_potentials(merged.network, quotient_cost, stage_a)
        if potentials is None:
            raise flow.SolverFailure("stage 1 flow is not optimal (negative residual cycle)")
        distance = potentials.distance.copy()
        distance[: net.n_patients] = distance[merged.representative]
        fixed = flow.fix_by_reduced_cost(
            net, hard_cost, flow.Potentials(distance, potentials.iterations)
        )
        flows = flow.solve_restricted(net, fixed, net.policy_points)
        return flows, method, hard_weights | {"point (stage 2)": 1}
    raise ValueError(f"unknown method {method!r}; expected auto, single-pass or staged")


def _solve_part(
    prep: Prepared,
    rows: PartRows,
    policy: Policy,
    *,
    method: str = "auto",
    verify: bool = True,
) -> _PartResult:
    """The solve of one independent part (normally one service's patients and slots)."""
    clock = time.perf_counter()
    timings: dict[str, float] = {}
    net = build_part(prep, rows, policy)
    timings["build_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    flows, method, used_weights = optimal_flows(net, method)
    hard_cost, _ = _hard_cost(net)
    timings["solve_s"] = time.perf_counter() - clock

    certificate, detail = Certificate.SKIPPED, ""
    if verify:
        clock = time.perf_counter()
        potentials = flow.residual_potentials(net, hard_cost, flows)
        if potentials is None:
            certificate = Certificate.FAILED
            detail = "negative residual cycle for tiers 1-3"
        else:
            certificate = Certificate.VERIFIED
            detail = (
                "no negative cycle in the residual graph under tier-1-3 costs "
                f"(Bellman-Ford, {potentials.iterations} rounds)"
            )
        timings["verify_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    placement = place_patients(net, flows)
    r = rows.patients
    service = positions(pd.Index(net.service_keys), prep.p_key[r])
    outcome = explain.part_outcome(net, placement, prep.p_home[r], service, prep.p_entry_day[r])
    timings["explain_s"] = time.perf_counter() - clock
    proof = Proof(
        method=method,
        solver_status="OPTIMAL",
        weights={k: int(v) for k, v in used_weights.items()},
        certificate=certificate,
        certificate_detail=detail,
        rounds=potentials.iterations if verify and potentials is not None else 0,
    )
    points = int((net.policy_points * flows).sum())
    return _PartResult(outcome, points, proof, timings, net, flows)


def _solve_service(
    problem: Problem,
    policy: Policy,
    *,
    method: str = "auto",
    verify: bool = True,
    explain_reasons: bool = True,
) -> Solution:
    """The solve of one problem as a single part (no split by service)."""
    prep = prepare(problem)
    part = _solve_part(prep, all_rows(prep), policy, method=method, verify=verify)
    clock = time.perf_counter()
    proposals = explain.outcome_proposals(problem, part.outcome, with_reasons=explain_reasons)
    tiers = TierValues(
        unassigned=int((part.outcome.dept < 0).sum()),
        breaches=int(proposals["breach"].sum()),
        days_late=int(proposals["days_late"].fillna(0).sum()),
        policy_points=part.policy_points,
    )
    timings = dict(part.timings)
    timings["explain_s"] += time.perf_counter() - clock
    return Solution(proposals, tiers, explain.kpis(proposals), part.proof, timings)


@dataclass(frozen=True)
class Placement:
    """Per patient: the bucket placed in (-1 if unassigned) and whether it is the booking."""

    bucket: IntArray
    kept: np.ndarray


def place_patients(net: Network, flows: IntArray) -> Placement:
    """Each patient's bucket, decomposing shared chain flow first-in first-out (vectorised).

    Along one chain, units enter at their first eligible day and leave at the day they are
    placed. Pairing the k-th entrant (by entry day, then deadline) with the k-th exit (by day) is
    a valid decomposition because flow conservation keeps entries ahead of exits.
    """
    n = net.n_patients
    bucket = np.full(n, -1, dtype=np.int64)
    kept = np.zeros(n, dtype=bool)
    keep_arcs = np.flatnonzero((net.kind == ArcKind.KEEP) & (flows > 0))
    bucket[net.arc_patient[keep_arcs]] = net.arc_bucket[keep_arcs]
    kept[net.arc_patient[keep_arcs]] = True

    entry_arcs = np.flatnonzero((net.kind == ArcKind.ENTRY) & (flows > 0))
    e_patient = net.arc_patient[entry_arcs]
    e_group = net.arc_group[entry_arcs]
    e_bucket = net.arc_bucket[entry_arcs]
    exit_arcs = np.flatnonzero((net.kind == ArcKind.EXIT) & (flows > 0))
    cross_arcs = np.flatnonzero((net.kind == ArcKind.CROSS) & (flows > 0))
    # Dated chains first: their units leave at a day, or cross (after every day of theirs) into
    # the shared late chain, where they enter again with the late chain's own entrants.
    late_groups = np.unique(net.group_late[net.group_late >= 0])
    is_late_exit = np.isin(net.arc_group[exit_arcs], late_groups)
    x_group = np.concatenate([net.arc_group[exit_arcs[~is_late_exit]], net.arc_group[cross_arcs]])
    x_bucket = np.concatenate(
        [net.arc_bucket[exit_arcs[~is_late_exit]], net.arc_bucket[cross_arcs]]
    )
    x_count = np.concatenate([flows[exit_arcs[~is_late_exit]], flows[cross_arcs]])
    x_cross = np.repeat(
        np.r_[np.zeros(int((~is_late_exit).sum()), bool), np.ones(len(cross_arcs), bool)], x_count
    )
    first = ~np.isin(e_group, late_groups)
    p1, b1, x1 = _fifo(
        net,
        e_patient[first],
        e_group[first],
        e_bucket[first],
        np.repeat(x_group, x_count),
        np.repeat(x_bucket, x_count),
        x_cross,
    )
    bucket[p1[~x1]] = b1[~x1]
    crossed_patient, crossed_bucket = p1[x1], b1[x1]
    # Late chains: entrants are direct entries plus the patients that crossed in.
    cross_group_of_patient = np.full(net.n_patients, -1, dtype=np.int64)
    cross_group_of_patient[crossed_patient] = _crossed_into(
        net, p1, x1, e_patient[first], e_group[first]
    )
    l_patient = np.concatenate([e_patient[~first], crossed_patient])
    l_group = np.concatenate([e_group[~first], cross_group_of_patient[crossed_patient]])
    l_bucket = np.concatenate([e_bucket[~first], crossed_bucket])
    y_arcs = exit_arcs[is_late_exit]
    y_count = flows[y_arcs]
    p2, b2, _ = _fifo(
        net,
        l_patient,
        l_group,
        l_bucket,
        np.repeat(net.arc_group[y_arcs], y_count),
        np.repeat(net.arc_bucket[y_arcs], y_count),
        np.zeros(int(y_count.sum()), dtype=bool),
    )
    bucket[p2] = b2
    return Placement(bucket, kept)


def _crossed_into(
    net: Network,
    patients: IntArray,
    crossed: np.ndarray,
    entry_patients: IntArray,
    entry_groups: IntArray,
) -> IntArray:
    """For each patient that crossed, the late group its dated group crosses into."""
    group_of = np.full(net.n_patients, -1, dtype=np.int64)
    group_of[entry_patients] = entry_groups
    return net.group_late[group_of[patients[crossed]]]


def _fifo(
    net: Network,
    e_patient: IntArray,
    e_group: IntArray,
    e_bucket: IntArray,
    x_group: IntArray,
    x_bucket: IntArray,
    x_flag: np.ndarray,
) -> tuple[IntArray, IntArray, np.ndarray]:
    """Pair entrants and exit units per group, k-th with k-th by day (exits flagged carry on).

    Returns patients, their exit bucket and the exit's flag, in pairing order.
    """
    order = np.lexsort((e_patient, net.patient_deadline_day[e_patient], e_bucket, e_group))
    x_order = np.lexsort((x_flag, x_bucket, x_group))
    if len(x_order) != len(order) or not np.array_equal(x_group[x_order], e_group[order]):
        raise flow.SolverFailure("chain flow does not decompose: entries and exits differ")
    if np.any(x_bucket[x_order] < e_bucket[order]):
        raise flow.SolverFailure("chain flow decomposition placed a patient before entry")
    return e_patient[order], x_bucket[x_order], x_flag[x_order]


def _combined(certificates: set[Certificate]) -> Certificate:
    """One certificate for several service parts: failed if any failed, verified if all were."""
    if Certificate.FAILED in certificates:
        return Certificate.FAILED
    return Certificate.VERIFIED if certificates == {Certificate.VERIFIED} else Certificate.SKIPPED
