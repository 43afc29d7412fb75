"""Current practice, for comparison: each department serves its own list, referring reluctantly.

Patients are handled one by one in deadline order (paused clocks last), which is how a waiting
list is worked through by hand. A current booking stands. Otherwise the patient takes the home
department's first free slot; only if that misses the deadline is the patient referred, to the
nearest eligible department with a free slot that meets it. When nothing meets the deadline the
patient waits for the home department's first slot, or failing that the earliest slot anywhere.
The loop per patient is the point: it simulates sequential decisions, not an optimisation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.geo import great_circle_km
from solver.explain import kpis
from solver.problem import Problem
from solver.solve import Solution


def current_practice(problem: Problem) -> pd.DataFrame:
    """Per patient the slot current practice would give, with the columns KPIs are read from."""
    today = pd.Timestamp(problem.today)
    departments = problem.departments.reset_index(drop=True)
    dept_ids = departments["department_id"].astype(str).to_numpy()
    dept_pos = {d: i for i, d in enumerate(dept_ids)}
    patients = problem.patients.reset_index(drop=True)

    free: dict[tuple[str, str, str], dict[int, int]] = {}
    cap = problem.capacity[problem.capacity["date"] >= today]
    grouped = cap.groupby(["department_id", "collaboration", "procedure", "date"])["free_slots"]
    totals = grouped.sum()
    for key, slots in zip(totals.index.tolist(), totals.tolist(), strict=True):
        d, c, p, date = key
        free.setdefault((str(d), str(c), str(p)), {})[(pd.Timestamp(date) - today).days] = int(
            slots
        )
    offers: dict[tuple[str, str], list[int]] = {}
    for d, c, p in problem.services[["department_id", "collaboration", "procedure"]].itertuples(
        index=False
    ):
        if d in dept_pos:
            offers.setdefault((c, p), []).append(dept_pos[d])

    n = len(patients)
    chosen_dept = np.full(n, -1, dtype=np.int64)
    chosen_day = np.zeros(n, dtype=np.int64)
    deadline = ((patients["deadline"] - today).dt.days).to_numpy(np.float64)
    active = (patients["deadline_status"].astype(str) == "active").to_numpy() & ~np.isnan(deadline)
    deadline = np.where(active, deadline, np.inf)
    earliest = ((patients["earliest_date"] - today).dt.days).fillna(0).clip(lower=0)
    booked_day = ((patients["booked_date"] - today).dt.days).to_numpy(np.float64)
    booked = patients["booked_department_id"].notna().to_numpy() & (booked_day >= 0)

    for i in np.flatnonzero(booked):  # bookings stand; their slots are taken
        chosen_dept[i] = dept_pos.get(str(patients.at[i, "booked_department_id"]), -1)
        chosen_day[i] = int(booked_day[i])

    def first_free(chain: tuple[str, str, str], start: int) -> int | None:
        days = [day for day, slots in free.get(chain, {}).items() if slots > 0 and day >= start]
        return min(days) if days else None

    order = np.lexsort((earliest.to_numpy(), deadline))
    lat = departments["latitude"].to_numpy()
    lon = departments["longitude"].to_numpy()
    provider = departments["provider_type"].astype(str).to_numpy()
    # the patients' columns as plain arrays: the loop reads one value a patient, not a row
    p_collaboration = patients["collaboration"].astype(str).to_numpy()
    p_procedure = patients["procedure"].astype(str).to_numpy()
    p_lat = patients["latitude"].to_numpy(np.float64)
    p_lon = patients["longitude"].to_numpy(np.float64)
    p_limit = patients["max_travel_km"].to_numpy(np.float64, na_value=np.inf)
    p_private = patients["accepts_private"].to_numpy(bool)
    p_foreign = patients["accepts_foreign"].to_numpy(bool)
    p_home = patients["home_department_id"].astype(str).to_numpy()
    p_earliest = earliest.to_numpy(np.int64)
    for i in order:
        if booked[i]:
            continue
        service = (str(p_collaboration[i]), str(p_procedure[i]))
        candidates = np.array(offers.get(service, []), dtype=np.int64)
        km = great_circle_km(p_lat[i], p_lon[i], lat[candidates], lon[candidates])
        ok = km <= p_limit[i]
        ok &= (provider[candidates] != "private") | bool(p_private[i])
        ok &= (provider[candidates] != "foreign") | bool(p_foreign[i])
        candidates, km = candidates[ok], km[ok]
        start = int(p_earliest[i])
        slots = [first_free((dept_ids[d], *service), start) for d in candidates]
        home = str(p_home[i])
        home_at = [k for k, d in enumerate(candidates) if dept_ids[d] == home]
        pick = None
        if home_at and slots[home_at[0]] is not None and slots[home_at[0]] <= deadline[i]:
            pick = home_at[0]
        else:
            for k in np.argsort(km, kind="stable"):
                if slots[k] is not None and slots[k] <= deadline[i]:
                    pick = int(k)
                    break
        if pick is None and home_at and slots[home_at[0]] is not None:
            pick = home_at[0]
        if pick is None:
            options = [(s, km[k], k) for k, s in enumerate(slots) if s is not None]
            pick = min(options)[2] if options else None
        if pick is not None:
            d, day = int(candidates[pick]), int(slots[pick])  # type: ignore[arg-type]
            free[(dept_ids[d], *service)][day] -= 1
            chosen_dept[i], chosen_day[i] = d, day

    placed = chosen_dept >= 0
    d = np.maximum(chosen_dept, 0)
    late = np.where(placed & active, np.maximum(chosen_day - np.nan_to_num(deadline), 0), 0)
    price = problem.services.groupby(["department_id", "collaboration", "procedure"])[
        "price_dkk"
    ].min()
    keys = pd.MultiIndex.from_arrays(
        [dept_ids[d], patients["collaboration"].astype(str), patients["procedure"].astype(str)]
    )
    return pd.DataFrame(
        {
            "patient_id": patients["patient_id"].astype(str),
            "department_id": np.where(placed, dept_ids[d], ""),
            "date": np.where(
                placed, (today + pd.to_timedelta(chosen_day, unit="D")).strftime("%Y-%m-%d"), ""
            ),
            "days_late": np.where(placed, late, np.nan),
            "breach": placed & (late > 0),
            "action": np.where(booked, "keep", np.where(placed, "new", "unassigned")),
            "provider_type": np.where(placed, provider[d], ""),
            "region": np.where(placed, departments["region"].astype(str).to_numpy()[d], ""),
            "home_region": patients["home_region"].astype(str),
            "travel_km": np.where(
                placed,
                great_circle_km(patients["latitude"], patients["longitude"], lat[d], lon[d]),
                np.nan,
            ),
            "price_dkk": np.where(placed, price.reindex(keys).to_numpy(np.float64), np.nan),
        }
    )


def compare(baseline: pd.DataFrame, solution: Solution) -> pd.DataFrame:
    """Side by side: current practice against the optimised solve, with differences."""
    before, after = kpis(baseline), solution.kpis
    measures = [
        ("unassigned", "unassigned"),
        ("breaches", "breaches"),
        ("days late", "days_late"),
        ("bookings moved", "moved"),
        ("out of region", "out_of_region"),
        ("private", "private"),
        ("foreign", "foreign"),
        ("travel km", "travel_km_total"),
        ("cost DKK", "cost_dkk"),
    ]
    return pd.DataFrame(
        [
            {
                "measure": label,
                "baseline": float(before[key]),
                "optimised": float(after[key]),
                "difference": float(after[key]) - float(before[key]),
            }
            for label, key in measures
        ]
    )
