"""Benchmark the HTTP API: a region-sized solve and a cheap read under concurrent clients.

Run on demand (never part of the test run)::

    .venv/bin/python bench/api.py                         # SQLite file, ~500 patients, 20 clients
    .venv/bin/python bench/api.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/api.py --scale 0.02 --clients 2 --requests 2   # a quick look

A generated week (``capacity.generate.generate_week`` at ``--scale``: 0.1 gives about 500
waiting patients, a region's list) is stored, a uvicorn server is started in a subprocess
(``kapacitet serve``; every solve synchronous, so a request's latency is the whole solve), and
httpx clients in threads send ``POST /v1/solve-runs`` (solve, store proposals) and
``GET /v1/solve-runs/{id}`` (a cheap read). Solves come in two kinds: *distinct* requests (each
its own planning date, so each is a solve of its own) and *identical* ones (the same request on
the same snapshot, which the server computes once and shares: issue 16.2); both are compared
with one client's distinct solves, and the identical row's p99 / 1-client p50 is the target
(at most 3x). Each workload runs with one client first (the
baseline: ``--baseline-requests`` solves, ``--cheap-requests`` reads) and then with
``--clients`` clients (``--requests`` solves, ``--cheap-requests`` reads each). It prints
p50/p99 latency and throughput, and the ratios concurrent/baseline measured in the same run.
The server solves at most ``run_workers`` (2) requests at once; the others wait their turn, so
with 20 clients a solve's latency is mostly its wait.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

TODAY: Final = "2026-11-23"


@dataclass(frozen=True)
class Measurement:
    """One workload at one concurrency: latencies (seconds) and requests per second."""

    workload: str
    clients: int
    requests: int
    p50_s: float
    p99_s: float
    throughput_rps: float


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(
    workload: str,
    send: Callable[[httpx.Client], None],
    base: str,
    token: str,
    clients: int,
    requests: int,
) -> Measurement:
    """``requests`` calls of ``send`` by each of ``clients`` threads; latency and throughput."""
    latencies: list[float] = []
    lock = threading.Lock()
    start_together = threading.Barrier(clients)

    def one_client() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=600) as session:
            start_together.wait()
            for _ in range(requests):
                began = time.perf_counter()
                send(session)
                with lock:
                    latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return Measurement(
        workload,
        clients,
        len(latencies),
        round(statistics.median(latencies), 4),
        round(_percentile(latencies, 0.99), 4),
        round(len(latencies) / wall, 2),
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_benchmark(
    db: str | None = None,
    scale: float = 0.1,
    clients: int = 20,
    requests: int = 2,
    cheap_requests: int = 50,
    baseline_requests: int = 5,
    processes: int = 1,
) -> dict[str, Any]:
    """Store a generated week, serve it (``processes`` server processes: ``kapacitet serve
    --workers``), measure the workloads at 1 and ``clients`` clients."""
    from capacity.generate import generate_week
    from capacity.storage import create_database_engine, load_dataset, upgrade_database
    from workflow.access import Role
    from workflow.tokens import create_token

    with tempfile.TemporaryDirectory() as folder:
        url = db or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        dataset = generate_week(week="2026-W48", seed=2026, scale=scale)
        load_dataset(url, dataset)
        engine = create_database_engine(url)
        upgrade_database(engine)
        with engine.begin() as connection:
            token, _ = create_token(connection, Role.SPECIALIST_UNIT, "bench")
        engine.dispose()
        port = _free_port()
        # every solve synchronous; the per-token quota (2 active solves) raised, since the
        # clients share one token here and would otherwise be 429
        env = os.environ | {
            "KAPACITET_ASYNC_THRESHOLD": str(10**9),
            "KAPACITET_MAX_ACTIVE_SOLVE_RUNS": str(10 * clients + 10),
        }
        log = open(Path(folder) / "server.log", "wb")  # noqa: SIM115 (closed below)
        command = [sys.executable, "-m", "kapacitet", "serve", "--db", url, "--port", str(port)]
        server = subprocess.Popen(
            [*command, "--workers", str(processes)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, server)
            headers = {"Authorization": f"Bearer {token}"}
            first = httpx.post(  # warm-up, and the run the reads read
                f"{base}/v1/solve-runs", json={"today": "2026-12-24"}, headers=headers, timeout=600
            )
            first.raise_for_status()
            run_id = first.json()["run_id"]

            days = iter(range(1, 10_000))

            def distinct(session: httpx.Client) -> None:
                """A request of its own (another planning date): a solve of its own."""
                today = (dt.date.fromisoformat(TODAY) - dt.timedelta(days=next(days))).isoformat()
                session.post("/v1/solve-runs", json={"today": today}).raise_for_status()

            def identical(session: httpx.Client) -> None:
                """The same request on the same snapshot: one computation shared."""
                session.post("/v1/solve-runs", json={"today": TODAY}).raise_for_status()

            def read(session: httpx.Client) -> None:
                session.get(f"/v1/solve-runs/{run_id}").raise_for_status()

            results = [
                measure("solve (distinct)", distinct, base, token, 1, baseline_requests),
                measure("solve (distinct)", distinct, base, token, clients, requests),
                measure("solve (identical)", identical, base, token, clients, requests),
                measure("read run", read, base, token, 1, cheap_requests),
                measure("read run", read, base, token, clients, cheap_requests),
            ]
        finally:
            server.terminate()
            server.wait(30)
            log.close()
            logged = (Path(folder) / "server.log").read_text(errors="replace").splitlines()
            problems = [line for line in logged if not line.startswith("INFO:")]
            if problems:
                print("server log:", *problems[-80:], sep="\n", file=sys.stderr)
    return {
        "database": url.split(":")[0] if db else "sqlite (temporary file)",
        "patients": len(dataset.patients),
        "capacity_rows": len(dataset.capacity),
        "cpus": os.cpu_count(),
        "processes": processes,
        "results": [asdict(r) for r in results],
    }


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with status {server.returncode}")
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become ready in 60 s")


def report(summary: dict[str, Any]) -> str:
    """The results as a table, with each concurrent row's ratios against its 1-client row."""
    lines = [
        f"{summary['patients']} patients, {summary['capacity_rows']} capacity rows, "
        f"{summary['database']}, {summary['cpus']} CPUs, "
        f"{summary.get('processes', 1)} server process(es)",
        "| workload | clients | requests | p50 s | p99 s | req/s | p50 ratio | p99 / 1-client p50"
        " | req/s ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    baseline: dict[str, dict[str, Any]] = {}
    for r in summary["results"]:
        # identical requests are compared with one client's own solve (distinct requests)
        kind = "solve (distinct)" if r["workload"].startswith("solve") else r["workload"]
        base = baseline.setdefault(kind, r)
        ratios = (
            ("-", "-", "-")
            if base is r
            else (
                f"{r['p50_s'] / base['p50_s']:.1f}x",
                f"{r['p99_s'] / base['p50_s']:.1f}x",
                f"{r['throughput_rps'] / base['throughput_rps']:.1f}x",
            )
        )
        lines.append(
            f"| {r['workload']} | {r['clients']} | {r['requests']} | {r['p50_s']:.3f} | "
            f"{r['p99_s']:.3f} | {r['throughput_rps']:.1f} | {ratios[0]} | {ratios[1]} | "
            f"{ratios[2]} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--scale", type=float, default=0.1, help="generator scale (0.1 ≈ 500)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2, help="solves per client")
    parser.add_argument("--cheap-requests", type=int, default=50, help="reads per client")
    parser.add_argument(
        "--baseline-requests", type=int, default=5, help="solves of the 1-client baseline"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="server processes (kapacitet serve --workers)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    summary = run_benchmark(
        args.db,
        args.scale,
        args.clients,
        args.requests,
        args.cheap_requests,
        args.baseline_requests,
        args.processes,
    )
    print(report(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
