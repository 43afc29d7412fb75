"""Validation of contract tables: every problem with its file, row and column, and typed frames.

The readers in :mod:`capacity.io` turn each file into a :class:`RawTable` (every value a string,
``<NA>`` when not given). :func:`validate_tables` checks all of them column by column with pandas
operations (no loop per row; loops run only over problems found, at most
:data:`MAX_PROBLEMS_PER_FILE` per file), casts them to the dtypes of :mod:`capacity.frames`, and
computes missing deadlines with :mod:`capacity.rules`. Rows are located as a spreadsheet user sees
them: the header is line 1 and the first data row line 2; records of YAML or JSON files by their
JSON path (``$[0]`` is the first record).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from capacity import calendar, frames
from capacity.pseudonym import CPR_LIKE, redact
from capacity.rules import CLOCKS, Rules, compute_deadlines
from capacity.vocabulary import (
    COLLABORATIONS,
    DEADLINE_STATUSES,
    PROCEDURES,
    PROVIDER_TYPES,
    REGIONS,
    ProviderType,
    closest,
    is_foreign_region,
)

#: Problems listed per file; beyond this only their number is reported.
MAX_PROBLEMS_PER_FILE: Final = 200
ID_PATTERN: Final = r"[A-Za-z0-9_.\-]{1,64}"
ISO_WEEK_PATTERN: Final = calendar.WEEK_PATTERN.strip("^$")
ISO_DATE_LENGTH: Final = len("YYYY-MM-DD")
#: The dates kapacitet accepts anywhere (deadlines, bookings, capacity days, clocks): a date
#: outside is a typing mistake, and the solver's day arithmetic needs a bounded calendar.
FIRST_DATE: Final = dt.date(2000, 1, 1)
LAST_DATE: Final = dt.date(2100, 12, 31)
#: The largest whole number both stores hold in an integer column (signed 32 bits): SQLite
#: would silently wrap a larger one, PostgreSQL refuse it.
MAX_COUNT: Final = 2_147_483_647

#: The optional real identifiers of a department (departments.csv may carry them as extra
#: columns; they are stored, and FHIR finds and names departments by them): the SOR code
#: (Sundhedsvæsenets Organisationsregister, numeric, at least 11 digits, as HL7 Denmark's
#: dk-core requires) and, for a private provider, its CVR number (8 digits, modulus 11).
DEPARTMENT_CODES: Final[dict[str, str]] = {"sor_code": frames.STR, "cvr": frames.STR}
SOR_PATTERN: Final = r"[0-9]{11,64}"
CVR_PATTERN: Final = r"[1-9][0-9]{7}"
_CVR_WEIGHTS: Final = (2, 7, 6, 5, 4, 3, 2, 1)

#: Columns that may be left empty (every other required column needs a value in each row).
MAY_BE_EMPTY: Final[dict[str, frozenset[str]]] = {
    "departments": frozenset({"name", "hospital"}),
    "services": frozenset({"price_dkk"}),
    "capacity": frozenset(),
    "patients": frozenset(
        {
            "deadline",
            "booked_department_id",
            "booked_date",
            "max_travel_km",
            "accepts_private",
            "accepts_foreign",
        }
    )
    | frozenset(frames.PATIENT_CLOCKS),
    "weekly_caps": frozenset(),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a contract folder, located by file, row and column.

    ``row`` is the spreadsheet line (header = 1) for CSV files, the JSON path of the record
    (``$[3]``) for YAML and JSON files, and None for a problem of the whole file or column.
    """

    file: str
    row: int | str | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file, *(str(part) for part in (self.row, self.column) if part is not None)]
        return f"{':'.join(where)}: {self.message}"


class ValidationFailed(Exception):
    """A contract folder with problems; ``problems`` lists them, ``str()`` one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


@dataclass(frozen=True)
class RawTable:
    """One contract table as read from its file: string columns, ``<NA>`` where not given.

    ``lines`` holds each row's spreadsheet line for a CSV file; record files (YAML, JSON) have
    None and locate rows by JSON path.
    """

    table: str
    file: str
    frame: pd.DataFrame
    lines: np.ndarray | None = None

    def location(self, position: int) -> int | str:
        """Where the row at ``position`` is in the file: its line, or its JSON path."""
        if self.lines is None:
            return f"$[{position}]"
        return int(self.lines[position])

    @property
    def header(self) -> int | None:
        """Where the column names are: line 1 of a CSV file; nowhere in particular for records."""
        return None if self.lines is None else 1


@dataclass
class FileProblems:
    """The problems of one file: all counted, the ones on the lowest rows kept (up to a limit)."""

    raw: RawTable
    limit: int = MAX_PROBLEMS_PER_FILE
    total: int = 0
    _found: list[tuple[int, Problem]] = field(default_factory=list)

    def add(self, column: str | None, message: str, row: int | str | None = None) -> None:
        """Record a problem of the whole file or column (listed before the rows' problems)."""
        self.total += 1
        self._found.append((-1, Problem(self.raw.file, row, column, redact(message))))

    def at(self, mask: np.ndarray | pd.Series, column: str, describe: Callable[[int], str]) -> None:
        """Record a problem in ``column`` at each row of ``mask``, worded by ``describe``."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        self.total += len(positions)
        for position in positions[: self.limit]:
            where = self.raw.location(int(position))
            # A message quoting a value never repeats a CPR-like run inside it.
            message = redact(describe(position))
            self._found.append((int(position), Problem(self.raw.file, where, column, message)))

    def problems(self) -> list[Problem]:
        """The kept problems in row order, and a last line counting the ones left out."""
        ordered = [problem for _, problem in sorted(self._found, key=lambda found: found[0])]
        shown = ordered[: self.limit]
        if self.total > len(shown):
            shown.append(
                Problem(
                    self.raw.file,
                    None,
                    None,
                    f"... and {self.total - len(shown)} more problems in this file"
                    f" (the first {len(shown)} are listed)",
                )
            )
        return shown


class TableCheck:
    """Checks the columns of one raw table and collects their typed values."""

    def __init__(
        self,
        raw: RawTable,
        found: FileProblems,
        columns: Mapping[str, str] | None = None,
        optional: Mapping[str, str] | None = None,
        may_be_empty: frozenset[str] | None = None,
    ) -> None:
        """Check ``raw`` against a contract table's columns (by its table name), or against
        the given required ``columns``, ``optional`` ones and those that ``may_be_empty``."""
        self.raw = raw
        self.found = found
        required = frames.REQUIRED_COLUMNS[raw.table] if columns is None else dict(columns)
        if optional is None:
            optional = frames.OPTIONAL_COLUMNS[raw.table] if columns is None else {}
        self.spec = required | dict(optional)
        self.may_be_empty = MAY_BE_EMPTY[raw.table] if may_be_empty is None else may_be_empty
        self.typed: dict[str, pd.Series] = {}
        self.missing_columns = [c for c in required if c not in raw.frame]
        for column in self.missing_columns:
            found.add(
                column, _missing_column_message(column, raw.frame.columns, self.spec), raw.header
            )

    @property
    def size(self) -> int:
        return len(self.raw.frame)

    def has(self, column: str) -> bool:
        """True when the file has the column."""
        return column in self.raw.frame.columns

    def given(self, column: str) -> pd.Series:
        """The column's raw strings (all ``<NA>`` when the file lacks the column)."""
        if self.has(column):
            return self.raw.frame[column]
        return pd.Series(pd.NA, index=self.raw.frame.index, dtype=frames.STR)

    def present(self, column: str) -> np.ndarray:
        """Which rows have a value, reporting empty cells of a column that needs one."""
        values = self.given(column)
        present = values.notna().to_numpy()
        if self.has(column) and column not in self.may_be_empty:
            self.found.at(~present, column, lambda _: "empty, but a value is required")
        return present

    def text(self, column: str) -> pd.Series:
        """A free-text column (display names)."""
        self.present(column)
        self.typed[column] = self.given(column)
        return self.typed[column]

    def reference(self, column: str) -> pd.Series:
        """An id naming a row elsewhere (a department): checked against it later; never
        CPR-like (such a value is reported unechoed and becomes ``<NA>``)."""
        self.present(column)
        cpr = self.cpr_like(column)
        self.typed[column] = self.given(column).mask(cpr)
        return self.typed[column]

    def free_text(self, column: str) -> pd.Series:
        """Free text (an event's detail) that never holds a CPR-like run: such a value is
        reported unechoed and becomes ``<NA>``, as in :meth:`reference`."""
        return self.reference(column)

    def ids(self, column: str, kind: str, *, unique: bool = True) -> pd.Series:
        """An id column: 1-64 of ``A-Za-z0-9_.-``, unique within the file (unless ``unique``
        is False: an id repeated on rows of one patient), never CPR-like.

        A CPR-like value is reported without being echoed (it may be a real person's CPR
        number) and becomes ``<NA>`` in the typed column.
        """
        values = self.given(column)
        present = self.present(column)
        cpr = self.cpr_like(column)
        valid = _matching(values, ID_PATTERN)
        self.found.at(
            present & ~valid & ~cpr,
            column,
            lambda i: (
                f"{values.iloc[i]!r} is not a valid id: use 1-64 letters, digits, '_', '.' or '-'"
            ),
        )
        if unique:
            self._unique(values, present & ~cpr, column, kind)
        self.typed[column] = values.mask(cpr)
        return values

    def patient_ids(self, column: str) -> pd.Series:
        """Patient pseudonyms: valid unique ids that do not look like a CPR number."""
        return self.ids(column, "patient")

    def cpr_like(self, column: str) -> np.ndarray:
        """Which rows' values contain a CPR-like run, each reported (never echoing the value)."""
        values = self.given(column)
        cpr = values.str.contains(CPR_LIKE, regex=True).fillna(False).to_numpy(dtype=bool)
        self.found.at(cpr, column, lambda _: cpr_message(column))
        return cpr

    def _unique(self, values: pd.Series, present: np.ndarray, column: str, kind: str) -> None:
        repeated = present & values.duplicated(keep="first").to_numpy()
        if not repeated.any():
            return
        repeated_values = values[repeated].unique()
        firsts = present & ~values.duplicated(keep="first").to_numpy()
        firsts &= values.isin(repeated_values).to_numpy(dtype=bool)
        first_position = dict(zip(values[firsts], np.flatnonzero(firsts), strict=True))
        self.found.at(
            repeated,
            column,
            lambda i: (
                f"duplicate {kind} id {values.iloc[i]!r} (first at"
                f" {_where(self.raw, first_position[values.iloc[i]])}); ids must be unique"
            ),
        )

    def choice(self, column: str, choices: tuple[str, ...], kind: str) -> pd.Series:
        """A vocabulary column; unknown values get a did-you-mean hint and become ``<NA>``."""
        values = self.given(column)
        present = self.present(column)
        known = values.isin(choices).to_numpy(dtype=bool)
        self.found.at(present & ~known, column, lambda i: _unknown(kind, values.iloc[i], choices))
        self.typed[column] = values.where(known)
        return self.typed[column]

    def dates(self, column: str) -> pd.Series:
        """An ISO ``YYYY-MM-DD`` date column; anything else is reported and becomes NaT."""
        values = self.given(column)
        present = self.present(column)
        parsed = pd.Series(pd.NaT, index=values.index, dtype=frames.DATE)
        outside = _matching(values, r"\d{4}-\d{2}-\d{2}") & _outside_years(values)
        inside = present & ~outside
        if inside.any():
            given = values[inside]
            on_calendar = pd.to_datetime(given, format="%Y-%m-%d", errors="coerce")
            iso = on_calendar.notna() & given.str.len().eq(ISO_DATE_LENGTH)
            parsed[inside] = on_calendar.where(iso).astype(frames.DATE)
        self.found.at(
            outside,
            column,
            lambda i: f"{column} {values.iloc[i]} is outside {FIRST_DATE}..{LAST_DATE}",
        )
        self.found.at(
            inside & parsed.isna().to_numpy(),
            column,
            lambda i: (
                f"{values.iloc[i]!r} is not a date; write dates as YYYY-MM-DD, e.g. 2026-11-23"
            ),
        )
        self.typed[column] = parsed
        return parsed

    def numbers(
        self, column: str, low: float = -np.inf, high: float = np.inf, unit: str = ""
    ) -> pd.Series:
        """A decimal column within ``low..high``; anything else is reported and becomes NaN."""
        values = self.given(column)
        present = self.present(column)
        parsed = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        unparsable = present & np.isnan(parsed)
        self.found.at(unparsable, column, lambda i: _not_a_number(values.iloc[i]))
        infinite = present & np.isinf(parsed)
        self.found.at(infinite, column, lambda i: f"{column} {parsed[i]} is not a finite number")
        with np.errstate(invalid="ignore"):
            outside = ~unparsable & ~infinite & present & ((parsed < low) | (parsed > high))
        self.found.at(outside, column, lambda i: _outside(column, parsed[i], low, high, unit))
        self.typed[column] = pd.Series(
            np.where(outside | infinite, np.nan, parsed), index=values.index
        )
        return self.typed[column]

    def counts(self, column: str) -> pd.Series:
        """A whole number >= 0 (slots); anything else is reported and becomes 0."""
        values = self.given(column)
        present = self.present(column)
        parsed = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        unparsable = present & np.isnan(parsed)
        self.found.at(unparsable, column, lambda i: _not_a_number(values.iloc[i]))
        negative = present & (parsed < 0)
        self.found.at(
            negative, column, lambda i: f"{values.iloc[i]} is negative; {column} must be >= 0"
        )
        fractional = present & ~negative & np.isfinite(parsed) & (parsed != np.floor(parsed))
        self.found.at(
            fractional,
            column,
            lambda i: f"{values.iloc[i]} is not a whole number; {column} counts slots",
        )
        infinite = present & np.isinf(parsed) & ~negative
        self.found.at(infinite, column, lambda i: f"{values.iloc[i]} is not a whole number")
        too_large = present & np.isfinite(parsed) & (parsed > MAX_COUNT)
        self.found.at(
            too_large,
            column,
            lambda i: f"{column} {values.iloc[i]} is larger than {MAX_COUNT}, the most stored",
        )
        usable = present & np.isfinite(parsed) & ~negative & ~fractional & ~too_large
        self.typed[column] = pd.Series(
            np.where(usable, parsed, 0).astype(np.int64), index=values.index
        )
        return self.typed[column]

    def booleans(self, column: str, default: bool) -> pd.Series:
        """A ``true``/``false`` column; an empty cell means ``default``."""
        values = self.given(column)
        present = self.present(column)
        valid = values.isin(("true", "false")).to_numpy(dtype=bool)
        self.found.at(
            present & ~valid,
            column,
            lambda i: (
                f"{values.iloc[i]!r} is not a boolean; write true or false"
                f" (lower case; empty means {str(default).lower()})"
            ),
        )
        flag = np.where(
            present & valid, values.eq("true").to_numpy(dtype=bool, na_value=False), default
        )
        self.typed[column] = pd.Series(flag.astype(bool), index=values.index)
        return self.typed[column]

    def frame(self) -> pd.DataFrame:
        """The typed table: spec columns in order with their dtypes, extra columns after."""
        columns = {
            name: self.typed[name] if name in self.typed else self.raw.frame[name]
            for name in self.spec
            if name in self.typed or self.has(name)
        }
        extra = {c: self.raw.frame[c] for c in self.raw.frame.columns if c not in self.spec}
        return frames.conform(pd.DataFrame(columns | extra, index=self.raw.frame.index), self.spec)


def validate_tables(
    tables: Mapping[str, RawTable], rules: Rules, limit: int = MAX_PROBLEMS_PER_FILE
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Typed frames of the given tables, with deadlines computed, and every problem found.

    ``tables`` maps table names (``departments``, ``services``, ``capacity``, ``patients``,
    ``weekly_caps``) to what was read; a missing table is skipped here (the reader reports it).
    The frames are only meaningful when no problem was found.
    """
    found = {table: FileProblems(raw, limit) for table, raw in tables.items()}
    checks = {table: TableCheck(raw, found[table]) for table, raw in tables.items()}
    if "departments" in checks:
        _check_departments(checks["departments"])
    for table in ("services", "capacity", "weekly_caps"):
        if table in checks:
            _check_service_rows(checks[table])
    if "patients" in checks:
        _check_patients(checks["patients"])

    department_ids = _all_values(checks.get("departments"), "department_id")
    services = checks.get("services")
    offered = (
        pd.Index(
            _service_keys(
                services.given("department_id"),
                services.given("collaboration"),
                services.given("procedure"),
            )
            .dropna()
            .unique()
        )
        if services is not None and not services.missing_columns
        else None
    )
    departments_file = tables["departments"].file if "departments" in tables else "departments"
    services_file = services.raw.file if services is not None else "services"
    for table in ("services", "capacity", "weekly_caps"):
        if table in checks:
            _check_known_departments(
                checks[table], "department_id", department_ids, departments_file
            )
    for table in ("capacity", "weekly_caps"):
        if table in checks:
            _check_offered(checks[table], offered, department_ids, services_file)
    typed = {table: check.frame() for table, check in checks.items()}
    if "patients" in checks:
        patients = checks["patients"]
        for column in ("home_department_id", "booked_department_id"):
            _check_known_departments(patients, column, department_ids, departments_file)
        _check_bookings(patients, offered, department_ids, services_file)
        typed["patients"] = compute_deadlines(typed["patients"], rules)
        _check_deadlines(patients, typed["patients"], rules)
    problems = [problem for table in tables for problem in found[table].problems()]
    return typed, problems


def cpr_message(field: str) -> str:
    """The message for a CPR-like value in ``field``; it never repeats the value."""
    return (
        f"the {field} looks like a CPR number: all or part of it looks like a Danish CPR number"
        " (DDMMYY-XXXX or ten digits); replace it with a pseudonym - CPR numbers must not be"
        " shared"
    )


def text_table(table: str, rows: pd.DataFrame | list[dict[str, Any]]) -> RawTable:
    """Records or a frame (Python or typed values) as the strings a JSON file of ``table``
    would give the validator, rows located by ``$[i]``."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows)
    text = {str(name): as_text(frame[name]) for name in frame.columns}
    return RawTable(table, table, pd.DataFrame(text, index=pd.RangeIndex(len(frame))))


def as_text(column: pd.Series) -> pd.Series:
    """A column's values as a file writes them: dates ``YYYY-MM-DD``, booleans ``true`` /
    ``false``, numbers as Python prints them; ``<NA>`` where missing."""
    present = column.notna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(column):
        text = column.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_bool_dtype(column):
        text = column.map({True: "true", False: "false"})
    else:
        text = column.map(_value_text, na_action="ignore")
    text = text.astype(object).where(present, None).astype(frames.STR)
    return text.reset_index(drop=True)


def _value_text(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def _check_departments(check: TableCheck) -> None:
    check.ids("department_id", "department")
    _check_department_codes(check)
    check.text("name")
    check.text("hospital")
    provider_type = check.choice("provider_type", PROVIDER_TYPES, "provider_type")
    check.numbers("latitude", -90, 90, "degrees")
    check.numbers("longitude", -180, 180, "degrees")
    if not check.has("region"):
        return
    region = check.given("region")
    present = check.present("region")
    codes = {value for value in region.dropna().unique() if is_foreign_region(str(value))}
    danish = region.isin(REGIONS).to_numpy(dtype=bool)
    country = region.isin(codes).to_numpy(dtype=bool)
    foreign = provider_type.eq(ProviderType.FOREIGN).to_numpy(dtype=bool, na_value=False)
    domestic = provider_type.isin((ProviderType.PUBLIC, ProviderType.PRIVATE)).to_numpy(dtype=bool)
    unknown_type = provider_type.isna().to_numpy()
    check.found.at(
        present & foreign & ~country,
        "region",
        lambda i: (
            f"a foreign department's region is its ISO 3166-1 alpha-2 country code"
            f" (e.g. DE, SE), not {region.iloc[i]!r}"
            + ("; should provider_type be public or private?" if danish[i] else "")
        ),
    )
    check.found.at(
        present & domestic & country,
        "region",
        lambda i: (
            f"a {provider_type.iloc[i]} department needs a Danish region; {region.iloc[i]!r}"
            " is a country code - should provider_type be foreign?"
        ),
    )
    check.found.at(
        present & domestic & ~danish & ~country,
        "region",
        lambda i: _unknown("region", region.iloc[i], REGIONS),
    )
    check.found.at(
        present & unknown_type & ~danish & ~country,
        "region",
        lambda i: (
            _unknown("region", region.iloc[i], REGIONS)
            + "; a foreign provider's region is its country code, e.g. DE"
        ),
    )
    check.typed["region"] = region


def _check_department_codes(check: TableCheck) -> None:
    """The optional ``sor_code`` and ``cvr`` columns: well-formed and each code unique.

    Invalid values are never echoed when they look like a CPR number (ten digits)."""
    if check.has("sor_code"):
        sor = check.given("sor_code")
        given = sor.notna().to_numpy()
        valid = _matching(sor, SOR_PATTERN)
        check.found.at(
            given & ~valid,
            "sor_code",
            lambda i: (
                f"{redact(str(sor.iloc[i]))!r} is not an SOR code: SOR codes are numeric with at"
                " least 11 digits (Sundhedsvæsenets Organisationsregister)"
            ),
        )
        check._unique(sor, given & valid, "sor_code", "SOR code")
    if check.has("cvr"):
        cvr = check.given("cvr")
        given = cvr.notna().to_numpy()
        valid = _matching(cvr, CVR_PATTERN)
        checksum = np.array(
            [bool(ok) and _cvr_checksum(str(value)) for value, ok in zip(cvr, valid, strict=True)],
            dtype=bool,
        )
        check.found.at(
            given & ~valid,
            "cvr",
            lambda i: (
                f"{redact(str(cvr.iloc[i]))!r} is not a CVR number: 8 digits, the first not 0"
            ),
        )
        check.found.at(
            given & valid & ~checksum,
            "cvr",
            lambda i: f"CVR number {cvr.iloc[i]!r} fails the modulus 11 check; is a digit wrong?",
        )


def _cvr_checksum(value: str) -> bool:
    """The CVR number's modulus 11 check (weights 2, 7, 6, 5, 4, 3, 2, 1)."""
    return sum(int(d) * w for d, w in zip(value, _CVR_WEIGHTS, strict=True)) % 11 == 0


def _check_service_rows(check: TableCheck) -> None:
    check.reference("department_id")
    check.choice("collaboration", COLLABORATIONS, "collaboration")
    check.choice("procedure", PROCEDURES, "procedure")
    if check.raw.table == "services":
        check.numbers("price_dkk", 0, np.inf, "DKK")
    elif check.raw.table == "capacity":
        check.dates("date")
        check.counts("free_slots")
    else:
        week = check.given("week")
        present = check.present("week")
        iso = _matching(week, ISO_WEEK_PATTERN)
        check.found.at(
            present & ~iso,
            "week",
            lambda i: f"{week.iloc[i]!r} is not an ISO week; write YYYY-Www, e.g. 2026-W48",
        )
        outside = iso & _outside_years(week)
        check.found.at(
            outside,
            "week",
            lambda i: f"week {week.iloc[i]} is outside {FIRST_DATE.year}..{LAST_DATE.year}",
        )
        check.typed["week"] = week
        check.counts("max_slots")


def _check_patients(check: TableCheck) -> None:
    check.patient_ids("patient_id")
    check.choice("collaboration", COLLABORATIONS, "collaboration")
    check.choice("procedure", PROCEDURES, "procedure")
    check.choice("home_region", REGIONS, "home_region")
    check.reference("home_department_id")
    check.numbers("latitude", -90, 90, "degrees")
    check.numbers("longitude", -180, 180, "degrees")
    for column in ("earliest_date", "deadline", "booked_date", *CLOCKS):
        check.dates(column)
    check.choice("deadline_status", DEADLINE_STATUSES, "deadline_status")
    check.reference("booked_department_id")
    check.numbers("max_travel_km", 0, np.inf, "km")
    check.booleans("accepts_private", default=True)
    check.booleans("accepts_foreign", default=True)


def _check_known_departments(
    check: TableCheck, column: str, known: pd.Index | None, departments_file: str
) -> None:
    if known is None or not check.has(column):
        return
    values = check.typed.get(column, check.given(column))  # CPR-like values already reported
    unknown = values.notna().to_numpy() & ~values.isin(known).to_numpy(dtype=bool)
    check.found.at(
        unknown,
        column,
        lambda i: (
            f"department {values.iloc[i]!r} is not in {departments_file}"
            + _hint(values.iloc[i], known)
        ),
    )


def _check_offered(
    check: TableCheck, offered: pd.Index | None, known: pd.Index | None, services_file: str
) -> None:
    """Each declared row must name a service its department offers."""
    if offered is None or known is None or check.missing_columns:
        return
    department = check.given("department_id")
    collaboration, procedure = check.typed["collaboration"], check.typed["procedure"]
    not_offered = _not_offered(department, collaboration, procedure, offered, known)
    check.found.at(
        not_offered,
        "procedure",
        lambda i: (
            f"department {department.iloc[i]!r} does not offer {collaboration.iloc[i]}"
            f" {procedure.iloc[i]} (no such row in {services_file})"
        ),
    )


def _check_bookings(
    check: TableCheck, offered: pd.Index | None, known: pd.Index | None, services_file: str
) -> None:
    """A booking names both department and date, at a department offering the service."""
    if not (check.has("booked_department_id") and check.has("booked_date")):
        return
    department = check.given("booked_department_id")
    day = check.given("booked_date")
    has_department, has_day = department.notna().to_numpy(), day.notna().to_numpy()
    check.found.at(
        has_department & ~has_day,
        "booked_date",
        lambda i: (
            f"empty, but booked_department_id is {department.iloc[i]!r};"
            " give both booked_department_id and booked_date, or neither"
        ),
    )
    check.found.at(
        has_day & ~has_department,
        "booked_department_id",
        lambda i: (
            f"empty, but booked_date is {day.iloc[i]};"
            " give both booked_department_id and booked_date, or neither"
        ),
    )
    if offered is None or known is None or check.missing_columns:
        return
    collaboration, procedure = check.typed["collaboration"], check.typed["procedure"]
    not_offered = _not_offered(department, collaboration, procedure, offered, known)
    check.found.at(
        not_offered,
        "booked_department_id",
        lambda i: (
            f"booked at {department.iloc[i]!r}, which does not offer {collaboration.iloc[i]}"
            f" {procedure.iloc[i]} (no such row in {services_file})"
        ),
    )


def _check_deadlines(check: TableCheck, patients: pd.DataFrame, rules: Rules) -> None:
    """Every row needs a deadline: given, or computable from a clock date by the rules."""
    if check.missing_columns:
        return
    unparsable_clock = np.zeros(check.size, dtype=bool)
    for column in ("deadline", *CLOCKS):
        unparsable_clock |= check.given(column).notna().to_numpy() & (
            check.typed[column].isna().to_numpy()
        )
    procedure = check.typed["procedure"]
    missing = (
        patients["deadline"].isna().to_numpy() & ~unparsable_clock & procedure.notna().to_numpy()
    )
    check.found.at(
        missing,
        "deadline",
        lambda i: (
            f"empty, and no clock date to compute it from: give the deadline, or a clock date"
            f" for {procedure.iloc[i]} ("
            + ", ".join(rules.clocks_for(str(procedure.iloc[i])) or ("none in the rules",))
            + f"; rules {rules.version})"
        ),
    )


def _outside_years(values: pd.Series) -> np.ndarray:
    """Which values start with a year outside :data:`FIRST_DATE`..:data:`LAST_DATE`."""
    year = pd.to_numeric(values.str.slice(0, 4), errors="coerce")
    inside = year.between(FIRST_DATE.year, LAST_DATE.year)
    return ~inside.to_numpy(dtype=bool, na_value=True)


def _matching(values: pd.Series, pattern: str) -> np.ndarray:
    """Which values match ``pattern`` in full (False where missing)."""
    return values.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)


def _not_offered(
    department: pd.Series,
    collaboration: pd.Series,
    procedure: pd.Series,
    offered: pd.Index,
    known: pd.Index,
) -> np.ndarray:
    """Rows naming a known department that does not offer their collaboration and procedure."""
    keys = _service_keys(department, collaboration, procedure)
    return (
        keys.notna().to_numpy()
        & department.isin(known).to_numpy(dtype=bool)
        & ~keys.isin(offered).to_numpy(dtype=bool)
    )


def _service_keys(
    department: pd.Series, collaboration: pd.Series, procedure: pd.Series
) -> pd.Series:
    """One string per (department, collaboration, procedure); ``<NA>`` where any part is missing."""
    separator = "\x1f"
    return (
        department.astype(frames.STR)
        + separator
        + collaboration.astype(frames.STR)
        + separator
        + procedure.astype(frames.STR)
    )


def _all_values(check: TableCheck | None, column: str) -> pd.Index | None:
    """Every value a table gives in a column (invalid ones too, to avoid follow-on errors)."""
    if check is None or not check.has(column):
        return None
    return pd.Index(check.given(column).dropna().unique())


def _where(raw: RawTable, position: int) -> str:
    location = raw.location(position)
    return f"line {location}" if isinstance(location, int) else str(location)


def _unknown(kind: str, value: object, choices: tuple[str, ...]) -> str:
    suggestion = closest(str(value), choices)
    hint = f"; did you mean {suggestion!r}?" if suggestion else ""
    return f"unknown {kind} {value!r}{hint} (expected one of {', '.join(choices)})"


def _hint(value: object, known: pd.Index) -> str:
    if len(known) > 1000:  # a did-you-mean over a huge id list is slow and unhelpful
        return ""
    suggestion = closest(str(value), [str(k) for k in known])
    return f"; did you mean {suggestion!r}?" if suggestion else ""


def _not_a_number(value: object) -> str:
    hint = "; use a decimal point, not a comma" if "," in str(value) else ""
    return f"{value!r} is not a number{hint}"


def _outside(column: str, value: float, low: float, high: float, unit: str) -> str:
    if np.isinf(high):
        return f"{column} {value:g} is negative; it must be >= {low:g}"
    return f"{column} {value:g} is outside {low:g}..{high:g}" + (f" {unit}" if unit else "")


def _missing_column_message(column: str, present: Iterable[object], spec: Mapping[str, str]) -> str:
    extras = [str(c) for c in present if c not in spec]
    suggestion = closest(column, extras) if extras else None
    hint = f"; found {suggestion!r} - rename it to {column!r}?" if suggestion else ""
    return f"missing required column {column!r}{hint}"
