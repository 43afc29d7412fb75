"""Benchmark the report and interop paths of issue 16.5: FHIR capacity import, capacity check.

Run on demand (never part of the test run)::

    .venv/bin/python bench/reports.py                    # both, national scale (minutes)
    .venv/bin/python bench/reports.py --only fhir        # the FHIR import only

1. ``fhir``: a generated national week (``kapacitet example``) written as a capacity Bundle
   (``kapacitet fhir export-capacity``), then read and validated as ``kapacitet fhir import``
   does (:func:`interop.fhir.imports.read_bundle` then :func:`validate_bundle`), each timed;
2. ``capacity-check``: :func:`reports.capacity_check.analysis.reference_check` for a year,
   with the flow engine the CLI uses by default (networkx) and with scipy.

Medians over ``--repeat`` runs are printed and written to ``bench/results/reports-<ts>.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the packages importable from the tree
    sys.path.insert(0, str(ROOT))

RESULTS: Final = ROOT / "bench" / "results"
KAPACITET: Final = [sys.executable, "-m", "kapacitet"]


def fhir_seconds(repeat: int) -> dict[str, Any]:
    """Seconds to read (fhir.resources validation included) and validate the national week."""
    from interop.fhir.imports import read_bundle, validate_bundle

    with tempfile.TemporaryDirectory() as folder:
        week, bundle = Path(folder) / "week", Path(folder) / "capacity.json"
        subprocess.run([*KAPACITET, "example", str(week)], check=True, capture_output=True)
        subprocess.run(
            [*KAPACITET, "fhir", "export-capacity", str(week), "--out", str(bundle)],
            check=True,
            capture_output=True,
        )
        data = bundle.read_bytes()
    read, validate = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        imported = read_bundle(data)
        middle = time.perf_counter()
        validate_bundle(imported)
        read.append(middle - started)
        validate.append(time.perf_counter() - middle)
    return {
        "bundle_bytes": len(data),
        "read_seconds": [round(s, 2) for s in read],
        "validate_seconds": [round(s, 2) for s in validate],
        "median_seconds": round(
            statistics.median(r + v for r, v in zip(read, validate, strict=True)), 2
        ),
    }


def capacity_check_seconds(year: int, repeat: int) -> dict[str, Any]:
    """Seconds of the reference capacity check per flow engine."""
    from reports.capacity_check.analysis import reference_check

    out: dict[str, Any] = {}
    for engine in ("networkx", "scipy"):
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            reference_check(year, engine=engine)
            seconds.append(time.perf_counter() - started)
        out[engine] = {
            "seconds": [round(s, 2) for s in seconds],
            "median_seconds": round(statistics.median(seconds), 2),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the measurements, print them and write the JSON result."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", choices=("fhir", "capacity-check"), default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--year", type=int, default=2026)
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"machine": f"{platform.node()}, {platform.python_version()}"}
    if args.only in (None, "fhir"):
        result["fhir_import"] = fhir_seconds(args.repeat)
    if args.only in (None, "capacity-check"):
        result["capacity_check"] = capacity_check_seconds(args.year, args.repeat)
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"reports-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
