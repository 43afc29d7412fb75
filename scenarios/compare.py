"""Compare scenario runs: each run's KPIs with 95 % intervals, and differences to the first run.

Runs that share their seed share their random numbers replication by replication (the same
arrivals, pauses and draws: common random numbers, see :mod:`scenarios.simulate`), so they are
compared pairwise: the difference is the mean of the per-replication differences over the
replications both runs hold, with a paired t interval (a run compared with itself gives exactly
0 [0, 0]). Runs with different seeds are independent samples: the difference of the replication
means with a Welch t interval.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from scenarios.runner import ScenarioRun

#: Columns of :func:`compare_runs`, in order.
COLUMNS = [
    "run",
    "kpi",
    "replications",
    "mean",
    "ci_low",
    "ci_high",
    "difference",
    "difference_ci_low",
    "difference_ci_high",
    "paired",
]
#: Columns of :func:`compare_pair` (``kapacitet scenario compare BASE RUN --out F.csv``).
PAIR_COLUMNS = [
    "kpi",
    "base_mean",
    "run_mean",
    "difference",
    "difference_low",
    "difference_high",
    "paired",
]


def welch_difference(base: np.ndarray, other: np.ndarray) -> tuple[float, float, float]:
    """Difference of means ``other - base`` with its 95 % Welch t interval.

    NaN values (a ratio with a zero denominator) are left out. The interval is NaN when either
    sample has a single value (no variance to estimate), and collapses to the difference when
    both samples are constant.
    """
    base, other = (np.asarray(values, dtype=float) for values in (base, other))
    base, other = base[~np.isnan(base)], other[~np.isnan(other)]  # a share with nothing to share
    if len(base) == 0 or len(other) == 0:
        return np.nan, np.nan, np.nan
    difference = float(other.mean() - base.mean())
    if len(base) < 2 or len(other) < 2:
        return difference, np.nan, np.nan
    base_part, other_part = base.var(ddof=1) / len(base), other.var(ddof=1) / len(other)
    standard_error = np.sqrt(base_part + other_part)
    if standard_error == 0:
        return difference, difference, difference
    freedom = (base_part + other_part) ** 2 / (
        base_part**2 / (len(base) - 1) + other_part**2 / (len(other) - 1)
    )
    half = float(stats.t.ppf(0.975, freedom) * standard_error)
    return difference, difference - half, difference + half


def paired_difference(base: np.ndarray, other: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``other - base`` pair by pair with its 95 % paired t interval.

    ``base[i]`` and ``other[i]`` are one replication of each run (the same seeds). A pair with
    a NaN (a ratio with a zero denominator) is left out. The interval is NaN with a single
    pair and collapses to the difference when every pair differs by the same amount (a run
    compared with itself: exactly 0 [0, 0]).
    """
    base, other = (np.asarray(values, dtype=float) for values in (base, other))
    if base.shape != other.shape:
        raise ValueError("paired samples need the same number of replications")
    keep = ~(np.isnan(base) | np.isnan(other))
    differences = other[keep] - base[keep]
    if len(differences) == 0:
        return np.nan, np.nan, np.nan
    difference = float(differences.mean())
    if len(differences) < 2:
        return difference, np.nan, np.nan
    spread = float(differences.std(ddof=1))
    if spread == 0 or np.allclose(differences, differences[0], rtol=0, atol=1e-12):
        return difference, difference, difference
    half = float(stats.t.ppf(0.975, len(differences) - 1) * spread / np.sqrt(len(differences)))
    return difference, difference - half, difference + half


def shares_seeds(base: ScenarioRun, run: ScenarioRun) -> bool:
    """True when the runs share their seed and hold replications in common (paired runs)."""
    if int(base.scenario.seed) != int(run.scenario.seed):
        return False
    common = set(base.weekly["replication"]) & set(run.weekly["replication"])
    return len(common) > 0


def paired_values(
    base: pd.DataFrame, run: pd.DataFrame, paired: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-replication values (``replication`` column) of both runs, as they are compared.

    Paired: the replications both hold, in the same order; otherwise each run's own.
    """
    if not paired:
        return base, run
    common = sorted(set(base["replication"]) & set(run["replication"]))
    pick = pd.Index(common, name="replication")
    return (
        base.set_index("replication").reindex(pick).reset_index(),
        run.set_index("replication").reindex(pick).reset_index(),
    )


def difference(base: np.ndarray, other: np.ndarray, paired: bool) -> tuple[float, float, float]:
    """:func:`paired_difference` for paired runs, else :func:`welch_difference`."""
    return paired_difference(base, other) if paired else welch_difference(base, other)


def compare_pair(base: ScenarioRun, run: ScenarioRun) -> pd.DataFrame:
    """Per KPI: the base's and the run's mean, the difference ``run - base`` and its 95 %
    interval (:data:`PAIR_COLUMNS`).

    Paired (the runs share seeds): means and difference over the replications both runs hold,
    so the difference is exactly ``run_mean - base_mean``; otherwise each run's own mean and a
    Welch interval.
    """
    from scenarios.kpis import KPIS

    paired = shares_seeds(base, run)
    ours, theirs = paired_values(base.replication_kpis, run.replication_kpis, paired)
    rows = []
    for kpi in KPIS:
        a, b = ours[kpi].to_numpy(np.float64), theirs[kpi].to_numpy(np.float64)
        mean, low, high = difference(a, b, paired)
        rows.append(
            {
                "kpi": kpi,
                "base_mean": _mean(a),
                "run_mean": _mean(b),
                "difference": mean,
                "difference_low": low,
                "difference_high": high,
                "paired": paired,
            }
        )
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def _mean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else np.nan


def compare_runs(runs: Sequence[ScenarioRun]) -> pd.DataFrame:
    """One row per run and KPI: mean and 95 % interval, and the difference to the first run.

    The first run's differences are zero; KPIs missing from the first run have no difference.
    Differences are paired where a run shares the first run's seed (``paired`` column).
    """
    if not runs:
        raise ValueError("no runs to compare")
    base_kpis = runs[0].replication_kpis
    rows = []
    for label, run in zip(_labels(runs), runs, strict=True):
        paired = shares_seeds(runs[0], run)
        base, values = paired_values(base_kpis, run.replication_kpis, paired)
        summary = run.summary.set_index("kpi")
        for kpi in summary.index:
            change = (
                difference(base[kpi].to_numpy(), values[kpi].to_numpy(), paired)
                if kpi in base.columns and kpi in values.columns
                else (np.nan, np.nan, np.nan)
            )
            rows.append(
                {
                    "run": label,
                    "kpi": kpi,
                    "replications": run.replications,
                    "mean": summary.at[kpi, "mean"],
                    "ci_low": summary.at[kpi, "ci_low"],
                    "ci_high": summary.at[kpi, "ci_high"],
                    "difference": change[0],
                    "difference_ci_low": change[1],
                    "difference_ci_high": change[2],
                    "paired": paired,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def _labels(runs: Sequence[ScenarioRun]) -> list[str]:
    """Run names, numbered where several runs share one (a scenario run twice)."""
    labels: list[str] = []
    for run in runs:
        label, n = run.name, 1
        while label in labels:
            n += 1
            label = f"{run.name} #{n}"
        labels.append(label)
    return labels


def format_interval(mean: float, low: float, high: float, signed: bool = False) -> str:
    """``mean [low, high]`` with digits that suit the magnitude; no interval where it is NaN."""
    text = _number(mean, signed)
    if np.isnan(low) or np.isnan(high):
        return text
    return f"{text} [{_number(low, signed)}, {_number(high, signed)}]"


def _number(value: float, signed: bool) -> str:
    if np.isnan(value):
        return "–"
    sign = "+" if signed else ""
    if value != 0 and abs(value) < 1:
        return f"{value:{sign}.3f}"
    if abs(value) < 100:
        return f"{value:{sign}.1f}"
    return f"{value:{sign},.0f}"


def comparison_grid(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """The comparison as text: column headings, then one row per KPI.

    Runs are column groups: each run's mean [95 % CI], and for every run after the first its
    difference to the first [95 % CI]. Headings hold a line break between name and content.
    """
    runs = list(dict.fromkeys(table["run"]))
    headings = ["KPI"]
    for i, run in enumerate(runs):
        headings.append(f"{run}\nmean [95 % CI]")
        if i:
            headings.append(f"{run} − {runs[0]}\ndifference [95 % CI]")
    cells = table.set_index(["kpi", "run"])
    rows = []
    for kpi in dict.fromkeys(table["kpi"]):
        row = [str(kpi)]
        for i, run in enumerate(runs):
            if (kpi, run) not in cells.index:
                row += ["–"] * (2 if i else 1)
                continue
            cell = cells.loc[(kpi, run)]
            row.append(format_interval(cell["mean"], cell["ci_low"], cell["ci_high"]))
            if i:
                row.append(
                    format_interval(
                        cell["difference"],
                        cell["difference_ci_low"],
                        cell["difference_ci_high"],
                        signed=True,
                    )
                )
        rows.append(row)
    return headings, rows


def comparison_html(table: pd.DataFrame, caption: str = "KPIs of each run") -> str:
    """The comparison as an accessible HTML table: KPIs in rows, runs in column groups."""
    headings, rows = comparison_grid(table)
    head = "".join(
        f'<th scope="col">{html.escape(h).replace(chr(10), "<br>")}</th>' for h in headings
    )
    body = "".join(
        f'<tr><th scope="row">{html.escape(row[0])}</th>'
        + "".join(f"<td>{html.escape(cell)}</td>" for cell in row[1:])
        + "</tr>"
        for row in rows
    )
    return (
        f"<table><caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def comparison_page(table: pd.DataFrame, lang: str = "da") -> str:
    """A self-contained printable page holding a :func:`compare_runs` table, KPIs in words."""
    from scenarios.report import comparison_html as localised
    from scenarios.report import page
    from scenarios.text import words

    t = words(lang)
    runs = ", ".join(dict.fromkeys(table["run"]))
    return page(
        t["comparison_title"].format(runs=runs),
        f"<p>{html.escape(t['comparison_intro'])}</p>" + localised(table, t["kpi_caption"], lang),
        lang,
    )
