"""Current practice beside the solve: what the meeting's key figures compare the proposals with.

Each department serving its own list and referring only when its own first slot misses the
deadline (:func:`solver.baseline.current_practice`) is the counterfactual "without sharing". A
solve run stores its breaches and days late, overall and per home region, in the run's KPIs
(``kpis["baseline"]``), so the meeting shows the benefit of sharing without solving again.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from solver.baseline import current_practice
from solver.problem import Problem


def practice_summary(problem: Problem) -> dict[str, Any]:
    """Current practice's patients, unassigned, breaches and days late, in all and per home
    region (plain JSON values)."""
    frame = current_practice(problem)
    return {"method": "current_practice", **_counts(frame), "by_region": _by_region(frame)}


def _counts(frame: pd.DataFrame) -> dict[str, int]:
    return {
        "patients": len(frame),
        "unassigned": int((frame["action"] == "unassigned").sum()),
        "breaches": int(frame["breach"].sum()),
        "days_late": int(frame["days_late"].fillna(0).sum()),
    }


def _by_region(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    return {
        str(region): _counts(part)
        for region, part in frame.groupby(frame["home_region"].astype(str), sort=True)
    }
