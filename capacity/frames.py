"""Column specifications and the validated dataset: the typed frames every layer exchanges.

Column names are the contract's vocabulary (../shared/contract/exchange-formats.md), the same in
CSV files, DataFrames, database tables and API fields. Dates are ``datetime64[ns]`` at midnight;
missing dates are ``NaT``, missing numbers ``NaN``, missing strings ``<NA>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, cast

import pandas as pd

STR: Final = "string"
FLOAT: Final = "float64"
INT: Final = "int64"
DATE: Final = "datetime64[ns]"
BOOL: Final = "bool"

#: Required columns of each contract file, with their dtypes.
DEPARTMENTS: Final[dict[str, str]] = {
    "department_id": STR,
    "name": STR,
    "hospital": STR,
    "region": STR,
    "provider_type": STR,
    "latitude": FLOAT,
    "longitude": FLOAT,
}
SERVICES: Final[dict[str, str]] = {
    "department_id": STR,
    "collaboration": STR,
    "procedure": STR,
    "price_dkk": FLOAT,
}
CAPACITY: Final[dict[str, str]] = {
    "department_id": STR,
    "collaboration": STR,
    "procedure": STR,
    "date": DATE,
    "free_slots": INT,
}
PATIENTS: Final[dict[str, str]] = {
    "patient_id": STR,
    "collaboration": STR,
    "procedure": STR,
    "home_region": STR,
    "home_department_id": STR,
    "latitude": FLOAT,
    "longitude": FLOAT,
    "earliest_date": DATE,
    "deadline": DATE,
    "deadline_status": STR,
    "booked_department_id": STR,
    "booked_date": DATE,
    "max_travel_km": FLOAT,
    "accepts_private": BOOL,
    "accepts_foreign": BOOL,
}
#: Optional patient columns: clock dates from which the rules compute a missing deadline, and
#: the name of the rule that produced the deadline (filled in by :mod:`capacity.rules`).
PATIENT_CLOCKS: Final[dict[str, str]] = {
    "clock_start": DATE,
    "referral_received": DATE,
    "consent_date": DATE,
    "referral_to_treatment": DATE,
    "followon_referral": DATE,
    "deadline_rule": STR,
}
#: Optional ``weekly_caps.csv``: at most ``max_slots`` placements at a department's service in an
#: ISO week (``week`` as ``YYYY-Www``), across the week's declared days.
WEEKLY_CAPS: Final[dict[str, str]] = {
    "department_id": STR,
    "collaboration": STR,
    "procedure": STR,
    "week": STR,
    "max_slots": INT,
}

#: Columns of proposals.csv, in the contract's order.
PROPOSALS: Final[tuple[str, ...]] = (
    "patient_id",
    "department_id",
    "date",
    "deadline",
    "days_late",
    "provider_type",
    "travel_km",
    "action",
    "reason",
)

#: The optional columns a contract file may have beyond its required ones (all tables).
OPTIONAL_COLUMNS: Final[dict[str, dict[str, str]]] = {
    "departments": {},
    "services": {},
    "capacity": {},
    "patients": PATIENT_CLOCKS,
    "weekly_caps": {},
}
REQUIRED_COLUMNS: Final[dict[str, dict[str, str]]] = {
    "departments": DEPARTMENTS,
    "services": SERVICES,
    "capacity": CAPACITY,
    "patients": PATIENTS,
    "weekly_caps": WEEKLY_CAPS,
}


def empty(spec: dict[str, str]) -> pd.DataFrame:
    """An empty frame with the spec's columns and dtypes."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in spec.items()})


def conform(frame: pd.DataFrame, spec: dict[str, str]) -> pd.DataFrame:
    """The frame with the spec's columns, in order, cast to their dtypes (extra columns kept last).

    Missing optional columns are added empty. Values must already be parseable: this casts, it
    does not validate (see :mod:`capacity.validation`).
    """
    out = frame.copy()
    for name, dtype in spec.items():
        if name not in out.columns:
            out[name] = pd.Series(index=out.index, dtype=dtype)
        elif dtype == DATE:
            out[name] = pd.to_datetime(out[name]).astype(DATE)
        elif str(out[name].dtype) != dtype:
            out[name] = out[name].astype(cast(Any, dtype))
    ordered = list(spec) + [c for c in out.columns if c not in spec]
    return out[ordered].reset_index(drop=True)


@dataclass(frozen=True)
class Dataset:
    """A validated contract folder: departments, services, capacity declarations and patients.

    Every frame has the columns of its spec above with explicit dtypes; ``patients`` also has
    :data:`PATIENT_CLOCKS` and a filled-in ``deadline`` for every row whose clock dates allowed
    one. ``weekly_caps`` is empty when the folder declares none.
    """

    departments: pd.DataFrame
    services: pd.DataFrame
    capacity: pd.DataFrame
    patients: pd.DataFrame
    weekly_caps: pd.DataFrame = field(default_factory=lambda: empty(WEEKLY_CAPS))
    source: str = ""
