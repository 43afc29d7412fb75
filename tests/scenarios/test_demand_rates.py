"""Demand settings that pick cells by procedure and region (issue 17.5: "output array is
read-only" for any scenario with ``demand.rates``)."""

from __future__ import annotations

import numpy as np
import pytest

from capacity.reference import region_shares
from scenarios.schema import Scenario, scenario_from_mapping
from scenarios.simulate import prepare, run_replication


def _scenario(demand: dict[str, object]) -> Scenario:
    return scenario_from_mapping(
        {
            "name": "rates",
            "base": {"type": "reference", "scale": 0.05},
            "horizon_weeks": 2,
            "replications": 1,
            "demand": demand,
        }
    )


def test_a_fixed_rate_replaces_the_cells_rates_and_runs() -> None:
    """A national rate is split over the regions by population; a regional one is its own."""
    scenario = _scenario(
        {
            "rates": [
                {"collaboration": "lung", "procedure": "surgery", "per_week": 3.0},
                {
                    "collaboration": "breast",
                    "procedure": "surgery",
                    "region": "Hovedstaden",
                    "per_week": 7.0,
                },
            ],
            "surges": [
                {
                    "collaboration": "lung",
                    "procedure": "surgery",
                    "region": "Nordjylland",
                    "factor": 2.0,
                    "weeks": [2, 2],
                }
            ],
        }
    )
    world = prepare(scenario)
    cells = world.cells
    lung = ((cells["collaboration"] == "lung") & (cells["procedure"] == "surgery")).to_numpy()
    week_one = world.arrival_rates[0]
    assert week_one[lung].sum() == pytest.approx(3.0)
    shares = cells.loc[lung, "home_region"].map(region_shares()).to_numpy(dtype=float)
    np.testing.assert_allclose(week_one[lung], 3.0 * shares)
    breast = (
        (cells["collaboration"] == "breast")
        & (cells["procedure"] == "surgery")
        & (cells["home_region"] == "Hovedstaden")
    ).to_numpy()
    assert week_one[breast].sum() == pytest.approx(7.0)
    north = lung & (cells["home_region"] == "Nordjylland").to_numpy()
    np.testing.assert_allclose(world.arrival_rates[1][north], 2 * week_one[north])
    result = run_replication(scenario, 0, world)
    assert len(result.weekly) == 2
