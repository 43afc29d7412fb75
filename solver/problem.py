"""The solver's input: a validated dataset and the day the solve is made."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from capacity import frames
from capacity.frames import Dataset


class ProblemError(ValueError):
    """Input the solver cannot use (the message says which frame and column)."""


@dataclass(frozen=True)
class Problem:
    """Everything a solve needs: the contract's four frames, optional weekly caps, and today.

    Frames follow :mod:`capacity.frames`; ``patients.deadline`` must already be filled in by the
    rules for every active patient. Days before ``today`` are never used.
    """

    departments: pd.DataFrame
    services: pd.DataFrame
    capacity: pd.DataFrame
    patients: pd.DataFrame
    today: dt.date
    weekly_caps: pd.DataFrame = field(default_factory=lambda: frames.empty(frames.WEEKLY_CAPS))
    #: (patient_id, department_id) pairs that must not be proposed, e.g. referrals a chief
    #: physician rejected; a patient's own current booking stays eligible regardless.
    excluded_pairs: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"patient_id": pd.Series(dtype="string"), "department_id": pd.Series(dtype="string")}
        )
    )

    @classmethod
    def from_dataset(
        cls,
        dataset: Dataset,
        today: dt.date | str,
        excluded_pairs: pd.DataFrame | None = None,
    ) -> Problem:
        """A problem from a validated dataset and the solve's date (a date or ISO string)."""
        day = dt.date.fromisoformat(today) if isinstance(today, str) else today
        return cls(
            departments=dataset.departments,
            services=dataset.services,
            capacity=dataset.capacity,
            patients=dataset.patients,
            today=day,
            weekly_caps=dataset.weekly_caps,
            **({} if excluded_pairs is None else {"excluded_pairs": excluded_pairs}),
        )

    def __post_init__(self) -> None:
        for name, spec in (
            ("departments", frames.DEPARTMENTS),
            ("services", frames.SERVICES),
            ("capacity", frames.CAPACITY),
            ("patients", frames.PATIENTS),
        ):
            missing = [c for c in spec if c not in getattr(self, name).columns]
            if missing:
                raise ProblemError(f"{name}: missing columns {', '.join(missing)}")
