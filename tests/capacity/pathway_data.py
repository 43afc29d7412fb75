"""Random pathway event files whose categories are known by construction (for tests)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import numpy as np

from capacity.vocabulary import REGIONS

CASES = ("within", "health", "patient_wish", "capacity", "not_complied")
TYPES = ("investigation", "primary", "follow_on")


def write_events(path: Path, pathways: int, seed: int = 1) -> Counter[tuple[str, str]]:
    """Write ``pathways`` pathways as events; the expected (type, category) counts."""
    rng = np.random.default_rng(seed)
    expected: Counter[tuple[str, str]] = Counter()
    lines = ["patient_id,collaboration,procedure,home_region,event,date,department_id,detail"]
    first = dt.date(2026, 6, 1)
    for i in range(pathways):
        kind = TYPES[int(rng.integers(3))]
        case = CASES[int(rng.choice(5, p=[0.8, 0.06, 0.06, 0.05, 0.03]))]
        region = REGIONS[int(rng.integers(len(REGIONS)))]
        pid = f"q{i:07d}"
        clock = first + dt.timedelta(days=int(rng.integers(0, 120)))
        procedure = "pre_examination" if kind == "investigation" else "chemotherapy"
        limit = 28 if kind == "primary" else 14
        deadline = clock + dt.timedelta(days=limit)
        late = int(rng.integers(1, 20))
        start = (
            deadline - dt.timedelta(days=int(rng.integers(0, 10)))
            if case == "within"
            else (deadline + dt.timedelta(days=late))
        )

        def add(
            event: str,
            day: dt.date,
            dept: str = "",
            p: str = procedure,
            pid: str = pid,
            region: str = region,
        ) -> None:
            lines.append(f"{pid},lung,{p},{region},{event},{day.isoformat()},{dept},")

        if kind == "follow_on":
            add("referral_received", clock - dt.timedelta(days=40), p="surgery")
            add("started", clock - dt.timedelta(days=20), "AUH-LUN", p="surgery")
            add("followon_referral", clock)
        else:
            add("referral_received", clock)
        if case == "health":
            add("paused_health", clock + dt.timedelta(days=2))
            add("resumed", clock + dt.timedelta(days=9))
        elif case == "patient_wish":
            add("offer_made", clock + dt.timedelta(days=3), "RH-LUN")
            add("offer_declined", clock + dt.timedelta(days=4), "RH-LUN")
        elif case == "capacity":
            add("offer_made", deadline - dt.timedelta(days=1), "RH-LUN")
        elif case == "not_complied" and rng.random() < 0.5:
            add("offer_made", deadline + dt.timedelta(days=1), "RH-LUN")  # too late
        add("started", start, "AAUH-LUN")
        expected[(kind, case)] += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return expected
