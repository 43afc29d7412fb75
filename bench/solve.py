"""Benchmark the solver against the straightforward formulation, HiGHS and networkx.

Run on demand (never part of the test run)::

    .venv/bin/python bench/solve.py [--sizes 300,1k,5k,10k,30k,100k,1M] [--repeats 3]
    .venv/bin/python bench/solve.py --quick     # under two minutes: run before a solver change

For each size a generated national-like week (``capacity.generate.generate_week``, six weeks,
about 130 departments) is solved by kapacitet and by the competitors of
:mod:`bench.straightforward`, each configuration in a fresh subprocess (so peak memory,
``ru_maxrss``, belongs to that configuration alone) with a time limit. Ratios are competitor
seconds over kapacitet seconds measured in the same run; every competitor must reach
kapacitet's tiers 1-3. Results go to ``bench/results/solve-<timestamp>.json``.

Pairwise timing: at each size up to 30k one subprocess alternates kapacitet and the
straightforward formulation (and HiGHS where cheap) ``--repeats`` times on the same dataset, so
each ratio pairs two runs made moments apart on the same (shared, noisy) machine; the table
reports medians, min-max spreads and the median of the pairwise ratios. ``--quick`` runs only
these pairs at 300, 1k, 5k (the national week) and 30k patients (HiGHS at 300), no CLI run.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench import straightforward  # noqa: E402
from capacity.frames import Dataset  # noqa: E402
from capacity.generate import generate_week, write_folder  # noqa: E402

TODAY: Final = "2026-11-23"
WEEK: Final = "2026-W48"
SEED: Final = 2026
#: Size label -> generator scale (scale 1 is the national Monday list, about 5,000 patients).
SIZES: Final[dict[str, float]] = {
    "300": 0.06,
    "1k": 0.2,
    "5k": 1.0,
    "10k": 2,
    "30k": 6,
    "100k": 20,
    "1M": 200,
}
#: ``--quick``: sizes, pairwise repeats at each, and whether HiGHS joins the pairs there.
QUICK: Final[dict[str, tuple[int, bool]]] = {
    "300": (5, True),
    "1k": (3, False),
    "5k": (3, False),
    "30k": (2, False),
}
#: The largest size at which the full run times kapacitet and its competitors pairwise.
PAIRWISE_UP_TO: Final = "30k"
RESULTS: Final = ROOT / "bench" / "results"
#: Skip a formulation whose estimated memory exceeds this (the machine has 24 GiB, shared).
MEMORY_GUARD_BYTES: Final = 12 * 10**9
#: Bytes per arc assumed before a run at a smaller size measures them (peak increase over arcs).
DEFAULT_BYTES_PER_ARC: Final[dict[str, float]] = {
    "straightforward": 120.0,
    "highs": 400.0,
    "networkx": 2000.0,
}


@dataclass(frozen=True)
class Limits:
    """Per-configuration time limits in seconds."""

    kapacitet: float = 900.0
    straightforward: float = 900.0
    highs: float = 300.0
    networkx: float = 300.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- measurements (each runs in-process; the driver calls them in fresh subprocesses) ----------


def measure_kapacitet(dataset: Dataset, method: str = "auto") -> dict[str, Any]:
    """kapacitet's solve of the dataset: tiers, timings (build, solve, verify, explain), wall."""
    from solver.problem import Problem
    from solver.solve import solve

    clock = time.perf_counter()
    solution = solve(Problem.from_dataset(dataset, TODAY), method=method)
    wall = time.perf_counter() - clock
    t = solution.timings
    return {
        "tiers": list(solution.tiers.hard()),
        "policy_points": solution.tiers.policy_points,
        "build_s": t.get("build_s", 0.0),
        "solve_s": t.get("solve_s", 0.0),
        "verify_s": t.get("verify_s", 0.0),
        "explain_s": t.get("explain_s", 0.0),
        "total_s": wall,
        "method": solution.proof.method,
        "certificate": solution.proof.certificate,
    }


def measure_eligibility(dataset: Dataset) -> dict[str, Any]:
    """Eligible department-days per patient (median, mean) and the straightforward arc count."""
    el = straightforward.eligibility(dataset, TODAY)
    per_patient = el.slots_per_patient()
    return {
        "patients": el.n_patients,
        "slots": len(el.slot_capacity),
        "eligible_median": float(np.median(per_patient)) if len(per_patient) else 0.0,
        "eligible_mean": float(per_patient.mean()) if len(per_patient) else 0.0,
        "arcs": el.arc_count(),
    }


def _measure_competitor(
    dataset: Dataset, solve: Callable[[straightforward.FlowNetwork], straightforward.Tiers]
) -> dict[str, Any]:
    clock = time.perf_counter()
    net = straightforward.build_network(dataset, TODAY)
    build = time.perf_counter() - clock
    clock = time.perf_counter()
    tiers = solve(net)
    solved = time.perf_counter() - clock
    return {
        "tiers": list(tiers.hard()),
        "build_s": build,
        "solve_s": solved,
        "total_s": build + solved,
        "arcs": len(net.tail),
        "weights": net.weights,
        "fits_int64": net.fits_int64,
        "notes": net.notes,
    }


def measure_straightforward(dataset: Dataset) -> dict[str, Any]:
    """The straightforward formulation solved by OR-Tools' SimpleMinCostFlow."""
    return _measure_competitor(dataset, straightforward.solve_ortools)


def measure_highs(dataset: Dataset, time_limit_s: float = 300.0) -> dict[str, Any]:
    """The straightforward formulation's LP solved by HiGHS (scipy linprog)."""
    return _measure_competitor(dataset, lambda net: straightforward.solve_highs(net, time_limit_s))


def measure_networkx(dataset: Dataset) -> dict[str, Any]:
    """The straightforward formulation solved by networkx's network simplex."""
    return _measure_competitor(dataset, straightforward.solve_networkx)


def measure_pairs(dataset: Dataset, repeats: int, with_highs: bool) -> dict[str, Any]:
    """kapacitet and the straightforward formulation (and HiGHS) alternately, ``repeats``
    times each in this one process, so run ``i`` of each forms a pair measured together."""
    import gc

    runs: dict[str, list[dict[str, Any]]] = {"kapacitet": [], "straightforward": []}
    if with_highs:
        runs["highs"] = []
    for _ in range(repeats):
        for kind in runs:
            gc.collect()
            result = measure_highs(dataset, 120.0) if kind == "highs" else MEASURES[kind](dataset)
            runs[kind].append(result)
    return {"runs": runs, "repeats": repeats}


MEASURES: Final[dict[str, Callable[[Dataset], dict[str, Any]]]] = {
    "kapacitet": measure_kapacitet,
    "kapacitet-staged": lambda dataset: measure_kapacitet(dataset, method="staged"),
    "eligibility": measure_eligibility,
    "straightforward": measure_straightforward,
    "highs": measure_highs,
    "networkx": measure_networkx,
}


def _worker(kind: str, dataset_path: Path, result_path: Path, time_limit_s: float) -> None:
    """Subprocess entry: load the dataset, run one measurement, write it with peak memory."""
    with dataset_path.open("rb") as handle:
        dataset = pickle.load(handle)
    baseline = peak_rss_mb()
    if kind.startswith("pairs"):  # pairs:<repeats>:<with highs 0/1>
        _, repeats, highs = kind.split(":")
        result = measure_pairs(dataset, int(repeats), highs == "1")
    elif kind == "highs":
        result = measure_highs(dataset, time_limit_s)
    else:
        result = MEASURES[kind](dataset)
    result["peak_mb"] = peak_rss_mb()
    result["baseline_mb"] = baseline
    # The solver may fork workers for large instances: their peaks are not in RUSAGE_SELF.
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    result["worker_peak_mb"] = children
    result_path.write_text(json.dumps(result))


def run_isolated(kind: str, dataset_path: Path, limit_s: float, workdir: Path) -> dict[str, Any]:
    """One measurement in a fresh subprocess with a wall-clock limit; errors become values."""
    result_path = workdir / f"{kind.replace(':', '-')}-{time.monotonic_ns()}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        kind,
        "--dataset",
        str(dataset_path),
        "--result",
        str(result_path),
        "--time-limit",
        str(limit_s),
    ]
    clock = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=limit_s + 120, check=False
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "limit_s": limit_s, "wall_s": time.perf_counter() - clock}
    if done.returncode != 0 or not result_path.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        status = "killed (out of memory?)" if done.returncode in (-9, 137) else "failed"
        return {"status": status, "returncode": done.returncode, "error": " | ".join(tail)}
    result: dict[str, Any] = json.loads(result_path.read_text())
    result["status"] = "ok"
    return result


# ---- the benchmark ----------------------------------------------------------------------------


def end_to_end(workdir: Path, repeats: int = 3) -> dict[str, Any]:
    """Median seconds of ``kapacitet solve`` on the national week's CSV folder (scale 1)."""
    folder = write_folder(generate_week(week=WEEK, seed=SEED, scale=1.0), workdir / "national")
    cli = Path(sys.executable).with_name("kapacitet")
    out = workdir / "proposals.csv"
    command = [str(cli), "solve", str(folder), "--today", TODAY, "--out", str(out), "--quiet"]
    seconds = []
    for _ in range(repeats):
        clock = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.perf_counter() - clock)
    patients = sum(1 for _ in out.open(encoding="utf-8")) - 1
    return {"patients": patients, "runs_s": seconds, "median_s": statistics.median(seconds)}


class Guard:
    """Decides whether a competitor still runs at a size, learning from smaller sizes."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.bytes_per_arc = dict(DEFAULT_BYTES_PER_ARC)  # replaced by measurements
        self.seconds_per_arc: dict[str, float] = {}
        self.gave_up: dict[str, str] = {}

    def reason_to_skip(self, kind: str, arcs: int) -> str | None:
        """Why ``kind`` should not run on ``arcs`` arcs, or None to run it."""
        if kind in self.gave_up:
            return self.gave_up[kind]
        estimate = arcs * self.bytes_per_arc[kind]
        if estimate > MEMORY_GUARD_BYTES:
            return (
                f"skipped: ~{arcs / 1e6:,.0f}M arcs x {self.bytes_per_arc[kind]:.0f} B/arc "
                f"~ {estimate / 1e9:,.0f} GB > {MEMORY_GUARD_BYTES / 1e9:.0f} GB"
            )
        limit = getattr(self.limits, kind)
        if kind in self.seconds_per_arc and arcs * self.seconds_per_arc[kind] > limit:
            predicted = arcs * self.seconds_per_arc[kind]
            self.gave_up[kind] = f"not run (predicted > {limit:.0f} s at a smaller size)"
            return f"not run (predicted {predicted:,.0f} s > {limit:.0f} s)"
        return None

    def learn(self, kind: str, label: str, result: dict[str, Any]) -> None:
        """Calibrate memory and time per arc from a finished run; give up after a time-out."""
        if result.get("status") == "ok" and result.get("arcs"):
            grown = (result["peak_mb"] - result["baseline_mb"]) * 2**20 / result["arcs"]
            self.bytes_per_arc[kind] = grown
            self.seconds_per_arc[kind] = result["total_s"] / result["arcs"]
        elif result.get("status") == "timeout" or "time" in str(result.get("error", "")).lower():
            limit = getattr(self.limits, kind)
            self.gave_up[kind] = f"skipped (> {limit:.0f} s at {label})"


def run_size(
    label: str,
    scale: float,
    workdir: Path,
    guard: Guard,
    limits: Limits,
    *,
    repeats: int = 3,
    quick: bool = False,
) -> dict[str, Any]:
    """Every configuration at one size, each in its own subprocess, then (up to
    :data:`PAIRWISE_UP_TO`) the pairwise repeats; ``quick``: the pairwise repeats only."""
    dataset = generate_week(week=WEEK, seed=SEED, scale=scale)
    dataset_path = workdir / f"dataset-{label}.pickle"
    with dataset_path.open("wb") as handle:
        pickle.dump(dataset, handle, protocol=pickle.HIGHEST_PROTOCOL)
    row: dict[str, Any] = {"size": label, "scale": scale, "patients": len(dataset.patients)}
    del dataset
    sizes = list(SIZES)
    if quick:
        repeats, highs = QUICK[label]
        row["pairs"] = run_isolated(
            f"pairs:{repeats}:{int(highs)}", dataset_path, limits.straightforward, workdir
        )
        print(f"[{label}] pairs: {_brief_pairs(row['pairs'])}", flush=True)
        dataset_path.unlink()
        return row
    row["eligibility"] = run_isolated("eligibility", dataset_path, limits.kapacitet, workdir)
    print(f"[{label}] eligibility: {_brief(row['eligibility'])}", flush=True)
    row["kapacitet"] = run_isolated("kapacitet", dataset_path, limits.kapacitet, workdir)
    print(f"[{label}] kapacitet: {_brief(row['kapacitet'])}", flush=True)
    if row["kapacitet"].get("status") != "ok":
        # The default (auto) failed: measure the solver's documented staged method as well, so
        # the size still has a kapacitet number to compare (reported separately, never silently).
        row["kapacitet_auto"] = row["kapacitet"]
        row["kapacitet"] = run_isolated("kapacitet-staged", dataset_path, limits.kapacitet, workdir)
        row["kapacitet"]["method_forced"] = "staged"
        print(f"[{label}] kapacitet (method=staged): {_brief(row['kapacitet'])}", flush=True)
    arcs = int(row["eligibility"].get("arcs", 0))
    for kind in ("straightforward", "highs", "networkx"):
        reason = guard.reason_to_skip(kind, arcs)
        if reason is not None:
            prefix = "not run: " if kind == "networkx" and not reason.startswith("not") else ""
            row[kind] = {"status": prefix + reason}
        else:
            row[kind] = run_isolated(kind, dataset_path, getattr(limits, kind), workdir)
            guard.learn(kind, label, row[kind])
        print(f"[{label}] {kind}: {_brief(row[kind])}", flush=True)
    if (
        repeats > 1
        and sizes.index(label) <= sizes.index(PAIRWISE_UP_TO)
        and row["straightforward"].get("status") == "ok"
    ):
        highs = sizes.index(label) <= sizes.index("1k")
        row["pairs"] = run_isolated(
            f"pairs:{repeats}:{int(highs)}", dataset_path, limits.straightforward, workdir
        )
        print(f"[{label}] pairs: {_brief_pairs(row['pairs'])}", flush=True)
    dataset_path.unlink()
    return row


def _spread(values: list[float]) -> str:
    """Median [min-max] of seconds."""
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def pair_stats(pairs: dict[str, Any]) -> dict[str, Any]:
    """Medians, spreads and pairwise ratios (competitor / kapacitet, run i with run i)."""
    runs = pairs.get("runs", {})
    k = [r["total_s"] for r in runs.get("kapacitet", [])]
    out: dict[str, Any] = {"kapacitet_s": k, "tiers": None, "same_tiers": True}
    if runs.get("kapacitet"):
        out["tiers"] = runs["kapacitet"][0]["tiers"]
        out["certificates"] = sorted({r["certificate"] for r in runs["kapacitet"]})
    for kind in ("straightforward", "highs"):
        if kind not in runs:
            continue
        c = [r["total_s"] for r in runs[kind]]
        out[f"{kind}_s"] = c
        out[f"{kind}_ratios"] = [a / b for a, b in zip(c, k, strict=False)]
        out["same_tiers"] &= all(r["tiers"] == out["tiers"] for r in runs[kind])
    out["same_tiers"] &= all(r["tiers"] == out["tiers"] for r in runs.get("kapacitet", []))
    return out


def _brief_pairs(pairs: dict[str, Any]) -> str:
    if pairs.get("status") != "ok":
        return str(pairs.get("status")) + " " + str(pairs.get("error", ""))
    st = pair_stats(pairs)
    text = f"kapacitet {_spread(st['kapacitet_s'])} s"
    for kind in ("straightforward", "highs"):
        if f"{kind}_s" in st:
            text += f", {kind} {_spread(st[kind + '_s'])} s, ratio {_ratio_spread(st, kind)}"
    return text + ("" if st["same_tiers"] else " **TIERS DIFFER**")


def _ratio_spread(st: dict[str, Any], kind: str) -> str:
    ratios = st.get(f"{kind}_ratios", [])
    if not ratios:
        return "-"
    return f"{statistics.median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]"


def pairs_table(rows: list[dict[str, Any]]) -> str:
    """The pairwise results as a Markdown table: medians [min-max] over the repeats, and the
    median [min-max] of the pairwise ratios (competitor seconds / kapacitet seconds)."""
    head = (
        "| size | patients | repeats | kapacitet s | straightforward s | **ratio** "
        "| HiGHS s | ratio | tiers 1-3 | certificate |"
    )
    lines = [head, "|" + "---|" * (head.count(" | ") + 1)]
    for row in rows:
        pairs = row.get("pairs")
        if not pairs or pairs.get("status") != "ok":
            continue
        st = pair_stats(pairs)
        tiers = "/".join(map(str, st["tiers"])) + ("" if st["same_tiers"] else " **DIFFER**")
        cells = [
            row["size"],
            f"{row.get('patients', 0):,}",
            str(pairs["repeats"]),
            _spread(st["kapacitet_s"]),
            _spread(st.get("straightforward_s", [])),
            f"**{_ratio_spread(st, 'straightforward')}**",
            _spread(st.get("highs_s", [])),
            _ratio_spread(st, "highs"),
            tiers,
            ", ".join(st.get("certificates", [])),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _brief(result: dict[str, Any]) -> str:
    keys = ("status", "tiers", "total_s", "peak_mb", "arcs", "eligible_median", "error")
    return ", ".join(f"{k}={_fmt(result[k])}" for k in keys if k in result)


def _fmt(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def same_tiers(row: dict[str, Any]) -> dict[str, bool | None]:
    """Per competitor: whether it reached kapacitet's tiers 1-3 (None when it did not finish);
    ``pairs``: whether every pairwise run did."""
    same: dict[str, bool | None] = {}
    if "kapacitet" in row:
        reference = row["kapacitet"].get("tiers")
        same = {
            kind: (row[kind]["tiers"] == reference) if "tiers" in row[kind] else None
            for kind in ("straightforward", "highs", "networkx")
        }
        if row.get("pairs", {}).get("status") == "ok" and reference is not None:
            st = pair_stats(row["pairs"])
            same["pairs"] = st["same_tiers"] and st["tiers"] == reference
    elif row.get("pairs", {}).get("status") == "ok":
        same["pairs"] = pair_stats(row["pairs"])["same_tiers"]
    return same


def _competitor_seconds(row: dict[str, Any], kind: str) -> str:
    result = row[kind]
    if result.get("status") != "ok":
        return str(result.get("status"))
    mark = "" if same_tiers(row)[kind] else " **TIERS DIFFER**"
    return f"{result['total_s']:.2f}{mark}"


def _ratio(row: dict[str, Any], kind: str) -> str:
    result, reference = row[kind], row["kapacitet"]
    if result.get("status") != "ok" or reference.get("status") != "ok":
        return "-"
    return f"{result['total_s'] / reference['total_s']:.1f}x"


def _peak(result: dict[str, Any]) -> str:
    """Peak MB of the process, plus the largest forked worker's peak where there was one."""
    worker = result.get("worker_peak_mb", 0.0)
    own = f"{result['peak_mb']:,.0f}"
    return f"{own} + {worker:,.0f} (worker)" if worker > 0 else own


def table(rows: list[dict[str, Any]]) -> str:
    """The results as a Markdown table (the one docs/performance.md shows)."""
    head = (
        "| size | patients | eligible dept-days (median) | kapacitet build s | solve s "
        "| total s | peak MB | tiers 1-3 | straightforward s | arcs | peak MB | ratio "
        "| HiGHS s | ratio | networkx s |"
    )
    lines = [head, "|" + "---|" * (head.count(" | ") + 1)]
    for row in rows:
        k, el, sf = row["kapacitet"], row["eligibility"], row["straightforward"]
        ok = k.get("status") == "ok"
        cells = [
            row["size"],
            f"{el['patients']:,}" if "patients" in el else "-",
            f"{el['eligible_median']:.0f}" if "eligible_median" in el else "-",
            f"{k['build_s']:.2f}" if ok else "-",
            f"{k['solve_s']:.2f}" if ok else "-",
            f"{k['total_s']:.2f}" if ok else str(k.get("status")),
            _peak(k) if ok else "-",
            "/".join(map(str, k["tiers"])) if ok else "-",
            _competitor_seconds(row, "straightforward"),
            f"{sf.get('arcs', el.get('arcs', 0)) / 1e6:,.1f}M",
            f"{sf['peak_mb']:,.0f}" if sf.get("status") == "ok" else "-",
            _ratio(row, "straightforward"),
            _competitor_seconds(row, "highs"),
            _ratio(row, "highs"),
            _competitor_seconds(row, "networkx"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with --worker, one measurement of it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma list of " + ",".join(SIZES))
    parser.add_argument(
        "--quick",
        action="store_true",
        help="about two minutes: pairwise kapacitet vs straightforward at 300, 1k, 5k, 30k",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="pairwise repeats per size up to 30k (default 3)"
    )
    parser.add_argument("--no-end-to-end", action="store_true", help="skip the CLI timing")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--time-limit", type=float, default=300.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.dataset, args.result, args.time_limit)
        return 0

    labels = list(QUICK) if args.quick else [s.strip() for s in args.sizes.split(",")]
    unknown = [s for s in labels if s not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {', '.join(SIZES)}")
    limits = Limits(highs=60.0, networkx=60.0) if args.quick else Limits()
    guard = Guard(limits)
    rows = []
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "limits": limits.__dict__,
        "memory_guard_bytes": MEMORY_GUARD_BYTES,
        "quick": args.quick,
        "repeats": args.repeats,
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kapacitet-bench-") as tmp:
        workdir = Path(tmp)
        if not (args.no_end_to_end or args.quick):
            report["end_to_end"] = end_to_end(workdir, repeats=1 if args.quick else 3)
            e2e = report["end_to_end"]
            print(
                f"end to end, national week ({e2e['patients']:,} patients): "
                f"median {e2e['median_s']:.2f} s of {[round(s, 2) for s in e2e['runs_s']]}",
                flush=True,
            )
        for label in labels:
            rows.append(
                run_size(
                    label,
                    SIZES[label],
                    workdir,
                    guard,
                    limits,
                    repeats=args.repeats,
                    quick=args.quick,
                )
            )
            report["sizes"] = rows
            _write(report)
    print()
    if not args.quick:
        print(table(rows))
        print()
    print(pairs_table(rows))
    mismatches = [r["size"] for r in rows if False in same_tiers(r).values()]
    for row in rows:
        for kind, same in same_tiers(row).items():
            if same is False:
                print(f"TIERS DIFFER at {row['size']} (scale {row['scale']}): {kind}")
    if not mismatches:
        print("\nevery competitor that finished reached kapacitet's tiers 1-3")
    report["wall_s"] = time.perf_counter() - started
    path = _write(report)
    print(f"results: {path} ({report['wall_s']:.0f} s)")
    return 1 if mismatches else 0


_STAMP: Final = time.strftime("%Y%m%d-%H%M%S")


def _write(report: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"solve-{_STAMP}.json"
    path.write_text(json.dumps(report, indent=1))
    return path


if __name__ == "__main__":
    sys.exit(main())
