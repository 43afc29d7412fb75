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
    headings = [words[c] for c in columns]
    sections = [
        {
            "title": words["national_title"],
            "axis": words["region"],
            "columns": headings,
            "rows": by_region,
        }
    ]
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
                "columns": headings,
                "rows": rows,
            }
        )
    sections[:0] = _national_sections(report, lang)
    notes = list(report.notes)
    if report.first_start and report.first_start > report.quarter.first + dt.timedelta(days=7):
        notes.append(words["partial"].format(first=report.first_start, start=report.quarter.first))
    return render(
        "monitoring.html",
        lang=lang,
        words=words,
        source=report.source.text(lang),
        report=report,
        sections=sections,
        notes=notes,
        generated=printed_at(generated),
        primary=suppression.PRIMARY_LABEL,
        secondary=suppression.SECONDARY_LABEL,
    )


def _type_label(value: str, lang: str) -> str:
    """A pathway type (investigation, primary, follow_on, or the total) in ``lang``."""
    return label(value, lang) if value == ALL else TEXT[lang][value]


def _national_sections(report: MonitoringReport, lang: str) -> list[dict[str, Any]]:
    """The quarter beside the previous one, and the counts per pathway type, as sections (the
    categories and the share within; no days statistics, which these tables do not hold)."""
    words = TEXT[lang]
    sections = []
    for table, title, axis, head in (
        (report.quarters, "quarters_title", "quarter_axis", str),
        (report.by_type, "types_title", "pathway_type", lambda v: _type_label(str(v), lang)),
    ):
        if table is None:
            continue
        cells = table.assign(within_share=table.apply(_share, axis=1))
        rows = [
            {"head": head(key), "cells": list(record), "level": 0, "total": key == ALL}
            for key, record in zip(cells.index, cells.itertuples(index=False), strict=True)
        ]
        sections.append(
            {
                "title": words[title],
                "axis": words[axis],
                "columns": [words[c] for c in cells.columns],
                "rows": rows,
            }
        )
    return sections


def national_frames(report: MonitoringReport, lang: str) -> dict[str, pd.DataFrame]:
    """The national side tables as sheets: quarters compared, and by pathway type."""
    words = TEXT[lang]
    sheets = {}
    for table, sheet, axis in (
        (report.quarters, "quarters_sheet", "quarter_axis"),
        (report.by_type, "types_sheet", "pathway_type"),
    ):
        if table is None:
            continue
        frame = table.reset_index()
        first = frame.columns[0]
        if axis == "pathway_type":
            frame[first] = frame[first].map(lambda v: _type_label(v, lang))
        frame = frame.rename(
            columns={c: words.get(c, c) for c in CATEGORIES} | {first: words[axis]}
        )
        sheets[words[sheet]] = frame
    return sheets


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
    return write_frames(
        path,
        {
            str(report.quarter): localised(report, lang),
            **national_frames(report, lang),
            notes_sheet: notes,
        },
    )
