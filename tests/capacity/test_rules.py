"""Deadline rules: each rule computes its documented deadline and names itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from capacity import frames
from capacity.io import TABLES, read_folder
from capacity.rules import GIVEN, Rules, RulesError, compute_deadlines, load_rules

EXAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "contract" / "example"
BUNDLED = Path(__file__).resolve().parents[2] / "capacity" / "data" / "rules"
RULES = load_rules()
VERSION = RULES.version


def patient(procedure: str, **dates: str) -> pd.DataFrame:
    """A one-patient frame with the given clock dates (and deadline, if given)."""
    row = {"procedure": procedure, "deadline_status": "active"} | dates
    frame = pd.DataFrame([row])
    for column in ("deadline", *frames.PATIENT_CLOCKS):
        if column != "deadline_rule":
            frame[column] = pd.to_datetime(frame.get(column, pd.Series([None])))
    return frame.astype({"procedure": frames.STR, "deadline_status": frames.STR})


def computed(frame: pd.DataFrame, rules: Rules = RULES) -> tuple[str | None, str | None]:
    """The computed deadline (ISO) and deadline_rule of the single patient."""
    out = compute_deadlines(frame, rules)
    deadline, rule = out["deadline"].iloc[0], out["deadline_rule"].iloc[0]
    return (
        None if pd.isna(deadline) else pd.Timestamp(deadline).date().isoformat(),
        None if pd.isna(rule) else str(rule),
    )


def rules_with(tmp_path: Path, change: dict[str, dict[str, object]]) -> Rules:
    """The bundled rules with some top-level or group entries replaced, loaded from a copy."""
    document = yaml.safe_load((BUNDLED / "maximum_waiting_times.yaml").read_text("utf-8"))
    for key, value in change.items():
        if key in document:
            document[key] = value
        else:
            group = next(g for g in document["rules"] if g["name"] == key)
            group.update(value)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    return load_rules(path)


def test_bundled_rules_are_package_data() -> None:
    """The default rules load from the installed package, versioned, with their sources."""
    rules = load_rules()
    assert rules.version == "2024-02"
    assert [g.name for g in rules.groups] == [
        "any_procedure",
        "pre_examination",
        "follow_on_treatment",
        "primary_treatment",
    ]
    assert all(limit.source for group in rules.groups for limit in group.limits)


@pytest.mark.parametrize(
    "procedure", ["pre_examination", "surgery", "chemotherapy", "radiotherapy"]
)
def test_clock_start_gives_14_days_for_every_procedure(procedure: str) -> None:
    """deadline = clock_start + 14 days whatever the procedure (the contract's clock)."""
    frame = patient(procedure, clock_start="2026-11-20", consent_date="2026-11-01")
    assert computed(frame) == ("2026-12-04", f"any_procedure.clock_start_14d@{VERSION}")


def test_pre_examination_starts_within_14_days_of_referral() -> None:
    """Udredning must start within 14 days of the referral being received."""
    frame = patient("pre_examination", referral_received="2026-11-20")
    assert computed(frame) == ("2026-12-04", f"pre_examination.referral_14d@{VERSION}")


def test_primary_treatment_within_14_days_of_consent() -> None:
    """Primary treatment: consent + 14 when that is earlier than referral + 28."""
    frame = patient("surgery", consent_date="2026-11-20", referral_to_treatment="2026-11-10")
    assert computed(frame) == ("2026-12-04", f"primary_treatment.consent_14d@{VERSION}")


def test_primary_treatment_at_most_28_days_after_referral() -> None:
    """Primary treatment: referral to treatment + 28 binds when consent came late."""
    frame = patient("radiotherapy", consent_date="2026-12-01", referral_to_treatment="2026-11-10")
    assert computed(frame) == ("2026-12-08", f"primary_treatment.referral_28d@{VERSION}")


def test_primary_treatment_with_only_a_referral_date() -> None:
    """With no consent yet, the 28-day outer limit alone gives the deadline."""
    frame = patient("chemotherapy", referral_to_treatment="2026-11-10")
    assert computed(frame) == ("2026-12-08", f"primary_treatment.referral_28d@{VERSION}")


def test_follow_on_treatment_within_14_days_of_the_follow_on_referral() -> None:
    """Efterbehandling has its own clock: 14 days from the follow-on referral received and
    accepted, not consent + 14 or referral + 28 (issue 13)."""
    frame = patient(
        "chemotherapy",
        consent_date="2026-12-01",
        referral_to_treatment="2026-11-10",
        followon_referral="2026-11-20",
    )
    assert computed(frame) == ("2026-12-04", f"follow_on_treatment.followon_referral_14d@{VERSION}")


def test_given_deadline_is_kept_and_named_given() -> None:
    """A deadline in the file is never recomputed; its rule is 'given'."""
    frame = patient("surgery", deadline="2026-12-24", clock_start="2026-11-01")
    assert computed(frame) == ("2026-12-24", GIVEN)


def test_no_clock_date_leaves_the_deadline_empty() -> None:
    """A treatment with only a referral_received date gets no deadline (no rule applies)."""
    frame = patient("surgery", referral_received="2026-11-20")
    assert computed(frame) == (None, None)


def test_paused_statuses_are_preserved() -> None:
    """Computing deadlines keeps each patient's deadline_status, paused ones included."""
    frame = pd.concat(
        [
            patient("surgery", consent_date="2026-11-20"),
            patient("surgery", consent_date="2026-11-20"),
            patient("pre_examination", deadline="2026-12-01"),
        ],
        ignore_index=True,
    )
    frame["deadline_status"] = pd.array(
        ["paused_health", "paused_patient_wish", "paused_health"], dtype=frames.STR
    )
    out = compute_deadlines(frame, RULES)
    assert out["deadline_status"].tolist() == [
        "paused_health",
        "paused_patient_wish",
        "paused_health",
    ]
    assert out["deadline"].notna().all()


def test_paused_statuses_are_declared_in_the_rules() -> None:
    """The rules file names the statuses under which the clock is paused."""
    assert set(RULES.paused_statuses) == {"paused_health", "paused_patient_wish"}


def test_counting_the_clock_day_as_day_one_is_configurable(tmp_path: Path) -> None:
    """With clock_start_day = 1 every deadline is one day earlier."""
    rules = rules_with(tmp_path, {"day_counting": {"clock_start_day": 1}})
    frame = patient("pre_examination", referral_received="2026-11-20")
    assert computed(frame, rules) == ("2026-12-03", f"pre_examination.referral_14d@{VERSION}")


def test_unknown_clock_in_rules_file_is_an_error(tmp_path: Path) -> None:
    """A rules file naming a clock column that does not exist is refused with its place."""
    document = yaml.safe_load((BUNDLED / "maximum_waiting_times.yaml").read_text("utf-8"))
    document["rules"][1]["limits"][0]["clock"] = "referal_received"
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document), "utf-8")
    with pytest.raises(RulesError, match=r"rules\[1\].*unknown clock 'referal_received'"):
        load_rules(path)


def test_read_folder_computes_missing_deadlines(tmp_path: Path) -> None:
    """A contract folder with clock_start and an empty deadline gets clock_start + 14."""
    folder = tmp_path / "folder"
    folder.mkdir()
    for table in TABLES:
        shutil.copy(EXAMPLE / f"{table}.csv", folder / f"{table}.csv")
    patients = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    patients["clock_start"] = ""
    patients.loc[0, ["deadline", "clock_start"]] = ["", "2026-11-20"]
    patients.to_csv(folder / "patients.csv", index=False)
    read = read_folder(folder).patients
    assert read.loc[0, "deadline"] == pd.Timestamp("2026-12-04")
    assert read.loc[0, "deadline_rule"] == f"any_procedure.clock_start_14d@{VERSION}"
    assert (read.loc[1:, "deadline_rule"] == GIVEN).all()


def test_follow_on_treatment_has_its_own_clock() -> None:
    """A treatment row with a follow-on referral gets 14 days from it; without, primary rules."""
    import pandas as pd

    from capacity.rules import compute_deadlines, load_rules

    rows = pd.DataFrame(
        {
            "procedure": ["chemotherapy", "chemotherapy"],
            "deadline": pd.to_datetime([None, None]),
            "consent_date": pd.to_datetime(["2026-11-02", "2026-11-02"]),
            "followon_referral": pd.to_datetime(["2026-11-10", None]),
        }
    )
    out = compute_deadlines(rows, load_rules())
    assert out["deadline"].tolist() == [pd.Timestamp("2026-11-24"), pd.Timestamp("2026-11-16")]
    assert out["deadline_rule"].iloc[0].startswith("follow_on_treatment.followon_referral_14d")
    assert out["deadline_rule"].iloc[1].startswith("primary_treatment.consent_14d")
