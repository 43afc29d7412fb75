"""The best alternative a patient did not get, and exactly why: what choosing it would cost.

For a reviewed patient, every other eligible department (and a current booking not kept) is an
alternative. Forcing the patient onto one changes the optimal flow by the cheapest residual cycle
through that option: out along the alternative's arc, back to the patient along the residual
graph. Its cost, split into tiers, says what the alternative would do to everyone: leave another
patient without a slot, push patients past their deadline, add days late, or only cost policy
points (further away, abroad, private, later). One shortest-path run per reviewed patient.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from solver import flow
from solver.model import ArcKind, build_network
from solver.policy import Policy
from solver.problem import Problem
from solver.solve import optimal_flows, split_by_service

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
CATEGORY_WORDS = {
    "keep": "the current booking",
    "home_department": "the home department",
    "public_home_region": "public in the home region",
    "public_other_region": "in another region",
    "private": "a private hospital",
    "foreign": "abroad",
}


def _balanced_weights(net) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    points = int(net.max_policy_points.sum())
    days = int(net.max_days_late.sum())
    per_day = 2 * points + 1
    per_breach = 2 * (per_day * days + points) + 1
    per_unassigned = 2 * (per_breach * int(net.can_breach.sum()) + per_day * days + points) + 1
    return per_unassigned, per_breach, per_day


def best_alternatives(
    problem: Problem, policy: Policy | None = None, patient_ids: Iterable[str] | None = None
) -> pd.DataFrame:
    """Per reviewed patient (default: all), the best option not chosen and why not."""
    policy = policy or Policy()
    wanted = None if patient_ids is None else set(map(str, patient_ids))
    rows: list[dict[str, object]] = []
    for part in split_by_service(problem):
        ids = part.patients["patient_id"].astype(str).to_numpy()
        chosen = (
            np.arange(len(ids)) if wanted is None else np.flatnonzero(np.isin(ids, list(wanted)))
        )
        if len(chosen) == 0:
            continue
        net = build_network(part, policy)
        flows, _, _ = optimal_flows(net)
        w1, w2, w3 = _balanced_weights(net)
        if w1 >= 1 << 61:  # too wide for int64 path sums: compare tiers 1-3 only
            w1, w2, w3 = _balanced_weights_hard(net)
            points = np.zeros_like(net.policy_points)
        else:
            points = net.policy_points
        cost = net.unassigned * w1 + net.breach * w2 + net.days_late * w3 + points
        today = pd.Timestamp(problem.today)
        dept_ids = net.departments["department_id"].astype(str).to_numpy()
        options = np.flatnonzero(np.isin(net.kind, [ArcKind.ENTRY, ArcKind.KEEP]) & (flows == 0))
        by_patient = pd.Series(options).groupby(net.arc_patient[options]).indices
        used_km, used_category = _used_option(net, flows)
        for p in chosen:
            arcs = options[by_patient[p]] if p in by_patient else np.empty(0, np.int64)
            if len(arcs) == 0:
                rows.append({"patient_id": ids[p], "why_not": "no other eligible option"})
                continue
            back = flow.residual_distances(net, cost, flows, int(p), towards=True)
            delta = cost[arcs] + back[net.head[arcs]]
            reachable = back[net.head[arcs]] < flow.UNREACHABLE
            if not reachable.any():
                rows.append({"patient_id": ids[p], "why_not": "no other option can be freed"})
                continue
            best = arcs[reachable][np.argmin(delta[reachable])]
            gain = int(delta[reachable].min())
            extra_unassigned = round(gain / w1)
            rest = gain - extra_unassigned * w1
            extra_breaches = round(rest / w2)
            rest -= extra_breaches * w2
            extra_days = round(rest / w3)
            extra_points = rest - extra_days * w3
            category = policy.categories[int(net.arc_category[best])]
            km = float(net.arc_km[best])
            rows.append(
                {
                    "patient_id": ids[p],
                    "alternative_department_id": dept_ids[net.arc_department[best]],
                    "alternative_category": category,
                    "alternative_km": round(km, 1),
                    "alternative_from": (
                        today + pd.Timedelta(days=int(net.bucket_day[net.arc_bucket[best]]))
                    ).strftime("%Y-%m-%d"),
                    "extra_unassigned": extra_unassigned,
                    "extra_breaches": extra_breaches,
                    "extra_days_late": extra_days,
                    "extra_points": int(extra_points),
                    "why_not": _why_not(
                        (extra_unassigned, extra_breaches, extra_days),
                        policy,
                        category,
                        int(used_category[p]),
                        km,
                        float(used_km[p]),
                    ),
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _balanced_weights_hard(net) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    days = int(net.max_days_late.sum())
    per_breach = 2 * days + 1
    return 2 * (per_breach * int(net.can_breach.sum()) + days) + 1, per_breach, 1


def _used_option(net, flows) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
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
