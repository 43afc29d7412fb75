"""A scenario run as one self-contained, printable HTML page.

Title and description, the KPI table with means and 95 % intervals, and figures (KPIs per week
with interval bands, the days-late distribution, utilisation of the busiest departments) embedded
as base64 PNG, so the file can be mailed or archived without anything beside it. With a base run
the page also compares the two: differences of means with Welch intervals and both runs' weekly
within-deadline share in one figure.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

import matplotlib

matplotlib.use("Agg")  # files only: never open a window, also without a display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scenarios.compare import compare_runs, comparison_html, format_interval, welch_difference
from scenarios.kpis import REASONS

if TYPE_CHECKING:
    from scenarios.runner import ScenarioRun

#: The weekly KPIs drawn as exceedances, with their labels.
EXCEEDANCES = {
    "exceeded_capacity": "exceeded: capacity",
    "exceeded_health": "exceeded: health",
    "exceeded_wish": "exceeded: patient's wish",
}

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { border: 1px solid #bbb; padding: .25rem .6rem; text-align: right; }
th[scope=row], thead th:first-child { text-align: left; }
thead th { background: #eef1f5; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: .9rem; color: #444; }
.meta { color: #444; font-size: .9rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  figure, table { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""


def page(title: str, body: str) -> str:
    """A complete HTML document with the report's inline style and no external assets."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{html.escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def scenario_report(run: ScenarioRun, base: ScenarioRun | None = None, top: int = 15) -> str:
    """The run's report as an HTML document; with ``base``, compared with the base run."""
    from scenarios.kpis import days_late_distribution, utilisation, weekly_intervals

    scenario = run.scenario
    meta = run.metadata
    sections = [
        f"<p>{html.escape(str(scenario.description or ''))}</p>",
        f'<p class="meta">{run.replications} replications of {scenario.horizon_weeks} weeks, '
        f"seed {scenario.seed}"
        + (f"; ran {html.escape(str(meta['started_at']))}" if "started_at" in meta else "")
        + (f" in {meta['seconds']:.1f} s ({html.escape(str(meta['executor']))})" if meta else "")
        + ".</p>",
        "<h2>KPIs</h2>",
        comparison_html(
            compare_runs([run]),
            caption="KPIs over the whole horizon: mean over replications [95 % CI]",
        ),
        "<h2>By collaboration and procedure</h2>",
        _service_table(run),
        "<h2>Over time</h2>",
        _figure(
            _weekly_figure(weekly_intervals(run.weekly)),
            "Within-deadline share and exceedances per week, mean over replications with 95 % "
            "interval bands.",
            "Two line charts by week: the share of treated patients within their deadline, and "
            "the number of patients exceeding it by reason, each with a shaded 95 % interval.",
        ),
        "<h2>Days late</h2>",
        _figure(
            _days_late_figure(days_late_distribution(run.patients)),
            "Distribution of days late among patients treated after their deadline, all "
            "replications together.",
            "Stacked bar chart: number of patients by days late, split by the reason the "
            "deadline was exceeded (capacity, health, patient's wish).",
        ),
        "<h2>Utilisation</h2>",
        _figure(
            _utilisation_figure(utilisation(run.departments), top),
            f"Utilisation of the {top} most used departments over the horizon.",
            f"Horizontal bar chart of used slots as a share of slots for the top {top} "
            "departments.",
        ),
    ]
    if base is not None:
        sections += _comparison_sections(run, base)
    return page(f"Scenario: {scenario.name}", "\n".join(sections))


def write_report(run: ScenarioRun, path: str | Path, base: ScenarioRun | None = None) -> Path:
    """Write :func:`scenario_report` to ``path`` and return it."""
    path = Path(path)
    path.write_text(scenario_report(run, base), encoding="utf-8")
    return path


def _comparison_sections(run: ScenarioRun, base: ScenarioRun) -> list[str]:
    from scenarios.kpis import weekly_intervals

    return [
        f"<h2>Compared with {html.escape(base.name)}</h2>",
        "<p>Differences are this run minus the base run: difference of the replication means "
        "with a 95 % Welch t interval. An interval that excludes 0 is a difference the "
        "replications support.</p>",
        comparison_html(
            compare_runs([base, run]),
            caption=f"{run.name} against {base.name}: mean [95 % CI] and difference [95 % CI]",
        ),
        _service_difference_table(run, base),
        _figure(
            _both_figure(
                {base.name: weekly_intervals(base.weekly), run.name: weekly_intervals(run.weekly)}
            ),
            f"Within-deadline share per week: {run.name} and {base.name}, with 95 % bands.",
            f"Line chart by week of the within-deadline share of {run.name} and of {base.name}, "
            "each with a shaded 95 % interval.",
        ),
    ]


SERVICE_COLUMNS = (
    ("treated", "treated"),
    ("within_share", "within deadline"),
    ("exceeded_capacity", "exceeded: capacity"),
    ("exceeded_health", "exceeded: health"),
    ("exceeded_wish", "exceeded: wish"),
    ("days_late_total", "days late"),
)


def _service_table(run: ScenarioRun) -> str:
    """Per collaboration and procedure: the KPIs with 95 % intervals, one row per service."""
    from scenarios.kpis import by_service

    table = by_service(run.patients)
    return _service_html(
        table,
        lambda row: format_interval(row["mean"], row["ci_low"], row["ci_high"]),
        "Per collaboration and procedure over the whole horizon: mean over replications [95 % CI]",
    )


def _service_difference_table(run: ScenarioRun, base: ScenarioRun) -> str:
    """Per service: this run minus the base run, with 95 % Welch intervals."""
    from scenarios.kpis import SERVICE_KPIS, per_service, services_in

    ours, theirs = per_service(run.patients), per_service(base.patients)
    rows = []
    for service in sorted(set(services_in(ours)) | set(services_in(theirs))):
        for kpi in SERVICE_KPIS:
            a = _values(theirs, service, kpi)
            b = _values(ours, service, kpi)
            mean, low, high = welch_difference(a, b)
            rows.append(
                {
                    "collaboration": service[0],
                    "procedure": service[1],
                    "kpi": kpi,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return _service_html(
        pd.DataFrame(rows),
        lambda row: format_interval(row["mean"], row["ci_low"], row["ci_high"], signed=True),
        f"Per collaboration and procedure: {run.name} minus {base.name}, difference [95 % CI]",
    )


def _values(per: pd.DataFrame, service: tuple[str, str], kpi: str) -> np.ndarray:
    from scenarios.kpis import services_in

    if service not in services_in(per):
        return np.zeros(0)
    return per.xs(service, level=["collaboration", "procedure"])[kpi].to_numpy(np.float64)


def _service_html(table: pd.DataFrame, cell: Callable[[pd.Series], str], caption: str) -> str:
    head = "".join(
        f'<th scope="col">{html.escape(label)}</th>'
        for label in ("collaboration", "procedure", *(label for _, label in SERVICE_COLUMNS))
    )
    body = []
    for (collaboration, procedure), group in table.groupby(["collaboration", "procedure"]):
        by_kpi = group.set_index("kpi")
        cells = "".join(
            f"<td>{html.escape(cell(cast(pd.Series, by_kpi.loc[kpi])))}</td>"
            if kpi in by_kpi.index
            else "<td></td>"
            for kpi, _ in SERVICE_COLUMNS
        )
        body.append(
            f'<tr><th scope="row">{html.escape(str(collaboration))}</th>'
            f"<td>{html.escape(str(procedure))}</td>{cells}</tr>"
        )
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _figure(figure: Figure, caption: str, alt: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _band(axes: Axes, frame: pd.DataFrame, label: str) -> None:
    """One KPI over weeks: the mean as a line, its 95 % interval as a shaded band."""
    frame = frame.sort_values("week")
    (line,) = axes.plot(frame["week_label"], frame["mean"], marker="o", label=label)
    axes.fill_between(
        frame["week_label"], frame["ci_low"], frame["ci_high"], color=line.get_color(), alpha=0.2
    )


def _weekly_figure(intervals: pd.DataFrame) -> Figure:
    figure, (share, exceeded) = plt.subplots(1, 2, figsize=(10, 3.6))
    _band(share, intervals[intervals["kpi"] == "within_share"], "within deadline")
    share.set(title="Treated within deadline", ylabel="share of treated", ylim=(0, 1.02))
    for kpi, label in EXCEEDANCES.items():
        if (intervals["kpi"] == kpi).any():
            _band(exceeded, intervals[intervals["kpi"] == kpi], label)
    exceeded.set(title="Deadline exceeded", ylabel="patients per week")
    exceeded.legend(frameon=False)
    for axes in (share, exceeded):
        _week_ticks(axes)
    figure.tight_layout()
    return figure


def _days_late_figure(distribution: pd.DataFrame) -> Figure:
    figure, axes = plt.subplots(figsize=(10, 3.2))
    if len(distribution):
        bottom = np.zeros(len(distribution))
        for reason, color in zip(REASONS, ("#b5485d", "#e0a458", "#6c8ebf"), strict=True):
            axes.bar(
                distribution["days_late"],
                distribution[reason],
                bottom=bottom,
                color=color,
                label=f"exceeded: {reason}",
            )
            bottom += distribution[reason].to_numpy()
        axes.legend(frameon=False)
    else:
        axes.text(0.5, 0.5, "no patient was late", ha="center", transform=axes.transAxes)
    axes.set(xlabel="days late", ylabel="patients", title="Days late")
    figure.tight_layout()
    return figure


def _utilisation_figure(utilisation: pd.DataFrame, top: int) -> Figure:
    busiest = utilisation.nlargest(top, "utilisation").iloc[::-1]
    figure, axes = plt.subplots(figsize=(10, 0.3 * len(busiest) + 1.2))
    axes.barh(busiest["department_id"].astype(str), busiest["utilisation"], color="#3d6fa8")
    axes.set(xlabel="used slots / slots", xlim=(0, 1.05), title=f"Utilisation, top {top}")
    figure.tight_layout()
    return figure


def _both_figure(intervals: dict[str, pd.DataFrame]) -> Figure:
    figure, axes = plt.subplots(figsize=(10, 3.6))
    for name, frame in intervals.items():
        _band(axes, frame[frame["kpi"] == "within_share"], name)
    axes.set(title="Treated within deadline", ylabel="share of treated", ylim=(0, 1.02))
    axes.legend(frameon=False)
    _week_ticks(axes)
    figure.tight_layout()
    return figure


def _week_ticks(axes: Axes) -> None:
    """Fewer, rotated week labels: a 52-week horizon has too many to print each."""
    labels = axes.get_xticks()
    step = max(1, len(labels) // 13)
    axes.set_xticks(labels[::step])
    axes.tick_params(axis="x", labelrotation=45)
