"""A solve run's proposals as typed records: one :class:`Proposal` per patient.

Built straight from the solution's proposals frame (no JSON round trip), stored one row each
in ``run_proposals`` (the record as JSON in its ``proposal`` column) and read back as records.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

#: Why an alternative was not chosen: the first tier it would worsen, or only the policy.
WhyNot = Literal["leaves_unassigned", "more_breaches", "more_days_late", "policy_only"]


class Alternative(BaseModel):
    """One option the solve did not choose for a patient, and what choosing it would cost
    (:func:`solver.alternatives.ranked_alternatives`): the cheapest slot of one department.

    The ``extra_*`` counts are the exact change of the whole solution's tiers if the patient
    were placed here instead (everyone else re-optimised): patients left without a slot,
    deadline breaches, total days late, policy points. ``why_not`` names the first tier that
    gets worse; for ``policy_only`` the facts say why the policy prefers the proposal:
    ``further_km`` (km further than the proposal, 0 when not), ``category_worse`` (a lower
    policy category: another region, private, abroad), ``booking_kept`` (the proposal keeps
    the patient's current booking).
    """

    model_config = ConfigDict(frozen=True)

    department_id: str
    date: str
    travel_km: float
    category: str
    extra_unassigned: int
    extra_breaches: int
    extra_days_late: int
    extra_points: int
    why_not: WhyNot
    further_km: float = 0.0
    category_worse: bool = False
    booking_kept: bool = False


class Proposal(BaseModel):
    """One patient's proposal with its reason: the contract's proposals.csv row and the
    columns a reviewer needs (scope, booking, category, price).

    Dates are ISO strings as in proposals.csv (``""`` where the patient is not placed).
    Columns the solver adds later are kept as they come (``extra="allow"``).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    patient_id: str
    department_id: str | None = None
    date: str | None = None
    deadline: str | None = None
    days_late: int | None = None
    provider_type: str | None = None
    travel_km: float | None = None
    action: str
    reason: str | None = None
    collaboration: str | None = None
    procedure: str | None = None
    home_region: str | None = None
    home_department_id: str | None = None
    region: str | None = None
    category: str | None = None
    breach: bool | None = None
    deadline_status: str | None = None
    booked_department_id: str | None = None
    booked_date: str | None = None
    price_dkk: float | None = None
    eligible_departments: int | None = None
    # The reason's structured facts (solver.explain.REASON_FACTS); None in runs stored before
    # they existed, whose ``reason`` is English text only.
    reason_code: (
        Literal["keep", "home", "away", "unassigned_no_department", "unassigned_crowded"] | None
    ) = None
    home_situation: str | None = None
    home_first_date: str | None = None
    late_cause: str | None = None
    declined: str | None = None
    travel_limit_km: float | None = None
    #: The best options not chosen (best first, one per department), stored for referrals
    #: away from home and moved bookings; None where not computed, [] where there is none.
    alternatives: list[Alternative] | None = None

    def as_json(self) -> dict[str, Any]:
        """The record as stored and as the API returns it (only the columns it came with)."""
        return self.model_dump(mode="json", exclude_unset=True)


def plain(value: Any) -> Any:
    """A numpy scalar as its Python value, NaN as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def proposals_of(frame: pd.DataFrame) -> list[Proposal]:
    """One record per row of a solution's proposals frame (missing values as None)."""
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [Proposal.model_validate({str(k): plain(v) for k, v in row.items()}) for row in records]
