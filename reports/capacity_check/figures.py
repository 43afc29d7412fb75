"""The capacity check's figures, as inline PNG data URIs: the utilisation heatmap, the weekly
balance over the year (holiday weeks shaded), and bar charts of single points of failure and of
where one more slot a week avoids the most breaches over the year. Labels in Danish or English.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.holidays import holidays_in_week
from capacity.vocabulary import COLLABORATIONS, REGIONS
from reports.capacity_check.analysis import CapacityCheck
from reports.capacity_check.balance import ALL
from reports.capacity_check.text import label, region_label, words
from reports.render.figures import bar_figure, plt, png_data_uri

#: Bar colours by provider type: Danish public, private, foreign.
PROVIDER_COLOURS = {"public": "#3d6fa8", "private": "#e0a458", "foreign": "#8c8c8c"}


def utilisation_figure(check: CapacityCheck, lang: str = "da") -> str:
    """Heatmap of utilisation (demand / declared capacity) per collaboration and region."""
    t = words(lang)
    table = check.balance.by_collaboration()
    regions = [*REGIONS, ALL]
    grid = (
        table.pivot(index="collaboration", columns="region", values="utilisation")
        .reindex(index=list(COLLABORATIONS), columns=regions)
        .to_numpy(dtype=float)
    )
    figure, axes = plt.subplots(figsize=(8, 3.8))
    shown = np.ma.masked_invalid(grid)
    image = axes.imshow(shown, cmap="RdYlGn_r", vmin=0.5, vmax=1.5, aspect="auto")
    axes.set_xticks(
        range(len(regions)), [region_label(r, lang) for r in regions], rotation=20, ha="right"
    )
    axes.set_yticks(range(len(COLLABORATIONS)), [label(c, lang) for c in COLLABORATIONS])
    for (i, j), value in np.ndenumerate(grid):
        axes.text(
            j,
            i,
            t["no_slots"] if np.isnan(value) else f"{100 * value:.0f} %",
            ha="center",
            va="center",
            fontsize=8,
        )
    figure.colorbar(image, ax=axes, label=t["utilisation_scale"])
    axes.set_title(t["utilisation_title"])
    return png_data_uri(figure)


def weekly_figure(check: CapacityCheck, lang: str = "da") -> str:
    """Weekly national demand against declared capacity, one panel per collaboration; weeks
    with public holidays shaded, ISO week numbers on the axis."""
    t = words(lang)
    weekly = check.balance.weekly.groupby(["week", "collaboration"], as_index=False)[
        ["demand", "capacity"]
    ].sum()
    weeks = sorted(weekly["week"].unique())
    holiday = [i for i, w in enumerate(weeks) if holidays_in_week(str(w))]
    numbers = [int(str(w)[-2:]) for w in weeks]
    figure, grid = plt.subplots(2, 3, figsize=(11, 5), sharex=True)
    for axes, collaboration in zip(grid.ravel(), COLLABORATIONS, strict=True):
        part = weekly[weekly["collaboration"] == collaboration].set_index("week").reindex(weeks)
        x = np.arange(len(weeks))
        for i in holiday:
            axes.axvspan(i - 0.5, i + 0.5, color="#d9d9d9", lw=0, zorder=0)
        axes.plot(x, part["capacity"], label=t["weekly_capacity"], color="#1f77b4")
        axes.plot(x, part["demand"], label=t["weekly_demand"], color="#d62728")
        axes.set_title(label(collaboration, lang), fontsize=10)
        axes.set_ylim(bottom=0)
        axes.tick_params(labelsize=8)
        step = max(1, len(weeks) // 8)
        axes.set_xticks(x[::step], [str(n) for n in numbers[::step]])
    grid[0, 0].legend(fontsize=8)
    for axes in grid[1]:
        axes.set_xlabel(t["weekly_axis"], fontsize=8)
    figure.suptitle(t["weekly_title"])
    figure.tight_layout()
    return png_data_uri(figure)


def spof_figure(spof: pd.DataFrame, lang: str = "da") -> str | None:
    """Bars of the compliant flow each department's removal loses (None without any)."""
    if not len(spof):
        return None
    t = words(lang)
    return bar_figure(
        list(spof["department_id"]), list(spof["loss"]), t["spof_title"], t["spof_unit"]
    )


def extra_slot_figure(extra: pd.DataFrame, lang: str = "da") -> str | None:
    """Bars of the breaches one more slot a week avoids over the year per department and
    service, coloured by provider type, with the weeks the whole country is short as a dot
    (None without any)."""
    if not len(extra):
        return None
    t = words(lang)
    labels = [
        f"{r.department_id} {label(str(r.collaboration), lang)}, {label(str(r.procedure), lang)}"
        for r in extra.itertuples()
    ]
    figure, axes = plt.subplots(figsize=(9, 0.32 * max(len(labels), 3) + 1.4))
    y = np.arange(len(labels))[::-1]
    colours = [PROVIDER_COLOURS.get(str(p), "#3d6fa8") for p in extra["provider_type"]]
    axes.barh(y, extra["breaches_year"], color=colours)
    axes.plot(extra["national_weeks"], y, "o", color="#1a1a1a", ms=4, label=t["extra_regional"])
    axes.set_yticks(y, labels, fontsize=8)
    axes.set_xlabel(t["extra_unit"])
    axes.set_title(t["extra_title"])
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=colour, label=t[kind])
        for kind, colour in PROVIDER_COLOURS.items()
        if kind in set(extra["provider_type"].astype(str))
    ]
    axes.legend(
        handles=[*handles, *axes.get_legend_handles_labels()[0]],
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncol=4,
        frameon=False,
    )
    figure.tight_layout()
    return png_data_uri(figure)


__all__ = ["bar_figure", "extra_slot_figure", "spof_figure", "utilisation_figure", "weekly_figure"]
