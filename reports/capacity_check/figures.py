"""The capacity check's figures, as inline PNG data URIs: the utilisation heatmap, the weekly
balance, and bar charts of single points of failure and of where one more slot helps most."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.vocabulary import COLLABORATIONS, DANISH_LABELS, REGIONS
from reports.capacity_check.analysis import CapacityCheck
from reports.capacity_check.balance import ALL
from reports.capacity_check.text import FIGURES, region_label
from reports.render.figures import bar_figure, plt, png_data_uri


def utilisation_figure(check: CapacityCheck) -> str:
    """Heatmap of utilisation (demand / declared capacity) per collaboration and region."""
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
        range(len(regions)), [region_label(r) for r in regions], rotation=20, ha="right"
    )
    axes.set_yticks(range(len(COLLABORATIONS)), [DANISH_LABELS.get(c, c) for c in COLLABORATIONS])
    for (i, j), value in np.ndenumerate(grid):
        axes.text(
            j,
            i,
            FIGURES["no_slots"] if np.isnan(value) else f"{100 * value:.0f} %",
            ha="center",
            va="center",
            fontsize=8,
        )
    figure.colorbar(image, ax=axes, label=FIGURES["utilisation_scale"])
    axes.set_title(FIGURES["utilisation_title"])
    return png_data_uri(figure)


def weekly_figure(check: CapacityCheck) -> str:
    """Weekly national demand against declared capacity, one panel per collaboration."""
    weekly = check.balance.weekly.groupby(["week", "collaboration"], as_index=False)[
        ["demand", "capacity"]
    ].sum()
    figure, grid = plt.subplots(2, 3, figsize=(10, 5), sharex=True)
    for axes, collaboration in zip(grid.ravel(), COLLABORATIONS, strict=True):
        part = weekly[weekly["collaboration"] == collaboration].sort_values("week")
        x = np.arange(len(part))
        axes.plot(x, part["capacity"], label=FIGURES["weekly_capacity"], color="#1f77b4")
        axes.plot(x, part["demand"], label=FIGURES["weekly_demand"], color="#d62728")
        axes.set_title(DANISH_LABELS.get(collaboration, collaboration), fontsize=10)
        axes.set_ylim(bottom=0)
        axes.tick_params(labelsize=8)
    grid[0, 0].legend(fontsize=8)
    for axes in grid[1]:
        axes.set_xlabel(FIGURES["weekly_axis"], fontsize=8)
    figure.suptitle(FIGURES["weekly_title"])
    figure.tight_layout()
    return png_data_uri(figure)


def spof_figure(spof: pd.DataFrame) -> str | None:
    """Bars of the compliant flow each department's removal loses (None without any)."""
    if not len(spof):
        return None
    return bar_figure(
        list(spof["department_id"]), list(spof["loss"]), FIGURES["spof_title"], FIGURES["spof_unit"]
    )


def extra_slot_figure(extra: pd.DataFrame) -> str | None:
    """Bars of the breaches one more slot avoids per department and service (None without)."""
    if not len(extra):
        return None
    return bar_figure(
        [f"{r.department_id} {r.collaboration}/{r.procedure}" for r in extra.itertuples()],
        list(extra["breaches_saved"]),
        FIGURES["extra_title"],
        FIGURES["extra_unit"],
    )
