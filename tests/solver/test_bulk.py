"""The bulk solve (issue 16.1) changes no result: each service part's network built from the
prepared arrays equals the network of that part as a problem of its own, the proposals of all
parts explained in one pass equal each part's own proposals, and alternatives priced on the
solution's kept networks equal those priced on rebuilt ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity import frames
from capacity.generate import generate_week
from capacity.io import read_folder
from solver import explain
from solver.alternatives import best_alternatives, ranked_alternatives
from solver.model import Network, build_network, build_part, prepare
from solver.policy import Policy
from solver.problem import Problem
from solver.solve import (
    Certificate,
    _solve_service,
    optimal_flows,
    place_patients,
    solve,
    split_by_service,
    split_rows,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
TODAY = dt.date(2026, 11, 23)


def _generated(scale: float = 0.05, seed: int = 2026) -> Problem:
    return Problem.from_dataset(generate_week("2026-W48", seed=seed, scale=scale), TODAY)


def _with_caps_and_exclusions(problem: Problem) -> Problem:
    """Weekly caps on every third department-service-week (half its slots) and excluded
    pairs (some patients' home departments, others' first department)."""
    cap = problem.capacity.copy()
    cap["week"] = pd.to_datetime(cap["date"]).dt.strftime("%G-W%V")
    weeks = cap.groupby(["department_id", "collaboration", "procedure", "week"], as_index=False)[
        "free_slots"
    ].sum()
    weeks = weeks.iloc[::3].copy()
    weeks["max_slots"] = weeks["free_slots"] // 2
    caps = weeks[list(frames.WEEKLY_CAPS)].reset_index(drop=True).astype(frames.WEEKLY_CAPS)
    some = problem.patients.iloc[::5]
    first = str(problem.departments["department_id"].iloc[0])
    excluded = pd.DataFrame(
        {
            "patient_id": np.r_[
                some["patient_id"].astype(str).to_numpy(), some["patient_id"].astype(str)
            ],
            "department_id": np.r_[
                some["home_department_id"].astype(str).to_numpy(), [first] * len(some)
            ],
        }
    ).astype("string")
    return dataclasses.replace(problem, weekly_caps=caps, excluded_pairs=excluded)


def _example(name: str) -> Problem:
    return Problem.from_dataset(read_folder(SHARED / "contract" / name), TODAY)


def _problems() -> list[tuple[str, Problem, Policy]]:
    generated = _generated()
    strict = Policy(allow_cross_region=False, max_travel_km=150.0, allow_foreign=False)
    return [
        ("example", _example("example"), Policy()),
        ("example-tight", _example("example-tight"), Policy()),
        ("generated", generated, Policy()),
        ("generated, strict policy", generated, strict),
        ("caps and exclusions", _with_caps_and_exclusions(generated), Policy()),
    ]


CASES = _problems()


def _assert_same_network(a: Network, b: Network) -> None:
    for f in dataclasses.fields(Network):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, f.name
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        elif isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y)
        else:
            assert x == y, f.name


@pytest.mark.parametrize(("name", "problem", "policy"), CASES, ids=[c[0] for c in CASES])
def test_prepared_parts_build_the_parts_own_networks(
    name: str, problem: Problem, policy: Policy
) -> None:
    prep = prepare(problem)
    pieces = split_by_service(problem)
    rows = split_rows(prep)
    assert len(rows) == len(pieces)
    for piece, part_rows in zip(pieces, rows, strict=True):
        assert np.array_equal(
            piece.patients["patient_id"].astype(str).to_numpy(), prep.p_id[part_rows.patients]
        )
        _assert_same_network(build_part(prep, part_rows, policy), build_network(piece, policy))


@pytest.mark.parametrize(("name", "problem", "policy"), CASES, ids=[c[0] for c in CASES])
def test_one_pass_explanations_equal_each_parts_own(
    name: str, problem: Problem, policy: Policy
) -> None:
    solution = solve(problem, policy)
    assert solution.proof.certificate is Certificate.VERIFIED
    parts = [_solve_service(piece, policy) for piece in split_by_service(problem)]
    each = pd.concat([part.proposals for part in parts], ignore_index=True)
    order = pd.Index(each["patient_id"]).get_indexer(problem.patients["patient_id"].astype(str))
    each = each.iloc[order].reset_index(drop=True)
    pd.testing.assert_frame_equal(solution.proposals, each, check_exact=True)
    for field in ("unassigned", "breaches", "days_late", "policy_points"):
        assert getattr(solution.tiers, field) == sum(getattr(p.tiers, field) for p in parts)
    # the per-network API of explain gives the same frame for one part
    piece = split_by_service(problem)[0]
    net = build_network(piece, policy)
    flows, _, _ = optimal_flows(net)
    frame = explain.proposals(piece, net, place_patients(net, flows), policy)
    pd.testing.assert_frame_equal(frame, parts[0].proposals, check_exact=True)


@pytest.mark.parametrize(("name", "problem", "policy"), CASES[:3], ids=[c[0] for c in CASES[:3]])
def test_alternatives_from_the_solution_equal_rebuilt_ones(
    name: str, problem: Problem, policy: Policy
) -> None:
    solution = solve(problem, policy)
    assert solution.parts is not None
    ids = problem.patients["patient_id"].astype(str).tolist()[:40]
    pd.testing.assert_frame_equal(
        ranked_alternatives(problem, policy, ids, solution=solution),
        ranked_alternatives(problem, policy, ids),
    )
    pd.testing.assert_frame_equal(
        best_alternatives(problem, policy, ids, solution=solution),
        best_alternatives(problem, policy, ids),
    )


def test_parts_are_not_lent_under_another_policy_or_method() -> None:
    problem = _generated(0.03)
    assert solve(problem, method="staged").parts is None
    solution = solve(problem)
    strict = Policy(max_travel_km=100.0)
    # a solution under the default policy is not used for another policy's alternatives
    pd.testing.assert_frame_equal(
        ranked_alternatives(problem, strict, solution=solution),
        ranked_alternatives(problem, strict),
    )


@pytest.mark.parametrize(("name", "problem", "policy"), CASES[2:], ids=[c[0] for c in CASES[2:]])
def test_forked_workers_explain_their_parts_as_the_one_pass_does(
    name: str, problem: Problem, policy: Policy
) -> None:
    one = solve(problem, policy, workers=1)
    forked = solve(problem, policy, workers=2)
    pd.testing.assert_frame_equal(one.proposals, forked.proposals, check_exact=True)
    assert one.tiers == forked.tiers and one.kpis == forked.kpis and one.proof == forked.proof
    assert forked.parts is None  # networks stay in the workers
    no_reasons = solve(problem, policy, workers=2, explain_reasons=False)
    assert (no_reasons.proposals["reason"] == "").all()
    pd.testing.assert_frame_equal(
        no_reasons.proposals, solve(problem, policy, explain_reasons=False).proposals
    )
