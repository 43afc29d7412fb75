"""The contract's vocabulary as string enums: collaborations, procedures, regions, providers."""

from __future__ import annotations

import difflib
from enum import StrEnum


class Collaboration(StrEnum):
    """The six national operational cancer collaborations."""

    BREAST = "breast"
    LUNG = "lung"
    URINARY = "urinary"
    GYNAECOLOGICAL = "gynaecological"
    UPPER_GI = "upper_gi"
    LOWER_GI = "lower_gi"


class Procedure(StrEnum):
    """What a patient waits for: pre-examination (udredning) or a treatment."""

    PRE_EXAMINATION = "pre_examination"
    SURGERY = "surgery"
    CHEMOTHERAPY = "chemotherapy"
    RADIOTHERAPY = "radiotherapy"


class Region(StrEnum):
    """The five Danish regions. Foreign providers use an ISO 3166-1 alpha-2 code instead."""

    HOVEDSTADEN = "Hovedstaden"
    SJAELLAND = "Sjælland"
    SYDDANMARK = "Syddanmark"
    MIDTJYLLAND = "Midtjylland"
    NORDJYLLAND = "Nordjylland"


class PathwayType(StrEnum):
    """The three clocks of the maximum waiting times (a pathway's type)."""

    INVESTIGATION = "investigation"
    PRIMARY = "primary"
    FOLLOW_ON = "follow_on"


class ProviderType(StrEnum):
    """Who runs a department: Danish public, Danish private (aftalesygehus), or abroad."""

    PUBLIC = "public"
    PRIVATE = "private"
    FOREIGN = "foreign"


class DeadlineStatus(StrEnum):
    """Whether a patient's clock runs; a paused deadline cannot be breached."""

    ACTIVE = "active"
    PAUSED_PATIENT_WISH = "paused_patient_wish"
    PAUSED_HEALTH = "paused_health"


class Action(StrEnum):
    """What a proposal does to a patient's current booking."""

    KEEP = "keep"
    MOVE = "move"
    NEW = "new"
    UNASSIGNED = "unassigned"


COLLABORATIONS: tuple[str, ...] = tuple(c.value for c in Collaboration)
PROCEDURES: tuple[str, ...] = tuple(p.value for p in Procedure)
REGIONS: tuple[str, ...] = tuple(r.value for r in Region)
PATHWAY_TYPES: tuple[str, ...] = tuple(t.value for t in PathwayType)
PROVIDER_TYPES: tuple[str, ...] = tuple(t.value for t in ProviderType)
DEADLINE_STATUSES: tuple[str, ...] = tuple(s.value for s in DeadlineStatus)

#: Danish labels for the domain terms, used by pages and reports.
DANISH_LABELS: dict[str, str] = {
    "breast": "bryst",
    "lung": "lunge",
    "urinary": "urinveje",
    "gynaecological": "gynækologi",
    "upper_gi": "øvre GI",
    "lower_gi": "nedre GI",
    "pre_examination": "forundersøgelse",
    "surgery": "operation",
    "chemotherapy": "kemoterapi",
    "radiotherapy": "strålebehandling",
    "public": "offentlig",
    "private": "privat",
    "foreign": "udland",
    "active": "aktiv",
    "paused_patient_wish": "pause (patientens ønske)",
    "paused_health": "pause (helbred)",
}


def is_foreign_region(value: str) -> bool:
    """True for an ISO 3166-1 alpha-2 country code other than DK (a foreign provider's region)."""
    return (
        len(value) == 2
        and value.isascii()
        and value.isalpha()
        and value.isupper()
        and value != "DK"
    )


def closest(value: str, choices: tuple[str, ...] | list[str]) -> str | None:
    """The valid choice most like ``value`` (a "did you mean" hint), or None if none is close."""
    lowered = {c.lower(): c for c in choices}
    if value.strip().lower() in lowered:
        return lowered[value.strip().lower()]
    match = difflib.get_close_matches(value.strip().lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[match[0]] if match else None
