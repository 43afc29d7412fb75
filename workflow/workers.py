"""The app's background workers for solve and scenario runs: daemon threads and one queue.

Daemon threads, unlike ``ThreadPoolExecutor``'s, never hold the process open at exit: shut-down
tells the runs to stop, waits a bounded time (:meth:`RunWorkers.stop`) and leaves; a run still
inside a long solver call is marked ``interrupted`` by the lifespan, not waited for.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

_log = logging.getLogger(__name__)

Job = tuple[Callable[..., Any], tuple[Any, ...]]


class RunWorkers:
    """``workers`` daemon threads executing submitted runs in order of submission."""

    def __init__(self, workers: int, name: str = "kapacitet-run") -> None:
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function(*args)`` on the next free worker."""
        self.jobs.put((function, args))

    def stop(self, grace_seconds: float) -> bool:
        """Drop the jobs not started, let running ones finish for up to ``grace_seconds``:
        whether every worker ended in time."""
        while True:
            try:
                self.jobs.get_nowait()
            except queue.Empty:
                break
        for _ in self.threads:
            self.jobs.put(None)
        deadline = time.monotonic() + grace_seconds
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self.threads)

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            function, args = job
            try:
                function(*args)
            except Exception:  # a run records its own failure; the worker lives on
                _log.exception("background run failed")
