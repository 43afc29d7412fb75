"""Readers for contract folders (CSV, or YAML/JSON equivalents) into a validated :class:`Dataset`.

Minimal first version: reads the four CSV files and casts them to the frame specs. Validation
with file/row/column errors, YAML/JSON and rule-computed deadlines are added by
:mod:`capacity.validation` and :mod:`capacity.rules`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capacity import frames
from capacity.frames import Dataset

TABLES = ("departments", "services", "capacity", "patients")


def _read_csv(path: Path, spec: dict[str, str]) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    raw = raw.replace({"": None})
    for name, dtype in spec.items():
        if name in raw.columns and dtype == frames.BOOL:
            raw[name] = raw[name].fillna("true").str.lower().eq("true")
        elif name in raw.columns and dtype in (frames.FLOAT, frames.INT):
            raw[name] = pd.to_numeric(raw[name])
    return raw


def read_folder(folder: str | Path) -> Dataset:
    """The dataset in a contract folder (departments, services, capacity, patients CSV files)."""
    root = Path(folder)
    tables = {}
    for table in TABLES:
        spec = frames.REQUIRED_COLUMNS[table] | frames.OPTIONAL_COLUMNS[table]
        tables[table] = frames.conform(_read_csv(root / f"{table}.csv", spec), spec)
    caps_path = root / "weekly_caps.csv"
    weekly_caps = (
        frames.conform(_read_csv(caps_path, frames.WEEKLY_CAPS), frames.WEEKLY_CAPS)
        if caps_path.exists()
        else frames.empty(frames.WEEKLY_CAPS)
    )
    return Dataset(weekly_caps=weekly_caps, source=str(root), **tables)
