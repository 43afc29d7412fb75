"""Benchmark scenario simulation: one national replication, and the speed-up of a sweep.

Run on demand (never part of the test run)::

    .venv/bin/python bench/simulate.py                 # defaults below (several minutes)
    .venv/bin/python bench/simulate.py --quick         # small scale, a minute or so

Two measurements, both on an example scenario from ``scenarios/examples``:

1. seconds per replication of the scenario at national scale over a 52-week horizon
   (``run_replication`` in this process, median over ``--national-replications``);
2. a sweep of ``--sweep-replications`` replications through ``run_scenario`` with 1 worker
   (in this process) and with 2 local worker processes: wall clock of each and the speed-up,
   after checking that both produce identical frames.

Results are printed and written to ``bench/results/simulate-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``scenarios`` importable from the tree
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from scenarios.runner import FRAMES, run_scenario  # noqa: E402
from scenarios.schema import Scenario, load_scenario  # noqa: E402
from scenarios.simulate import run_replication  # noqa: E402

RESULTS: Final = ROOT / "bench" / "results"
EXAMPLES: Final = ROOT / "scenarios" / "examples"


def national_replication_seconds(scenario: Scenario, replications: int) -> list[float]:
    """Wall-clock seconds of each of the first ``replications`` replications, in this process."""
    seconds = []
    for replication in range(replications):
        started = time.perf_counter()
        run_replication(scenario, replication)
        seconds.append(time.perf_counter() - started)
    return seconds


def sweep_seconds(scenario: Scenario, replications: int) -> dict[str, Any]:
    """A sweep with 1 worker and with 2 worker processes: seconds, speed-up, same numbers."""
    timings = {}
    runs = {}
    for workers in (1, 2):
        started = time.perf_counter()
        runs[workers] = run_scenario(scenario, replications=replications, workers=workers)
        timings[workers] = time.perf_counter() - started
    identical = all(getattr(runs[1], f).equals(getattr(runs[2], f)) for f in FRAMES)
    return {
        "replications": replications,
        "seconds_1_worker": round(timings[1], 2),
        "seconds_2_workers": round(timings[2], 2),
        "speedup": round(timings[1] / timings[2], 2),
        "identical": identical,
    }


def main(argv: list[str] | None = None) -> int:
    """Run both measurements, print them and write the JSON result; 1 if the sweeps differ."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", type=Path, default=None, help="scenario file to time")
    parser.add_argument("--national-scale", type=float, default=1.0)
    parser.add_argument("--national-weeks", type=int, default=52)
    parser.add_argument("--national-replications", type=int, default=1)
    parser.add_argument("--sweep-scale", type=float, default=0.05)
    parser.add_argument("--sweep-weeks", type=int, default=4)
    parser.add_argument("--sweep-replications", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="small scale and few replications")
    args = parser.parse_args(argv)
    if args.quick:
        args.national_scale, args.national_weeks = 0.2, 8
        args.sweep_replications = 20
    example = args.example or EXAMPLES / "upper_gi_university_loss.yaml"
    scenario = load_scenario(example)

    national = scenario.with_changes(
        base={"scale": args.national_scale}, horizon_weeks=args.national_weeks
    )
    seconds = national_replication_seconds(national, args.national_replications)
    sweep_scenario = scenario.with_changes(
        base={"scale": args.sweep_scale}, horizon_weeks=args.sweep_weeks
    )
    sweep = sweep_seconds(sweep_scenario, args.sweep_replications)

    result: dict[str, Any] = {
        "example": example.name,
        "machine": f"{platform.node()}, {platform.python_version()}",
        "national": {
            "scale": args.national_scale,
            "weeks": args.national_weeks,
            "seconds": [round(s, 2) for s in seconds],
            "median_seconds": round(statistics.median(seconds), 2),
        },
        "sweep": {"scale": args.sweep_scale, "weeks": args.sweep_weeks, **sweep},
    }
    print(
        pd.DataFrame(
            [
                {
                    "measure": f"1 replication, scale {args.national_scale:g}, "
                    f"{args.national_weeks} weeks (median of {len(seconds)})",
                    "value": f"{result['national']['median_seconds']:.2f} s",
                },
                {
                    "measure": f"{sweep['replications']} replications, scale "
                    f"{args.sweep_scale:g}, {args.sweep_weeks} weeks, 1 worker",
                    "value": f"{sweep['seconds_1_worker']:.1f} s",
                },
                {
                    "measure": "same sweep, 2 workers",
                    "value": f"{sweep['seconds_2_workers']:.1f} s",
                },
                {"measure": "speed-up (1 worker / 2 workers)", "value": f"{sweep['speedup']:.2f}x"},
                {"measure": "identical frames", "value": str(sweep["identical"])},
            ]
        ).to_string(index=False)
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"simulate-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written {path}")
    return 0 if sweep["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
