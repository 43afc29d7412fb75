"""The best alternative a patient did not get, and exactly why: what choosing it would cost.

For a reviewed patient, every other eligible department (and a current booking not kept) is an
alternative. Forcing the patient onto one changes the optimal flow by the cheapest residual cycle
through that option: out along the alternative's arc, back to the patient along the residual
graph. Its cost, split into tiers, says what the alternative would do to everyone: leave another
patient without a slot, push patients past their deadline, add days late, or only cost policy
points (further away, abroad, private, later). One shortest-path run per reviewed patient:
Dijkstra on the residual graph with reduced costs (the optimal flow's potentials make them
non-negative), all reviewed patients of a service in one call, exact in integers; a Bellman-Ford
run per patient where the costs are too wide for exact floating point.

:func:`ranked_alternatives` gives the k best departments per patient, each at the date the
patient would get there; :func:`best_alternatives` is its best one, in a reviewer's English.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from solver import flow
from solver.model import ArcKind, Network, build_network
from solver.policy import Policy
from solver.problem import Problem
from solver.solve import Solution, optimal_flows, place_patients, split_by_service

COLUMNS = (
    "patient_id",
    "alternative_department_id",
    "alternative_category",
    "alternative_km",
    "alternative_from",
    "extra_unassigned",
    "extra_breaches",
    "extra_days_late",
    "extra_points",
    "why_not",
)
#: Columns of :func:`ranked_alternatives`: one row per patient and alternative, best first.
RANKED_COLUMNS = (
    "patient_id",
    "rank",
    "department_id",
    "date",
    "travel_km",
    "category",
    "extra_unassigned",
    "extra_breaches",
    "extra_days_late",
    "extra_points",
    "why_not",
    "further_km",
    "category_worse",
    "booking_kept",
)
CATEGORY_WORDS = {
    "keep": "the current booking",
    "home_department": "the home department",
    "public_home_region": "public in the home region",
    "public_other_region": "in another region",
    "private": "a private hospital",
    "foreign": "abroad",
}


def _balanced_weights(net: Network) -> tuple[int, int, int]:
    points = int(net.max_policy_points.sum())
    days = int(net.max_days_late.sum())
    per_day = 2 * points + 1
    per_breach = 2 * (per_day * days + points) + 1
    per_unassigned = 2 * (per_breach * int(net.can_breach.sum()) + per_day * days + points) + 1
    return per_unassigned, per_breach, per_day


@dataclass(frozen=True)
class _Candidate:
    """One priced option of a patient: its arc and the change of the weighted tiers."""

    arc: int
    gain: int


#: Reduced path costs below this are exact in float64 (integers, every partial sum smaller).
EXACT_FLOAT = float(2**50)


class _Pricing:
    """The optimal flow of one service's network, with what pricing its options needs."""

    def __init__(self, net: Network, flows: np.ndarray, policy: Policy) -> None:
        self.net, self.flows, self.policy = net, flows, policy
        w1, w2, w3 = _balanced_weights(net)
        if w1 >= 1 << 61:  # too wide for int64 path sums: compare tiers 1-3 only
            w1, w2, w3 = _balanced_weights_hard(net)
            points = np.zeros_like(net.policy_points)
        else:
            points = net.policy_points
        self.weights = (w1, w2, w3)
        self.cost = net.unassigned * w1 + net.breach * w2 + net.days_late * w3 + points
        self.options = np.flatnonzero(
            np.isin(net.kind, [ArcKind.ENTRY, ArcKind.KEEP]) & (flows == 0)
        )
        self.by_patient = pd.Series(self.options).groupby(net.arc_patient[self.options]).indices
        self.used_km, self.used_rank = _used_option(net, flows)
        # the residual graph, by tail: arc index, direction and cost of every residual arc
        forward = flows < net.capacity
        backward = flows > 0
        arcs = np.arange(len(flows))
        tail = np.concatenate([net.tail[forward], net.head[backward]])
        order = np.argsort(tail, kind="stable")
        self.r_tail = tail[order]
        self.r_head = np.concatenate([net.head[forward], net.tail[backward]])[order]
        self.r_cost = np.concatenate([self.cost[forward], -self.cost[backward]])[order]
        self.r_arc = np.concatenate([arcs[forward], arcs[backward]])[order]
        self.r_forward = np.concatenate(
            [np.ones(int(forward.sum()), bool), np.zeros(int(backward.sum()), bool)]
        )[order]
        self._reduced: tuple[sp.csr_matrix, np.ndarray] | None = None
        self._placement: np.ndarray | None = None

    def placement(self) -> np.ndarray:
        """Each patient's bucket in the optimal flow (-1: unassigned)."""
        if self._placement is None:
            self._placement = place_patients(self.net, self.flows).bucket
        return self._placement

    def distances_towards(self, patients: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """Per patient, the residual shortest-path cost from every node to it."""
        reduced = self._reduced_graph()
        if reduced is None:
            for p in patients:
                yield (
                    int(p),
                    flow.residual_distances(self.net, self.cost, self.flows, int(p), towards=True),
                )
            return
        graph, potential = reduced
        for start in range(0, len(patients), 256):
            batch = patients[start : start + 256]
            found = np.atleast_2d(dijkstra(graph, directed=True, indices=batch))
            for p, row in zip(batch, found, strict=True):
                heads = row[self.net.head[self._options_of(int(p))]]
                if (heads[np.isfinite(heads)] >= EXACT_FLOAT).any():
                    # too far for exact float sums: this patient's paths in integers
                    yield (
                        int(p),
                        flow.residual_distances(
                            self.net, self.cost, self.flows, int(p), towards=True
                        ),
                    )
                    continue
                reachable = np.isfinite(row)
                back = np.full(self.net.n_nodes, flow.UNREACHABLE, dtype=np.int64)
                # reduced distance R(v) = d(v -> p) + pi(v) - pi(p); below EXACT_FLOAT each
                # such float is an exact integer (every sum on its path is smaller)
                back[reachable] = (
                    np.rint(row[reachable]).astype(np.int64)
                    - potential[reachable]
                    + potential[int(p)]
                )
                back[reachable & (row >= EXACT_FLOAT)] = flow.UNREACHABLE  # never read
                yield int(p), back

    def _options_of(self, p: int) -> np.ndarray:
        if p in self.by_patient:
            return np.asarray(self.options[self.by_patient[p]])
        return np.empty(0, np.int64)

    def _reduced_graph(self) -> tuple[sp.csr_matrix, np.ndarray] | None:
        """The reversed residual graph with reduced costs (non-negative by the optimal flow's
        potentials) for Dijkstra, or None where float64 could not sum its costs exactly."""
        if self._reduced is not None:
            return self._reduced
        potentials = flow.residual_potentials(self.net, self.cost, self.flows)
        if potentials is None or len(self.r_tail) == 0:
            return None
        pi = potentials.distance
        reduced = self.r_cost + pi[self.r_tail] - pi[self.r_head]
        if reduced.min() < 0:
            return None
        # reversed arcs (head -> tail), parallel ones merged to the cheapest
        order = np.lexsort((reduced, self.r_tail, self.r_head))
        rows, cols, weights = self.r_head[order], self.r_tail[order], reduced[order]
        first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
        n = self.net.n_nodes
        graph = sp.csr_matrix(
            (weights[first].astype(np.float64), (rows[first], cols[first])), shape=(n, n)
        )
        self._reduced = (graph, pi)
        return self._reduced

    def candidates(self, p: int, back: np.ndarray) -> list[_Candidate] | str:
        """The patient's reachable options, best first (ties: arc order), or why none."""
        arcs = self._options_of(p)
        if len(arcs) == 0:
            return "no other eligible option"
        reachable = back[self.net.head[arcs]] < flow.UNREACHABLE
        if not reachable.any():
            return "no other option can be freed"
        arcs = arcs[reachable]
        delta = self.cost[arcs] + back[self.net.head[arcs]]
        order = np.lexsort((arcs, delta))
        return [_Candidate(int(a), int(g)) for a, g in zip(arcs[order], delta[order], strict=True)]

    def tiers(self, gain: int) -> tuple[int, int, int, int]:
        """A weighted change split into extra unassigned, breaches, days late and points."""
        w1, w2, w3 = self.weights
        extra_unassigned = round(gain / w1)
        rest = gain - extra_unassigned * w1
        extra_breaches = round(rest / w2)
        rest -= extra_breaches * w2
        extra_days = round(rest / w3)
        return extra_unassigned, extra_breaches, extra_days, int(rest - extra_days * w3)

    def landing_day(self, arc: int, p: int, back: np.ndarray) -> int:
        """The day the patient gets when forced onto ``arc``: the first bucket on the cheapest
        residual path back to it (its own unit's exit), else from the augmented flow."""
        net = self.net
        if net.kind[arc] == ArcKind.KEEP:
            return int(net.bucket_day[net.arc_bucket[arc]])
        node = int(net.head[arc])
        seen: set[int] = set()
        while node not in seen:
            seen.add(node)
            tight = self._tight(node, back)
            forward = tight[self.r_forward[tight]]
            kinds = net.kind[self.r_arc[forward]]
            exits = forward[kinds == ArcKind.EXIT]
            if len(exits):
                return int(net.bucket_day[net.arc_bucket[self.r_arc[exits[0]]]])
            along = forward[np.isin(kinds, [ArcKind.CHAIN, ArcKind.CROSS])]
            if len(along) == 0:
                break
            node = int(self.r_head[along[0]])
        return self._day_after_augmenting(arc, p, back)

    def _tight(self, node: int, back: np.ndarray) -> np.ndarray:
        """Residual arcs out of ``node`` on a cheapest path to the patient."""
        lo, hi = np.searchsorted(self.r_tail, [node, node + 1])
        out = np.arange(lo, hi)
        heads = back[self.r_head[out]]
        ok = heads < flow.UNREACHABLE
        out, heads = out[ok], heads[ok]
        return out[self.r_cost[out] + heads == back[node]]

    def _day_after_augmenting(self, arc: int, p: int, back: np.ndarray) -> int:
        """The patient's day in the flow changed by the whole cycle (read as the solve reads
        a flow); the option's own first day if the cycle cannot be traced."""
        net = self.net
        fallback = int(net.bucket_day[net.arc_bucket[arc]])
        changed = self.flows.copy()
        changed[arc] += 1
        node, seen = int(net.head[arc]), set()
        while node != p:
            if node in seen:
                return fallback
            seen.add(node)
            tight = self._tight(node, back)
            if len(tight) == 0:
                return fallback
            step = tight[0]
            changed[self.r_arc[step]] += 1 if self.r_forward[step] else -1
            node = int(self.r_head[step])
        bucket = place_patients(net, changed).bucket[p]
        return int(net.bucket_day[bucket]) if bucket >= 0 else fallback


def _solved_parts(
    problem: Problem, policy: Policy, solution: Solution | None
) -> Iterator[tuple[Problem, np.ndarray, Network | None, np.ndarray | None]]:
    """Per service part: the problem to read dates from, its patient ids, and its network and
    optimal flow when ``solution`` holds them for this problem and policy (else None: build
    and solve the part)."""
    parts = solution.parts if solution is not None else None
    if parts is not None and all(part.policy == policy for part in parts):
        ids = problem.patients["patient_id"].astype(str).to_numpy()
        solved_ids = np.concatenate([part.patient_ids for part in parts]) if parts else ids[:0]
        if len(solved_ids) == len(ids) and np.array_equal(np.sort(solved_ids), np.sort(ids)):
            for part in parts:
                yield problem, np.asarray(part.patient_ids, dtype=object), part.net, part.flows
            return
    for piece in split_by_service(problem):
        yield piece, piece.patients["patient_id"].astype(str).to_numpy(), None, None


def _priced(
    problem: Problem,
    policy: Policy,
    patient_ids: Iterable[str] | None,
    solution: Solution | None = None,
) -> Iterator[tuple[Problem, _Pricing, np.ndarray, int, list[_Candidate] | str, np.ndarray]]:
    """Per requested patient (default: all): its part, the part's pricing, the part's patient
    ids, its position, its candidates (or why none) and its distances."""
    wanted = None if patient_ids is None else list(dict.fromkeys(map(str, patient_ids)))
    for part, ids, net, flows in _solved_parts(problem, policy, solution):
        chosen = np.arange(len(ids)) if wanted is None else np.flatnonzero(np.isin(ids, wanted))
        if len(chosen) == 0:
            continue
        if net is None or flows is None:
            net = build_network(part, policy)
            flows, _, _ = optimal_flows(net)
        pricing = _Pricing(net, flows, policy)
        for p, back in pricing.distances_towards(chosen):
            yield part, pricing, ids, p, pricing.candidates(p, back), back


def ranked_alternatives(
    problem: Problem,
    policy: Policy | None = None,
    patient_ids: Iterable[str] | None = None,
    k: int = 3,
    *,
    solution: Solution | None = None,
) -> pd.DataFrame:
    """Per requested patient (default: all), the ``k`` best options not chosen, one per
    department (its cheapest), best first, in :data:`RANKED_COLUMNS`.

    Each row is exact: placing the patient at ``department_id`` on ``date`` instead, with
    everyone else re-optimised, changes the solution's tiers by ``extra_unassigned``,
    ``extra_breaches``, ``extra_days_late`` and ``extra_points``. ``why_not`` is the first
    tier that gets worse (``leaves_unassigned``, ``more_breaches``, ``more_days_late``) or
    ``policy_only``, with the facts the policy weighs: ``further_km`` (km further than the
    proposal, 0 when not), ``category_worse`` and ``booking_kept`` (the proposal keeps the
    current booking). An option at the proposal's own department and date is not listed.
    A patient with no alternative has no row.

    ``solution``, the :func:`~solver.solve.solve` of this problem (default method), lends its
    parts' networks and optimal flows (:attr:`~solver.solve.Solution.parts`), so nothing is
    built or solved again; the rows are the same as without it.
    """
    policy = policy or Policy()
    rows: list[dict[str, object]] = []
    for part, pricing, ids, p, candidates, back in _priced(problem, policy, patient_ids, solution):
        if isinstance(candidates, str):
            continue
        net = pricing.net
        today = pd.Timestamp(part.today)
        dept_ids = net.departments["department_id"].astype(str).to_numpy()
        current = pricing.placement()[p]
        here = (
            (int(net.bucket_department[current]), int(net.bucket_day[current]))
            if current >= 0
            else None
        )
        seen: set[int] = set()
        listed = 0
        for candidate in candidates:
            department = int(net.arc_department[candidate.arc])
            if listed >= k or department in seen:
                if listed >= k:
                    break
                continue
            seen.add(department)  # one per department: its cheapest option
            day = pricing.landing_day(candidate.arc, p, back)
            if (department, day) == here:
                continue
            listed += 1
            rows.append(
                {"patient_id": ids[p], "rank": listed, "department_id": dept_ids[department]}
                | _option_facts(pricing, candidate, p, today, day)
            )
    return pd.DataFrame(rows, columns=list(RANKED_COLUMNS))


def _option_facts(
    pricing: _Pricing, candidate: _Candidate, p: int, today: pd.Timestamp, day: int
) -> dict[str, object]:
    net, policy = pricing.net, pricing.policy
    arc = candidate.arc
    unassigned, breaches, days, points = pricing.tiers(candidate.gain)
    category = policy.categories[int(net.arc_category[arc])]
    km = float(net.arc_km[arc])
    used_km, used_rank = float(pricing.used_km[p]), int(pricing.used_rank[p])
    kept = used_rank >= 0 and policy.categories[used_rank] == "keep"
    why = (
        "leaves_unassigned"
        if unassigned > 0
        else "more_breaches"
        if breaches > 0
        else "more_days_late"
        if days > 0
        else "policy_only"
    )
    return {
        "date": (today + pd.Timedelta(days=day)).strftime("%Y-%m-%d"),
        "travel_km": round(km, 1),
        "category": category,
        "extra_unassigned": unassigned,
        "extra_breaches": breaches,
        "extra_days_late": days,
        "extra_points": points,
        "why_not": why,
        "further_km": round(max(km - used_km, 0.0), 1) if used_km == used_km else 0.0,
        "category_worse": bool(used_rank >= 0 and policy.category_rank(category) > used_rank),
        "booking_kept": bool(kept),
    }


def best_alternatives(
    problem: Problem,
    policy: Policy | None = None,
    patient_ids: Iterable[str] | None = None,
    *,
    solution: Solution | None = None,
) -> pd.DataFrame:
    """Per reviewed patient (default: all), the best option not chosen and why not.

    The first of :func:`ranked_alternatives`' options (before it leaves out the proposal's
    own slot), with the day the option is open from and the reason in a reviewer's English.
    """
    policy = policy or Policy()
    rows: list[dict[str, object]] = []
    for part, pricing, ids, p, candidates, _ in _priced(problem, policy, patient_ids, solution):
        if isinstance(candidates, str):
            rows.append({"patient_id": ids[p], "why_not": candidates})
            continue
        net = pricing.net
        best = candidates[0]
        arc = best.arc
        unassigned, breaches, days, points = pricing.tiers(best.gain)
        category = policy.categories[int(net.arc_category[arc])]
        km = float(net.arc_km[arc])
        rows.append(
            {
                "patient_id": ids[p],
                "alternative_department_id": str(
                    net.departments["department_id"].iloc[net.arc_department[arc]]
                ),
                "alternative_category": category,
                "alternative_km": round(km, 1),
                "alternative_from": (
                    pd.Timestamp(part.today)
                    + pd.Timedelta(days=int(net.bucket_day[net.arc_bucket[arc]]))
                ).strftime("%Y-%m-%d"),
                "extra_unassigned": unassigned,
                "extra_breaches": breaches,
                "extra_days_late": days,
                "extra_points": points,
                "why_not": _why_not(
                    (unassigned, breaches, days),
                    policy,
                    category,
                    int(pricing.used_rank[p]),
                    km,
                    float(pricing.used_km[p]),
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _balanced_weights_hard(net: Network) -> tuple[int, int, int]:
    days = int(net.max_days_late.sum())
    per_breach = 2 * days + 1
    return 2 * (per_breach * int(net.can_breach.sum()) + days) + 1, per_breach, 1


def _used_option(net: Network, flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per patient: travel km and category rank of the option the solve chose (NaN, -1: none)."""
    km = np.full(net.n_patients, np.nan)
    rank = np.full(net.n_patients, -1, dtype=np.int64)
    used = np.flatnonzero(np.isin(net.kind, [ArcKind.ENTRY, ArcKind.KEEP]) & (flows > 0))
    km[net.arc_patient[used]] = net.arc_km[used]
    rank[net.arc_patient[used]] = net.arc_category[used]
    return km, rank


def _why_not(
    tiers: tuple[int, int, int],
    policy: Policy,
    category: str,
    used_rank: int,
    km: float,
    used_km: float,
) -> str:
    """The first tier the alternative worsens, in a reviewer's words."""
    unassigned, breaches, days = tiers
    if unassigned > 0:
        return f"it would leave {unassigned} other patient(s) without any slot"
    if breaches > 0:
        return f"it would mean {breaches} more deadline breach(es) ({days:+d} days late in all)"
    if days > 0:
        return f"it would add {days} days late in all"
    reasons = []
    if used_rank >= 0 and policy.categories[used_rank] == "keep":
        reasons.append("the current booking is kept")
    elif used_rank >= 0 and policy.category_rank(category) > used_rank:
        reasons.append(f"it is {CATEGORY_WORDS[category]}")
    if used_km == used_km and km > used_km + 0.05:
        reasons.append(f"it is {km - used_km:.0f} km further")
    if not reasons:
        reasons.append("it ranks lower on the policy (later date, price or category)")
    return "; ".join(reasons) + " (deadlines are met either way)"
