"""``run_scenario(scenario) -> ScenarioRun``: all replications of a scenario, in parallel.

Replications are independent and deterministic per (seed, replication), so they can run anywhere:
in this process, in local worker processes, or on a Dask distributed cluster. Only the scenario
(plain data) travels to a worker; each worker builds its own solver state inside
``run_replication``. Results are sorted by replication, so the numbers do not depend on where or
in which order the replications ran.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

if TYPE_CHECKING:
    from scenarios.schema import Scenario
    from scenarios.simulate import ReplicationResult

#: The frames of a run, each with a ``replication`` column; one Parquet file each.
FRAMES = ("weekly", "departments", "patients")

Progress = Callable[[int, int], None]
#: Called between simulated weeks and replications; raises to stop the run (a cancel).
Checkpoint = Callable[[], None]


@dataclass(frozen=True)
class ScenarioRun:
    """One scenario's replications: the concatenated frames, the KPI summary and how it ran."""

    scenario: Scenario
    weekly: pd.DataFrame
    departments: pd.DataFrame
    patients: pd.DataFrame
    summary: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The scenario's name."""
        return str(self.scenario.name)

    @property
    def replications(self) -> int:
        """How many replications the run holds."""
        return int(self.weekly["replication"].nunique())

    @property
    def replication_kpis(self) -> pd.DataFrame:
        """Each replication's KPIs, one row per replication: what the summary averages."""
        from scenarios.kpis import per_replication

        return per_replication(self.weekly)

    def save(self, folder: str | Path, base: ScenarioRun | None = None, lang: str = "da") -> Path:
        """Write the run to ``folder``: frames as Parquet, scenario, summary and HTML report
        (Danish, or ``lang="en"``).

        With ``base``, the report also compares this run with the base run.
        """
        from scenarios.report import write_report

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in FRAMES:
            getattr(self, name).to_parquet(folder / f"{name}.parquet", index=False)
        (folder / "scenario.yaml").write_text(
            yaml.safe_dump(self.scenario.model_dump(mode="json"), sort_keys=False),
            encoding="utf-8",
        )
        self.summary.to_csv(folder / "summary.csv", index=False)
        (folder / "summary.json").write_text(
            json.dumps(
                {"metadata": self.metadata, "kpis": self.summary.to_dict(orient="records")},
                indent=2,
                default=str,
            ),
            encoding="utf-8",
        )
        write_report(self, folder / "report.html", base=base, lang=lang)
        return folder


def load_run(folder: str | Path) -> ScenarioRun:
    """Read a run written by :meth:`ScenarioRun.save` back; the summary is recomputed."""
    from scenarios.kpis import summarise
    from scenarios.schema import load_scenario

    folder = Path(folder)
    if not (folder / "weekly.parquet").is_file():
        raise FileNotFoundError(f"{folder}: no weekly.parquet here; is this a scenario run folder?")
    frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in FRAMES}
    summary_json = folder / "summary.json"
    metadata = (
        json.loads(summary_json.read_text(encoding="utf-8"))["metadata"]
        if summary_json.is_file()
        else {}
    )
    return ScenarioRun(
        scenario=load_scenario(folder / "scenario.yaml"),
        summary=summarise(frames["weekly"]),
        metadata=metadata,
        **frames,
    )


def run_scenario(
    scenario: Scenario,
    *,
    replications: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    cluster: Any = None,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
) -> ScenarioRun:
    """Run the scenario's replications and collect them into a :class:`ScenarioRun`.

    Parameters
    ----------
    replications
        How many replications (default: the scenario's own ``replications``).
    workers
        Local worker processes (default: the CPUs this process may use). ``1`` runs in this
        process, which avoids starting workers for small runs.
    scheduler, cluster
        Run on a Dask distributed cluster instead: a scheduler address (``tcp://host:8786``) or a
        cluster object such as ``distributed.LocalCluster``. Its workers need kapacitet installed.
    progress
        Called as ``progress(done, total)`` after each replication completes.
    checkpoint
        Called between replications, and between simulated weeks in this process; whatever it
        raises stops the run (the API's cancel and shut-down).
    """
    count = int(scenario.replications if replications is None else replications)
    if count < 1:
        raise ValueError(f"replications must be at least 1, got {count}")
    if scheduler is not None and cluster is not None:
        raise ValueError("give a scheduler address or a cluster, not both")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if scheduler is not None or cluster is not None:
        results, executor, used_workers = _run_on_dask(scenario, count, scheduler or cluster)
    else:
        used_workers = min(workers or _available_cpus(), count)
        if used_workers == 1:
            results, executor = _run_in_process(scenario, count, checkpoint), "in-process"
        else:
            results, executor = _run_in_processes(scenario, count, used_workers), "processes"
    collected = _collect(results, count, progress, checkpoint)
    metadata = {
        "scenario": str(scenario.name),
        "seed": int(scenario.seed),
        "replications": count,
        "executor": executor,
        "workers": used_workers,
        "started_at": started_at,
        "seconds": round(time.perf_counter() - started, 3),
    }
    return _assemble(scenario, collected, metadata)


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: The last scenario this process prepared, and its world: a worker runs many replications of
#: one scenario, and the base data they share need only be built once per process.
_prepared: dict[str, Any] = {}


def _replicate(
    scenario: Scenario, replication: int, checkpoint: Checkpoint | None = None
) -> ReplicationResult:
    """One replication, in whichever process runs it, reusing the process's prepared world."""
    from scenarios.simulate import prepare, run_replication

    key = scenario.model_dump_json()
    if key not in _prepared:
        _prepared.clear()
        _prepared[key] = prepare(scenario)
    return run_replication(scenario, replication, world=_prepared[key], checkpoint=checkpoint)


def _run_in_process(
    scenario: Scenario, count: int, checkpoint: Checkpoint | None
) -> Iterator[ReplicationResult]:
    return (_replicate(scenario, r, checkpoint) for r in range(count))


def _run_in_processes(scenario: Scenario, count: int, workers: int) -> Iterator[ReplicationResult]:
    # spawn, not fork: the parent may hold threads (progress bar, Dask) whose locks a fork copies
    with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(_replicate, scenario, r) for r in range(count)]
        try:
            for future in cf.as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _run_on_dask(scenario: Scenario, count: int, where: Any) -> tuple[Iterator[Any], str, int]:
    from distributed import Client

    client = Client(where)
    workers = len(client.scheduler_info().get("workers", {}))

    def results() -> Iterator[ReplicationResult]:
        from distributed import as_completed

        try:
            shipped = client.scatter(scenario, broadcast=True)
            futures = client.map(_replicate, [shipped] * count, range(count), pure=False)
            for future in as_completed(futures):
                yield future.result()
        finally:
            client.close()

    return results(), "dask", workers


def _collect(
    results: Iterable[ReplicationResult],
    count: int,
    progress: Progress | None,
    checkpoint: Checkpoint | None,
) -> list[ReplicationResult]:
    collected = []
    for result in results:
        collected.append(result)
        if progress is not None:
            progress(len(collected), count)
        if checkpoint is not None and len(collected) < count:
            checkpoint()  # leaving the generator cancels the replications not yet started
    return collected


def _assemble(
    scenario: Scenario, results: list[ReplicationResult], metadata: dict[str, Any]
) -> ScenarioRun:
    from scenarios.kpis import summarise

    # each replication's rows come in the engine's own deterministic order; a stable sort by
    # replication makes the whole independent of which worker finished first
    frames = {
        name: pd.concat([getattr(r, name) for r in results], ignore_index=True)
        .sort_values("replication", kind="stable")
        .reset_index(drop=True)
        for name in FRAMES
    }
    return ScenarioRun(
        scenario=scenario, summary=summarise(frames["weekly"]), metadata=metadata, **frames
    )
