"""Shadow prices: what one more slot on a department's day would save.

For each declared department/service/day, the exact change of tiers 1-3 if that day had one more
free slot, read from the optimal flow: the extra unit can only travel around one cycle through
the new slot, so the saving is the cost of the cheapest residual path from the sink back to that
day's bucket. One shortest-path run from the sink prices every day at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from solver import flow
from solver.model import ArcKind, build_network
from solver.policy import Policy
from solver.problem import Problem
from solver.solve import Solution, solve


def shadow_prices(
    problem: Problem, policy: Policy | None = None, solution: Solution | None = None
) -> pd.DataFrame:
    """Per department/service/day: unassigned, breaches and days late saved by one more slot.

    Rows are sorted by the saving, most valuable first. Weekly caps, where declared, are taken
    as raised together with the day.
    """
    policy = policy or Policy()
    net = build_network(problem, policy)
    days_total = int(net.max_days_late.sum())
    per_breach = 2 * days_total + 1
    per_unassigned = 2 * (per_breach * int(net.can_breach.sum()) + days_total) + 1
    cost = net.unassigned * per_unassigned + net.breach * per_breach + net.days_late
    flows = flow.solve_max_flow_min_cost(net, cost)
    distance = flow.residual_distances(net, cost, flows, net.sink)
    buckets = np.flatnonzero(net.kind == ArcKind.BUCKET)
    bucket_nodes = net.tail[buckets]
    gain = np.where(distance[bucket_nodes] < 0, -distance[bucket_nodes], 0).astype(np.int64)
    unassigned_saved = np.rint(gain / per_unassigned).astype(np.int64)
    rest = gain - unassigned_saved * per_unassigned
    breaches_saved = np.rint(rest / per_breach).astype(np.int64)
    days_saved = rest - breaches_saved * per_breach
    service = np.array(net.service_keys, dtype=object)[net.bucket_service]
    frame = pd.DataFrame(
        {
            "department_id": net.departments["department_id"]
            .astype(str)
            .to_numpy()[net.bucket_department],
            "collaboration": [s.split("/")[0] for s in service],
            "procedure": [s.split("/")[1] for s in service],
            "date": (
                pd.Timestamp(problem.today) + pd.to_timedelta(net.bucket_day, unit="D")
            ).strftime("%Y-%m-%d"),
            "free_slots": net.bucket_capacity,
            "used": flows[buckets],
            "unassigned_saved": unassigned_saved,
            "breaches_saved": breaches_saved,
            "days_saved": days_saved,
        }
    )
    del solution  # the network is rebuilt: the shadow prices need its flow, not the proposals
    return frame.sort_values(
        ["unassigned_saved", "breaches_saved", "days_saved", "department_id", "date"],
        ascending=[False, False, False, True, True],
        kind="stable",
    ).reset_index(drop=True)


def shadow_prices_by_resolve(problem: Problem, policy: Policy, rows: pd.DataFrame) -> pd.DataFrame:
    """The same savings by re-solving with one more slot per row (slow; for checking)."""
    base = solve(problem, policy, verify=False).tiers
    out = []
    for r in rows.itertuples():
        extra = pd.DataFrame(
            {
                "department_id": [r.department_id],
                "collaboration": [r.collaboration],
                "procedure": [r.procedure],
                "date": [pd.Timestamp(str(r.date))],
                "free_slots": [1],
            }
        )
        capacity = pd.concat([problem.capacity, extra.astype(problem.capacity.dtypes)])
        bumped = Problem(
            problem.departments,
            problem.services,
            capacity,
            problem.patients,
            problem.today,
            problem.weekly_caps,
        )
        tiers = solve(bumped, policy, verify=False).tiers
        out.append(
            {
                "unassigned_saved": base.unassigned - tiers.unassigned,
                "breaches_saved": base.breaches - tiers.breaches,
                "days_saved": base.days_late - tiers.days_late,
            }
        )
    return pd.DataFrame(out, index=rows.index)
