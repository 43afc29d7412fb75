"""The quarterly monitoring report: cell suppression, pathway sources, the table and its files."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from reports import suppression
from reports.suppression import Dimension, Status, lines, suppress

# ---- suppression -------------------------------------------------------------------------------


def with_totals(leaf: np.ndarray, nested: bool) -> tuple[np.ndarray, list[Dimension]]:
    """A cube with a total at position 0 of every axis (the last axis nested when asked)."""
    dims: list[Dimension] = []
    cube = leaf
    for axis in range(leaf.ndim):
        n = leaf.shape[axis]
        if nested and axis == leaf.ndim - 1 and n >= 3:
            # members: total, a, subtotal(b..), b.., where subtotal = sum of the rest
            first = cube.take([0], axis=axis)
            rest = cube.take(range(1, n), axis=axis)
            sub = rest.sum(axis=axis, keepdims=True)
            total = first + sub
            cube = np.concatenate([total, first, sub, rest], axis=axis)
            parts = tuple(range(3, 3 + n - 1))
            dims.append(
                Dimension(
                    f"axis{axis}",
                    ("total", "a", "sub", *[f"b{i}" for i in range(n - 1)]),
                    ((0, (1, 2)), (2, parts)),
                )
            )
        else:
            total = cube.sum(axis=axis, keepdims=True)
            cube = np.concatenate([total, cube], axis=axis)
            dims.append(Dimension.flat(f"axis{axis}", [f"m{i}" for i in range(n)], "total"))
    return cube, dims


def value_range(cube: np.ndarray, dims: list[Dimension], status: np.ndarray, cell: int) -> float:
    """Width of the interval a suppressed cell can take given every published cell and every
    sum (non-negative values): 0 means it can be worked out."""
    hidden = np.flatnonzero(status.ravel() != Status.SHOWN)
    column = {int(c): i for i, c in enumerate(hidden)}
    values = cube.ravel()
    rows, rhs = [], []
    for line in lines(cube.shape, dims):
        row = np.zeros(len(hidden))
        constant = 0.0
        for position, c in enumerate(line):
            sign = 1.0 if position == 0 else -1.0
            if int(c) in column:
                row[column[int(c)]] += sign
            else:
                constant -= sign * values[c]
        if row.any():
            rows.append(row)
            rhs.append(constant)
    target = np.zeros(len(hidden))
    target[column[cell]] = 1.0
    bounds = [(0, None)] * len(hidden)
    low = linprog(target, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=bounds)
    high = linprog(-target, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=bounds)
    assert low.status == 0
    if high.status == 3:  # unbounded: the grand total itself is hidden
        return float("inf")
    assert high.status == 0
    return float(-high.fun - low.fun)


small_tables = st.tuples(
    st.lists(st.integers(2, 4), min_size=2, max_size=3),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_tables)
def test_no_suppressed_count_can_be_recovered_from_its_totals(case):
    """Every count of 1-4 is hidden, and no hidden cell follows from its row or column total."""
    shape, seed, nested = case
    rng = np.random.default_rng(seed)
    leaf = rng.choice([0, 1, 2, 3, 4, 5, 7, 12, 30], size=shape)
    cube, dims = with_totals(leaf, nested)
    status = suppress(cube, dims)
    small = (cube >= 1) & (cube <= 4)
    assert (status[small] == Status.PRIMARY).all()
    hidden = status.ravel() != Status.SHOWN
    for line in lines(cube.shape, dims):
        assert hidden[line].sum() != 1, "a lone hidden cell in a line is its total minus the rest"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_tables)
def test_no_suppressed_count_follows_from_all_published_cells_together(case):
    """Even combining every published sum (with values >= 0), no hidden cell is pinned down."""
    shape, seed, nested = case
    rng = np.random.default_rng(seed)
    leaf = rng.choice([0, 1, 2, 3, 6, 9, 20], size=shape)
    cube, dims = with_totals(leaf, nested)
    status = suppress(cube, dims)
    for cell in np.flatnonzero(status.ravel() == Status.PRIMARY):
        assert value_range(cube, dims, status, int(cell)) > 0


def test_a_lone_small_cell_takes_the_smallest_other_cell_of_its_row_and_column():
    """A 2 in a 2x2 table hides itself, the smaller neighbour in its row and in its column,
    and the cell that closes the rectangle."""
    cube, dims = with_totals(np.array([[2, 10], [6, 30]]), nested=False)
    status = suppress(cube, dims)
    hidden = {tuple(int(i) for i in c) for c in np.argwhere(status != Status.SHOWN)}
    assert hidden == {(1, 1), (1, 2), (2, 1), (2, 2)}
    assert status[1, 1] == Status.PRIMARY
    assert suppression.labels(cube, status)[1, 1] == "<5"
    assert suppression.labels(cube, status)[1, 2] == ".."


def test_a_table_without_small_counts_is_published_whole():
    """Nothing is hidden when no count is between 1 and 4 (zeros are not sensitive)."""
    cube, dims = with_totals(np.array([[0, 10], [6, 30]]), nested=False)
    assert (suppress(cube, dims) == Status.SHOWN).all()
