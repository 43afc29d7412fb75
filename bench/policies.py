"""Measure offer policies in the simulator: ``policy.offers: single`` against ``ranked``.

Run on demand (never part of the test run)::

    .venv/bin/python bench/policies.py --scale 0.2 --replications 8 --horizon 12

For each example scenario and each acceptance model (default, pessimistic, optimistic) both
policies run with the same seed, so each replication is paired (same arrivals, capacity and
pauses). Per replication: the share of treated patients treated within the deadline and the
total days late; printed as the mean paired difference ranked - single with its 95 % t
interval (``scenarios.compare.paired_difference``). Results also go to
``bench/results/policies-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from scenarios.compare import paired_difference  # noqa: E402
from scenarios.schema import Scenario, load_scenario  # noqa: E402
from scenarios.simulate import prepare, run_replication  # noqa: E402

RESULTS: Final = ROOT / "bench" / "results"
SCENARIOS: Final = (
    "upper_gi_university_loss",
    "lower_gi_collapse_with_sharing",
    "weekend_surgery_lists",
)
#: Acceptance models (logit = intercept + per_100km x km/100 + offsets); default as schema.py.
ACCEPTANCE: Final[dict[str, dict[str, float]]] = {
    "default": {},
    "pessimistic": {"intercept": 1.0, "per_100km": -3.0, "private_offset": -0.8},
    "optimistic": {"intercept": 3.0, "per_100km": -1.5, "private_offset": 0.0},
}


def measure(scenario: Scenario, replications: int) -> dict[str, np.ndarray]:
    """Per replication: within-deadline share of the treated, days late, declined offers."""
    world = prepare(scenario)
    within, late, declined = [], [], []
    for replication in range(1, replications + 1):
        weekly = run_replication(scenario, replication, world).weekly
        within.append(weekly["treated_within"].sum() / max(weekly["treated"].sum(), 1))
        late.append(float(weekly["days_late_total"].sum()))
        declined.append(float(weekly["offers_declined"].sum()))
    return {"within": np.array(within), "late": np.array(late), "declined": np.array(declined)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--horizon", type=int, default=12)
    parser.add_argument("--scenarios", nargs="*", default=list(SCENARIOS))
    parser.add_argument("--acceptance", nargs="*", default=list(ACCEPTANCE))
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for name in args.scenarios:
        base = load_scenario(ROOT / "scenarios" / "examples" / f"{name}.yaml")
        for label in args.acceptance:
            started = time.perf_counter()
            changes: dict[str, Any] = {
                "horizon_weeks": args.horizon,
                "base": {"scale": args.scale},
                "behaviour": {"acceptance": ACCEPTANCE[label]},
            }
            single = measure(
                base.with_changes(**changes, policy={"offers": "single"}), args.replications
            )
            ranked = measure(
                base.with_changes(**changes, policy={"offers": "ranked"}), args.replications
            )
            row: dict[str, Any] = {"scenario": name, "acceptance": label}
            for kpi in ("within", "late", "declined"):
                mean, low, high = paired_difference(single[kpi], ranked[kpi])
                row[f"{kpi}_single"] = float(single[kpi].mean())
                row[f"{kpi}_ranked"] = float(ranked[kpi].mean())
                row[f"{kpi}_diff"] = [float(mean), float(low), float(high)]
            row["seconds"] = round(time.perf_counter() - started, 1)
            rows.append(row)
            w, d = row["within_diff"], row["late_diff"]
            print(
                f"{name:34s} {label:11s} within {row['within_single']:.4f} -> "
                f"{row['within_ranked']:.4f}  diff {100 * w[0]:+.2f} pp "
                f"[{100 * w[1]:+.2f}, {100 * w[2]:+.2f}]  days late "
                f"{row['late_single']:.0f} -> {row['late_ranked']:.0f} "
                f"diff {d[0]:+.0f} [{d[1]:+.0f}, {d[2]:+.0f}]  ({row['seconds']} s)",
                flush=True,
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"policies-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2), encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
