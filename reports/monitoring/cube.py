"""The quarter's statistics cube: counts per home region, collaboration, procedure and category
with totals along every axis, their suppression (:mod:`reports.suppression`), and the days
exceeded, published only where they reveal no small count.

Every completed pathway of the quarter falls in one of three categories (the national monitoring
model since Q1 2024): within the maximum waiting time; exceeded, but the rules complied, by
reason (the patient's health, the patient's wish, or capacity where the patient was informed and
offered referral elsewhere); rules not complied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from capacity.vocabulary import COLLABORATIONS, PATHWAY_TYPES, PROCEDURES, REGIONS
from reports import suppression
from reports.monitoring.period import Quarter
from reports.monitoring.sources import Source
from reports.suppression import Dimension, Status

#: Row label of a total along an axis (region, collaboration, procedure) in files and frames.
ALL: Final = "all"
#: The published columns: the three categories, category 2 split by reason.
CATEGORIES: Final = (
    "pathways",
    "within",
    "complied",
    "health",
    "patient_wish",
    "capacity",
    "not_complied",
)
#: The sums along the category axis: all = within + complied + not complied; complied = reasons.
CATEGORY_EQUATIONS: Final = ((0, (1, 2, 6)), (2, (3, 4, 5)))
DAYS_COLUMNS: Final = ("days_exceeded_sum", "days_exceeded_mean", "days_exceeded_median")


def dimensions() -> tuple[Dimension, Dimension, Dimension, Dimension]:
    """The report's axes: region, collaboration, procedure (each with its total) and category."""
    return (
        Dimension.flat("home_region", REGIONS, ALL),
        Dimension.flat("collaboration", COLLABORATIONS, ALL),
        Dimension.flat("procedure", PROCEDURES, ALL),
        Dimension("category", CATEGORIES, CATEGORY_EQUATIONS),
    )


@dataclass(frozen=True)
class MonitoringReport:
    """A quarter's counts, their suppression and the days exceeded, ready to publish.

    ``counts`` and ``status`` have the axes of :func:`dimensions`; ``days`` one row per region,
    collaboration and procedure (totals as ``all``) with the number of exceeded pathways, the
    days statistics, and whether they may be shown.
    """

    quarter: Quarter
    source: Source
    counts: npt.NDArray[np.int64]
    status: npt.NDArray[np.int8]
    days: pd.DataFrame
    counted: int
    ignored: int
    first_start: dt.date | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: National counts per pathway type (investigation, primary, follow-on; total ``all``),
    #: published text, when the pathways say their type (recorded events do).
    by_type: pd.DataFrame | None = None
    #: National counts of this quarter and the previous one side by side, published text.
    quarters: pd.DataFrame | None = None

    def published(self) -> pd.DataFrame:
        """The suppressed table: one row per region, collaboration and procedure (totals
        ``all``), the categories as published text and the days statistics (empty where
        hidden)."""
        dims = dimensions()
        text = suppression.labels(self.counts, self.status)
        index = pd.MultiIndex.from_product(
            [dims[0].members, dims[1].members, dims[2].members],
            names=["home_region", "collaboration", "procedure"],
        )
        frame = pd.DataFrame(text.reshape(-1, len(CATEGORIES)), index=index, columns=CATEGORIES)
        days = self.days.set_index(["home_region", "collaboration", "procedure"]).reindex(index)
        for column in DAYS_COLUMNS:
            frame[column] = days[column].where(days["days_shown"]).map(_days_text)
        return frame.reset_index()


def _days_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.0f}" if number == round(number) else f"{number:.1f}"


def _inside(pathways: pd.DataFrame, quarter: Quarter) -> npt.NDArray[np.bool_]:
    start, end = pd.Timestamp(quarter.first), pd.Timestamp(quarter.last)
    inside = (pathways["start_date"] >= start) & (pathways["start_date"] <= end)
    return inside.to_numpy(dtype=bool)


def national_table(
    pathways: pd.DataFrame,
    axis: str,
    members: Sequence[str],
    threshold: int = suppression.THRESHOLD,
) -> pd.DataFrame:
    """National counts per member of ``axis`` (first row the total ``all``) and category, with
    the same primary and secondary suppression as the main table; published text."""
    dims = (
        Dimension.flat(axis, tuple(members), ALL),
        Dimension("category", CATEGORIES, CATEGORY_EQUATIONS),
    )
    counts = np.zeros(tuple(len(d) for d in dims), dtype=np.int64)
    row = _codes(pathways[axis], dims[0].members)
    category = _codes(pathways["category"], dims[1].members)
    np.add.at(counts, (row, category), 1)
    counts[0] = counts[1:].sum(axis=0)
    for total, parts in reversed(CATEGORY_EQUATIONS):
        counts[..., total] = counts[..., list(parts)].sum(axis=-1)
    status = suppression.suppress(counts, dims, threshold)
    text = suppression.labels(counts, status)
    return pd.DataFrame(text, index=pd.Index(dims[0].members, name=axis), columns=CATEGORIES)


def build_report(
    pathways: pd.DataFrame, quarter: Quarter, source: Source, threshold: int = suppression.THRESHOLD
) -> MonitoringReport:
    """Count a quarter's pathways (by start date: the start of the examination or treatment,
    or the end of a pathway ended without one) into the suppressed monitoring table, with the
    previous quarter's national counts beside it and, where known, the counts per pathway
    type."""
    inside = _inside(pathways, quarter)
    counted = pathways[inside]
    previous = quarter.previous()
    before = pathways[_inside(pathways, previous)]
    # The previous quarter is shown only when the pathways cover it from its first week (a
    # simulation's warm-up weeks are no quarter).
    covered = len(before) and before["start_date"].min() <= pd.Timestamp(previous.first) + (
        pd.Timedelta(days=7)
    )
    shown = [counted.assign(quarter=str(quarter))]
    if covered:
        shown.append(before.assign(quarter=str(previous)))
    labels = (str(quarter), str(previous)) if covered else (str(quarter),)
    quarters = national_table(pd.concat(shown), "quarter", labels, threshold)
    by_type = (
        national_table(counted, "pathway_type", PATHWAY_TYPES, threshold)
        if "pathway_type" in counted
        else None
    )
    dims = dimensions()
    counts = count_cube(counted, dims)
    status = suppression.suppress(counts, dims, threshold)
    days = days_exceeded(counted, dims, counts, status, threshold)
    first = counted["start_date"].min()
    return MonitoringReport(
        quarter=quarter,
        source=source,
        counts=counts,
        status=status,
        days=days,
        counted=len(counted),
        ignored=int((~inside).sum()),
        first_start=None if pd.isna(first) else pd.Timestamp(first).date(),
        by_type=by_type,
        quarters=quarters.iloc[1:],
    )


def _codes(values: pd.Series, members: tuple[str, ...]) -> npt.NDArray[np.int64]:
    return np.asarray(pd.Index(members).get_indexer(pd.Index(values.astype(str))), dtype=np.int64)


def count_cube(pathways: pd.DataFrame, dims: Sequence[Dimension]) -> npt.NDArray[np.int64]:
    """Counts per region, collaboration, procedure and category, with every total filled in."""
    region = _codes(pathways["home_region"], dims[0].members)
    collaboration = _codes(pathways["collaboration"], dims[1].members)
    procedure = _codes(pathways["procedure"], dims[2].members)
    category = _codes(pathways["category"], dims[3].members)
    shape = tuple(len(d) for d in dims)
    counts = np.zeros(shape, dtype=np.int64)
    np.add.at(counts, (region, collaboration, procedure, category), 1)
    for axis in range(3):
        total = counts.take(range(1, shape[axis]), axis=axis).sum(axis=axis)
        index: list[Any] = [slice(None)] * 4
        index[axis] = 0
        counts[tuple(index)] = total
    for total, parts in reversed(CATEGORY_EQUATIONS):
        counts[..., total] = counts[..., list(parts)].sum(axis=-1)
    return counts


def days_exceeded(
    pathways: pd.DataFrame,
    dims: Sequence[Dimension],
    counts: npt.NDArray[np.int64],
    status: npt.NDArray[np.int8],
    threshold: int,
) -> pd.DataFrame:
    """Days exceeded per region, collaboration and procedure (totals included), and whether
    they may be shown: at least ``threshold`` exceeded pathways, their number published (the
    complied and not-complied cells shown), and the sum not needed to protect another row's
    sum (secondary suppression over the three axes)."""
    exceeded = pathways[pathways["category"] != "within"]
    keys = ["home_region", "collaboration", "procedure"]
    rows = []
    for mask in range(8):
        by = [k for i, k in enumerate(keys) if not mask & (1 << i)]
        grouped = (
            exceeded.groupby(by, observed=True)["days_exceeded"].agg(
                ["size", "sum", "mean", "median"]
            )
            if by
            else pd.DataFrame([exceeded["days_exceeded"].agg(["size", "sum", "mean", "median"])])
        )
        grouped = grouped.reset_index() if by else grouped
        for k in keys:
            if k not in by:
                grouped[k] = ALL
        rows.append(grouped)
    stats = pd.concat(rows, ignore_index=True)
    index = pd.MultiIndex.from_product(
        [dims[0].members, dims[1].members, dims[2].members], names=keys
    )
    stats = stats.astype({k: str for k in keys}).set_index(keys).reindex(index)
    exceeded_count = counts[..., 2] + counts[..., 6]
    days_sum = stats["sum"].fillna(0).to_numpy().reshape(exceeded_count.shape)
    sensitive = (exceeded_count >= 1) & (exceeded_count < threshold)
    days_status = suppression.suppress(days_sum, dims[:3], threshold, primary=sensitive)
    size_public = (status[..., 2] == Status.SHOWN) & (status[..., 6] == Status.SHOWN)
    shown = (exceeded_count >= threshold) & size_public & (days_status == Status.SHOWN)
    return pd.DataFrame(
        {
            "home_region": index.get_level_values(0),
            "collaboration": index.get_level_values(1),
            "procedure": index.get_level_values(2),
            "exceeded": exceeded_count.ravel(),
            "days_exceeded_sum": days_sum.ravel(),
            "days_exceeded_mean": stats["mean"].to_numpy(),
            "days_exceeded_median": stats["median"].to_numpy(),
            "days_shown": shown.ravel(),
        }
    )
