"""Compare scenario runs: each run's KPIs with 95 % intervals, and differences to the first run.

A difference is the difference of the replication means with a Welch t interval: the runs'
replications are treated as independent samples with unequal variances.
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


def compare_runs(runs: Sequence[ScenarioRun]) -> pd.DataFrame:
    """One row per run and KPI: mean and 95 % interval, and the difference to the first run.

    The first run's differences are zero; KPIs missing from the first run have no difference.
    """
    if not runs:
        raise ValueError("no runs to compare")
    base = runs[0].replication_kpis
    rows = []
    for label, run in zip(_labels(runs), runs, strict=True):
        values = run.replication_kpis
        summary = run.summary.set_index("kpi")
        for kpi in summary.index:
            difference = (
                welch_difference(base[kpi].to_numpy(), values[kpi].to_numpy())
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
                    "difference": difference[0],
                    "difference_ci_low": difference[1],
                    "difference_ci_high": difference[2],
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


def comparison_page(table: pd.DataFrame) -> str:
    """A self-contained printable page holding the comparison table."""
    from scenarios.report import page

    runs = ", ".join(dict.fromkeys(table["run"]))
    return page(
        f"Comparison: {runs}",
        "<p>Means over replications with 95 % t intervals; differences to the first run are "
        "differences of means with 95 % Welch intervals.</p>" + comparison_html(table),
    )
