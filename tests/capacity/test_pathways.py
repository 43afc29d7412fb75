"""Pathway events (capacity.pathways): reading, LPR3 markers, deadlines and categories."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from capacity.pathways import (
    Category,
    derive_pathways,
    read_events,
    read_markers,
)
from capacity.validation import ValidationFailed

HEADER = "patient_id,collaboration,procedure,home_region,event,date,department_id,detail\n"


def _events(tmp_path: Path, rows: list[str], name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def _one(tmp_path: Path, *rows: str) -> pd.Series:
    pathways = derive_pathways(read_events(_events(tmp_path, list(rows))))
    assert len(pathways) == 1
    return pathways.iloc[0]


def row(pid: str, event: str, date: str, procedure: str = "pre_examination", dept: str = "") -> str:
    return f"{pid},lung,{procedure},Nordjylland,{event},{date},{dept},"


def test_an_investigation_started_in_time_is_within(tmp_path: Path) -> None:
    p = _one(
        tmp_path,
        row("p1", "referral_received", "2026-07-01"),
        row("p1", "started", "2026-07-15", dept="AAUH-LUN"),
    )
    assert p.pathway_type == "investigation" and p.deadline == pd.Timestamp("2026-07-15")
    assert p.category == Category.WITHIN and p.days_exceeded == 0
    assert p.department_id == "AAUH-LUN"


@pytest.mark.parametrize(
    ("extra", "category"),
    [
        ([], Category.NOT_COMPLIED),
        ([("offer_made", "2026-07-10", "RH-LUN")], Category.CAPACITY),
        ([("offer_made", "2026-07-16", "RH-LUN")], Category.NOT_COMPLIED),  # offered too late
        (
            [("offer_made", "2026-07-10", "RH-LUN"), ("offer_declined", "2026-07-11", "RH-LUN")],
            Category.PATIENT_WISH,
        ),
        ([("paused_wish", "2026-07-05", "")], Category.PATIENT_WISH),
        ([("paused_health", "2026-07-05", ""), ("paused_wish", "2026-07-06", "")], Category.HEALTH),
    ],
)
def test_an_exceeded_deadline_gets_its_reason_by_precedence(
    tmp_path: Path, extra: list[tuple[str, str, str]], category: Category
) -> None:
    rows = [row("p1", "referral_received", "2026-07-01")]
    rows += [row("p1", event, date, dept=dept) for event, date, dept in extra]
    rows += [row("p1", "started", "2026-07-20", dept="AAUH-LUN")]
    p = _one(tmp_path, *rows)
    assert p.category == category and p.days_exceeded == 5


def test_the_precedence_is_configurable(tmp_path: Path) -> None:
    rows = [
        row("p1", "referral_received", "2026-07-01"),
        row("p1", "paused_health", "2026-07-05"),
        row("p1", "offer_made", "2026-07-06", dept="RH-LUN"),
        row("p1", "started", "2026-07-20", dept="AAUH-LUN"),
    ]
    events = read_events(_events(tmp_path, rows))
    assert derive_pathways(events).iloc[0].category == "health"
    capacity_first = (Category.CAPACITY, Category.HEALTH, Category.PATIENT_WISH)
    assert derive_pathways(events, precedence=capacity_first).iloc[0].category == "capacity"


def test_primary_treatment_takes_the_earlier_of_consent_and_referral_limits(
    tmp_path: Path,
) -> None:
    p = _one(
        tmp_path,
        row("p1", "referral_received", "2026-07-01", "surgery"),
        row("p1", "consent", "2026-07-20", "surgery"),
        row("p1", "started", "2026-07-30", "surgery", "AUH-LUN"),
    )
    # consent + 14 = 3 Aug, referral + 28 = 29 Jul: the referral limit binds
    assert p.pathway_type == "primary" and p.deadline == pd.Timestamp("2026-07-29")
    assert p.deadline_rule.startswith("primary.referral_28d") and p.days_exceeded == 1


def test_follow_on_treatment_has_its_own_clock(tmp_path: Path) -> None:
    rows = [
        row("p1", "referral_received", "2026-07-01", "surgery"),
        row("p1", "started", "2026-07-10", "surgery", "AUH-LUN"),
        row("p1", "followon_referral", "2026-08-01", "chemotherapy"),
        row("p1", "started", "2026-08-14", "chemotherapy", "AUH-ONK"),
    ]
    pathways = derive_pathways(read_events(_events(tmp_path, rows)))
    follow = pathways[pathways["procedure"] == "chemotherapy"].iloc[0]
    assert follow.pathway_type == "follow_on" and follow.deadline == pd.Timestamp("2026-08-15")
    assert follow.category == "within"


def test_a_new_pathway_opens_after_a_start(tmp_path: Path) -> None:
    rows = [
        row("p1", "referral_received", "2026-07-01"),
        row("p1", "started", "2026-07-05"),
        row("p1", "referral_received", "2026-09-01"),
        row("p1", "started", "2026-09-30"),
    ]
    pathways = derive_pathways(read_events(_events(tmp_path, rows)))
    assert pathways["category"].tolist() == ["within", "not_complied"]


def test_an_open_pathway_has_no_category(tmp_path: Path) -> None:
    p = _one(tmp_path, row("p1", "referral_received", "2026-07-01"))
    assert pd.isna(p.category) and pd.isna(p.start_date)


def test_bad_rows_are_named_by_line_and_column_and_cpr_is_never_echoed(tmp_path: Path) -> None:
    rows = [
        row("p1", "referral_recieved", "2026-07-01"),
        row("p2", "started", "2026-13-01"),
        row("x010190-1234", "started", "2026-07-01"),
        row("p3", "offer_made", "2026-07-01"),
    ]
    with pytest.raises(ValidationFailed) as failed:
        read_events(_events(tmp_path, rows))
    text = str(failed.value)
    assert "events.csv:2:event:" in text and "referral_received" in text  # did you mean
    assert "events.csv:3:date:" in text
    assert "events.csv:4:patient_id:" in text and "010190" not in text
    assert "events.csv:5:department_id:" in text


def test_lpr3_markers_become_events(tmp_path: Path) -> None:
    path = tmp_path / "markers.csv"
    path.write_text(
        "patient_id,collaboration,home_region,code,date,procedure,department_id\n"
        "p1,lung,Midtjylland,AFV01E1A,2026-07-01,surgery,\n"
        "p1,lung,Midtjylland,AFV01C8,2026-07-03,,\n"
        "p1,lung,Midtjylland,AFV01X2,2026-07-10,,\n"
        "p1,lung,Midtjylland,AFV01F,2026-08-01,,AUH-LUN\n",
        encoding="utf-8",
    )
    events = read_markers(path)
    assert events["event"].tolist() == ["referral_received", "consent", "paused_wish", "started"]
    assert set(events["procedure"]) == {"surgery"}
    p = derive_pathways(events).iloc[0]
    assert p.deadline == pd.Timestamp(dt.date(2026, 7, 17)) and p.category == "patient_wish"


def test_an_unknown_marker_code_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "markers.csv"
    path.write_text(
        "patient_id,collaboration,home_region,code,date\np1,lung,Midtjylland,AFV01FF,2026-07-01\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed, match=r"markers.csv:2:code:"):
        read_markers(path)


def test_several_thousand_pathways_give_exactly_their_categories(tmp_path: Path) -> None:
    from collections import Counter

    from tests.capacity.pathway_data import write_events

    expected = write_events(tmp_path / "events.csv", 5000, seed=3)
    pathways = derive_pathways(read_events(tmp_path / "events.csv"))
    got = Counter(zip(pathways["pathway_type"], pathways["category"], strict=True))
    # a follow-on patient's surgery pathway before it is an extra primary pathway, within
    follow_ons = sum(n for (kind, _), n in expected.items() if kind == "follow_on")
    expected[("primary", "within")] += follow_ons
    assert got == expected


def test_an_events_file_without_its_procedure_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "patient_id,collaboration,home_region,event,date\n"
        "p1,lung,Nordjylland,referral_received,2026-07-01\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed, match=r"events.csv:1:procedure: missing required column"):
        read_events(path)
