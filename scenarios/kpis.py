"""Scenario KPIs over replications: means with 95 % t intervals, per run and per week.

Pure functions on the frames of :class:`scenarios.simulate.ReplicationResult` (concatenated over
replications). A KPI is first computed per replication over the whole horizon; its mean and
interval are then taken over replications (t distribution, n - 1 degrees of freedom), so the
interval says how precisely the replications pin the scenario's expected value down.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
from scipy import stats

#: Counts summed over the horizon per replication.
COUNTS: Final = (
    "arrivals",
    "treated",
    "treated_within",
    "exceeded_capacity",
    "exceeded_health",
    "exceeded_wish",
    "days_late_total",
    "moves",
    "out_of_region",
    "private",
    "foreign",
    "offers",
    "offers_declined",
    "travel_km_total",
    "cost_dkk",
)
#: KPIs of :func:`per_replication` and :func:`summarise`, in order.
KPIS: Final = (
    "within_share",
    "treated_within",
    "exceeded_capacity",
    "exceeded_health",
    "exceeded_wish",
    "capacity_share",
    "days_late_total",
    "days_late_mean",
    "moves",
    "out_of_region",
    "private",
    "foreign",
    "offers",
    "offers_declined",
    "declined_share",
    "travel_km_total",
    "travel_km_mean",
    "cost_dkk",
    "treated",
    "arrivals",
    "waiting_end",
    "waiting_overdue_end",
)
#: KPIs that are shares (0 to 1); every KPI is a count, a sum or a mean of non-negative values,
#: so no interval bound is below 0, and no share's above 1.
SHARES: Final = frozenset({"within_share", "capacity_share", "declined_share"})
#: Reasons a deadline was exceeded (the 2024 monitoring's categories).
REASONS: Final = ("capacity", "health", "wish")
#: Weekly KPIs of :func:`weekly_intervals`.
WEEKLY_KPIS: Final = (
    "within_share",
    "exceeded_capacity",
    "exceeded_health",
    "exceeded_wish",
    "days_late_mean",
    "waiting",
    "waiting_overdue",
    "treated",
    "moves",
    "out_of_region",
    "private",
    "foreign",
    "cost_dkk",
)


def per_replication(weekly: pd.DataFrame) -> pd.DataFrame:
    """One row per replication: the horizon's KPIs (:data:`KPIS`) from its weekly rows.

    Shares and means are ratios of the horizon's totals: ``within_share`` = treated within /
    treated, ``capacity_share`` = capacity exceedances / treated, ``days_late_mean`` = days late
    / patients treated after their deadline, ``declined_share`` = declined / offers,
    ``travel_km_mean`` = travel / treated. ``waiting_end`` is the list after the last week,
    ``waiting_overdue_end`` those on it already past their deadline (not yet counted as
    exceedances: only treated patients are).
    """
    ordered = weekly.sort_values(["replication", "week"])
    totals = ordered.groupby("replication")[list(COUNTS)].sum()
    exceeded = totals[["exceeded_capacity", "exceeded_health", "exceeded_wish"]].sum(axis=1)
    out = totals.assign(
        within_share=_ratio(totals["treated_within"], totals["treated"]),
        capacity_share=_ratio(totals["exceeded_capacity"], totals["treated"]),
        days_late_mean=_ratio(totals["days_late_total"], exceeded),
        declined_share=_ratio(totals["offers_declined"], totals["offers"]),
        travel_km_mean=_ratio(totals["travel_km_total"], totals["treated"]),
        waiting_end=ordered.groupby("replication")["waiting"].last(),
        waiting_overdue_end=ordered.groupby("replication")["waiting_overdue"].last(),
    )
    return out[list(KPIS)].reset_index()


def summarise(weekly: pd.DataFrame) -> pd.DataFrame:
    """Per KPI: mean over replications and its 95 % t interval (``kpi, mean, ci_low, ci_high,
    replications``); with one replication the interval is NaN."""
    values = per_replication(weekly).set_index("replication")
    rows = [
        {"kpi": kpi, **_interval(values[kpi].to_numpy(dtype=np.float64), share=kpi in SHARES)}
        for kpi in KPIS
    ]
    return pd.DataFrame(rows, columns=["kpi", "mean", "ci_low", "ci_high", "replications"])


def weekly_intervals(weekly: pd.DataFrame, kpis: tuple[str, ...] = WEEKLY_KPIS) -> pd.DataFrame:
    """Per week and KPI: mean over replications with its 95 % t interval (long format:
    ``week, week_label, kpi, mean, ci_low, ci_high, replications``)."""
    long = weekly.melt(
        id_vars=["replication", "week", "week_label"], value_vars=list(kpis), var_name="kpi"
    )
    grouped = long.groupby(["week", "week_label", "kpi"], sort=False)["value"]
    count = grouped.count()
    mean = grouped.mean()
    half = _half_width(grouped.std(ddof=1), count)
    share = mean.index.get_level_values("kpi").isin(list(SHARES))
    out = pd.DataFrame(
        {
            "mean": mean,
            "ci_low": (mean - half).clip(lower=0),
            "ci_high": (mean + half).where(~share, (mean + half).clip(upper=1)),
            "replications": count,
        }
    ).reset_index()
    order = {kpi: i for i, kpi in enumerate(kpis)}
    return out.sort_values(["kpi", "week"], key=lambda c: c.map(order) if c.name == "kpi" else c)[
        ["week", "week_label", "kpi", "mean", "ci_low", "ci_high", "replications"]
    ].reset_index(drop=True)


def days_late_distribution(patients: pd.DataFrame) -> pd.DataFrame:
    """Patients treated after their deadline per days late, all replications together:
    ``days_late, patients`` and the split by reason (``capacity, health, wish``)."""
    late = patients[patients["days_late"] > 0]
    table = (
        late.groupby(["days_late", "exceed_reason"])
        .size()
        .unstack("exceed_reason", fill_value=0)
        .reindex(columns=list(REASONS), fill_value=0)
    )
    table.insert(0, "patients", table.sum(axis=1))
    table.columns.name = None
    return table.reset_index().astype(np.int64)


def utilisation(
    departments: pd.DataFrame, by: tuple[str, ...] = ("department_id",)
) -> pd.DataFrame:
    """Slots and used slots over the horizon (mean per replication) and utilisation = used /
    slots, per department (or per ``by``, e.g. department, collaboration and procedure),
    busiest first."""
    keys = list(by)
    replications = max(1, departments["replication"].nunique())
    totals = departments.groupby(keys, as_index=False)[["slots", "used"]].sum()
    totals[["slots", "used"]] = totals[["slots", "used"]] / replications
    totals["utilisation"] = _ratio(totals["used"], totals["slots"])
    return totals.sort_values("utilisation", ascending=False, ignore_index=True)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator / denominator.where(denominator > 0)


def _half_width(std: pd.Series, count: pd.Series) -> pd.Series:
    """Half the 95 % t interval of a mean (NaN with fewer than two values)."""
    freedom = (count - 1).where(count > 1)
    return stats.t.ppf(0.975, freedom) * std / np.sqrt(count)


def _interval(values: np.ndarray, share: bool = False) -> dict[str, float]:
    """Mean and 95 % t interval of non-negative values, the bounds kept to [0, inf) (a count
    never gets a negative bound) or to [0, 1] for a share."""
    values = values[~np.isnan(values)]
    count = len(values)
    if count == 0:
        return {"mean": np.nan, "ci_low": np.nan, "ci_high": np.nan, "replications": 0}
    mean = float(values.mean())
    if count < 2:
        return {"mean": mean, "ci_low": np.nan, "ci_high": np.nan, "replications": count}
    half = float(stats.t.ppf(0.975, count - 1) * values.std(ddof=1) / np.sqrt(count))
    high = min(mean + half, 1.0) if share else mean + half
    return {
        "mean": mean,
        "ci_low": max(mean - half, 0.0),
        "ci_high": high,
        "replications": count,
    }


def per_service(patients: pd.DataFrame) -> pd.DataFrame:
    """Per collaboration, procedure and replication: treated, within and exceedance counts.

    A replication in which a service treated nobody counts as 0, not as missing.
    """
    frame = patients.assign(
        within=patients["exceed_reason"] == "within",
        capacity=patients["exceed_reason"] == "capacity",
        health=patients["exceed_reason"] == "health",
        wish=patients["exceed_reason"] == "wish",
    )
    per = frame.groupby(["collaboration", "procedure", "replication"]).agg(
        treated=("patient_id", "size"),
        within=("within", "sum"),
        exceeded_capacity=("capacity", "sum"),
        exceeded_health=("health", "sum"),
        exceeded_wish=("wish", "sum"),
        days_late_total=("days_late", "sum"),
    )
    services = sorted({(c, p) for c, p, _ in per.index})
    replications = np.sort(patients["replication"].unique())
    full = pd.MultiIndex.from_tuples(
        [(c, p, r) for c, p in services for r in replications], names=per.index.names
    )
    per = per.reindex(full, fill_value=0)
    per["within_share"] = per["within"] / per["treated"].where(per["treated"] > 0)
    return per


SERVICE_KPIS: Final = (
    "treated",
    "within_share",
    "exceeded_capacity",
    "exceeded_health",
    "exceeded_wish",
    "days_late_total",
)


def services_in(per: pd.DataFrame) -> list[tuple[str, str]]:
    """The (collaboration, procedure) pairs of a :func:`per_service` frame, sorted."""
    return sorted({(str(c), str(p)) for c, p, _ in per.index})


def by_service(patients: pd.DataFrame) -> pd.DataFrame:
    """Per collaboration and procedure: treated, within share and exceedances, with 95 % CIs.

    Answers "what happens in upper GI" for upper GI, not nationally.
    """
    per = per_service(patients)
    rows = []
    for (collaboration, procedure), group in per.groupby(level=[0, 1]):
        for kpi in SERVICE_KPIS:
            rows.append(
                {
                    "collaboration": collaboration,
                    "procedure": procedure,
                    "kpi": kpi,
                    **_interval(group[kpi].to_numpy(dtype=np.float64), share=kpi in SHARES),
                }
            )
    return pd.DataFrame(
        rows,
        columns=["collaboration", "procedure", "kpi", "mean", "ci_low", "ci_high", "replications"],
    )


#: Counts of :func:`per_group`, per group and replication.
GROUP_COUNTS: Final = (
    "treated",
    "within",
    "exceeded_capacity",
    "exceeded_health",
    "exceeded_wish",
    "days_late_total",
)


def per_group(patients: pd.DataFrame, keys: list[str], replications: list[int]) -> pd.DataFrame:
    """Per group of ``keys`` (e.g. collaboration, procedure, home region) and replication: the
    counts of :data:`GROUP_COUNTS`; every replication in ``replications`` appears for every
    group, with 0 where it treated nobody there."""
    frame = patients.assign(
        within=patients["exceed_reason"] == "within",
        capacity=patients["exceed_reason"] == "capacity",
        health=patients["exceed_reason"] == "health",
        wish=patients["exceed_reason"] == "wish",
    )
    per = frame.groupby([*keys, "replication"]).agg(
        treated=("patient_id", "size"),
        within=("within", "sum"),
        exceeded_capacity=("capacity", "sum"),
        exceeded_health=("health", "sum"),
        exceeded_wish=("wish", "sum"),
        days_late_total=("days_late", "sum"),
    )
    groups = sorted({tuple(g[:-1]) for g in per.index}) if len(per) else []
    full = pd.MultiIndex.from_tuples(
        [(*g, r) for g in groups for r in replications], names=[*keys, "replication"]
    )
    return per.reindex(full, fill_value=0).astype(np.float64)
