"""Renderings of a solution for files: the contract's proposals.csv and a JSON explanation."""

from __future__ import annotations

import dataclasses
import html
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


def solution_json(solution: Solution, alternatives: pd.DataFrame | None = None) -> str:
    """The whole solution as JSON: tiers, proof, KPIs, every proposal with its reason.

    With ``alternatives``, reviewed proposals also carry the best option not chosen and why.
    """
    frame = solution.proposals
    if alternatives is not None and len(alternatives):
        frame = frame.merge(alternatives, on="patient_id", how="left")
    records = frame.astype(object).where(frame.notna(), None)
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


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return html.escape(str(value))


def solution_html(
    solution: Solution, alternatives: pd.DataFrame | None = None, title: str = "Proposals"
) -> str:
    """A self-contained, printable HTML page: tiers, proof, KPIs, proposals with reasons.

    With ``alternatives`` (from :func:`solver.alternatives.best_alternatives`), each reviewed
    proposal also shows the best option not chosen and why not.
    """
    frame = solution.proposals.copy()
    if alternatives is not None and len(alternatives):
        frame = frame.merge(alternatives, on="patient_id", how="left")
    columns = [
        ("patient_id", "Patient"),
        ("collaboration", "Collaboration"),
        ("procedure", "Procedure"),
        ("action", "Action"),
        ("department_id", "Department"),
        ("date", "Date"),
        ("deadline", "Deadline"),
        ("days_late", "Days late"),
        ("provider_type", "Provider"),
        ("travel_km", "km"),
        ("reason", "Reason"),
    ]
    if "why_not" in frame.columns:
        columns += [("alternative_department_id", "Best alternative"), ("why_not", "Why not")]
    k = solution.kpis
    kpi_rows = "".join(
        f"<tr><th scope='row'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in [
            ("Patients", f"{k['patients']}"),
            ("Unassigned (tier 1)", f"{solution.tiers.unassigned}"),
            ("Breaches (tier 2)", f"{solution.tiers.breaches}"),
            ("Days late (tier 3)", f"{solution.tiers.days_late}"),
            ("Kept / moved / new", f"{k['kept']} / {k['moved']} / {k['new']}"),
            (
                "Out of region / private / foreign",
                f"{k['out_of_region']} / {k['private']} / {k['foreign']}",
            ),
            ("Travel", f"{k['travel_km_total']:,.0f} km (mean {k['travel_km_mean']:.1f} km)"),
            ("Cost", f"{k['cost_dkk']:,.0f} DKK"),
            (
                "Optimality of tiers 1-3",
                f"{solution.proof.method}; certificate {solution.proof.certificate}",
            ),
        ]
    )
    head = "".join(f"<th scope='col'>{html.escape(label)}</th>" for _, label in columns)
    body = "".join(
        "<tr class='"
        + _cell(row.get("action"))
        + "'>"
        + "".join(f"<td>{_cell(row.get(name))}</td>" for name, _ in columns)
        + "</tr>"
        for row in frame.to_dict(orient="records")
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #111; }}
table {{ border-collapse: collapse; margin-bottom: 1.5rem; }}
th, td {{ border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; vertical-align: top; }}
thead th {{ background: #eef; position: sticky; top: 0; }}
tr.move td, tr.new td {{ background: #fffbe6; }} tr.unassigned td {{ background: #fde8e8; }}
@media print {{ thead th {{ position: static; }} body {{ margin: 0; font-size: 11px; }} }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<table aria-label="Key figures">{kpi_rows}</table>
<table aria-label="Proposals"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
</body></html>
"""
