"""Per-service scenario KPIs: the question is asked per collaboration, so it is answered so."""

from __future__ import annotations

import pandas as pd

from scenarios.kpis import by_service, per_service


def _patients() -> pd.DataFrame:
    rows = [
        # replication, collaboration, procedure, reason, days late
        (0, "upper_gi", "surgery", "capacity", 4),
        (0, "upper_gi", "surgery", "within", 0),
        (1, "upper_gi", "surgery", "within", 0),
        (0, "lung", "surgery", "health", 2),
        (1, "lung", "surgery", "within", 0),
    ]
    return pd.DataFrame(
        [
            {
                "replication": r,
                "patient_id": f"p{i}",
                "collaboration": c,
                "procedure": p,
                "exceed_reason": reason,
                "days_late": late,
            }
            for i, (r, c, p, reason, late) in enumerate(rows)
        ]
    )


def test_per_service_counts_zero_for_replications_without_patients() -> None:
    """A replication in which a service had no exceedance counts 0, not missing."""
    per = per_service(_patients())
    upper = per.xs(("upper_gi", "surgery"), level=["collaboration", "procedure"])
    assert upper["exceeded_capacity"].tolist() == [1, 0]
    assert upper["treated"].tolist() == [2, 1]
    assert upper["within_share"].tolist() == [0.5, 1.0]


def test_by_service_gives_means_with_intervals_per_collaboration() -> None:
    """Means over replications per service, with a 95 % interval around them."""
    table = by_service(_patients()).set_index(["collaboration", "procedure", "kpi"])
    capacity = table.loc[("upper_gi", "surgery", "exceeded_capacity")]
    assert capacity["mean"] == 0.5 and capacity["replications"] == 2
    assert capacity["ci_low"] < 0.5 < capacity["ci_high"]
    assert table.loc[("lung", "surgery", "exceeded_health"), "mean"] == 0.5
