"""The quarterly monitoring report of maximum waiting times, in the national model's categories.

Every completed pathway (forløb) of the quarter falls in one of three categories (the national
monitoring model since Q1 2024, brief 7.1):

1. within the maximum waiting time;
2. exceeded, but the rules complied, by reason: the patient's health, the patient's wish, or
   capacity where the patient was informed and offered referral elsewhere;
3. rules not complied (no offer of referral, booking errors, unforeseen events).

Counts go per home region (the region with the duty to act), collaboration and procedure, with
totals along every axis, and the days exceeded (sum, mean, median over the pathways in categories
2 and 3). Counts of 1-4 are suppressed with secondary suppression (:mod:`reports.suppression`);
days statistics are published only for groups of at least five exceeded pathways whose size is
itself published.

Pathways come from a CSV or Parquet file (:data:`PATHWAY_COLUMNS`, validated with file, row and
column), from a scenario run folder, or from a simulated quarter (the bundled reference data or a
stored snapshot replayed week by week by :mod:`scenarios.simulate`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import jinja2
import numpy as np
import numpy.typing as npt
import pandas as pd

from capacity.validation import ID_PATTERN, Problem, ValidationFailed
from capacity.vocabulary import (
    COLLABORATIONS,
    DANISH_LABELS,
    PROCEDURES,
    REGIONS,
    closest,
)
from reports import suppression
from reports.files import staged_output
from reports.spreadsheet import write_frames
from reports.suppression import Dimension, Status

TEMPLATES: Final = Path(__file__).with_name("templates")
LANGUAGES: Final = ("da", "en")
#: Row label of a total along an axis (region, collaboration, procedure) in files and frames.
ALL: Final = "all"

#: Why a deadline was exceeded, as a pathways file states it (empty: within the deadline).
EXCEED_REASONS: Final = ("health", "patient_wish", "capacity", "not_complied")
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

#: Columns of a completed-pathways file, in order, with whether each must be filled in.
PATHWAY_COLUMNS: Final[dict[str, bool]] = {
    "patient_id": True,
    "collaboration": True,
    "procedure": True,
    "home_region": True,
    "deadline": True,
    "start_date": True,
    "exceed_reason": False,
    "department_id": False,
}
#: Pathways in a normalised frame (what every source is turned into).
NORMALISED: Final = (
    "patient_id",
    "collaboration",
    "procedure",
    "home_region",
    "department_id",
    "start_date",
    "days_exceeded",
    "category",
)

QUARTER = re.compile(r"(\d{4})-Q([1-4])")
MAX_PROBLEMS: Final = 200

TEXT: Final[dict[str, dict[str, str]]] = {
    "da": {
        "title": "Overvågning af maksimale ventetider på kræftområdet",
        "quarter": "Kvartal",
        "source": "Datakilde",
        "pathways_counted": "Afsluttede forløb i kvartalet",
        "ignored": "Forløb uden for kvartalet (ikke talt med)",
        "region": "Region",
        "collaboration": "Samarbejde",
        "procedure": "Ydelse",
        "pathways": "Forløb i alt",
        "within": "Inden for maksimal ventetid",
        "complied": "Overskredet, regler overholdt: i alt",
        "health": "Heraf helbred",
        "patient_wish": "Heraf patientens ønske",
        "capacity": "Heraf kapacitet (tilbudt henvisning)",
        "not_complied": "Regler ikke overholdt",
        "within_share": "Andel inden for (%)",
        "days_exceeded_sum": "Dage overskredet: sum",
        "days_exceeded_mean": "gns.",
        "days_exceeded_median": "median",
        "all_regions": "Hele landet",
        "all": "I alt",
        "national_title": "Hele landet pr. region",
        "collaboration_title": "Hele landet pr. samarbejde og ydelse",
        "region_title": "{region} pr. samarbejde og ydelse",
        "categories_note": (
            "Kategorierne følger den nationale overvågningsmodel fra 2024: inden for maksimal "
            "ventetid; overskredet, men regler overholdt, fordelt på årsag (patientens helbred, "
            "patientens ønske, kapacitet hvor patienten er informeret og tilbudt henvisning); "
            "regler ikke overholdt. Forløb opgøres efter bopælsregion (regionen med handlepligt)."
        ),
        "suppression_note": (
            "Diskretionering: antal fra 1 til 4 vises som «<5». Celler markeret «..» er skjult, "
            "så de skjulte tal ikke kan regnes ud fra totaler (sekundær diskretionering). "
            "Dage overskredet vises kun for grupper med mindst 5 overskredne forløb, hvis antal "
            "selv er vist."
        ),
        "days_note": "Dage overskredet: kalenderdage fra den lovmæssige frist til start.",
        "generated": "Dannet",
        "partial": "Delvist kvartal: forløb fra {first} (kvartalet starter {start}).",
    },
    "en": {
        "title": "Monitoring of maximum waiting times for cancer",
        "quarter": "Quarter",
        "source": "Source",
        "pathways_counted": "Pathways completed in the quarter",
        "ignored": "Pathways outside the quarter (not counted)",
        "region": "Region",
        "collaboration": "Collaboration",
        "procedure": "Procedure",
        "pathways": "Pathways",
        "within": "Within the maximum waiting time",
        "complied": "Exceeded, rules complied: total",
        "health": "of which health",
        "patient_wish": "of which patient's wish",
        "capacity": "of which capacity (offered referral)",
        "not_complied": "Rules not complied",
        "within_share": "Share within (%)",
        "days_exceeded_sum": "Days exceeded: sum",
        "days_exceeded_mean": "mean",
        "days_exceeded_median": "median",
        "all_regions": "Denmark",
        "all": "Total",
        "national_title": "Denmark by region",
        "collaboration_title": "Denmark by collaboration and procedure",
        "region_title": "{region} by collaboration and procedure",
        "categories_note": (
            "Categories of the national monitoring model (2024): within the maximum waiting "
            "time; exceeded but rules complied, by reason (the patient's health, the patient's "
            "wish, capacity where the patient was informed and offered referral elsewhere); "
            "rules not complied. Pathways count in the home region (the region with the duty to "
            "act)."
        ),
        "suppression_note": (
            "Disclosure control: counts from 1 to 4 are shown as '<5'. Cells shown as '..' are "
            "hidden so that no hidden count can be worked out from totals (secondary "
            "suppression). Days exceeded are shown only for groups of at least 5 exceeded "
            "pathways whose number is itself shown."
        ),
        "days_note": "Days exceeded: calendar days from the legal deadline to the start.",
        "generated": "Generated",
        "partial": "Partial quarter: pathways from {first} (the quarter starts {start}).",
    },
}

ENGLISH_LABELS: Final[dict[str, str]] = {
    "breast": "breast",
    "lung": "lung",
    "urinary": "urinary tract",
    "gynaecological": "gynaecological",
    "upper_gi": "upper GI",
    "lower_gi": "lower GI",
    "pre_examination": "pre-examination",
    "surgery": "surgery",
    "chemotherapy": "chemotherapy",
    "radiotherapy": "radiotherapy",
}


class MonitoringError(ValueError):
    """Input the report cannot use; the message says what to change."""


@dataclass(frozen=True)
class Source:
    """Where a report's pathways come from, said in each language."""

    en: str
    da: str

    def text(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return self.da if lang == "da" else self.en


def file_source(path: str | Path) -> Source:
    """The source sentence of a pathways file."""
    name = Path(path).name
    return Source(f"completed pathways in {name}", f"afsluttede forløb i {name}")


def run_source(folder: str | Path, replication: int) -> Source:
    """The source sentence of a scenario run folder."""
    name = Path(folder).name
    return Source(
        f"scenario run {name}, replication {replication}",
        f"scenariekørsel {name}, replikation {replication}",
    )


# ---- the quarter -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, ``2026-Q3``: its first and last day."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """The quarter named ``YYYY-Qn``; :class:`MonitoringError` otherwise."""
        match = QUARTER.fullmatch(text.strip())
        if not match:
            raise MonitoringError(f"quarter {text!r}: expected YYYY-Qn, e.g. 2026-Q3")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last(self) -> dt.date:
        following = (
            dt.date(self.year + 1, 1, 1)
            if self.number == 4
            else dt.date(self.year, 3 * self.number + 1, 1)
        )
        return following - dt.timedelta(days=1)

    def mondays(self) -> list[dt.date]:
        """The Mondays inside the quarter (13 or 14)."""
        day = self.first + dt.timedelta(days=(7 - self.first.weekday()) % 7)
        out = []
        while day <= self.last:
            out.append(day)
            day += dt.timedelta(days=7)
        return out

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


def iso_week(day: dt.date) -> str:
    """The ISO week label ``YYYY-Www`` of a day."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# ---- sources -----------------------------------------------------------------------------------


def read_pathways(path: str | Path) -> pd.DataFrame:
    """Completed pathways from a CSV or Parquet file, validated; normalised (:data:`NORMALISED`).

    Every problem is reported at once as ``file:row:column: message`` (CSV rows by spreadsheet
    line, header = 1; Parquet rows by position, first = 1) in a :class:`ValidationFailed`.
    """
    file = Path(path)
    if not file.is_file():
        raise MonitoringError(f"{file}: no such file")
    if file.suffix.lower() in (".parquet", ".pq"):
        raw = pd.read_parquet(file)
        raw = raw.astype(object).where(raw.notna(), None)
        raw = raw.map(lambda v: None if v is None else _plain_text(v))
        lines = np.arange(1, len(raw) + 1)
    else:
        try:
            raw = pd.read_csv(
                file,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skip_blank_lines=False,
                encoding="utf-8-sig",
            )
        except UnicodeDecodeError:
            raise ValidationFailed(
                [Problem(file.name, None, None, "not UTF-8 text; save the file as CSV UTF-8")]
            ) from None
        except pd.errors.EmptyDataError:
            raise ValidationFailed(
                [Problem(file.name, None, None, "the file is empty; expected a header row")]
            ) from None
        raw.columns = [str(c).strip() for c in raw.columns]
        blank = raw.isna().all(axis=1).to_numpy()
        lines = np.arange(2, len(raw) + 2)[~blank]
        raw = raw[~blank].reset_index(drop=True)
    return _validated(raw, file.name, lines)


def _plain_text(value: Any) -> str:
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _validated(raw: pd.DataFrame, name: str, lines: npt.NDArray[np.int64]) -> pd.DataFrame:
    """The raw string table checked column by column; the normalised pathways."""
    problems: list[tuple[int, Problem]] = []

    def at(mask: npt.ArrayLike, column: str, describe: Callable[[int], str]) -> None:
        for position in np.flatnonzero(np.asarray(mask, dtype=bool))[:MAX_PROBLEMS]:
            line = int(lines[position])
            problems.append((line, Problem(name, line, column, describe(int(position)))))

    missing = [c for c, required in PATHWAY_COLUMNS.items() if required and c not in raw.columns]
    if missing:
        raise ValidationFailed(
            [
                Problem(
                    name,
                    1,
                    column,
                    f"missing column; a pathways file needs {', '.join(PATHWAY_COLUMNS)}"
                    + _did_you_mean(column, list(raw.columns)),
                )
                for column in missing
            ]
        )
    text = {
        c: raw[c].astype("string").str.strip() if c in raw.columns else None
        for c in PATHWAY_COLUMNS
    }
    for column, required in PATHWAY_COLUMNS.items():
        values = text[column]
        if required and values is not None:
            at(values.isna() | (values == ""), column, lambda _p: "empty; a value is required")
    patient = text["patient_id"]
    assert patient is not None
    at(
        patient.notna() & ~patient.fillna("").str.fullmatch(ID_PATTERN),
        "patient_id",
        lambda p: f"{patient[p]!r} is not a pseudonym (letters, digits, '.', '_', '-'; at most 64)",
    )
    at(
        patient.fillna("").str.fullmatch(r"\d{6}-?\d{4}"),
        "patient_id",
        lambda _p: "looks like a CPR number; use the pseudonym the contract asks for",
    )
    for column, choices in (
        ("collaboration", COLLABORATIONS),
        ("procedure", PROCEDURES),
        ("home_region", REGIONS),
    ):
        values = text[column]
        assert values is not None
        at(
            values.notna() & ~values.isin(choices),
            column,
            _describe_unknown(values, choices),
        )
    dates = {}
    for column in ("deadline", "start_date"):
        values = text[column]
        assert values is not None
        parsed = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
        at(
            values.notna() & parsed.isna(),
            column,
            _describe_not_date(values),
        )
        dates[column] = parsed
    late = (dates["start_date"] - dates["deadline"]).dt.days
    reason = text["exceed_reason"]
    if reason is None:
        reason = pd.Series(pd.NA, index=raw.index, dtype="string")
    at(
        reason.notna() & ~reason.isin(EXCEED_REASONS),
        "exceed_reason",
        lambda p: _unknown(reason[p], EXCEED_REASONS) + "; leave it empty when within the deadline",
    )
    at(
        (late > 0).fillna(False) & reason.isna(),
        "exceed_reason",
        lambda p: (
            f"empty, but the start is {int(late[p])} days after the deadline; say why: "
            + ", ".join(EXCEED_REASONS)
        ),
    )
    at(
        (late <= 0).fillna(False) & reason.notna(),
        "exceed_reason",
        lambda p: f"{reason[p]!r}, but the start is not after the deadline; leave it empty",
    )
    keys = ["patient_id", "collaboration", "procedure", "start_date"]
    duplicate = raw[keys].duplicated(keep="first") & raw[keys].notna().all(axis=1)
    at(
        duplicate,
        "patient_id",
        lambda p: f"{patient[p]!r} has this collaboration, procedure and start date already",
    )
    if problems:
        problems.sort(key=lambda found: found[0])
        kept = [problem for _, problem in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            kept.append(Problem(name, None, None, f"... and {len(problems) - MAX_PROBLEMS} more"))
        raise ValidationFailed(kept)
    department = text["department_id"]
    days = late.clip(lower=0).astype(np.int64)
    return _normalised(
        pd.DataFrame(
            {
                "patient_id": patient,
                "collaboration": text["collaboration"],
                "procedure": text["procedure"],
                "home_region": text["home_region"],
                "department_id": department if department is not None else pd.NA,
                "start_date": dates["start_date"],
                "days_exceeded": days,
                "category": reason.fillna("within").astype(str),
            }
        )
    )


def _describe_unknown(values: pd.Series, choices: Sequence[str]) -> Callable[[int], str]:
    return lambda position: _unknown(values[position], choices)


def _describe_not_date(values: pd.Series) -> Callable[[int], str]:
    return lambda position: f"{values[position]!r} is not a date; expected YYYY-MM-DD"


def _unknown(value: object, choices: Sequence[str]) -> str:
    hint = closest(str(value), tuple(choices))
    suggestion = f"; did you mean {hint!r}?" if hint else ""
    return f"{value!r} is not one of {', '.join(choices)}{suggestion}"


def _did_you_mean(column: str, present: list[str]) -> str:
    hint = closest(column, present)
    return f" (did you mean to rename {hint!r}?)" if hint and hint != column else ""


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reindex(columns=list(NORMALISED))
    for column in ("patient_id", "collaboration", "procedure", "home_region", "department_id"):
        out[column] = out[column].astype("string")
    out["start_date"] = pd.to_datetime(out["start_date"]).astype("datetime64[ns]")
    out["days_exceeded"] = out["days_exceeded"].astype(np.int64)
    out["category"] = out["category"].astype(str)
    return out.reset_index(drop=True)


def pathways_from_run(run: Any, replication: int = 0) -> pd.DataFrame:
    """The treated patients of one replication of a scenario run as normalised pathways.

    The simulation treats by week: ``start_date`` is the Monday of the week of treatment.
    Reasons map to the national categories: health and the patient's wish as such; a capacity
    exceedance counts as *capacity, offered referral* when the run's policy shared capacity
    across regions (the solver searched every region, private and foreign option, so the offer
    made was the best there was), and as *rules not complied* when it did not (the duty to offer
    referral to another region was not met).
    """
    patients = run.patients[run.patients["replication"] == replication]
    if patients.empty:
        held = sorted(int(r) for r in run.patients["replication"].unique())
        raise MonitoringError(
            f"the run has no treated patients in replication {replication}; it holds {held}"
        )
    weeks = (
        run.weekly[run.weekly["replication"] == replication]
        .set_index("week")["week_label"]
        .astype(str)
    )
    monday = weeks.map(lambda label: dt.date.fromisocalendar(int(label[:4]), int(label[6:]), 1))
    sharing = bool(run.scenario.solver_policy().allow_cross_region)
    return pathways_from_outcomes(patients, monday, sharing)


def pathways_from_outcomes(
    patients: pd.DataFrame, monday_of_week: pd.Series, cross_region: bool
) -> pd.DataFrame:
    """Simulated outcomes (``scenarios.simulate.PATIENT_COLUMNS``) as normalised pathways."""
    reason = patients["exceed_reason"].astype(str)
    capacity = "capacity" if cross_region else "not_complied"
    category = reason.map(
        {"within": "within", "health": "health", "wish": "patient_wish", "capacity": capacity}
    )
    return _normalised(
        pd.DataFrame(
            {
                "patient_id": patients["patient_id"].to_numpy(),
                "collaboration": patients["collaboration"].to_numpy(),
                "procedure": patients["procedure"].to_numpy(),
                "home_region": patients["home_region"].to_numpy(),
                "department_id": patients["department_id"].to_numpy(),
                "start_date": pd.to_datetime(
                    patients["treated_week"].map(monday_of_week).to_numpy()
                ),
                "days_exceeded": patients["days_late"].to_numpy(dtype=np.int64),
                "category": category.to_numpy(),
            }
        )
    )


@dataclass(frozen=True)
class SimulatedQuarter:
    """Pathways of a simulated quarter and a sentence saying where they come from."""

    pathways: pd.DataFrame
    source: Source


def simulate_quarter(
    quarter: Quarter,
    *,
    scale: float = 1.0,
    seed: int = 1,
    warmup_weeks: int = 3,
    database: str | None = None,
    week: str | None = None,
) -> SimulatedQuarter:
    """A quarter of completed pathways played out by the rolling-horizon simulation.

    From the bundled reference data (default): the reference waiting list ``warmup_weeks``
    before the quarter's first Monday at ``scale``, simulated to the quarter's last week (the
    warm-up weeks let the generated backlog clear and are not counted). From a database: the
    stored snapshot of ``week``, simulated to the quarter's end (default: the latest load week
    on or before the quarter's start, else the first inside it, which gives a partial quarter).
    One replication, default policy (capacity shared across regions), default behaviour.
    """
    from scenarios.schema import scenario_from_mapping
    from scenarios.simulate import run_replication

    mondays = quarter.mondays()
    if database is None:
        start = mondays[0] - dt.timedelta(weeks=warmup_weeks)
        base: dict[str, Any] = {
            "type": "reference",
            "week": iso_week(start),
            "seed": seed,
            "scale": scale,
        }
        source = Source(
            f"simulated from the bundled reference data (scale {scale:g}, seed {seed}, "
            f"{warmup_weeks} warm-up weeks from {iso_week(start)})",
            f"simuleret ud fra de medfølgende referencedata (skala {scale:g}, frø {seed}, "
            f"{warmup_weeks} indkøringsuger fra {iso_week(start)})",
        )
    else:
        label = _stored_start_week(database, quarter, week)
        start = dt.date.fromisocalendar(int(label[:4]), int(label[6:]), 1)
        if start > mondays[-1]:
            raise MonitoringError(f"week {label} is after {quarter}; pass a week before its end")
        base = {"type": "database", "url": database, "week": label}
        where = _hide_password(database)
        source = Source(
            f"simulated from the stored snapshot of {label} ({where})",
            f"simuleret ud fra det gemte øjebliksbillede af {label} ({where})",
        )
    horizon = (mondays[-1] - start).days // 7 + 1
    if horizon > 104:
        raise MonitoringError(
            f"{iso_week(start)} is {horizon} weeks before the end of {quarter}; at most 104"
        )
    scenario = scenario_from_mapping(
        {
            "name": f"monitoring-{quarter}",
            "base": base,
            "horizon_weeks": horizon,
            "replications": 1,
            "seed": seed,
        }
    )
    result = run_replication(scenario, 0)
    monday = pd.Series(
        [start + dt.timedelta(weeks=w) for w in range(horizon)], index=range(1, horizon + 1)
    )
    pathways = pathways_from_outcomes(
        result.patients, monday, bool(scenario.solver_policy().allow_cross_region)
    )
    return SimulatedQuarter(pathways, source)


def _stored_start_week(url: str, quarter: Quarter, week: str | None) -> str:
    """The stored week a replay of ``quarter`` starts from: ``week`` if a load was made for it,
    else the latest load week on or before the quarter's first Monday, else the first one inside
    the quarter; :class:`MonitoringError` naming the stored weeks otherwise."""
    from capacity.storage import declaration_history

    history = declaration_history(url)
    # a weekly load declares its week and the five after it: its first week is its week
    loads = sorted(set(history.groupby("load_id")["week"].min())) if len(history) else []
    if week is not None:
        if week not in loads:
            raise MonitoringError(
                f"no load was made for {week}; stored load weeks: {', '.join(loads) or 'none'}"
            )
        return week
    first, last = iso_week(quarter.mondays()[0]), iso_week(quarter.mondays()[-1])
    before = [w for w in loads if w <= first]
    inside = [w for w in loads if first < w <= last]
    if before:
        return before[-1]
    if inside:
        return inside[0]
    raise MonitoringError(
        f"the database holds no load for a week up to {last}; stored load weeks: "
        f"{', '.join(loads) or 'none'} (load one with kapacitet load DIR, or pass --week)"
    )


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]+@", r"\1:***@", url)


# ---- the table ---------------------------------------------------------------------------------


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


def build_report(
    pathways: pd.DataFrame, quarter: Quarter, source: Source, threshold: int = suppression.THRESHOLD
) -> MonitoringReport:
    """Count a quarter's pathways (by start date) into the suppressed monitoring table."""
    start = pd.Timestamp(quarter.first)
    end = pd.Timestamp(quarter.last)
    inside = (pathways["start_date"] >= start) & (pathways["start_date"] <= end)
    counted = pathways[inside.to_numpy(dtype=bool)]
    dims = dimensions()
    counts = _cube(counted, dims)
    status = suppression.suppress(counts, dims, threshold)
    days = _days(counted, dims, counts, status, threshold)
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
    )


def _codes(values: pd.Series, members: tuple[str, ...]) -> npt.NDArray[np.int64]:
    return np.asarray(pd.Index(members).get_indexer(pd.Index(values.astype(str))), dtype=np.int64)


def _cube(pathways: pd.DataFrame, dims: Sequence[Dimension]) -> npt.NDArray[np.int64]:
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


def _days(
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


# ---- output ------------------------------------------------------------------------------------


def label(value: str, lang: str, axis: str = "") -> str:
    """A domain value as shown in the report's language; totals as "Hele landet"/"I alt"."""
    words = TEXT[lang]
    if value == ALL:
        return words["all_regions"] if axis == "home_region" else words["all"]
    if axis == "home_region":
        return f"Region {value}"
    if lang == "da":
        return DANISH_LABELS.get(value, value)
    return ENGLISH_LABELS.get(value, value)


def _share(published: pd.Series) -> str:
    """Share within in percent, where both counts are published (never for hidden cells)."""
    within, total = published["within"], published["pathways"]
    if not (str(within).isdigit() and str(total).isdigit()) or int(total) == 0:
        return ""
    return f"{100 * int(within) / int(total):.1f}"


def localised(report: MonitoringReport, lang: str = "da") -> pd.DataFrame:
    """The published table with labels and column headings in ``lang`` (for HTML and Excel)."""
    words = TEXT[lang]
    table = report.published()
    table.insert(len(CATEGORIES) + 3, "within_share", table.apply(_share, axis=1))
    for axis in ("home_region", "collaboration", "procedure"):
        table[axis] = table[axis].map(lambda v, a=axis: label(v, lang, a))
    return table.rename(
        columns={c: words.get(c, c) for c in table.columns if c not in ("home_region",)}
        | {"home_region": words["region"]}
    )


def render_html(
    report: MonitoringReport, lang: str = "da", generated: dt.datetime | None = None
) -> str:
    """The report as one self-contained printable HTML page in ``lang`` (``da`` or ``en``)."""
    if lang not in LANGUAGES:
        raise MonitoringError(f"language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    words = TEXT[lang]
    table = report.published()
    table["within_share"] = table.apply(_share, axis=1)
    columns = [*CATEGORIES, "within_share", *DAYS_COLUMNS]
    indexed = table.set_index(["home_region", "collaboration", "procedure"])

    def row(key: tuple[str, str, str], head: str, level: int, total: bool) -> dict[str, Any]:
        record = indexed.loc[key]  # type: ignore[index]
        return {
            "head": head,
            "cells": [record[c] for c in columns],
            "level": level,
            "total": total,
        }

    by_region = [
        row((region, ALL, ALL), label(region, lang, "home_region"), 0, region == ALL)
        for region in (*REGIONS, ALL)
    ]
    sections = [{"title": words["national_title"], "axis": words["region"], "rows": by_region}]
    for region in (ALL, *REGIONS):
        rows = []
        for collaboration in COLLABORATIONS:
            rows.append(
                row(
                    (region, collaboration, ALL),
                    label(collaboration, lang, "collaboration"),
                    0,
                    True,
                )
            )
            rows.extend(
                row((region, collaboration, procedure), label(procedure, lang), 1, False)
                for procedure in PROCEDURES
            )
        rows.append(row((region, ALL, ALL), words["all"], 0, True))
        title = (
            words["collaboration_title"]
            if region == ALL
            else words["region_title"].format(region=label(region, lang, "home_region"))
        )
        sections.append(
            {
                "title": title,
                "axis": f"{words['collaboration']} / {words['procedure']}",
                "rows": rows,
            }
        )
    notes = list(report.notes)
    if report.first_start and report.first_start > report.quarter.first + dt.timedelta(days=7):
        notes.append(words["partial"].format(first=report.first_start, start=report.quarter.first))
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("monitoring.html").render(
        lang=lang,
        words=words,
        source=report.source.text(lang),
        report=report,
        columns=[words[c] for c in columns],
        sections=sections,
        notes=notes,
        generated=(generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        primary=suppression.PRIMARY_LABEL,
        secondary=suppression.SECONDARY_LABEL,
    )


def write_report(
    report: MonitoringReport,
    out: str | Path,
    lang: str = "da",
    pdf: bool = True,
    generated: dt.datetime | None = None,
) -> list[Path]:
    """Write ``monitoring-<quarter>.html`` (and ``.pdf``), ``.csv`` and ``.xlsx`` into ``out``.

    Everything is written to a scratch folder first and moved into place only when all files
    are complete, so a failure (e.g. no Chromium for the PDF) leaves nothing half written.
    """
    stem = f"monitoring-{report.quarter}"
    with staged_output(out, stem) as staged:
        work = staged.work
        html = render_html(report, lang, generated)
        (work / f"{stem}.html").write_text(html, encoding="utf-8")
        report.published().to_csv(work / f"{stem}.csv", index=False)
        write_excel(report, work / f"{stem}.xlsx", lang)
        if pdf:
            from reports.pdf import html_to_pdf

            html_to_pdf(work / f"{stem}.html", work / f"{stem}.pdf")
    return staged.written


def write_excel(report: MonitoringReport, path: Path, lang: str = "da") -> Path:
    """The suppressed table in an Excel workbook: the table, and a sheet of notes."""
    words = TEXT[lang]
    notes = pd.DataFrame(
        {
            "": [
                f"{words['title']} — {report.quarter}",
                f"{words['source']}: {report.source.text(lang)}",
                f"{words['pathways_counted']}: {report.counted}",
                words["categories_note"],
                words["suppression_note"],
                words["days_note"],
                *report.notes,
            ]
        }
    )
    notes_sheet = "notes" if lang == "en" else "noter"
    return write_frames(path, {str(report.quarter): localised(report, lang), notes_sheet: notes})
