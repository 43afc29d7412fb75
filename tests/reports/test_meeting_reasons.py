"""Reasons and alternatives in the meeting's languages, from the solver's structured facts."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from capacity.io import read_folder
from reports.meeting.reasons import alternative_text, date_text, km_text, reason_text
from solver.problem import Problem
from solver.solve import solve
from workflow.proposals import Alternative, Proposal, proposals_of

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
NAMES = {"AAL": "Thoraxkirurgi, Aalborg", "AAR": "Lungekirurgi, Skejby", "FLE": "Flensborg"}

#: English words that must never appear in a Danish text ("patient" and "booking" are Danish).
ENGLISH = {
    "the", "of", "and", "slot", "slots", "deadline", "department", "home", "kept", "current",
    "meets", "day", "days", "after", "before", "clock", "paused", "declined", "private",
    "foreign", "abroad", "taken", "other", "patients", "on", "in", "no", "free", "horizon",
    "within", "travel", "limit", "beyond", "does", "not", "offer", "surgery", "pre-examination",
    "chemotherapy", "radiotherapy", "every", "eligible", "refer", "extend", "without", "would",
    "leave", "another", "further", "wish", "health", "is", "it", "more", "breach", "breaches",
    "late", "met", "either", "way", "any", "one", "ranks", "lower", "policy", "price", "date",
    "category", "pushing", "passed", "today", "has", "had", "all", "by", "up", "to",
}  # fmt: skip

BASE: dict[str, Any] = {
    "patient_id": "p1",
    "department_id": "AAR",
    "date": "2026-11-27",
    "deadline": "2026-12-01",
    "days_late": 0,
    "travel_km": 130.4,
    "action": "new",
    "collaboration": "lung",
    "procedure": "surgery",
    "home_department_id": "AAL",
    "deadline_status": "active",
    "reason_code": "away",
    "home_situation": "taken",
    "home_first_date": "",
    "late_cause": "",
    "declined": "",
    "travel_limit_km": None,
}

CASES: dict[str, dict[str, Any]] = {
    "keep": {"reason_code": "keep", "home_situation": "", "action": "keep"},
    "home": {"reason_code": "home", "home_situation": "", "department_id": "AAL"},
    "away_taken": {},
    "away_not_offered": {"home_situation": "not_offered", "procedure": "radiotherapy"},
    "away_beyond_limit": {"home_situation": "beyond_limit", "travel_limit_km": 50.0},
    "away_no_slot": {"home_situation": "no_slot", "procedure": "chemotherapy"},
    "away_no_slot_before_deadline": {
        "home_situation": "no_slot_before_deadline",
        "home_first_date": "2026-12-04",
        "procedure": "pre_examination",
    },
    "away_late_pushes": {"days_late": 3, "deadline": "2026-11-24", "late_cause": "pushes_another"},
    "away_late_passed": {"days_late": 1, "deadline": "2026-11-20", "late_cause": "deadline_passed"},
    "away_paused_wish": {"deadline_status": "paused_patient_wish", "declined": "both"},
    "away_paused_health": {"deadline_status": "paused_health", "declined": "private"},
    "away_declined_foreign": {"declined": "foreign"},
    "unassigned_no_department": {
        "reason_code": "unassigned_no_department",
        "action": "unassigned",
        "department_id": "",
        "date": "",
        "travel_km": None,
        "travel_limit_km": 50.0,
    },
    "unassigned_crowded": {
        "reason_code": "unassigned_crowded",
        "action": "unassigned",
        "department_id": "",
        "date": "",
        "travel_km": None,
        "collaboration": "upper_gi",
    },
}


def _words(text: str) -> set[str]:
    for name in NAMES.values():
        text = text.replace(name, " ")
    return {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]*", text)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_code_reads_in_danish_without_english_words(case: str) -> None:
    """Each reason code (and home situation, late cause, paused clock) renders in Danish."""
    record = BASE | CASES[case]
    danish = reason_text(Proposal.model_validate(record), "da", NAMES)
    english = reason_text(record, "en", NAMES)
    assert danish and english and danish != english
    assert not _words(danish) & ENGLISH, (danish, _words(danish) & ENGLISH)
    assert "_" not in danish


def test_danish_sentences_name_the_facts() -> None:
    """Names, Danish dates, procedure words and the deadline in Danish."""
    away = reason_text(BASE | CASES["away_no_slot_before_deadline"], "da", NAMES)
    assert away == (
        "Lungekirurgi, Skejby den 27. nov., 130 km: overholder fristen 1. dec.; hjemafdelingen "
        "Thoraxkirurgi, Aalborg har først ledig tid til forundersøgelse den 4. dec. "
        "(efter fristen)"
    )
    late = reason_text(BASE | CASES["away_late_pushes"], "da", NAMES)
    assert "3 dage efter fristen 24. nov." in late
    assert "skubbe en anden patient" in late
    assert "1 dag efter fristen 20. nov." in reason_text(BASE | CASES["away_late_passed"], "da")
    paused = reason_text(BASE | CASES["away_paused_wish"], "da", NAMES)
    assert "fristen er sat på pause (patientens ønske)" in paused
    assert paused.endswith("; privat og udland fravalgt af patienten")
    kept = reason_text(BASE | CASES["keep"], "da", NAMES)
    assert kept.startswith("Nuværende booking bevares: Lungekirurgi, Skejby den 27. nov.")
    crowded = reason_text(BASE | CASES["unassigned_crowded"], "da")
    assert crowded.startswith("Alle mulige tider til operation (øvre GI)")
    limit = reason_text(BASE | CASES["unassigned_no_department"], "da")
    assert "inden for 50 km" in limit


def test_english_reads_like_the_solver() -> None:
    """The English rendering of a hand-made record."""
    text = reason_text(BASE | CASES["away_no_slot"], "en", NAMES)
    assert text == (
        "Lungekirurgi, Skejby on 27 Nov, 130 km: meets deadline 1 Dec; home department "
        "Thoraxkirurgi, Aalborg has no free chemotherapy slot in the horizon"
    )


def test_old_runs_fall_back_to_the_stored_reason() -> None:
    """A proposal stored before the structured facts existed shows its English reason."""
    old = {"patient_id": "p1", "action": "new", "reason": "AAR on 27 Nov, 130 km: ..."}
    assert reason_text(old, "da", NAMES) == old["reason"]
    assert reason_text(Proposal.model_validate(old), "en") == old["reason"]


@pytest.mark.parametrize("example", ["example", "example-tight"])
def test_english_rendering_is_the_solvers_reason(example: str) -> None:
    """Rendered in English from the facts, every proposal's reason is the solver's sentence,
    so the facts carry everything the sentence says."""
    dataset = read_folder(SHARED / "contract" / example)
    solution = solve(Problem.from_dataset(dataset, dt.date(2026, 11, 23)))
    d = dataset.departments
    names = dict(zip(d["department_id"], d["name"] + ", " + d["hospital"], strict=True))
    proposals = proposals_of(solution.proposals)
    assert {p.reason_code for p in proposals} >= {"keep", "home", "away"}
    for proposal in proposals:
        assert reason_text(proposal, "en", names) == proposal.reason
        danish = reason_text(proposal, "da", names)
        for name in names.values():
            danish = danish.replace(name, " ")
        assert not _words(danish) & ENGLISH, danish


def test_dates_and_distances() -> None:
    """Danish dates with a full stop and Danish month abbreviations; decimal comma."""
    assert date_text("2026-05-03", "da") == "3. maj"
    assert date_text("2026-11-27", "da") == "27. nov."
    assert date_text("2026-11-27", "en") == "27 Nov"
    assert km_text(130.44, "da", decimals=1) == "130,4 km"
    assert km_text(130.44, "en", decimals=1) == "130.4 km"


ALTERNATIVES: dict[str, dict[str, Any]] = {
    "leaves_unassigned": {"extra_unassigned": 1},
    "more_breaches": {"extra_breaches": 2, "extra_days_late": 6},
    "more_days_late": {"extra_days_late": 3},
    "policy_only": {"further_km": 95.2, "category_worse": True, "category": "foreign"},
}


@pytest.mark.parametrize("code", sorted(ALTERNATIVES))
def test_alternatives_read_in_both_languages(code: str) -> None:
    """Each why-not code in Danish (no English words) and in English."""
    alternative = Alternative.model_validate(
        {
            "department_id": "FLE",
            "date": "2026-11-30",
            "travel_km": 225.5,
            "category": "public_other_region",
            "extra_unassigned": 0,
            "extra_breaches": 0,
            "extra_days_late": 0,
            "extra_points": 12,
            "why_not": code,
        }
        | ALTERNATIVES[code]
    )
    danish = alternative_text(alternative, "da", NAMES)
    assert danish.startswith("Flensborg den 30. nov., 225,5 km: ")
    assert not _words(danish) & ENGLISH, danish
    english = alternative_text(alternative.model_dump(), "en", NAMES)
    assert english.startswith("Flensborg on 30 Nov, 225.5 km: ")
    expected = {
        "leaves_unassigned": ("1 anden patient uden tid", "1 other patient without any slot"),
        "more_breaches": ("2 fristoverskridelser mere (+6 dage", "2 more deadline breaches"),
        "more_days_late": ("3 dage mere for sent", "add 3 days late"),
        "policy_only": ("i udlandet; den er 95 km længere væk", "abroad; it is 95 km further"),
    }[code]
    assert expected[0] in danish and expected[1] in english
