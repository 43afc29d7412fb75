"""Pathway events in SQLite and PostgreSQL: appended once, idempotent on re-import."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capacity.pathways import derive_pathways, read_events
from capacity.storage import pathways as stored
from tests.capacity.pathway_data import write_events


def test_events_round_trip_and_reimport_adds_nothing(database_url: str, tmp_path: Path) -> None:
    write_events(tmp_path / "events.csv", 300, seed=5)
    events = read_events(tmp_path / "events.csv")
    first = stored.store_events(database_url, events, "events.csv")
    assert first.inserted == len(events) and first.already_stored == 0
    again = stored.store_events(database_url, events, "events.csv")
    assert again.inserted == 0 and again.already_stored == len(events)
    back = stored.read_events(database_url)
    assert len(back) == len(events)
    pd.testing.assert_frame_equal(derive_pathways(back), derive_pathways(events), check_dtype=False)
    one = stored.read_events(database_url, patient_id=str(events["patient_id"].iloc[0]))
    assert set(one["patient_id"]) == {events["patient_id"].iloc[0]}
