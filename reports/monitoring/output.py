"""The monitoring report on paper: a self-contained printable HTML page (and its PDF), the
suppressed table as CSV, and an Excel workbook with a sheet of notes, in Danish or English."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from capacity.vocabulary import COLLABORATIONS, PROCEDURES, REGIONS
from reports import suppression
from reports.monitoring.cube import ALL, CATEGORIES, DAYS_COLUMNS, MonitoringReport
from reports.monitoring.period import MonitoringError
from reports.monitoring.text import LANGUAGES, TEXT, label
from reports.render.files import staged_output, write_page
from reports.render.spreadsheet import write_frames
from reports.render.templates import printed_at, render


def _share(published: pd.Series) -> str:
    """Share within in percent, where both counts are published (never for hidden cells)."""
    within, total = published["within"], published["pathways"]
    if not (str(within).isdigit() and str(total).isdigit()) or int(total) == 0:
        return ""
    return f"{100 * int(within) / int(total):.1f}"


def localised(report: MonitoringReport, lang: str = "da") -> pd.DataFrame:
    """The published table with labels and column headings in ``lang`` (for HTML and Excel)."""
    words = TEXT[lang]
    table = report.published()
    table.insert(len(CATEGORIES) + 3, "within_share", table.apply(_share, axis=1))
    for axis in ("home_region", "collaboration", "procedure"):
        table[axis] = table[axis].map(lambda v, a=axis: label(v, lang, a))
    return table.rename(
        columns={c: words.get(c, c) for c in table.columns if c not in ("home_region",)}
        | {"home_region": words["region"]}
    )


def render_html(
    report: MonitoringReport, lang: str = "da", generated: dt.datetime | None = None
) -> str:
    """The report as one self-contained printable HTML page in ``lang`` (``da`` or ``en``)."""
    if lang not in LANGUAGES:
        raise MonitoringError(f"language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    words = TEXT[lang]
    table = report.published()
    table["within_share"] = table.apply(_share, axis=1)
    columns = [*CATEGORIES, "within_share", *DAYS_COLUMNS]
    indexed = table.set_index(["home_region", "collaboration", "procedure"])

    def row(key: tuple[str, str, str], head: str, level: int, total: bool) -> dict[str, Any]:
        record = indexed.loc[key]  # type: ignore[index]
        return {
            "head": head,
            "cells": [record[c] for c in columns],
            "level": level,
            "total": total,
        }

    by_region = [
        row((region, ALL, ALL), label(region, lang, "home_region"), 0, region == ALL)
        for region in (*REGIONS, ALL)
    ]
    sections = [{"title": words["national_title"], "axis": words["region"], "rows": by_region}]
    for region in (ALL, *REGIONS):
        rows = []
        for collaboration in COLLABORATIONS:
            rows.append(
                row(
                    (region, collaboration, ALL),
                    label(collaboration, lang, "collaboration"),
                    0,
                    True,
                )
            )
            rows.extend(
                row((region, collaboration, procedure), label(procedure, lang), 1, False)
                for procedure in PROCEDURES
            )
        rows.append(row((region, ALL, ALL), words["all"], 0, True))
        title = (
            words["collaboration_title"]
            if region == ALL
            else words["region_title"].format(region=label(region, lang, "home_region"))
        )
        sections.append(
            {
                "title": title,
                "axis": f"{words['collaboration']} / {words['procedure']}",
                "rows": rows,
            }
        )
    notes = list(report.notes)
    if report.first_start and report.first_start > report.quarter.first + dt.timedelta(days=7):
        notes.append(words["partial"].format(first=report.first_start, start=report.quarter.first))
    return render(
        "monitoring.html",
        lang=lang,
        words=words,
        source=report.source.text(lang),
        report=report,
        columns=[words[c] for c in columns],
        sections=sections,
        notes=notes,
        generated=printed_at(generated),
        primary=suppression.PRIMARY_LABEL,
        secondary=suppression.SECONDARY_LABEL,
    )


def write_report(
    report: MonitoringReport,
    out: str | Path,
    lang: str = "da",
    pdf: bool = True,
    generated: dt.datetime | None = None,
) -> list[Path]:
    """Write ``monitoring-<quarter>.html`` (and ``.pdf``), ``.csv`` and ``.xlsx`` into ``out``.

    Everything is written to a scratch folder first and moved into place only when all files
    are complete, so a failure (e.g. no Chromium for the PDF) leaves nothing half written.
    """
    stem = f"monitoring-{report.quarter}"
    with staged_output(out, stem) as staged:
        work = staged.work
        report.published().to_csv(work / f"{stem}.csv", index=False)
        write_excel(report, work / f"{stem}.xlsx", lang)
        write_page(work, stem, render_html(report, lang, generated), pdf)
    return staged.written


def write_excel(report: MonitoringReport, path: Path, lang: str = "da") -> Path:
    """The suppressed table in an Excel workbook: the table, and a sheet of notes."""
    words = TEXT[lang]
    notes = pd.DataFrame(
        {
            "": [
                f"{words['title']} — {report.quarter}",
                f"{words['source']}: {report.source.text(lang)}",
                f"{words['pathways_counted']}: {report.counted}",
                words["categories_note"],
                words["suppression_note"],
                words["days_note"],
                *report.notes,
            ]
        }
    )
    notes_sheet = "notes" if lang == "en" else "noter"
    return write_frames(path, {str(report.quarter): localised(report, lang), notes_sheet: notes})
