"""The capacity check's words: region labels, figure titles and the notes it adds (English)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from reports.capacity_check.balance import ABROAD, ALL

#: How the country and foreign capacity are named in tables and figures.
REGION_LABELS: Final = {ALL: "Denmark (all)", ABROAD: "abroad"}

#: Titles and axis labels of the figures.
FIGURES: Final = {
    "utilisation_title": "Utilisation over the period",
    "utilisation_scale": "demand / declared capacity",
    "no_slots": "no slots",
    "weekly_title": "Weekly demand and declared capacity, Denmark",
    "weekly_capacity": "declared capacity",
    "weekly_demand": "demand",
    "weekly_axis": "week of the period",
    "spof_title": "Compliant flow lost if the department is removed",
    "spof_unit": "patients of the week's waiting list who could no longer be seen in time",
    "extra_title": "Breaches one more slot avoids (best day)",
    "extra_unit": "breaches avoided (mean over the analysed weeks)",
}


def region_label(region: str) -> str:
    """A region as the report shows it: the country and foreign capacity by name."""
    return REGION_LABELS.get(region, region)


def few_loads_note(loads_in_period: Sequence[str]) -> str:
    """The note on a database holding loads for fewer than half the period's weeks."""
    return (
        f"The database holds {len(loads_in_period)} weekly load(s) in the period "
        f"({', '.join(loads_in_period) or 'none'}): demand counts the stored patients in "
        "the weeks their deadlines fall in, so weeks without a load show declared capacity "
        "without demand and utilisation reads low. Load every week for a full-year check."
    )
