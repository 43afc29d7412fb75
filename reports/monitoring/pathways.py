"""Completed pathways, the monitoring report's input: read from a file and validated, or taken
from simulated outcomes; every source ends as the same normalised frame (:data:`NORMALISED`).

A pathways file is checked with the contract validator's machinery (:mod:`capacity.validation`:
problems located at ``file:row:column``, collected per file up to a limit, raised together as
one :class:`~capacity.validation.ValidationFailed`; CSV read by :func:`capacity.io.read_csv`;
CPR-like pseudonyms recognised by :mod:`capacity.pseudonym`), with the pathway columns' own
rules and words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from capacity import calendar
from capacity.io import read_csv
from capacity.pseudonym import CPR_LIKE
from capacity.validation import ID_PATTERN, FileProblems, Problem, RawTable, ValidationFailed
from capacity.vocabulary import COLLABORATIONS, PROCEDURES, REGIONS, closest
from reports.monitoring.period import MonitoringError

#: Why a deadline was exceeded, as a pathways file states it (empty: within the deadline).
EXCEED_REASONS: Final = ("health", "patient_wish", "capacity", "not_complied")

#: Columns of a completed-pathways file, in order, with whether each must be filled in.
PATHWAY_COLUMNS: Final[dict[str, bool]] = {
    "patient_id": True,
    "collaboration": True,
    "procedure": True,
    "home_region": True,
    "deadline": True,
    "start_date": True,
    "exceed_reason": False,
    "department_id": False,
}
#: Pathways in a normalised frame (what every source is turned into).
NORMALISED: Final = (
    "patient_id",
    "collaboration",
    "procedure",
    "home_region",
    "department_id",
    "start_date",
    "days_exceeded",
    "category",
)
#: The table name a pathways file is read as.
TABLE: Final = "pathways"


def read_pathways(path: str | Path) -> pd.DataFrame:
    """Completed pathways from a CSV or Parquet file, validated; normalised (:data:`NORMALISED`).

    Every problem is reported at once as ``file:row:column: message`` (CSV rows by spreadsheet
    line, header = 1; Parquet rows by position, first = 1) in a :class:`ValidationFailed`.
    """
    file = Path(path)
    if not file.is_file():
        raise MonitoringError(f"{file}: no such file")
    if file.suffix.lower() in (".parquet", ".pq"):
        raw: RawTable | Problem = _read_parquet(file)
    else:
        raw = read_csv(file, TABLE)
    if isinstance(raw, Problem):
        raise ValidationFailed([raw])
    return check_pathways(raw)


def _read_parquet(file: Path) -> RawTable:
    """A Parquet file as a string table (dates ``YYYY-MM-DD``), rows located 1, 2, ..."""
    frame = pd.read_parquet(file).reset_index(drop=True)
    frame = frame.astype(object).where(frame.notna(), None)
    frame = frame.map(lambda v: None if v is None else _plain_text(v))
    return RawTable(TABLE, file.name, frame, np.arange(1, len(frame) + 1))


def _plain_text(value: Any) -> str:
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def check_pathways(raw: RawTable) -> pd.DataFrame:
    """A pathways table as read (strings), checked column by column; the normalised pathways,
    or :class:`ValidationFailed` listing every problem found."""
    found = FileProblems(raw)
    frame = raw.frame
    missing = [c for c, required in PATHWAY_COLUMNS.items() if required and c not in frame]
    for column in missing:
        found.add(
            column,
            f"missing column; a pathways file needs {', '.join(PATHWAY_COLUMNS)}"
            + _did_you_mean(column, list(frame.columns)),
            row=1,
        )
    if missing:
        raise ValidationFailed(found.problems())
    text = {
        c: frame[c].astype("string").str.strip() if c in frame.columns else None
        for c in PATHWAY_COLUMNS
    }
    for column, required in PATHWAY_COLUMNS.items():
        values = text[column]
        if required and values is not None:
            found.at(
                values.isna() | (values == ""), column, lambda _p: "empty; a value is required"
            )
    patient = text["patient_id"]
    assert patient is not None
    cpr = patient.str.contains(CPR_LIKE, regex=True).fillna(False).to_numpy(dtype=bool)
    found.at(
        patient.notna().to_numpy() & ~patient.fillna("").str.fullmatch(ID_PATTERN) & ~cpr,
        "patient_id",
        lambda p: (
            f"{patient.iloc[p]!r} is not a pseudonym (letters, digits, '.', '_', '-'; at most 64)"
        ),
    )
    found.at(
        cpr,
        "patient_id",
        lambda _p: "looks like a CPR number; use the pseudonym the contract asks for",
    )
    for column, choices in (
        ("collaboration", COLLABORATIONS),
        ("procedure", PROCEDURES),
        ("home_region", REGIONS),
    ):
        values = text[column]
        assert values is not None
        found.at(values.notna() & ~values.isin(choices), column, _describe_unknown(values, choices))
    dates = {}
    for column in ("deadline", "start_date"):
        values = text[column]
        assert values is not None
        parsed = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
        found.at(values.notna() & parsed.isna(), column, _describe_not_date(values))
        dates[column] = parsed
    late = (dates["start_date"] - dates["deadline"]).dt.days
    reason = text["exceed_reason"]
    if reason is None:
        reason = pd.Series(pd.NA, index=frame.index, dtype="string")
    found.at(
        reason.notna() & ~reason.isin(EXCEED_REASONS),
        "exceed_reason",
        lambda p: (
            _unknown(reason.iloc[p], EXCEED_REASONS) + "; leave it empty when within the deadline"
        ),
    )
    found.at(
        (late > 0).fillna(False) & reason.isna(),
        "exceed_reason",
        lambda p: (
            f"empty, but the start is {int(late.iloc[p])} days after the deadline; say why: "
            + ", ".join(EXCEED_REASONS)
        ),
    )
    found.at(
        (late <= 0).fillna(False) & reason.notna(),
        "exceed_reason",
        lambda p: f"{reason.iloc[p]!r}, but the start is not after the deadline; leave it empty",
    )
    keys = ["patient_id", "collaboration", "procedure", "start_date"]
    duplicate = frame[keys].duplicated(keep="first") & frame[keys].notna().all(axis=1)
    found.at(
        duplicate,
        "patient_id",
        lambda p: f"{patient.iloc[p]!r} has this collaboration, procedure and start date already",
    )
    problems = found.problems()
    if problems:
        raise ValidationFailed(problems)
    department = text["department_id"]
    return normalised(
        pd.DataFrame(
            {
                "patient_id": patient,
                "collaboration": text["collaboration"],
                "procedure": text["procedure"],
                "home_region": text["home_region"],
                "department_id": department if department is not None else pd.NA,
                "start_date": dates["start_date"],
                "days_exceeded": late.clip(lower=0).astype(np.int64),
                "category": reason.fillna("within").astype(str),
            }
        )
    )


def _describe_unknown(values: pd.Series, choices: Sequence[str]) -> Callable[[int], str]:
    return lambda position: _unknown(values.iloc[position], choices)


def _describe_not_date(values: pd.Series) -> Callable[[int], str]:
    return lambda position: f"{values.iloc[position]!r} is not a date; expected YYYY-MM-DD"


def _unknown(value: object, choices: Sequence[str]) -> str:
    hint = closest(str(value), tuple(choices))
    suggestion = f"; did you mean {hint!r}?" if hint else ""
    return f"{value!r} is not one of {', '.join(choices)}{suggestion}"


def _did_you_mean(column: str, present: list[str]) -> str:
    hint = closest(column, present)
    return f" (did you mean to rename {hint!r}?)" if hint and hint != column else ""


def normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """Pathways with the :data:`NORMALISED` columns in order and their dtypes."""
    out = frame.reindex(columns=list(NORMALISED))
    for column in ("patient_id", "collaboration", "procedure", "home_region", "department_id"):
        out[column] = out[column].astype("string")
    out["start_date"] = pd.to_datetime(out["start_date"]).astype("datetime64[ns]")
    out["days_exceeded"] = out["days_exceeded"].astype(np.int64)
    out["category"] = out["category"].astype(str)
    return out.reset_index(drop=True)


def pathways_from_run(run: Any, replication: int = 0) -> pd.DataFrame:
    """The treated patients of one replication of a scenario run as normalised pathways.

    The simulation treats by week: ``start_date`` is the Monday of the week of treatment.
    Reasons map to the national categories: health and the patient's wish as such; a capacity
    exceedance counts as *capacity, offered referral* when the run's policy shared capacity
    across regions (the solver searched every region, private and foreign option, so the offer
    made was the best there was), and as *rules not complied* when it did not (the duty to offer
    referral to another region was not met).
    """
    patients = run.patients[run.patients["replication"] == replication]
    if patients.empty:
        held = sorted(int(r) for r in run.patients["replication"].unique())
        raise MonitoringError(
            f"the run has no treated patients in replication {replication}; it holds {held}"
        )
    weeks = (
        run.weekly[run.weekly["replication"] == replication]
        .set_index("week")["week_label"]
        .astype(str)
    )
    monday = weeks.map(calendar.week_monday)
    sharing = bool(run.scenario.solver_policy().allow_cross_region)
    return pathways_from_outcomes(patients, monday, sharing)


def pathways_from_outcomes(
    patients: pd.DataFrame, monday_of_week: pd.Series, cross_region: bool
) -> pd.DataFrame:
    """Simulated outcomes (``scenarios.simulate.PATIENT_COLUMNS``) as normalised pathways.

    A capacity exceedance is *capacity, offered referral* when an offer of referral away from
    home was made on or before the legal deadline (``offered_in_time``) and *rules not
    complied* when none was. Outcomes saved before that column existed fall back to the run's
    policy: offered when it shared capacity across regions, not complied when it did not.
    """
    reason = patients["exceed_reason"].astype(str)
    named = reason.map({"within": "within", "health": "health", "wish": "patient_wish"})
    if "offered_in_time" in patients:
        offered = patients["offered_in_time"].fillna(False).to_numpy(dtype=bool)
    else:
        offered = np.full(len(patients), cross_region, dtype=bool)
    capacity = np.where(offered, "capacity", "not_complied")
    category = pd.Series(
        np.where(reason == "capacity", capacity, named.to_numpy(dtype=object)),
        index=reason.index,
    )
    return normalised(
        pd.DataFrame(
            {
                "patient_id": patients["patient_id"].to_numpy(),
                "collaboration": patients["collaboration"].to_numpy(),
                "procedure": patients["procedure"].to_numpy(),
                "home_region": patients["home_region"].to_numpy(),
                "department_id": patients["department_id"].to_numpy(),
                "start_date": pd.to_datetime(
                    patients["treated_week"].map(monday_of_week).to_numpy()
                ),
                "days_exceeded": patients["days_late"].to_numpy(dtype=np.int64),
                "category": category.to_numpy(),
            }
        )
    )
