"""Check that the working tree's solver gives exactly the results of another commit's.

Run before a speed change lands (never part of the test run)::

    .venv/bin/python bench/same_results.py 776b98a          # against a commit (default HEAD)
    .venv/bin/python bench/same_results.py HEAD --quick     # the contract examples and one week

The commit's ``solver/`` and ``capacity/`` are taken with ``git archive`` into a temporary folder;
each side solves the same instances in its own subprocess (contract examples, generated weeks
of several seeds and scales, one with weekly caps and excluded pairs; methods auto and staged,
without reasons, with two forked workers) and the proposals frames (exactly, reasons included),
tiers, KPIs and proofs are compared. Exit status 1 on any difference.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
SHARED: Final = ROOT.parent / "shared" / "contract"
TODAY: Final = "2026-11-23"
#: (seed, scale) of the generated weeks; --quick keeps the first.
WEEKS: Final = [(2026, 0.1), (2026, 0.06), (7, 0.1), (11, 0.3), (2026, 1.0), (3, 0.5), (2026, 2.0)]


def _problems(quick: bool) -> dict[str, Any]:
    import pandas as pd

    from capacity import frames
    from capacity.generate import generate_week
    from capacity.io import read_folder
    from solver.problem import Problem

    cases: dict[str, Any] = {}
    for example in ("example", "example-tight"):
        cases[f"contract {example}"] = Problem.from_dataset(read_folder(SHARED / example), TODAY)
    for seed, scale in WEEKS[:1] if quick else WEEKS:
        week = generate_week(week="2026-W48", seed=seed, scale=scale)
        cases[f"week seed {seed} scale {scale}"] = Problem.from_dataset(week, TODAY)
    base = cases[f"week seed {WEEKS[0][0]} scale {WEEKS[0][1]}"]
    cap = base.capacity.copy()
    cap["week"] = pd.to_datetime(cap["date"]).dt.strftime("%G-W%V")
    weeks = cap.groupby(["department_id", "collaboration", "procedure", "week"], as_index=False)[
        "free_slots"
    ].sum()
    weeks = weeks.iloc[::3].copy()
    weeks["max_slots"] = weeks["free_slots"] // 2
    caps = weeks[list(frames.WEEKLY_CAPS)].reset_index(drop=True).astype(frames.WEEKLY_CAPS)
    some = base.patients.iloc[::7]
    excluded = pd.DataFrame(
        {
            "patient_id": some["patient_id"].astype(str).to_numpy(),
            "department_id": some["home_department_id"].astype(str).to_numpy(),
        }
    ).astype("string")
    cases["caps and exclusions"] = dataclasses.replace(
        base, weekly_caps=caps, excluded_pairs=excluded
    )
    return cases


def dump(out: Path, quick: bool) -> None:
    """Solve every instance with the solver on ``sys.path`` and pickle what it returned."""
    from solver.solve import solve

    results: dict[str, Any] = {}
    for name, problem in _problems(quick).items():
        variants: dict[str, dict[str, Any]] = {"auto": {}, "staged": {"method": "staged"}}
        if not quick:
            variants |= {"no reasons": {"explain_reasons": False}, "2 workers": {"workers": 2}}
        for variant, options in variants.items():
            clock = time.perf_counter()
            s = solve(problem, **options)
            seconds = time.perf_counter() - clock
            results[f"{name}, {variant}"] = (s.proposals, s.tiers, s.kpis, s.proof, seconds)
    out.write_bytes(pickle.dumps(results))


def compare(before: dict[str, Any], after: dict[str, Any]) -> int:
    """Print one line per solve; the number of differences."""
    import pandas as pd

    differences = 0
    for key in sorted(set(before) | set(after)):
        if key not in before or key not in after:
            print(f"DIFF {key}: solved on one side only")
            differences += 1
            continue
        (pa, ta, ka, fa, sa), (pb, tb, kb, fb, sb) = before[key], after[key]
        try:
            pd.testing.assert_frame_equal(pa, pb, check_exact=True)
            assert ta == tb, f"tiers {ta} != {tb}"
            assert ka == kb, "KPIs differ"
            assert fa == fb, f"proof {fa} != {fb}"
            assert str(fb.certificate) == "verified", f"certificate {fb.certificate}"
        except AssertionError as error:
            differences += 1
            print(f"DIFF {key}: {str(error)[:300]}")
            continue
        print(f"same {key}: tiers {tb.hard()} + {tb.policy_points}, {sa:.2f} s -> {sb:.2f} s")
    return differences


def main(argv: list[str] | None = None) -> int:
    """Compare the working tree's solver with ``ref``'s; 1 if any result differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", nargs="?", default="HEAD", help="commit to compare with")
    parser.add_argument("--quick", action="store_true", help="examples and one week, 2 methods")
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump:
        dump(args.dump, args.quick)
        return 0
    with tempfile.TemporaryDirectory(prefix="kapacitet-same-") as tmp:
        folder = Path(tmp)
        tree = folder / "ref"
        tree.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.ref, "solver", "capacity"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        dumps = {}
        for side, path in (("before", tree), ("after", ROOT)):
            out = folder / f"{side}.pickle"
            code = (
                f"import sys; sys.path.insert(0, {str(path)!r}); sys.path.insert(1, {str(ROOT)!r});"
                "import solver; assert solver.__file__.startswith(sys.path[0]), solver.__file__;"
                "from bench.same_results import main; "
                f"main(['--dump', {str(out)!r}] + {json.dumps(['--quick'] if args.quick else [])})"
            )
            subprocess.run([sys.executable, "-c", code], check=True, cwd=folder)
            dumps[side] = pickle.loads(out.read_bytes())
    differences = compare(dumps["before"], dumps["after"])
    print(f"{differences} difference(s) against {args.ref}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
