"""A scenario run as one self-contained, printable HTML page a board can read.

Danish by default (``lang="en"`` for English). From the top: the answer (with a base run: how
many more patients start within the deadline, with a 95 % interval, nationally and at the
affected collaboration and procedure), what the scenario actually sets and how it differs from
the base, where (per collaboration and procedure with the affected first, per home region and
per department of the affected service), then week by week with the weeks of the scenario's
changes shaded, every KPI in words, days late and utilisation. Shares are per cent. Figures are
embedded as base64 PNG, so the file can be mailed or archived without anything beside it.
Runs that share seeds are compared replication by replication (paired intervals,
:mod:`scenarios.compare`).
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # files only: never open a window, also without a display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scenarios.compare import (
    compare_pair,
    compare_runs,
    difference,
    shares_seeds,
)
from scenarios.kpis import KPIS, REASONS, SHARES, per_group
from scenarios.text import (
    interval,
    kpi_label,
    number,
    percent,
    range_text,
    service_label,
    settings,
    words,
)

if TYPE_CHECKING:
    from scenarios.runner import ScenarioRun
    from scenarios.schema import Scenario

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 74rem; margin: 1.5rem auto; padding: 0 1rem;
       color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .4rem; } h2 { font-size: 1.25rem; margin-top: 1.8rem; }
.answer { border: 2px solid #3d6fa8; border-radius: .4rem; padding: .6rem 1.2rem 1rem;
          background: #f3f7fc; }
.answer h2 { margin-top: .4rem; }
.lead { font-size: 1.35rem; font-weight: 650; margin: .4rem 0; }
.lead .where { color: #3d6fa8; }
.answer ul { margin: .3rem 0; padding-left: 1.2rem; }
.columns { display: flex; flex-wrap: wrap; gap: 0 2rem; }
.columns > section { flex: 0 1 auto; min-width: 0; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .8rem 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { border: 1px solid #bbb; padding: .25rem .6rem; text-align: right; }
td { white-space: nowrap; }
th[scope=row], thead th:first-child { text-align: left; }
thead th { background: #eef1f5; }
tr.affected th, tr.affected td { background: #fff4d6; }
.tag { font-size: .8rem; font-weight: 600; color: #7a5a00; margin-left: .3rem; }
.better { color: #1d6b34; } .worse { color: #a3262e; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: .9rem; color: #444; }
.meta { color: #444; font-size: .9rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  figure, table, .answer { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""
#: Services shown besides the affected ones (the most changed first); the rest fold away.
SHOWN_SERVICES = 8
#: Grey band for the weeks of a scenario's changes.
SHADE = "#d9d9d9"


def page(title: str, body: str, lang: str = "da") -> str:
    """A complete HTML document with the report's inline style and no external assets."""
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{html.escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


# ---- what the scenario touches ---------------------------------------------------------------


@dataclass
class Affected:
    """What the scenarios' changes name: services (collaboration, procedure), departments, the
    simulated weeks of changes, and home regions."""

    services: list[tuple[str, str]] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)
    weeks: list[tuple[int, int]] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)


def affected(scenarios: list[Scenario], known: list[tuple[str, str]]) -> Affected:
    """The services, departments, weeks and regions the scenarios' changes name.

    A change naming a collaboration without a procedure affects each of ``known`` (the
    services in the runs) of that collaboration; a change that runs throughout shades nothing.
    """
    from scenarios.schema import Close, Foreign

    out = Affected()

    def add_service(collaboration: str | None, procedure: str | None) -> None:
        if collaboration is None:
            return
        for service in known or [(collaboration, procedure or "")]:
            wanted = service[0] == collaboration and procedure in (None, service[1])
            if wanted and service not in out.services:
                out.services.append(service)

    def add_weeks(weeks: list[int] | None, horizon: int) -> None:
        if weeks is None or weeks[0] > horizon:
            return
        span = (weeks[0], min(weeks[1], horizon))
        if span not in out.weeks:
            out.weeks.append(span)

    for scenario in scenarios:
        horizon = scenario.horizon_weeks
        for change in scenario.capacity.changes:
            add_weeks(change.weeks, horizon)
            if isinstance(change, Foreign):
                continue
            if change.department not in out.departments:
                out.departments.append(change.department)
            if isinstance(change, Close) and change.collaboration is None:
                continue
            add_service(change.collaboration, change.procedure)
        for surge in scenario.demand.surges:
            add_weeks(surge.weeks, horizon)
            add_service(surge.collaboration, surge.procedure)
            if surge.region and surge.region not in out.regions:
                out.regions.append(surge.region)
        for rate in scenario.demand.rates:
            add_service(rate.collaboration, rate.procedure)
            if rate.region and rate.region not in out.regions:
                out.regions.append(rate.region)
    return out


def differing_settings(base: Scenario, run: Scenario, lang: str) -> tuple[list[str], list[str]]:
    """The settings lines only the base has, and those only the run has."""
    ours, theirs = settings(base, lang), settings(run, lang)
    return [line for line in ours if line not in theirs], [
        line for line in theirs if line not in ours
    ]


# ---- the report ------------------------------------------------------------------------------


def scenario_report(
    run: ScenarioRun, base: ScenarioRun | None = None, top: int = 15, lang: str = "da"
) -> str:
    """The run's report as an HTML document; with ``base``, compared with the base run."""
    t = words(lang)
    scenario = run.scenario
    runs = [run] if base is None else [base, run]
    known = _services(runs)
    touched = affected([r.scenario for r in runs], known)
    if not touched.services and base is not None:
        touched.services = _most_changed(base, run, known)[:1]
    sections = [
        _answer(run, base, touched, lang),
        _settings_section(run, base, lang),
        _where(run, base, touched, known, lang),
    ]
    sections.append(f"<h2>{t['time_title']}</h2>")
    sections.append(
        _figure(
            _weekly_figure(
                run, base, touched.weeks, lang, touched.services[0] if touched.services else None
            ),
            t["both_caption"] if base is not None else t["time_caption"],
            t["both_alt"] if base is not None else t["time_alt"],
        )
    )
    sections.append(f"<h2>{t['kpi_title']}</h2>")
    sections.append(_kpi_table(run, base, lang))
    sections.append(f"<h2>{t['late_title']}</h2>")
    sections.append(
        _figure(_days_late_figure(run, lang), t["late_caption"], t["late_alt"], height=True)
    )
    sections.append(f"<h2>{t['use_title']}</h2>")
    sections.append(
        _figure(
            _utilisation_figure(run, top, touched.departments, lang),
            t["use_caption"].format(top=top),
            t["use_alt"],
        )
    )
    sections.append(_about(run, base, lang))
    return page(t["title"].format(name=scenario.name), "\n".join(sections), lang)


def write_report(
    run: ScenarioRun, path: str | Path, base: ScenarioRun | None = None, lang: str = "da"
) -> Path:
    """Write :func:`scenario_report` to ``path`` and return it."""
    path = Path(path)
    path.write_text(scenario_report(run, base, lang=lang), encoding="utf-8")
    return path


def _services(runs: list[ScenarioRun]) -> list[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for r in runs:
        found |= {
            (str(c), str(p))
            for c, p in r.departments[["collaboration", "procedure"]].drop_duplicates().to_numpy()
        }
    return sorted(found)


def _replications(run: ScenarioRun) -> list[int]:
    return sorted(int(r) for r in run.weekly["replication"].unique())


@dataclass(frozen=True)
class _Change:
    """One group's count in the base and the run and the difference with its interval."""

    base: float
    run: float
    difference: float
    low: float
    high: float


def _group_change(
    run: ScenarioRun,
    base: ScenarioRun,
    keys: list[str],
    column: str,
    filters: dict[str, str] | None = None,
) -> dict[tuple[str, ...], _Change]:
    """Per group of ``keys``: ``column`` (a :data:`GROUP_COUNTS` count) in both runs, paired
    where they share seeds."""
    paired = shares_seeds(base, run)
    reps_base, reps_run = _replications(base), _replications(run)
    if paired:
        reps_base = reps_run = sorted(set(reps_base) & set(reps_run))
    frames = []
    for r, reps in ((base, reps_base), (run, reps_run)):
        patients = r.patients[r.patients["replication"].isin(reps)]
        for key, wanted in (filters or {}).items():
            patients = patients[patients[key] == wanted]
        frames.append(per_group(patients, keys, reps))
    groups = sorted(
        {tuple(str(v) for v in g[:-1]) for f in frames for g in f.index}  # type: ignore[union-attr]
    )
    out = {}
    for group in groups:
        values = []
        for frame, reps in zip(frames, (reps_base, reps_run), strict=True):
            index = pd.MultiIndex.from_tuples([(*group, r) for r in reps])
            series = frame[column] if len(frame) else pd.Series(dtype=float)
            values.append(series.reindex(index, fill_value=0.0).to_numpy(np.float64))
        mean, low, high = difference(values[0], values[1], paired)
        out[group] = _Change(float(values[0].mean()), float(values[1].mean()), mean, low, high)
    return out


def _most_changed(
    base: ScenarioRun, run: ScenarioRun, known: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    change = _group_change(run, base, ["collaboration", "procedure"], "within")
    ranked = sorted(change, key=lambda g: -abs(change[g].difference))
    return [(g[0], g[1]) for g in ranked if (g[0], g[1]) in known]


def _certainty(kpi: str, change: Any, lang: str) -> str:
    t = words(lang)
    _, low, high = (
        (change.difference, change.low, change.high)
        if isinstance(change, _Change)
        else (change["difference"], change["difference_low"], change["difference_high"])
    )
    if np.isnan(low) or np.isnan(high):
        return t["no_interval"]
    key = "certain" if (low > 0 or high < 0) else "uncertain"
    return t[key].format(interval=range_text(kpi, low, high, lang))


def _lead(difference_: float, lang: str) -> str:
    t = words(lang)
    if np.isnan(difference_) or round(difference_, 1) == 0:
        return t["headline_same"]
    key = "headline_more" if difference_ > 0 else "headline_fewer"
    return t[key].format(count=number(abs(difference_), lang))


def _answer(run: ScenarioRun, base: ScenarioRun | None, touched: Affected, lang: str) -> str:
    """The answer box: with a base, how many more patients start in time, how certain, where."""
    t = words(lang)
    weeks = run.scenario.horizon_weeks
    items = []
    if base is None:
        summary = run.summary.set_index("kpi")
        per = _own_groups(run, ["collaboration", "procedure"])
        for service in touched.services:
            row = per.get(service)
            if row is not None:
                items.append(
                    t["run_headline"].format(
                        where=service_label(service[0], service[1], lang),
                        within=number(row["within"], lang),
                        share=percent(row["within"] / row["treated"], lang)
                        if row["treated"]
                        else "–",
                        capacity=number(row["exceeded_capacity"], lang),
                    )
                )
        items.append(
            t["run_headline"].format(
                where=t["national"],
                within=number(summary.at["treated_within", "mean"], lang),
                share=percent(summary.at["within_share", "mean"], lang),
                capacity=number(summary.at["exceeded_capacity", "mean"], lang),
            )
        )
        lead = html.escape(items[0])
        rest = "".join(f"<li>{html.escape(i)}</li>" for i in items[1:])
        return (
            f'<section class="answer" aria-labelledby="answer"><h2 id="answer">{t["headline"]}'
            f' <span class="meta">({html.escape(t["over_horizon"].format(weeks=weeks))})</span>'
            f'</h2><p class="lead">{lead}</p><ul>{rest}</ul></section>'
        )
    pair = compare_pair(base, run).set_index("kpi")
    only_base, only_run = differing_settings(base.scenario, run.scenario, lang)
    change = _group_change(run, base, ["collaboration", "procedure"], "within")
    capacity = _group_change(run, base, ["collaboration", "procedure"], "exceeded_capacity")
    blocks = []
    for service in touched.services:
        if service not in change:
            continue
        c = change[service]
        blocks.append(
            (
                service_label(service[0], service[1], lang),
                _lead(c.difference, lang),
                _certainty("treated_within", c, lang),
                t["share_line"].format(
                    base=_share(base, service, lang), run=_share(run, service, lang)
                ),
                t["capacity_line"].format(
                    difference=interval(
                        "exceeded_capacity",
                        capacity[service].difference,
                        capacity[service].low,
                        capacity[service].high,
                        lang,
                        signed=True,
                    )
                ),
            )
        )
    if blocks and touched.departments:
        service = touched.services[0]
        filters = {"collaboration": service[0], "procedure": service[1]}
        at = _group_change(run, base, ["department_id"], "treated", filters)
        lines = []
        for department in touched.departments:
            if (department,) not in at:
                continue
            c = at[(department,)]
            lines.append(
                t["department_line"].format(
                    department=department,
                    difference=number(c.difference, lang, signed=True),
                    base=number(c.base, lang),
                    run=number(c.run, lang),
                    certainty=_certainty("treated", c, lang),
                )
            )
        if lines:
            where, lead, certainty, share, capacity_line = blocks[0]
            blocks[0] = (where, lead, certainty, share, capacity_line + "\n" + "\n".join(lines))
    national: Any = pair.loc["treated_within"]
    blocks.append(
        (
            t["national"],
            _lead(float(national["difference"]), lang),
            _certainty("treated_within", national, lang),
            t["share_line"].format(
                base=percent(pair.at["within_share", "base_mean"], lang),
                run=percent(pair.at["within_share", "run_mean"], lang),
            ),
            t["capacity_line"].format(
                difference=interval(
                    "exceeded_capacity",
                    pair.at["exceeded_capacity", "difference"],
                    pair.at["exceeded_capacity", "difference_low"],
                    pair.at["exceeded_capacity", "difference_high"],
                    lang,
                    signed=True,
                )
            ),
        )
    )
    first, *others = blocks
    differs = "".join(
        f"<li>{html.escape(t['base'])}: {html.escape(line)}</li>" for line in only_base
    ) + "".join(f"<li>{html.escape(t['run'])}: {html.escape(line)}</li>" for line in only_run)
    parts = [
        f'<section class="answer" aria-labelledby="answer"><h2 id="answer">{t["headline"]} '
        f'<span class="meta">({html.escape(t["over_horizon"].format(weeks=weeks))})</span></h2>',
        f'<p class="lead"><span class="where">{html.escape(first[0])}:</span> '
        f"{html.escape(first[1])}</p>",
        f"<ul><li>{html.escape(first[2])}</li><li>{html.escape(first[3])}</li>"
        + "".join(f"<li>{html.escape(line)}</li>" for line in first[4].split("\n"))
        + "</ul>",
    ]
    for where, lead, certainty, share, capacity_line in others:
        parts.append(
            f"<p><strong>{html.escape(where)}:</strong> {html.escape(lead)}. "
            f"{html.escape(certainty)}. {html.escape(share)}. {html.escape(capacity_line)}.</p>"
        )
    parts.append(
        f"<p><strong>{html.escape(t['differs'].format(base=base.name))}:</strong></p>"
        f"<ul>{differs or '<li>' + html.escape(t['same_settings']) + '</li>'}</ul>"
    )
    parts.append(
        f'<p class="meta">{html.escape(t["paired" if pair["paired"].iloc[0] else "welch"])}</p>'
    )
    parts.append("</section>")
    return "".join(parts)


def _own_groups(run: ScenarioRun, keys: list[str]) -> dict[tuple[str, ...], pd.Series]:
    per = per_group(run.patients, keys, _replications(run))
    if not len(per):
        return {}
    means = per.groupby(level=list(range(len(keys)))).mean()
    return {
        tuple(str(v) for v in (k if isinstance(k, tuple) else (k,))): row
        for k, row in means.iterrows()
    }


def _share(run: ScenarioRun, service: tuple[str, str], lang: str) -> str:
    row = _own_groups(run, ["collaboration", "procedure"]).get(service)
    if row is None or not row["treated"]:
        return "–"
    return percent(row["within"] / row["treated"], lang)


def _settings_section(run: ScenarioRun, base: ScenarioRun | None, lang: str) -> str:
    t = words(lang)
    lines = "".join(f"<li>{html.escape(line)}</li>" for line in settings(run.scenario, lang))
    return f"<h2>{t['settings']}</h2><ul>{lines}</ul>"


def _row_class(is_affected: bool) -> str:
    return ' class="affected"' if is_affected else ""


def _tag(is_affected: bool, lang: str) -> str:
    return f' <span class="tag">{words(lang)["affected"]}</span>' if is_affected else ""


def _where(
    run: ScenarioRun,
    base: ScenarioRun | None,
    touched: Affected,
    known: list[tuple[str, str]],
    lang: str,
) -> str:
    """Per service (affected first), per home region and per department of the affected."""
    t = words(lang)
    weeks = run.scenario.horizon_weeks
    out = [f"<h2>{t['where_title']}</h2>"]
    if base is None:
        own = _own_groups(run, ["collaboration", "procedure"])
        order = touched.services + sorted(
            (s for s in own if s not in touched.services),
            key=lambda s: -float(own[s]["exceeded_capacity"]),
        )
        head = [t["service"], t["started"], kpi_label("treated_within", lang), "%"]
        head.append(kpi_label("exceeded_capacity", lang))
        rows = []
        for service in order:
            row = own.get(service)
            if row is None:
                continue
            mark = service in touched.services
            share = percent(row["within"] / row["treated"], lang) if row["treated"] else "–"
            rows.append(
                f"<tr{_row_class(mark)}><th scope='row'>"
                f"{html.escape(service_label(service[0], service[1], lang))}{_tag(mark, lang)}</th>"
                f"<td>{number(row['treated'], lang)}</td><td>{number(row['within'], lang)}</td>"
                f"<td>{share}</td><td>{number(row['exceeded_capacity'], lang)}</td></tr>"
            )
        shown = len(touched.services) + SHOWN_SERVICES
        out.append(_table(t["where_caption"].format(weeks=weeks), head, rows[:shown]))
        if len(rows) > shown:
            out.append(
                f"<details><summary>{html.escape(t['more'].format(count=len(rows) - shown))}"
                f"</summary>{_table(t['where_caption'].format(weeks=weeks), head, rows[shown:])}"
                "</details>"
            )
        return "".join(out)
    change = _group_change(run, base, ["collaboration", "procedure"], "within")
    capacity = _group_change(run, base, ["collaboration", "procedure"], "exceeded_capacity")
    order = [s for s in touched.services if s in change] + sorted(
        (s for s in change if s not in touched.services), key=lambda s: -abs(change[s].difference)
    )
    head = [
        t["service"],
        f"{t['base']}: {kpi_label('treated_within', lang).lower()}",
        f"{t['run']}",
        t["difference"],
        f"{kpi_label('exceeded_capacity', lang)}: {t['difference'].lower()}",
    ]
    rows = []
    for service in order:
        c, k = change[service], capacity[service]
        mark = service in touched.services
        rows.append(
            f"<tr{_row_class(mark)}><th scope='row'>"
            f"{html.escape(service_label(service[0], service[1], lang))}{_tag(mark, lang)}</th>"
            f"<td>{number(c.base, lang)}</td><td>{number(c.run, lang)}</td>"
            f"{_difference_cell(c, lang)}{_difference_cell(k, lang, more_is_better=False)}</tr>"
        )
    shown = max(len([s for s in order if s in touched.services]), 0) + SHOWN_SERVICES
    out.append(_table(t["where_caption"].format(weeks=weeks), head, rows[:shown]))
    if len(rows) > shown:
        out.append(
            f"<details><summary>{html.escape(t['more'].format(count=len(rows) - shown))}"
            f"</summary>{_table(t['where_caption'].format(weeks=weeks), head, rows[shown:])}"
            "</details>"
        )
    if touched.services:
        blocks = []
        for service in touched.services[:2]:
            blocks.append(_regions_table(run, base, service, touched.regions, lang))
            blocks.append(_departments_table(run, base, service, touched.departments, lang))
        out.append(f'<div class="columns">{"".join(blocks)}</div>')
    return "".join(out)


def _difference_cell(change: _Change, lang: str, more_is_better: bool = True) -> str:
    text = interval("treated_within", change.difference, change.low, change.high, lang, signed=True)
    certain = not (np.isnan(change.low) or np.isnan(change.high)) and (
        change.low > 0 or change.high < 0 or (change.low == change.high != 0)
    )
    css = ""
    if certain:
        good = (change.difference > 0) == more_is_better
        css = ' class="better"' if good else ' class="worse"'
    return f"<td{css}>{html.escape(text)}</td>"


def _regions_table(
    run: ScenarioRun, base: ScenarioRun, service: tuple[str, str], regions: list[str], lang: str
) -> str:
    t = words(lang)
    filters = {"collaboration": service[0], "procedure": service[1]}
    change = _group_change(run, base, ["home_region"], "within", filters)
    head = [t["region"], t["base"], t["run"], t["difference"]]
    rows = []
    for (region,), c in sorted(change.items(), key=lambda item: item[1].difference):
        mark = region in regions
        rows.append(
            f"<tr{_row_class(mark)}><th scope='row'>{html.escape(region)}{_tag(mark, lang)}</th>"
            f"<td>{number(c.base, lang)}</td><td>{number(c.run, lang)}</td>"
            f"{_difference_cell(c, lang)}</tr>"
        )
    caption = t["regions_caption"].format(service=service_label(service[0], service[1], lang))
    return f"<section><h3>{t['regions_title']}</h3>{_table(caption, head, rows)}</section>"


def _departments_table(
    run: ScenarioRun,
    base: ScenarioRun,
    service: tuple[str, str],
    departments: list[str],
    lang: str,
) -> str:
    t = words(lang)
    filters = {"collaboration": service[0], "procedure": service[1]}
    change = _group_change(run, base, ["department_id"], "treated", filters)
    use = _use(run, service)
    head = [t["department"], t["base"], t["run"], t["difference"], t["utilisation"]]
    rows = []
    for (department,), c in sorted(change.items(), key=lambda item: item[1].difference):
        mark = department in departments
        rows.append(
            f"<tr{_row_class(mark)}><th scope='row' "
            f"title='{html.escape(_department_name(department))}'>"
            f"{html.escape(department)}"
            f"{_tag(mark, lang)}</th><td>{number(c.base, lang)}</td><td>{number(c.run, lang)}"
            f"</td>{_difference_cell(c, lang)}<td>{percent(use.get(department, np.nan), lang)}"
            "</td></tr>"
        )
    caption = t["departments_caption"].format(service=service_label(service[0], service[1], lang))
    return f"<section><h3>{t['departments_title']}</h3>{_table(caption, head, rows)}</section>"


def _use(run: ScenarioRun, service: tuple[str, str]) -> dict[str, float]:
    d = run.departments
    d = d[(d["collaboration"] == service[0]) & (d["procedure"] == service[1])]
    totals = d.groupby("department_id")[["slots", "used"]].sum()
    return {
        str(k): float(r["used"] / r["slots"]) if r["slots"] else np.nan
        for k, r in totals.iterrows()
    }


def _department_name(department: str) -> str:
    """``AUH-KIR (Aarhus Universitetshospital)`` where the reference data knows it."""
    names = _hospital_names()
    hospital = names.get(department)
    return f"{department} ({hospital})" if hospital else department


_HOSPITALS: dict[str, str] = {}


def _hospital_names() -> dict[str, str]:
    if not _HOSPITALS:
        try:
            from capacity.reference import departments

            table = departments()
            _HOSPITALS.update(
                dict(
                    zip(
                        table["department_id"].astype(str),
                        table["hospital"].astype(str),
                        strict=True,
                    )
                )
            )
        except Exception:  # names are a courtesy; the ids stand on their own
            _HOSPITALS["-"] = ""
    return _HOSPITALS


def _table(caption: str, head: list[str], rows: list[str]) -> str:
    heading = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in head)
    return (
        f'<div class="scroll"><table><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{heading}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _kpi_table(run: ScenarioRun, base: ScenarioRun | None, lang: str) -> str:
    t = words(lang)
    if base is None:
        summary = run.summary.set_index("kpi")
        rows = [
            f"<tr><th scope='row'>{html.escape(kpi_label(kpi, lang))}</th><td>"
            + html.escape(
                interval(
                    kpi,
                    summary.at[kpi, "mean"],
                    summary.at[kpi, "ci_low"],
                    summary.at[kpi, "ci_high"],
                    lang,
                )
            )
            + "</td></tr>"
            for kpi in KPIS
        ]
        return _table(t["kpi_caption"], [t["kpi"], t["mean_ci"]], rows)
    pair = compare_pair(base, run).set_index("kpi")
    rows = []
    for kpi in KPIS:
        r: Any = pair.loc[kpi]
        change = _Change(
            float(r["base_mean"]),
            float(r["run_mean"]),
            float(r["difference"]),
            float(r["difference_low"]),
            float(r["difference_high"]),
        )
        text = interval(kpi, change.difference, change.low, change.high, lang, signed=True)
        rows.append(
            f"<tr><th scope='row'>{html.escape(kpi_label(kpi, lang))}</th>"
            f"<td>{html.escape(_plain(kpi, change.base, lang))}</td>"
            f"<td>{html.escape(_plain(kpi, change.run, lang))}</td>"
            f"<td>{html.escape(text)}</td></tr>"
        )
    caption = t["compare_caption"].format(run=run.name, base=base.name)
    return _table(caption, [t["kpi"], t["base"], t["run"], t["difference"]], rows)


def _plain(kpi: str, amount: float, lang: str) -> str:
    return percent(amount, lang) if kpi in SHARES else number(amount, lang)


def _about(run: ScenarioRun, base: ScenarioRun | None, lang: str) -> str:
    t = words(lang)
    meta = run.metadata
    text = t["meta"].format(
        replications=run.replications, weeks=run.scenario.horizon_weeks, seed=run.scenario.seed
    )
    if "started_at" in meta:
        text += "; " + t["ran"].format(
            at=meta["started_at"],
            seconds=number(float(meta.get("seconds", 0.0)), lang, digits=1),
            executor=meta.get("executor", ""),
        )
    other = (
        f" {t['base']}: {base.name}, {base.replications} × {base.scenario.horizon_weeks}, "
        f"{base.scenario.seed}."
        if base is not None
        else ""
    )
    description = str(run.scenario.description or "").strip()
    note = (
        f'<p class="meta">{html.escape(t["description"])}: {html.escape(description)}</p>'
        if description
        else ""
    )
    return f'<h2>{t["about"]}</h2><p class="meta">{html.escape(text + "." + other)}</p>{note}'


# ---- figures ---------------------------------------------------------------------------------


def _figure(figure: Figure, caption: str, alt: str, height: bool = False) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _shade(axes: Axes, weeks: list[tuple[int, int]]) -> None:
    for first, last in weeks:
        axes.axvspan(first - 0.5, last + 0.5, color=SHADE, alpha=0.6, zorder=0, lw=0)


def _band(axes: Axes, frame: pd.DataFrame, label: str, scale: float = 1.0) -> None:
    """One KPI over weeks: the mean as a line, its 95 % interval as a shaded band."""
    frame = frame.sort_values("week")
    (line,) = axes.plot(frame["week"], scale * frame["mean"], marker="o", ms=3, label=label)
    axes.fill_between(
        frame["week"],
        scale * frame["ci_low"],
        scale * frame["ci_high"],
        color=line.get_color(),
        alpha=0.2,
    )


def _week_axis(axes: Axes, weekly: pd.DataFrame, lang: str) -> None:
    labels = weekly.drop_duplicates("week").sort_values("week")
    step = max(1, -(-len(labels) // 9))
    shown = labels.iloc[::step]
    axes.set_xticks(shown["week"].to_numpy())
    axes.set_xticklabels(
        [f"{w}\n{str(lbl)[-3:]}" for w, lbl in zip(shown["week"], shown["week_label"], strict=True)]
    )
    axes.set_xlabel(words(lang)["week_axis"])


def service_weekly(run: ScenarioRun, service: tuple[str, str]) -> pd.DataFrame:
    """Patients of one service started within the deadline per simulated week: mean over
    replications with its 95 % t interval (bounds kept to [0, inf)); ``week, mean, ci_low,
    ci_high``."""
    from scenarios.kpis import _half_width

    patients = run.patients
    chosen = patients[
        (patients["collaboration"] == service[0])
        & (patients["procedure"] == service[1])
        & (patients["exceed_reason"] == "within")
    ]
    weeks = range(1, run.scenario.horizon_weeks + 1)
    index = pd.MultiIndex.from_product([_replications(run), weeks], names=["replication", "week"])
    sizes = (
        chosen.groupby(["replication", "treated_week"]).size().rename_axis(["replication", "week"])
    )
    counts = sizes.reindex(index, fill_value=0).astype(np.float64)
    grouped = counts.groupby(level="week")
    mean = grouped.mean()
    half = _half_width(grouped.std(ddof=1), grouped.count()).fillna(0.0)
    return pd.DataFrame(
        {
            "week": mean.index.to_numpy(),
            "mean": mean.to_numpy(),
            "ci_low": (mean - half).clip(lower=0).to_numpy(),
            "ci_high": (mean + half).to_numpy(),
        }
    )


def _weekly_figure(
    run: ScenarioRun,
    base: ScenarioRun | None,
    weeks: list[tuple[int, int]],
    lang: str,
    service: tuple[str, str] | None = None,
) -> Figure:
    """Week by week: the affected service's patients started in time (where there is one),
    the national within-deadline share, and without an affected service the capacity
    exceedances; both runs with 95 % bands, the weeks of changes shaded."""
    from scenarios.kpis import weekly_intervals

    t = words(lang)
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8))
    runs = [(t["run"], run)] if base is None else [(t["base"], base), (t["run"], run)]
    intervals = [(name, weekly_intervals(r.weekly)) for name, r in runs]
    if service is not None:
        for name, r in runs:
            _band(left, service_weekly(r, service), name)
        left.set(
            title=f"{service_label(service[0], service[1], lang)}: "
            f"{kpi_label('treated_within', lang).lower()}",
            ylabel=t["patients_week"],
        )
        left.set_ylim(bottom=0)
        share_axes = right
    else:
        share_axes = left
        ours = intervals[-1][1]
        for kpi in ("exceeded_capacity", "exceeded_health", "exceeded_wish"):
            _band(right, ours[ours["kpi"] == kpi], kpi_label(kpi, lang).split(": ")[-1])
        right.set(title=t["exceeded_axis"], ylabel=t["patients_week"])
        right.set_ylim(bottom=0)
    lowest = 100.0
    for name, frame in intervals:
        share = frame[frame["kpi"] == "within_share"]
        _band(share_axes, share, name, scale=100)
        if share["ci_low"].notna().any():
            lowest = min(lowest, 100 * float(share["ci_low"].min()))
        elif share["mean"].notna().any():
            lowest = min(lowest, 100 * float(share["mean"].min()))
    share_axes.set(
        title=f"{t['national']}: {kpi_label('within_share', lang).lower()}",
        ylabel="%",
        ylim=(max(0.0, 10 * np.floor(lowest / 10) - 10), 101),
    )
    for axes in (left, right):
        _shade(axes, weeks)
        _week_axis(axes, run.weekly, lang)
        axes.legend(frameon=False, fontsize=9)
    figure.tight_layout()
    return figure


def _days_late_figure(run: ScenarioRun, lang: str) -> Figure:
    from scenarios.kpis import days_late_distribution

    t = words(lang)
    distribution = days_late_distribution(run.patients)
    figure, axes = plt.subplots(figsize=(12, 3.0))
    if len(distribution):
        bottom = np.zeros(len(distribution))
        for reason, color in zip(REASONS, ("#b5485d", "#e0a458", "#6c8ebf"), strict=True):
            axes.bar(
                distribution["days_late"],
                distribution[reason],
                bottom=bottom,
                color=color,
                label=kpi_label(f"exceeded_{reason}", lang).split(": ")[-1],
            )
            bottom += distribution[reason].to_numpy()
        axes.legend(frameon=False)
    else:
        axes.text(0.5, 0.5, t["no_late"], ha="center", transform=axes.transAxes)
    axes.set(xlabel=t["days_late"], ylabel=t["patients"])
    figure.tight_layout()
    return figure


def _utilisation_figure(run: ScenarioRun, top: int, departments: list[str], lang: str) -> Figure:
    from scenarios.kpis import utilisation

    t = words(lang)
    table = utilisation(run.departments)
    busiest = table.nlargest(top, "utilisation")
    extra = table[table["department_id"].isin(departments) & ~table.index.isin(busiest.index)]
    shown = pd.concat([busiest, extra]).iloc[::-1]
    figure, axes = plt.subplots(figsize=(12, 0.28 * len(shown) + 1.0))
    colors = [
        "#e0a458" if d in departments else "#3d6fa8" for d in shown["department_id"].astype(str)
    ]
    axes.barh(shown["department_id"].astype(str), 100 * shown["utilisation"], color=colors)
    axes.set(xlabel=t["used_share"] + " (%)", xlim=(0, 105))
    figure.tight_layout()
    return figure


def comparison_html(table: pd.DataFrame, caption: str, lang: str = "da") -> str:
    """A :func:`scenarios.compare.compare_runs` table as HTML: KPIs in words, runs in columns."""
    t = words(lang)
    runs = list(dict.fromkeys(table["run"]))
    head = [t["kpi"]]
    for i, name in enumerate(runs):
        head.append(f"{name}: {t['mean_ci'].lower()}")
        if i:
            head.append(f"{name} − {runs[0]}: {t['difference'].lower()}")
    cells = table.set_index(["kpi", "run"])
    rows = []
    for kpi in dict.fromkeys(table["kpi"]):
        row = f"<tr><th scope='row'>{html.escape(kpi_label(str(kpi), lang))}</th>"
        for i, name in enumerate(runs):
            if (kpi, name) not in cells.index:
                row += "<td>–</td>" * (2 if i else 1)
                continue
            cell = cells.loc[(kpi, name)]
            row += (
                "<td>"
                + html.escape(interval(kpi, cell["mean"], cell["ci_low"], cell["ci_high"], lang))
                + "</td>"
            )
            if i:
                row += (
                    "<td>"
                    + html.escape(
                        interval(
                            kpi,
                            cell["difference"],
                            cell["difference_ci_low"],
                            cell["difference_ci_high"],
                            lang,
                            signed=True,
                        )
                    )
                    + "</td>"
                )
        rows.append(row + "</tr>")
    return _table(caption, head, rows)


def runs_table(runs: list[ScenarioRun], lang: str = "da") -> str:
    """:func:`comparison_html` of :func:`scenarios.compare.compare_runs`, after each run's
    settings as run and how they differ from the first run's."""
    t = words(lang)
    base, *others = runs
    parts = [
        f"<h2>{html.escape(t['settings'])}: {html.escape(base.name)} ({html.escape(t['base'])})"
        "</h2><ul>"
        + "".join(f"<li>{html.escape(line)}</li>" for line in settings(base.scenario, lang))
        + "</ul>"
    ]
    for run in others:
        only_base, only_run = differing_settings(base.scenario, run.scenario, lang)
        items = [f"{t['base']}: {line}" for line in only_base]
        items += [f"{run.name}: {line}" for line in only_run]
        parts.append(
            f"<h2>{html.escape(t['differs'].format(base=base.name))}: {html.escape(run.name)}"
            "</h2><ul>"
            + "".join(f"<li>{html.escape(item)}</li>" for item in items or [t["same_settings"]])
            + "</ul>"
        )
    return "".join(parts) + comparison_html(compare_runs(runs), t["kpi_caption"], lang)
