"""Renderings of a solution for files: the contract's proposals.csv and a JSON explanation."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pandas as pd

from capacity import frames
from solver.solve import Solution

#: Extra columns written after the contract's, for reviewers and spreadsheets.
EXTRA_COLUMNS = (
    "collaboration",
    "procedure",
    "home_department_id",
    "category",
    "breach",
    "deadline_status",
    "booked_department_id",
    "booked_date",
    "price_dkk",
)


def proposals_csv(solution: Solution) -> str:
    """proposals.csv text: one row per patient, the contract's columns first, then extras."""
    frame = solution.proposals.loc[:, list(frames.PROPOSALS) + list(EXTRA_COLUMNS)].copy()
    frame["travel_km"] = [f"{v:.1f}" if v == v else "" for v in frame["travel_km"]]
    frame["breach"] = np.where(frame["breach"], "true", "false")
    frame["price_dkk"] = frame["price_dkk"].map(lambda v: f"{v:.0f}" if v == v else "")
    return frame.to_csv(index=False, lineterminator="\n", na_rep="")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def solution_json(solution: Solution) -> str:
    """The whole solution as JSON: tiers, proof, KPIs and every proposal with its reason."""
    records = solution.proposals.astype(object).where(solution.proposals.notna(), None)
    payload = {
        "tiers": dataclasses.asdict(solution.tiers),
        "proof": dataclasses.asdict(solution.proof),
        "kpis": {k: _plain(v) for k, v in solution.kpis.items()},
        "timings": solution.timings,
        "proposals": [
            {k: _plain(v) for k, v in row.items()} for row in records.to_dict(orient="records")
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=1, default=str)


def summary_table(solution: Solution, limit: int = 15) -> pd.DataFrame:
    """The proposals a reviewer looks at first: moves and new referrals away from home."""
    frame = solution.proposals
    interesting = frame[
        (frame["action"].isin(["move", "unassigned"]))
        | ((frame["action"] == "new") & (frame["category"] != "home_department"))
    ]
    order = interesting.sort_values(["action", "deadline"], kind="stable")
    return order.head(limit)[
        ["patient_id", "action", "department_id", "date", "deadline", "days_late", "reason"]
    ]
