"""Readers for contract folders (CSV, YAML or JSON files) into a validated :class:`Dataset`.

A folder holds one file per table: ``departments``, ``services``, ``capacity``, ``patients`` and
optionally ``weekly_caps``, each as ``.csv`` or as ``.yaml``/``.yml``/``.json`` (a list of records
with the CSV's column names); formats may be mixed. Reading only turns files into string tables;
:mod:`capacity.validation` checks and types them and :mod:`capacity.rules` fills in deadlines.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import yaml

from capacity import frames
from capacity.frames import Dataset
from capacity.rules import Rules, load_rules
from capacity.validation import Problem, RawTable, ValidationFailed, validate_tables

TABLES: Final = ("departments", "services", "capacity", "patients")
OPTIONAL_TABLES: Final = ("weekly_caps",)
FORMATS: Final = ("csv", "yaml", "yml", "json")
#: Scalars a YAML file may write for "not given" (the YAML is read without type guessing).
YAML_EMPTY: Final = frozenset({"", "~", "null", "Null", "NULL"})

try:
    _YamlLoader: Any = yaml.CBaseLoader
except AttributeError:  # PyYAML built without libyaml
    _YamlLoader = yaml.BaseLoader


def read_folder(folder: str | Path, rules: Rules | None = None) -> Dataset:
    """The validated dataset in a contract folder, with missing deadlines computed by ``rules``.

    Raises :class:`ValidationFailed` listing every problem across all files; nothing partial is
    returned. ``rules`` defaults to the bundled maximum waiting times (:func:`load_rules`).
    """
    root = Path(folder)
    if not root.is_dir():
        raise ValidationFailed(
            [Problem(str(root), None, None, "not a folder; give a contract folder's path")]
        )
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    for table in TABLES + OPTIONAL_TABLES:
        candidates = [
            root / f"{table}.{ext}" for ext in FORMATS if (root / f"{table}.{ext}").is_file()
        ]
        if not candidates:
            if table in TABLES:
                problems.append(
                    Problem(
                        f"{table}.csv",
                        None,
                        None,
                        f"missing: a contract folder needs {table}.csv (or .yaml, .yml, .json)",
                    )
                )
            continue
        if len(candidates) > 1:
            names = ", ".join(path.name for path in candidates)
            problems.append(
                Problem(candidates[0].name, None, None, f"{names} all hold {table}; keep one file")
            )
            continue
        read = read_table(candidates[0], table)
        if isinstance(read, Problem):
            problems.append(read)
        else:
            tables[table] = read
    typed, found = validate_tables(tables, rules if rules is not None else load_rules())
    problems.extend(found)
    if problems:
        raise ValidationFailed(problems)
    return Dataset(
        departments=typed["departments"],
        services=typed["services"],
        capacity=typed["capacity"],
        patients=typed["patients"],
        weekly_caps=typed.get("weekly_caps", frames.empty(frames.WEEKLY_CAPS)),
        source=str(root),
    )


def read_table(path: Path, table: str) -> RawTable | Problem:
    """One table's file as strings (``<NA>`` where not given), or the problem that stops reading."""
    if path.suffix == ".csv":
        return read_csv(path, table)
    return read_records(path, table)


def read_csv(path: Path, table: str) -> RawTable | Problem:
    """A CSV file as a string table; each row keeps its spreadsheet line (header = line 1)."""
    try:
        frame = pd.read_csv(
            path,
            dtype=frames.STR,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            encoding="utf-8-sig",
        )
    except UnicodeDecodeError:
        return _not_utf8(path)
    except pd.errors.EmptyDataError:
        return Problem(path.name, None, None, "the file is empty; expected a header row")
    except pd.errors.ParserError as error:
        return _unparsable_csv(path, error)
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame.columns) == 1 and ";" in frame.columns[0]:
        return Problem(
            path.name,
            1,
            None,
            "columns are separated by ';'; the contract uses ',' "
            "(in Excel: save as 'CSV UTF-8 (comma delimited)')",
        )
    # Blank lines are dropped but counted, so lines stay those a spreadsheet shows.
    blank = frame.isna().all(axis=1).to_numpy()
    lines = np.arange(2, len(frame) + 2)[~blank]
    return RawTable(table, path.name, frame[~blank].reset_index(drop=True), lines)


def read_records(path: Path, table: str) -> RawTable | Problem:
    """A YAML or JSON file holding a list of records, as a string table located by ``$[i]``."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return _not_utf8(path)
    is_json = path.suffix == ".json"
    try:
        records = json.loads(text) if is_json else yaml.load(text, Loader=_YamlLoader)
    except json.JSONDecodeError as error:
        return Problem(path.name, error.lineno, None, f"not valid JSON: {error.msg}")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return Problem(path.name, line, None, f"not valid YAML: {getattr(error, 'problem', error)}")
    if records is None:
        records = []
    if not isinstance(records, list):
        return Problem(path.name, None, None, f"expected a list of {table} records (one per row)")
    not_mappings = [i for i, record in enumerate(records) if not isinstance(record, dict)]
    if not_mappings:
        return Problem(
            path.name,
            f"$[{not_mappings[0]}]",
            None,
            f"expected a record (field: value mapping); {len(not_mappings)} entries are not",
        )
    if not records:
        spec = frames.REQUIRED_COLUMNS[table] | frames.OPTIONAL_COLUMNS[table]
        return RawTable(
            table, path.name, pd.DataFrame({c: pd.Series(dtype=frames.STR) for c in spec})
        )
    raw = pd.DataFrame.from_records(records)
    frame = pd.DataFrame(
        {
            str(name): _as_text(raw[name], empty=None if is_json else YAML_EMPTY)
            for name in raw.columns
        }
    )
    return RawTable(table, path.name, frame)


def _as_text(values: pd.Series, empty: frozenset[str] | None) -> pd.Series:
    """Record values as the strings a CSV file would hold (``true``/``false``, ISO numbers)."""
    text = values.map(_scalar_text, na_action="ignore").astype(frames.STR)
    if empty is not None:
        text = text.mask(text.isin(empty))
    return text.mask(text.eq(""))


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _not_utf8(path: Path) -> Problem:
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        return Problem(
            path.name,
            line,
            None,
            f"not UTF-8: byte 0x{byte} cannot be decoded (Latin-1/Windows-1252 æ, ø, å?);"
            " save the file as UTF-8 (in Excel: 'CSV UTF-8 (comma delimited)')",
        )
    return Problem(path.name, None, None, "not UTF-8; save the file as UTF-8")


def _unparsable_csv(path: Path, error: pd.errors.ParserError) -> Problem:
    message = str(error)
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if fields is None:
        return Problem(path.name, None, None, f"cannot be read as CSV: {message.strip()}")
    expected, line, saw = (int(group) for group in fields.groups())
    return Problem(
        path.name,
        line,
        None,
        f"{saw} values where the header has {expected}; quote values that contain a comma",
    )
