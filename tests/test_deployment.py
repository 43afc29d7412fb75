"""Issue 16.3: the service scales out. ``kapacitet serve --workers 2`` really starts two server
processes that share the store's run queue; the container image, the compose file and the
reverse proxy's configuration are linted (no image is built or pulled here); scenario runs go
to the Dask scheduler the deployment names."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from capacity.generate import generate_week
from capacity.storage import create_database_engine, load_dataset, upgrade_database
from workflow.access import Role
from workflow.tokens import create_token

ROOT = Path(__file__).resolve().parents[1]
KAPACITET = Path(sys.executable).with_name("kapacitet")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(x) for x in found.stdout.split()]


def test_serve_with_two_workers_shares_one_run_queue(database_url: str) -> None:
    """Two server processes on one port and one store: every queued run is solved exactly once
    and both processes answer."""
    load_dataset(database_url, generate_week(week="2026-W48", seed=2026, scale=0.03))
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    with engine.begin() as conn:
        token, _ = create_token(conn, Role.ADMIN, "ops")
    engine.dispose()
    port = _free_port()
    env = os.environ | {"KAPACITET_ASYNC_THRESHOLD": "0", "KAPACITET_MAX_ACTIVE_SOLVE_RUNS": "20"}
    server = subprocess.Popen(
        [str(KAPACITET), "serve", "--db", database_url, "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("the server did not start")
        workers = []
        for _ in range(50):
            workers = _children(server.pid)
            if len(workers) >= 2:
                break
            time.sleep(0.2)
        assert len(workers) >= 2, "uvicorn started a process per worker"
        headers = {"Authorization": f"Bearer {token}"}
        started = []
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for collaboration in ("lung", "breast", "urinary", "gynaecological"):
                answer = client.post(
                    "/v1/solve-runs",
                    json={
                        "today": "2026-11-23",
                        "week": "2026-W48",
                        "collaboration": collaboration,
                    },
                )
                assert answer.status_code == 202, answer.text
                started.append(answer.json()["run_id"])
            statuses: dict[int, str] = {}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                statuses = {r: client.get(f"/v1/solve-runs/{r}").json()["status"] for r in started}
                if all(s in ("done", "failed", "interrupted") for s in statuses.values()):
                    break
                time.sleep(0.5)
            assert set(statuses.values()) == {"done"}, statuses
            for run_id in started:
                proposals = client.get(f"/v1/solve-runs/{run_id}/proposals").json()
                ids = [p["patient_id"] for p in proposals]
                assert ids and len(ids) == len(set(ids)), "each run stored once"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_file_describes_a_regions_deployment() -> None:
    """The API behind a reverse proxy, PostgreSQL with a volume and a health check, and a Dask
    scheduler with workers; the API is built from the Containerfile and points at both."""
    compose = _compose()
    services = compose["services"]
    assert set(services) >= {"proxy", "api", "postgres", "dask-scheduler", "dask-worker"}
    api = services["api"]
    assert api["build"]["dockerfile"] == "Containerfile"
    environment = api["environment"]
    assert re.match(
        r"postgresql\+psycopg://\w+:\$\{POSTGRES_PASSWORD[^}]*\}@postgres:5432/",
        (environment["KAPACITET_DB"]),
    )
    assert environment["KAPACITET_DASK_SCHEDULER"] == "tcp://dask-scheduler:8786"
    assert "--workers" in api["command"] and "8000" in api["expose"]
    assert api["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "ports" not in api, "only the proxy is published"
    assert services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"
    assert any("Caddyfile" in v for v in services["proxy"]["volumes"])
    postgres = services["postgres"]
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert any(v.startswith("postgres-data:") for v in postgres["volumes"])
    assert "postgres-data" in compose["volumes"]
    for name in ("dask-scheduler", "dask-worker"):
        assert services[name]["image"] == api["image"], "workers run kapacitet's own image"
    assert "tcp://dask-scheduler:8786" in services["dask-worker"]["command"]
    for service in services.values():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key or "KAPACITET_DB" in key:
                assert "${POSTGRES_PASSWORD" in str(value), f"{key} takes no literal secret"
    for service in services.values():
        image = service.get("image", "")
        if image and not image.startswith("kapacitet:"):
            assert re.search(r":\d", image), f"{image} is pinned to a version"


def test_containerfile_installs_from_the_lock_file_and_runs_unprivileged() -> None:
    lines = (ROOT / "Containerfile").read_text(encoding="utf-8").splitlines()
    instructions = [ln for ln in lines if ln and not ln.startswith("#")]
    assert instructions[0].startswith("FROM ") and re.search(r":3\.11", instructions[0])
    text = "\n".join(instructions)
    assert "COPY requirements.lock" in text and "pip install -r requirements.lock" in text
    assert text.index("requirements.lock") < text.index("COPY api"), "dependencies cached first"
    assert "pip install --no-deps ." in text
    user = next(ln for ln in instructions if ln.startswith("USER "))
    assert user.split()[1] not in ("root", "0")
    assert "EXPOSE 8000" in text and "HEALTHCHECK" in text and "/readyz" in text
    cmd = next(ln for ln in instructions if ln.startswith("CMD "))
    assert '"serve"' in cmd and '"0.0.0.0"' in cmd
    for package in ("api", "capacity", "interop", "kapacitet", "reports", "scenarios", "solver"):
        assert f"COPY {package} ./{package}" in text
    assert "COPY workflow ./workflow" in text


def test_reverse_proxy_forwards_to_the_api_with_a_body_limit() -> None:
    caddy = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "reverse_proxy api:8000" in caddy and "{$KAPACITET_HOSTNAME}" in caddy
    assert re.search(r"max_size\s+\d+MB", caddy) and "X-Forwarded-Proto" in caddy
    assert caddy.count("{") == caddy.count("}")


def test_scenario_runs_go_to_the_configured_dask_scheduler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workflow import scenario_runs

    monkeypatch.delenv("KAPACITET_DASK_SCHEDULER", raising=False)
    assert scenario_runs.dask_scheduler() is None
    monkeypatch.setenv("KAPACITET_DASK_SCHEDULER", "tcp://dask-scheduler:8786")
    assert scenario_runs.dask_scheduler() == "tcp://dask-scheduler:8786"
