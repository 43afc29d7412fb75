"""An independent reference for tiers 1-3: the contract's semantics as a plain MILP.

Written straight from ../shared/contract/exchange-formats.md with Python loops (small instances
only) and solved with scipy's HiGHS in three lexicographic stages. It shares no code with the
solver except the distance formula's constants, so agreement is evidence, not tautology.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(max(a, 0.0), 1.0)))


def _date(value: object) -> dt.date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


@dataclass(frozen=True)
class ReferenceTiers:
    unassigned: int
    breaches: int
    days_late: int


def reference_tiers(
    departments: pd.DataFrame,
    services: pd.DataFrame,
    capacity: pd.DataFrame,
    patients: pd.DataFrame,
    today: dt.date,
) -> ReferenceTiers:
    """Optimal (unassigned, breaches, days late) by a three-stage MILP over patient-slot pairs."""
    dept = {r.department_id: r for r in departments.itertuples()}
    offers = {(r.department_id, r.collaboration, r.procedure) for r in services.itertuples()}
    slots: dict[tuple[str, str, str, dt.date], int] = {}
    for r in capacity.itertuples():
        day = _date(r.date)
        if day is not None and day >= today:
            key = (r.department_id, r.collaboration, r.procedure, day)
            slots[key] = slots.get(key, 0) + int(r.free_slots)
    for r in patients.itertuples():
        booked_day = _date(r.booked_date)
        if isinstance(r.booked_department_id, str) and booked_day and booked_day >= today:
            key = (r.booked_department_id, r.collaboration, r.procedure, booked_day)
            slots[key] = slots.get(key, 0) + 1

    options: list[tuple[int, tuple[str, str, str, dt.date], int, int]] = []
    for i, p in enumerate(patients.itertuples()):
        earliest = _date(p.earliest_date) or today
        deadline = _date(p.deadline)
        active = p.deadline_status == "active" and deadline is not None
        booked_day = _date(p.booked_date)
        limit = p.max_travel_km if not pd.isna(p.max_travel_km) else math.inf
        for key, free in slots.items():
            d_id, collab, proc, day = key
            if free <= 0 or collab != p.collaboration or proc != p.procedure:
                continue
            own = (
                isinstance(p.booked_department_id, str)
                and d_id == p.booked_department_id
                and day == booked_day
            )
            d = dept[d_id]
            eligible = (
                (d_id, collab, proc) in offers
                and day >= today
                and day >= earliest
                and (d.provider_type != "private" or bool(p.accepts_private))
                and (d.provider_type != "foreign" or bool(p.accepts_foreign))
                and _km(p.latitude, p.longitude, d.latitude, d.longitude) <= limit
            )
            if eligible or own:
                late = max(0, (day - deadline).days) if active else 0
                options.append((i, key, int(late > 0), late))

    n, m = len(patients), len(options)
    keys = list(slots)
    key_index = {k: j for j, k in enumerate(keys)}
    # variables: x_0..x_{m-1}, then u_0..u_{n-1}
    a_assign = lil_matrix((n, m + n))
    a_cap = lil_matrix((len(keys), m + n))
    for j, (i, key, _, _) in enumerate(options):
        a_assign[i, j] = 1
        a_cap[key_index[key], j] = 1
    for i in range(n):
        a_assign[i, m + i] = 1
    constraints = [
        LinearConstraint(a_assign.tocsr(), 1, 1),
        LinearConstraint(a_cap.tocsr(), 0, np.array([slots[k] for k in keys], dtype=float)),
    ]
    objectives = [
        np.r_[np.zeros(m), np.ones(n)],
        np.r_[np.array([o[2] for o in options], dtype=float), np.zeros(n)],
        np.r_[np.array([o[3] for o in options], dtype=float), np.zeros(n)],
    ]
    values = []
    for objective in objectives:
        result = milp(
            objective,
            constraints=constraints,
            integrality=np.ones(m + n),
            bounds=Bounds(0, 1),
        )
        assert result.success, result.message
        best = round(result.fun)
        values.append(best)
        constraints.append(LinearConstraint(objective.reshape(1, -1), -np.inf, best + 0.5))
    return ReferenceTiers(*values)
