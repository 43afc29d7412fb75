"""Hypothesis strategies shared by the property tests: random small contract instances."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from capacity import frames
from solver.problem import Problem

TODAY = dt.date(2026, 11, 23)
SERVICES = [("lung", "surgery"), ("breast", "chemotherapy")]
REGIONS = ["Hovedstaden", "Sjælland", "Syddanmark"]


@st.composite
def instances(draw: st.DrawFn, late_options: bool = True) -> Problem:
    """A random contract instance: 2-5 departments, up to 14 patients, 10 days of slots.

    Without ``late_options`` every deadline lies after the last slot, so every option is in
    time (the capacity check's flow then equals the solver's placed count).
    """
    n_dept = draw(st.integers(2, 5))
    dept_rows = []
    for d in range(n_dept):
        provider = draw(st.sampled_from(["public", "public", "private", "foreign"]))
        dept_rows.append(
            {
                "department_id": f"D{d}",
                "name": f"Dept {d}",
                "hospital": f"Hospital {d}",
                "region": "DE" if provider == "foreign" else draw(st.sampled_from(REGIONS)),
                "provider_type": provider,
                "latitude": draw(st.floats(54.8, 57.5)),
                "longitude": draw(st.floats(8.2, 12.6)),
            }
        )
    service_rows, capacity_rows = [], []
    for d in range(n_dept):
        for collab, proc in SERVICES:
            if draw(st.booleans()):
                service_rows.append(
                    {
                        "department_id": f"D{d}",
                        "collaboration": collab,
                        "procedure": proc,
                        "price_dkk": float(draw(st.sampled_from([38000, 61000, 90000]))),
                    }
                )
                for day in draw(st.lists(st.integers(-2, 9), max_size=6)):
                    capacity_rows.append(
                        {
                            "department_id": f"D{d}",
                            "collaboration": collab,
                            "procedure": proc,
                            "date": pd.Timestamp(TODAY + dt.timedelta(days=day)),
                            "free_slots": draw(st.integers(0, 2)),
                        }
                    )
    offered = [(r["department_id"], r["collaboration"], r["procedure"]) for r in service_rows]
    patient_rows = []
    for i in range(draw(st.integers(1, 14))):
        collab, proc = draw(st.sampled_from(SERVICES))
        region = draw(st.sampled_from(REGIONS))
        booking = None
        own = [o for o in offered if o[1:] == (collab, proc)]
        if own and draw(st.integers(0, 2)) == 0:
            booking = (
                draw(st.sampled_from(own))[0],
                pd.Timestamp(TODAY + dt.timedelta(days=draw(st.integers(-1, 9)))),
            )
        status = draw(st.sampled_from(["active"] * 4 + ["paused_health", "paused_patient_wish"]))
        deadline = draw(st.integers(-4, 10)) if late_options else draw(st.integers(10, 20))
        patient_rows.append(
            {
                "patient_id": f"p{i}",
                "collaboration": collab,
                "procedure": proc,
                "home_region": region,
                "home_department_id": f"D{draw(st.integers(0, n_dept - 1))}",
                "latitude": draw(st.floats(54.8, 57.5)),
                "longitude": draw(st.floats(8.2, 12.6)),
                "earliest_date": pd.Timestamp(TODAY + dt.timedelta(days=draw(st.integers(-5, 6)))),
                "deadline": pd.Timestamp(TODAY + dt.timedelta(days=deadline)),
                "deadline_status": status,
                "booked_department_id": booking[0] if booking else None,
                "booked_date": booking[1] if booking else pd.NaT,
                "max_travel_km": draw(st.sampled_from([np.nan, np.nan, 80.0, 200.0])),
                "accepts_private": draw(st.booleans()),
                "accepts_foreign": draw(st.booleans()),
            }
        )
    return Problem(
        departments=frames.conform(pd.DataFrame(dept_rows), frames.DEPARTMENTS),
        services=frames.conform(
            pd.DataFrame(service_rows, columns=list(frames.SERVICES)), frames.SERVICES
        ),
        capacity=frames.conform(
            pd.DataFrame(capacity_rows, columns=list(frames.CAPACITY)), frames.CAPACITY
        ),
        patients=frames.conform(pd.DataFrame(patient_rows), frames.PATIENTS),
        today=TODAY,
    )
