"""The capacity check on paper: one self-contained HTML page (and its PDF) and an Excel
workbook of the tables, written together."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final

import pandas as pd

from reports.capacity_check.analysis import CapacityCheck
from reports.capacity_check.balance import ABROAD, PERSISTENT_SHARE
from reports.capacity_check.figures import (
    extra_slot_figure,
    spof_figure,
    utilisation_figure,
    weekly_figure,
)
from reports.capacity_check.text import label, number, region_label, source_label, words
from reports.render.files import staged_output, write_page
from reports.render.spreadsheet import write_frames
from reports.render.templates import printed_at, render

#: Rows of the ranked tables and bar charts (the minimum cut lists three times as many).
TOP: Final = 15


def render_html(
    check: CapacityCheck, generated: dt.datetime | None = None, lang: str = "da"
) -> str:
    """The check as one self-contained, printable HTML page with embedded figures, in Danish
    (default) or English."""
    t = words(lang)
    spof = check.single_points_of_failure()
    extra = check.extra_slots()
    top_spof = spof[spof["loss"] > 0].head(TOP)
    saving = extra[["breaches_saved", "unassigned_saved", "days_saved"]].sum(axis=1)
    top_extra = extra[saving > 0].head(TOP)
    year_extra = check.year_extra_slots()
    top_year = year_extra[year_extra["breaches_year"] > 0].head(TOP)
    figures = {
        "utilisation": utilisation_figure(check, lang),
        "weekly": weekly_figure(check, lang),
        "spof": spof_figure(top_spof, lang),
        "extra": extra_slot_figure(top_year, lang),
    }
    by_collaboration = check.balance.by_collaboration()
    by_collaboration = by_collaboration[by_collaboration["region"] != ABROAD]
    by_collaboration = by_collaboration.assign(
        region=by_collaboration["region"].map(lambda r: region_label(r, lang)),
        collaboration=by_collaboration["collaboration"].map(lambda c: label(c, lang)),
    )
    deficits = check.balance.deficits()
    deficits["region"] = deficits["region"].map(lambda r: region_label(r, lang))
    cut = pd.concat([a.cut.assign(week=a.week) for a in check.analyses]) if check.analyses else None
    notes = check.notes_da if lang == "da" and check.notes_da else check.notes
    return render(
        "capacity_check.html",
        t=t,
        lang=lang,
        label=lambda value: label(str(value), lang),
        region=lambda value: region_label(str(value), lang),
        num=lambda value, digits=1: number(value, lang, digits),
        check=check,
        notes=notes,
        source=source_label(check.balance.source, lang),
        figures=figures,
        by_collaboration=by_collaboration.to_dict(orient="records"),
        deficits=deficits.to_dict(orient="records"),
        spof=top_spof.to_dict(orient="records"),
        extra=top_extra.to_dict(orient="records"),
        year_extra=top_year.to_dict(orient="records"),
        cut=[] if cut is None else cut.head(3 * TOP).to_dict(orient="records"),
        persistent=int(PERSISTENT_SHARE * 100),
        generated=printed_at(generated),
    )


def tables(check: CapacityCheck) -> dict[str, pd.DataFrame]:
    """The workbook's sheets by name: balance, deficits, single points of failure, one more
    slot, and the weekly table."""
    return {
        "balance": check.balance.by_collaboration(),
        "structural deficits": check.balance.deficits(),
        "single points of failure": check.single_points_of_failure(),
        "one more slot": check.year_extra_slots(),
        "shadow prices": check.extra_slots(),
        "weekly": check.balance.weekly,
    }


def write_check(
    check: CapacityCheck,
    out: str | Path,
    pdf: bool = True,
    generated: dt.datetime | None = None,
    lang: str = "da",
) -> list[Path]:
    """Write ``capacity-check-<year>.html`` (and ``.pdf``) and the tables as ``.xlsx`` into
    ``out``; all files are written in a scratch folder first and moved into place together."""
    stem = f"capacity-check-{check.year}"
    with staged_output(out, stem) as staged:
        write_frames(staged.work / f"{stem}.xlsx", tables(check))
        write_page(staged.work, stem, render_html(check, generated, lang), pdf)
    return staged.written
