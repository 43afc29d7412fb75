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
blocks joined by one cell), so an audit then solves the whole linear system of published
equations: a suppressed cell whose value every solution shares (its unit vector lies in the row
space of the equations restricted to suppressed cells) gets the smallest cell of one of its lines
suppressed as well, and both steps repeat until no suppressed cell is determined. Suppressing
more never makes a protected cell determined again, so this ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.linalg import qr, solve_triangular
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
    while True:
        _protect_lines(status, all_lines, rank)
        determined = _determined(status, all_lines, values.size)
        if not determined.size:
            return status.reshape(shape)
        for cell in determined:
            if status[cell] == Status.SHOWN:
                continue
            candidates = np.unique(np.concatenate([all_lines[n] for n in cell_lines[int(cell)]]))
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


def _determined(status: npt.NDArray[np.int8], all_lines: list[IntArray], size: int) -> IntArray:
    """Suppressed cells whose value the published cells and equations fix (flat positions)."""
    hidden = np.flatnonzero(status != Status.SHOWN)
    if not hidden.size:
        return hidden
    column = np.full(size, -1, dtype=np.int64)
    column[hidden] = np.arange(hidden.size)
    rows = []
    for line in all_lines:
        where = column[line]
        if (where >= 0).any():
            row = np.zeros(hidden.size)
            signs = np.where(np.arange(line.size) == 0, 1.0, -1.0)
            np.add.at(row, where[where >= 0], signs[where >= 0])
            rows.append(row)
    if not rows:
        return hidden
    matrix = np.array(rows)
    # cells that share no equation are independent: solve each connected block on its own
    linked = csr_matrix(matrix != 0)
    blocks, block_of = connected_components(linked.T @ linked, directed=False, return_labels=True)
    determined = np.zeros(hidden.size, dtype=bool)
    row_block = block_of[np.asarray(linked.argmax(axis=1)).ravel()]
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
