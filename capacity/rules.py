"""Maximum-waiting-time rules: load the versioned rules file and compute missing deadlines.

The rules live in a YAML file with their sources (the bundled default is
``capacity/data/rules/maximum_waiting_times.yaml``); nothing about the law is hard-coded here.
A patient without a ``deadline`` gets one from the first rule group that applies to its
procedure and has a clock date filled in; within a group the earliest limit binds, e.g. primary
treatment: ``min(consent_date + 14, referral_to_treatment + 28)``. See docs/rules.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import yaml

from capacity import frames
from capacity.vocabulary import DEADLINE_STATUSES, PATHWAY_TYPES, PROCEDURES

#: ``deadline_rule`` of a row whose deadline was given in the file.
GIVEN: Final = "given"
#: The clock-date columns a limit may count from.
CLOCKS: Final[tuple[str, ...]] = tuple(c for c in frames.PATIENT_CLOCKS if c != "deadline_rule")
BUNDLED_RULES: Final = "maximum_waiting_times.yaml"
#: The kinds of recorded pathway (capacity.pathways) and the events their clocks count from.
PATHWAY_CLOCKS: Final = ("referral_received", "consent", "followon_referral")


class RulesError(ValueError):
    """A rules file that cannot be used (the message names the file and the entry)."""


@dataclass(frozen=True)
class Limit:
    """One maximum waiting time: at most ``days`` after the ``clock`` date."""

    name: str
    clock: str
    days: int
    enabled: bool = True
    confirmed: bool = True
    source: str = ""
    #: Counted only when no other enabled limit of its group has its clock date.
    fallback: bool = False


@dataclass(frozen=True)
class RuleGroup:
    """Limits for some procedures; a patient's deadline is the earliest of the enabled ones."""

    name: str
    procedures: tuple[str, ...]
    limits: tuple[Limit, ...]


@dataclass(frozen=True)
class Rules:
    """A versioned set of deadline rules, in the order they are tried."""

    version: str
    title: str
    clock_start_day: int
    groups: tuple[RuleGroup, ...]
    paused_statuses: tuple[str, ...]
    source: str = ""
    #: Deadlines of recorded pathways (capacity.pathways): per pathway type (investigation,
    #: primary, follow_on), limits whose clocks are pathway events (referral_received, consent,
    #: followon_referral); the earliest enabled limit with its event recorded wins.
    pathways: tuple[RuleGroup, ...] = ()

    def label(self, group: RuleGroup, limit: Limit) -> str:
        """The ``deadline_rule`` naming a limit, e.g. ``pre_examination.referral_14d@2024-02``."""
        return f"{group.name}.{limit.name}@{self.version}"

    def clocks_for(self, procedure: str) -> tuple[str, ...]:
        """The clock columns from which a deadline for ``procedure`` can be computed."""
        clocks = [
            limit.clock
            for group in self.groups
            if procedure in group.procedures
            for limit in group.limits
            if limit.enabled
        ]
        return tuple(dict.fromkeys(clocks))


def load_rules(path: str | Path | None = None) -> Rules:
    """The rules in a YAML rules file (default: the bundled maximum waiting times)."""
    if path is None:
        return _bundled_rules()
    return _load_rules(path)


@cache
def _bundled_rules() -> Rules:
    # Rules are frozen; the bundled file is read once per process (the simulator asks weekly).
    return _load_rules(None)


def _load_rules(path: str | Path | None) -> Rules:
    if path is None:
        resource = resources.files("capacity.data.rules").joinpath(BUNDLED_RULES)
        text, where = resource.read_text(encoding="utf-8"), f"capacity/data/rules/{BUNDLED_RULES}"
    else:
        text, where = Path(path).read_text(encoding="utf-8"), str(path)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RulesError(f"{where}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise RulesError(f"{where}: expected a mapping with version, day_counting and rules")
    return _rules_from(document, where)


def _rules_from(document: dict[str, Any], where: str) -> Rules:
    try:
        version = str(document["version"])
        clock_start_day = int(document.get("day_counting", {}).get("clock_start_day", 0))
        entries = document["rules"]
    except (KeyError, TypeError, ValueError) as error:
        raise RulesError(f"{where}: missing or malformed {error}") from error
    if clock_start_day not in (0, 1):
        raise RulesError(f"{where}: day_counting.clock_start_day must be 0 or 1")
    paused = tuple(document.get("paused_statuses", {}) or ())
    for status in paused:
        if status not in DEADLINE_STATUSES:
            raise RulesError(f"{where}: paused_statuses: unknown deadline_status {status!r}")
    groups = tuple(_group_from(entry, f"{where}: rules[{i}]") for i, entry in enumerate(entries))
    pathways = tuple(
        _group_from(entry, f"{where}: pathways[{i}]", PATHWAY_TYPES, PATHWAY_CLOCKS)
        for i, entry in enumerate(document.get("pathways") or ())
    )
    return Rules(
        version=version,
        title=str(document.get("title", "")),
        clock_start_day=clock_start_day,
        groups=groups,
        paused_statuses=paused,
        source=where,
        pathways=pathways,
    )


def _group_from(
    entry: dict[str, Any],
    where: str,
    kinds: tuple[str, ...] = PROCEDURES,
    clocks: tuple[str, ...] = CLOCKS,
) -> RuleGroup:
    """One rule group: limits for some procedures (or pathway types) from clock columns (or
    pathway events)."""
    try:
        name = str(entry["name"])
        procedures = tuple(str(p) for p in entry.get("procedures") or ())
        limits = tuple(
            Limit(
                name=str(limit["name"]),
                clock=str(limit["clock"]),
                days=int(limit["days"]),
                enabled=bool(limit.get("enabled", True)),
                confirmed=bool(limit.get("confirmed", True)),
                source=str(limit.get("source", "")),
                fallback=bool(limit.get("fallback", False)),
            )
            for limit in entry["limits"]
        )
    except (KeyError, TypeError, ValueError) as error:
        raise RulesError(f"{where}: missing or malformed {error}") from error
    for procedure in procedures:
        if procedure not in kinds:
            raise RulesError(f"{where} ({name}): unknown procedure {procedure!r}")
    for limit in limits:
        if limit.clock not in clocks:
            raise RulesError(
                f"{where} ({name}.{limit.name}): unknown clock {limit.clock!r};"
                f" expected one of {', '.join(clocks)}"
            )
        if limit.days < 0:
            raise RulesError(f"{where} ({name}.{limit.name}): days must be >= 0")
    return RuleGroup(name=name, procedures=procedures, limits=limits)


def compute_deadlines(patients: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """The patients with every computable missing ``deadline`` filled in and ``deadline_rule`` set.

    Given deadlines are kept (``deadline_rule = "given"``); a missing one comes from the first
    rule group (in the rules' order) that applies to the patient's procedure and has a clock
    date, as the earliest of its enabled limits. Rows no rule can serve keep ``NaT`` and an
    empty ``deadline_rule``. ``deadline_status`` is left as it is: a paused clock keeps its date.
    """
    out = patients.copy()
    for name, dtype in frames.PATIENT_CLOCKS.items():
        if name not in out.columns:
            out[name] = pd.Series(index=out.index, dtype=dtype)
    deadline = out["deadline"].to_numpy(dtype="datetime64[ns]", copy=True)
    rule = np.full(len(out), None, dtype=object)
    given = ~np.isnat(deadline)
    rule[given] = GIVEN
    todo = ~given
    for group in rules.groups:
        limits = [limit for limit in group.limits if limit.enabled]
        if not limits or not todo.any():
            continue
        applies = todo & out["procedure"].isin(group.procedures).to_numpy(dtype=bool)
        if not applies.any():
            continue
        candidates = np.stack(
            [
                _limit_dates(out[limit.clock], limit.days - rules.clock_start_day)
                for limit in limits
            ],
            axis=1,
        )
        missing = np.isnat(candidates)
        ticks = np.where(missing, np.iinfo(np.int64).max, candidates.view(np.int64))
        earliest = ticks.argmin(axis=1)
        hit = applies & ~missing.all(axis=1)
        rows = np.flatnonzero(hit)
        deadline[rows] = candidates[rows, earliest[rows]]
        labels = np.array([rules.label(group, limit) for limit in limits], dtype=object)
        rule[rows] = labels[earliest[rows]]
        todo &= ~hit
    out["deadline"] = pd.Series(deadline, index=out.index, dtype=frames.DATE)
    out["deadline_rule"] = pd.Series(rule, index=out.index, dtype=frames.STR)
    return out


def _limit_dates(clock: pd.Series, days: int) -> np.ndarray:
    """``clock + days`` as datetime64[ns] (NaT where the clock date is missing)."""
    return (clock.astype(frames.DATE) + pd.Timedelta(days=days)).to_numpy(dtype="datetime64[ns]")
