"""A department's capacity declaration as an Excel workbook: the template a secretary fills in,
and the reader that turns a filled one into capacity rows (issue 15.2).

The template has one sheet per ISO week (``2026-W49``): a row per day (Monday to Sunday), a
column per service the department offers, the cells pre-filled with the current declaration
(else last week's, "copy last week"), free slots as whole numbers 0-999 with Excel's data
validation, headers locked (the sheet is protected without a password; only the slot cells
can be edited). A hidden sheet ``_kapacitet`` names the department, the format version and the
service of each column, so a reader never guesses from the labels.

Reading is strict and tells where: every problem names its cell as ``sheet!cell``
(``2026-W49!C4``), nothing is stored when there is one. An empty cell means "unchanged": the
rows read are a partial declaration (only the cells filled in), stored with
:func:`workflow.capacity.declare_capacity` ``partial=True``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import Connection

from capacity import calendar
from capacity.errors import Invalid, NotFound
from capacity.storage import schema
from capacity.vocabulary import DANISH_LABELS

#: The template's format; a workbook of another version is refused.
FORMAT: Final = "kapacitet-capacity-template/1"
META_SHEET: Final = "_kapacitet"
#: The first row of days and the first column of services on a week's sheet.
FIRST_ROW: Final = 4
FIRST_COLUMN: Final = 3
MAX_SLOTS: Final = 999
#: Largest workbook read (bytes): a template of a few weeks is a few tens of kB.
MAX_BYTES: Final = 5 * 1024 * 1024

_WORDS: Final[dict[str, dict[str, Any]]] = {
    "da": {
        "title": "Ledige tider: {name} ({department}), uge {week}",
        "help": "Skriv antal ledige tider pr. dag og ydelse (hele tal 0-999). Tom celle: uændret.",
        "date": "Dato",
        "weekday": "Ugedag",
        "days": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    },
    "en": {
        "title": "Free slots: {name} ({department}), week {week}",
        "help": "Enter free slots per day and service (whole numbers 0-999). Empty: unchanged.",
        "date": "Date",
        "weekday": "Weekday",
        "days": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    },
}


@dataclass(frozen=True)
class Service:
    """A service of the department: a column of the template."""

    collaboration: str
    procedure: str

    @property
    def key(self) -> str:
        return f"{self.collaboration}/{self.procedure}"

    def label(self, lang: str) -> str:
        if lang == "en":
            return f"{self.collaboration.replace('_', ' ')}: {self.procedure.replace('_', ' ')}"
        collaboration = DANISH_LABELS.get(self.collaboration, self.collaboration)
        return f"{collaboration}: {DANISH_LABELS.get(self.procedure, self.procedure)}"


def department_services(conn: Connection, department_id: str) -> tuple[str, list[Service]]:
    """The department's readable name and its services (NotFound for an unknown department)."""
    d, s = schema.departments.c, schema.services.c
    found = conn.execute(
        sa.select(d.name, d.hospital).where(d.department_id == department_id)
    ).first()
    if found is None:
        raise NotFound(f"no department {department_id!r}")
    services = [
        Service(str(row.collaboration), str(row.procedure))
        for row in conn.execute(
            sa.select(s.collaboration, s.procedure)
            .where(s.department_id == department_id)
            .order_by(s.collaboration, s.procedure)
        )
    ]
    name = ", ".join(p for p in (found.name, found.hospital) if p) or department_id
    return name, services


def current_slots(
    conn: Connection, department_id: str, weeks: Sequence[str]
) -> dict[tuple[str, str, dt.date], int]:
    """The current declaration's free slots per (collaboration, procedure, day) of ``weeks``."""
    d, c = schema.capacity_declarations.c, schema.capacity.c
    rows = conn.execute(
        sa.select(c.collaboration, c.procedure, c.date, sa.func.sum(c.free_slots).label("n"))
        .join(schema.capacity_declarations, d.declaration_id == c.declaration_id)
        .where(d.department_id == department_id, d.superseded.is_(False), d.week.in_(list(weeks)))
        .group_by(c.collaboration, c.procedure, c.date)
    )
    return {(str(r.collaboration), str(r.procedure), r.date): int(r.n) for r in rows}


def parse_weeks(text: str) -> list[str]:
    """``2026-W49..2026-W52`` (or one week, or a comma list) as the ISO weeks it names."""
    weeks: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        first, _, last = part.partition("..")
        last = last or first
        if not (calendar.is_week(first) and calendar.is_week(last)) or last < first:
            raise Invalid(
                f"weeks must be written 2026-W49 or 2026-W49..2026-W52, got {part!r}",
                errors=[{"field": "weeks", "message": "not an ISO week range"}],
            )
        span = calendar.horizon(first, 60)
        weeks += span[: span.index(last) + 1] if last in span else []
        if last not in span:
            raise Invalid(
                "a template covers at most 60 weeks",
                errors=[{"field": "weeks", "message": "more than 60 weeks"}],
            )
    return sorted(set(weeks))


def template_workbook(
    conn: Connection, department_id: str, weeks: Sequence[str], lang: str = "da"
) -> Workbook:
    """The department's template for ``weeks``, pre-filled with the current declaration of each
    week, else the week before's (copy last week)."""
    lang = "en" if lang == "en" else "da"
    words = _WORDS[lang]
    name, services = department_services(conn, department_id)
    previous = [calendar.week_of(calendar.week_monday(w) - dt.timedelta(days=7)) for w in weeks]
    slots = current_slots(conn, department_id, sorted(set(weeks) | set(previous)))
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    header = Font(bold=True)
    locked = PatternFill("solid", fgColor="E8ECF5")
    for week in weeks:
        sheet = book.create_sheet(week)
        sheet["A1"] = words["title"].format(name=name, department=department_id, week=week)
        sheet["A1"].font = Font(bold=True, size=13)
        sheet["A2"] = words["help"]
        sheet.cell(FIRST_ROW - 1, 1, words["date"]).font = header
        sheet.cell(FIRST_ROW - 1, 2, words["weekday"]).font = header
        for j, service in enumerate(services):
            cell = sheet.cell(FIRST_ROW - 1, FIRST_COLUMN + j, service.label(lang))
            cell.font = header
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            sheet.column_dimensions[get_column_letter(FIRST_COLUMN + j)].width = 22
        sheet.column_dimensions["A"].width = 12
        sheet.column_dimensions["B"].width = 11
        validation = DataValidation(
            type="whole",
            operator="between",
            formula1="0",
            formula2=str(MAX_SLOTS),
            allow_blank=True,
            showErrorMessage=True,
            error=words["help"],
        )
        sheet.add_data_validation(validation)
        monday = calendar.week_monday(week)
        for i in range(7):
            day = monday + dt.timedelta(days=i)
            row = FIRST_ROW + i
            date_cell = sheet.cell(row, 1, day)
            date_cell.number_format = "yyyy-mm-dd"
            sheet.cell(row, 2, words["days"][i])
            for column in (1, 2):
                sheet.cell(row, column).fill = locked
            for j, service in enumerate(services):
                key = (service.collaboration, service.procedure)
                value = slots.get((*key, day))
                if value is None:
                    value = slots.get((*key, day - dt.timedelta(days=7)))
                cell = sheet.cell(row, FIRST_COLUMN + j, value)
                cell.protection = Protection(locked=False)
                cell.number_format = "0"
            if services:
                first = get_column_letter(FIRST_COLUMN)
                last = get_column_letter(FIRST_COLUMN + len(services) - 1)
                validation.add(f"{first}{row}:{last}{row}")
        sheet.freeze_panes = sheet.cell(FIRST_ROW, FIRST_COLUMN)
        sheet.protection.sheet = True
        sheet.protection.formatCells = False
        sheet.protection.formatColumns = False
    meta = book.create_sheet(META_SHEET)
    meta.append(["format", FORMAT])
    meta.append(["department_id", department_id])
    meta.append(["weeks", ",".join(weeks)])
    for service in services:
        meta.append(["service", service.key])
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    return book


def template_bytes(
    conn: Connection, department_id: str, weeks: Sequence[str], lang: str = "da"
) -> bytes:
    """:func:`template_workbook` saved as .xlsx bytes."""
    buffer = io.BytesIO()
    template_workbook(conn, department_id, weeks, lang).save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class FilledTemplate:
    """What a filled template declares: the department and its capacity rows (filled cells)."""

    department_id: str
    weeks: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]


def _meta(book: Any, source: str) -> tuple[str, list[str], list[Service]]:
    if META_SHEET not in book.sheetnames:
        raise Invalid(
            "not a kapacitet capacity template (no " + META_SHEET + " sheet); download one "
            "with `kapacitet capacity template` or from the declaration page",
            errors=[{"field": f"{META_SHEET}!A1", "message": "missing sheet"}],
        )
    values: dict[str, list[str]] = {}
    for key, value, *_ in book[META_SHEET].iter_rows(values_only=True):
        if key is not None:
            values.setdefault(str(key), []).append("" if value is None else str(value))
    if values.get("format") != [FORMAT]:
        raise Invalid(
            f"the template format is not {FORMAT}",
            errors=[{"field": f"{META_SHEET}!B1", "message": f"expected {FORMAT}"}],
        )
    department = (values.get("department_id") or [""])[0]
    weeks = [w for w in (values.get("weeks") or [""])[0].split(",") if w]
    services = []
    for key in values.get("service", []):
        collaboration, _, procedure = key.partition("/")
        services.append(Service(collaboration, procedure))
    return department, weeks, services


def read_template(data: bytes, source: str = "workbook") -> FilledTemplate:
    """The capacity rows of a filled template; :class:`Invalid` naming every bad cell as
    ``sheet!cell`` (nothing is half read)."""
    if len(data) > MAX_BYTES:
        raise Invalid(
            f"the workbook is larger than {MAX_BYTES // (1024 * 1024)} MB",
            errors=[{"field": source, "message": "too large"}],
        )
    try:
        book = load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except Exception:  # openpyxl raises many kinds for a file that is no workbook
        raise Invalid(
            "not an Excel workbook (.xlsx)",
            errors=[{"field": source, "message": "not an .xlsx workbook"}],
        ) from None
    department, weeks, services = _meta(book, source)
    errors: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for week in weeks:
        if week not in book.sheetnames:
            errors.append({"field": f"{week}!A1", "message": "the week's sheet is missing"})
            continue
        sheet = book[week]
        monday = calendar.week_monday(week)
        for i in range(7):
            row = FIRST_ROW + i
            day = monday + dt.timedelta(days=i)
            given = sheet.cell(row, 1).value
            given_day = given.date() if isinstance(given, dt.datetime) else given
            if given_day != day:
                errors.append(
                    {
                        "field": f"{week}!A{row}",
                        "message": f"the date must stay {day.isoformat()}",
                    }
                )
                continue
            for j, service in enumerate(services):
                cell = sheet.cell(row, FIRST_COLUMN + j)
                value = cell.value
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                where = f"{week}!{cell.coordinate}"
                count = _whole(value)
                if count is None:
                    errors.append(
                        {
                            "field": where,
                            "message": f"free slots must be a whole number 0-{MAX_SLOTS}",
                        }
                    )
                    continue
                rows.append(
                    {
                        "department_id": department,
                        "collaboration": service.collaboration,
                        "procedure": service.procedure,
                        "date": day.isoformat(),
                        "free_slots": count,
                    }
                )
    if errors:
        raise Invalid(f"{len(errors)} problem(s); nothing was stored", errors=errors)
    return FilledTemplate(department, tuple(weeks), tuple(rows))


def _whole(value: Any) -> int | None:
    """A cell's value as free slots: a whole number 0..MAX_SLOTS (``3``, ``3.0``, ``" 3 "``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = float(value.strip())
    else:
        return None
    if number != int(number) or not 0 <= number <= MAX_SLOTS:
        return None
    return int(number)
