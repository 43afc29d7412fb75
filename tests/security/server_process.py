"""A second API server as a separate process (``uvicorn --factory api.app:create_app``), for
tests of leases and graceful shut-down that need another process id or a real SIGTERM."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServerProcess:
    """A server process and its base URL."""

    process: subprocess.Popen[bytes]
    base: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server_process(database_url: str, **env: str) -> Iterator[ServerProcess]:
    """uvicorn serving ``create_app()`` on ``database_url`` (``$KAPACITET_DB``) with ``env``
    added; killed on exit if still running."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ | {"KAPACITET_DB": database_url} | env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the server process exited"
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server process did not start"
            time.sleep(0.1)
        yield ServerProcess(process, base)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
