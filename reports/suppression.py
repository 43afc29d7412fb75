"""Cell suppression of a table of counts with totals: small counts and the cells that reveal them.

A published table of counts is a cube: one axis per classification (region, collaboration,
procedure, outcome category), each axis holding its members *and* its totals. Each axis states
its additive relations as :class:`Dimension` equations (``total = sum of parts``; an axis may
nest, e.g. "exceeded, rules complied" = health + patient's wish + capacity, and the grand total =
within + complied + not complied). Fixing every other axis, an equation gives one *line* of
cells that add up.

Counts of 1 to ``threshold - 1`` are suppressed (*primary*, shown "<5"). A line with exactly one
suppressed cell would give it away by subtraction, so the smallest other cell of that line is
suppressed too (*secondary*, shown ".."), preferring a non-zero cell, then a part over the
total; this repeats until no line has exactly one. Lines can still combine (two protected
blocks joined by one cell), so two audits follow, each answered by suppressing the smallest
published cell of one of the exposed cell's lines (same ranking), after which every step repeats:

1. The linear audit solves the whole system of published equations: a suppressed cell whose
   value every solution shares (its unit vector lies in the row space of the equations
   restricted to suppressed cells) is exposed.
2. The intruder's audit adds what the linear one leaves out, that counts are not negative: for
   each primary cell a linear programme (HiGHS) over the suppressed cells, with every published
   cell and equation and every cell >= 0, finds how far the cell can move. The protection level
   is that it can take at least two whole values: one more or one less than its count must be
   feasible (the count itself always is). Hidden zeros (or small hidden counts) are what defeat
   the linear audit: a block whose only freedom would push one below zero pins its cells.

Suppressing more never narrows a cell's feasible range (the old solutions, extended by the
newly suppressed cells' counts, still solve the larger system), so a protected cell stays
protected and this ends. The programme is the linear relaxation of the whole-number problem:
exact for two-way tables, a screen (not a proof over whole numbers) for larger cubes. Not
modelled: that "<5" itself says 1 to threshold - 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.linalg import qr, solve_triangular
from scipy.optimize import linprog
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

#: Counts from 1 to THRESHOLD - 1 are not published (Sundhedsdatastyrelsen's rule, brief 6).
THRESHOLD: Final = 5
PRIMARY_LABEL: Final = "<5"
SECONDARY_LABEL: Final = ".."

IntArray = npt.NDArray[np.int64]


class Status(IntEnum):
    """Whether a cell is published, suppressed as small, or suppressed to protect another."""

    SHOWN = 0
    PRIMARY = 1
    SECONDARY = 2


@dataclass(frozen=True)
class Dimension:
    """One axis of a table: its members (totals included) and the sums that hold along it.

    ``equations`` are ``(total, parts)`` pairs of member positions: the count at ``total``
    equals the sum of the counts at ``parts``, whatever the other axes.
    """

    name: str
    members: tuple[str, ...]
    equations: tuple[tuple[int, tuple[int, ...]], ...]

    @classmethod
    def flat(cls, name: str, parts: Sequence[str], total: str) -> Dimension:
        """An axis whose first member is the total of all the others."""
        return cls(name, (total, *parts), ((0, tuple(range(1, len(parts) + 1))),))

    def __len__(self) -> int:
        return len(self.members)


def lines(shape: tuple[int, ...], dimensions: Sequence[Dimension]) -> list[IntArray]:
    """Every line of the cube as flat cell positions, the total first, then its parts."""
    cells = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    found: list[IntArray] = []
    for axis, dimension in enumerate(dimensions):
        along = np.moveaxis(cells, axis, -1).reshape(-1, shape[axis])
        for total, parts in dimension.equations:
            found.extend(along[:, [total, *parts]])
    return found


def suppress(
    counts: npt.ArrayLike,
    dimensions: Sequence[Dimension],
    threshold: int = THRESHOLD,
    primary: npt.ArrayLike | None = None,
) -> npt.NDArray[np.int8]:
    """Each cell's :class:`Status`: counts 1..threshold-1 primary, their protectors secondary.

    ``counts`` has one axis per dimension, in order; ``primary`` (a boolean array of the same
    shape) replaces the default rule for which cells are sensitive.
    """
    values = np.asarray(counts, dtype=np.int64)
    shape = values.shape
    if len(shape) != len(dimensions) or any(
        n != len(d) for n, d in zip(shape, dimensions, strict=True)
    ):
        raise ValueError(
            f"counts of shape {shape} do not match the dimensions "
            f"{[(d.name, len(d)) for d in dimensions]}"
        )
    flat_values = values.ravel()
    status = np.zeros(values.size, dtype=np.int8)
    sensitive = (
        (flat_values >= 1) & (flat_values < threshold)
        if primary is None
        else np.asarray(primary, dtype=bool).ravel()
    )
    status[sensitive] = Status.PRIMARY
    all_lines = lines(shape, dimensions)
    # a cell's rank when choosing a protector: non-zero before zero, small before large, a part
    # before the total of the line, then by position (deterministic)
    is_total = np.zeros(values.size, dtype=bool)
    for line in all_lines:
        is_total[line[0]] = True
    order = np.lexsort((np.arange(values.size), is_total, flat_values, flat_values == 0))
    rank = np.empty(values.size, dtype=np.int64)
    rank[order] = np.arange(values.size)
    cell_lines: list[list[int]] = [[] for _ in range(values.size)]
    for number, line in enumerate(all_lines):
        for cell in line:
            cell_lines[int(cell)].append(number)
    # a primary cell once shown to be protected stays so: suppressing more only widens its range
    protected = np.zeros(values.size, dtype=bool)
    while True:
        _protect_lines(status, all_lines, rank)
        exposed = _determined(status, all_lines, flat_values)
        if not exposed.size:
            exposed = _exposed(status, all_lines, flat_values, protected)
            if not exposed.size:
                return status.reshape(shape)
        hidden_before = int((status != Status.SHOWN).sum())
        for cell in exposed:
            _hide_a_neighbour(status, all_lines, cell_lines, rank, int(cell))
        if int((status != Status.SHOWN).sum()) == hidden_before:  # pragma: no cover
            # every cell near the exposed ones is hidden already: only equations that fix a
            # cell whatever the counts (an axis stating a total twice) can leave one exposed
            raise ValueError("the table's equations give a suppressed cell away")


def _hide_a_neighbour(
    status: npt.NDArray[np.int8],
    all_lines: list[IntArray],
    cell_lines: list[list[int]],
    rank: IntArray,
    cell: int,
) -> None:
    """Suppress the best-ranked published cell sharing a line with ``cell``; when its lines are
    all suppressed, the best-ranked published cell of a line through any suppressed cell."""
    candidates = np.unique(np.concatenate([all_lines[n] for n in cell_lines[cell]]))
    candidates = candidates[status[candidates] == Status.SHOWN]
    if not candidates.size:
        touched = [line for line in all_lines if (status[line] != Status.SHOWN).any()]
        candidates = np.unique(np.concatenate(touched))
        candidates = candidates[status[candidates] == Status.SHOWN]
    if candidates.size:
        status[candidates[np.argmin(rank[candidates])]] = Status.SECONDARY


def _protect_lines(status: npt.NDArray[np.int8], all_lines: list[IntArray], rank: IntArray) -> None:
    """Suppress a second cell in every line with exactly one suppressed cell, until none has."""
    changed = True
    while changed:
        changed = False
        for line in all_lines:
            hidden = status[line] != Status.SHOWN
            if hidden.sum() != 1:
                continue
            shown = line[~hidden]
            status[shown[np.argmin(rank[shown])]] = Status.SECONDARY
            changed = True


def _system(
    status: npt.NDArray[np.int8], all_lines: list[IntArray], values: IntArray
) -> tuple[IntArray, npt.NDArray[np.float64], npt.NDArray[np.float64], int, IntArray, IntArray]:
    """The published equations in the suppressed cells: ``matrix @ x = rhs``.

    Returns the suppressed cells (flat positions, one column each), the matrix and right-hand
    side (one row per line through a suppressed cell), and the connected blocks: their number,
    each column's block and each row's block (cells that share no equation are independent).
    """
    hidden = np.flatnonzero(status != Status.SHOWN)
    column = np.full(values.size, -1, dtype=np.int64)
    column[hidden] = np.arange(hidden.size)
    every = np.concatenate([np.zeros(0, dtype=np.int64), *all_lines])
    lengths = np.array([line.size for line in all_lines])
    line_of = np.repeat(np.arange(lengths.size), lengths)
    signs = np.full(every.size, -1.0)
    signs[np.cumsum(lengths) - lengths] = 1.0  # the total of each line
    where = column[every]
    inside = where >= 0
    touched = np.unique(line_of[inside])  # one row per line through a suppressed cell
    row_of = np.full(lengths.size, -1, dtype=np.int64)
    row_of[touched] = np.arange(touched.size)
    matrix = np.zeros((touched.size, hidden.size))
    np.add.at(matrix, (row_of[line_of[inside]], where[inside]), signs[inside])
    rhs = np.zeros(touched.size)
    known = ~inside & (row_of[line_of] >= 0)
    np.add.at(rhs, row_of[line_of[known]], -signs[known] * values[every[known]])
    if not touched.size:
        return hidden, matrix, rhs, hidden.size, np.arange(hidden.size), np.zeros(0, np.int64)
    linked = csr_matrix(matrix != 0)
    blocks, block_of = connected_components(linked.T @ linked, directed=False, return_labels=True)
    row_block = block_of[np.asarray(linked.argmax(axis=1)).ravel()]
    return hidden, matrix, rhs, int(blocks), block_of, row_block


def _exposed(
    status: npt.NDArray[np.int8],
    all_lines: list[IntArray],
    values: IntArray,
    protected: npt.NDArray[np.bool_],
) -> IntArray:
    """Primary cells the published table narrows to a single count (flat positions).

    The audit an intruder would run: every published cell, every equation, every cell >= 0. A
    primary cell is protected when the linear programme lets it take at least two whole values,
    i.e. it can reach one more or one less than its count (the count itself is always
    feasible). Each solution found also protects every other primary cell it moves by one or
    more, so most cells need no programme of their own; ``protected`` records them across calls
    (suppressing more only widens a range).
    """
    hidden, matrix, rhs, blocks, block_of, row_block = _system(status, all_lines, values)
    exposed: list[int] = []
    for block in range(blocks):
        columns = np.flatnonzero(block_of == block)
        cells = hidden[columns]
        todo = (status[cells] == Status.PRIMARY) & ~protected[cells]
        if not todo.any():
            continue
        part = csr_matrix(matrix[np.ix_(row_block == block, columns)])
        b = rhs[row_block == block]
        truth = values[cells].astype(float)
        primary = status[cells] == Status.PRIMARY
        for index in np.flatnonzero(todo):
            if protected[cells[index]]:
                continue
            for direction in (1.0, -1.0):  # can it reach one more, else one less?
                objective = np.zeros(columns.size)
                objective[index] = -direction
                result = linprog(objective, A_eq=part, b_eq=b, bounds=(0, None), method="highs")
                if result.status == 3:  # unbounded: free to grow
                    protected[cells[index]] = True
                elif result.status == 0:
                    moved = np.abs(result.x - truth) >= 1.0 - 1e-7
                    protected[cells[primary & moved]] = True
                else:  # pragma: no cover - the true counts are always a solution
                    raise RuntimeError(f"suppression audit failed: {result.message}")
                if protected[cells[index]]:
                    break
            else:
                exposed.append(int(cells[index]))
    return np.array(exposed, dtype=np.int64)


def _determined(
    status: npt.NDArray[np.int8], all_lines: list[IntArray], values: IntArray
) -> IntArray:
    """Suppressed cells whose value the published cells and equations fix (flat positions)."""
    hidden, matrix, _, blocks, block_of, row_block = _system(status, all_lines, values)
    if not hidden.size or not matrix.shape[0]:
        return hidden
    determined = np.zeros(hidden.size, dtype=bool)
    for block in range(blocks):
        columns = np.flatnonzero(block_of == block)
        part = matrix[np.ix_(row_block == block, columns)]
        determined[columns] = ~_free(part)
    return hidden[determined]


def _free(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Per column (unknown) of ``matrix @ x = b``: whether solutions differ in it.

    A rank-revealing QR with column pivoting, ``matrix[:, order] = Q [R11 R12; 0 0]``: the
    unknowns after the rank are free, and a leading unknown is fixed exactly when its row of
    ``R11^-1 R12`` is zero (no null-space vector moves it).
    """
    rows, columns = matrix.shape
    if rows == 0:
        return np.ones(columns, dtype=bool)
    upper, order = qr(matrix, mode="r", pivoting=True)
    diagonal = np.abs(np.diag(upper))
    tolerance = max(rows, columns) * np.finfo(float).eps * (diagonal.max(initial=0.0) or 1.0)
    rank = int((diagonal > tolerance).sum())
    free = np.ones(columns, dtype=bool)
    if rank == columns:
        free[:] = False
        return free
    moves = solve_triangular(upper[:rank, :rank], upper[:rank, rank:columns])
    free[order[:rank]] = np.abs(moves).max(axis=1) > 1e-9
    return free


def labels(counts: npt.ArrayLike, status: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Published text per cell: the count, "<5" (primary) or ".." (secondary)."""
    values = np.asarray(counts)
    state = np.asarray(status)
    out = values.astype(np.int64).astype(str).astype(object)
    out[state == Status.PRIMARY] = PRIMARY_LABEL
    out[state == Status.SECONDARY] = SECONDARY_LABEL
    return np.asarray(out, dtype=object)
