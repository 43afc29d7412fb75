"""A write and its audit entry commit together: a failing audit leaves nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection

from capacity.io import read_folder
from capacity.storage import LoadReport, load_dataset, table_counts


class AuditFailed(Exception):
    pass


def test_a_load_whose_audit_fails_stores_nothing(database_url: str, shared_dir: Path) -> None:
    dataset = read_folder(shared_dir / "contract" / "example")

    def audit(connection: Connection, report: LoadReport) -> None:
        assert report.changed  # called after the write, inside its transaction
        raise AuditFailed

    with pytest.raises(AuditFailed):
        load_dataset(database_url, dataset, recorded=audit)
    assert table_counts(database_url)["patients"] == 0
    seen: list[int | None] = []
    load_dataset(database_url, dataset, recorded=lambda c, r: seen.append(r.load_id))
    load_dataset(database_url, dataset, recorded=lambda c, r: seen.append(r.load_id))
    assert seen[0] is not None and seen[1] is None  # an unchanged load is still recorded
    assert table_counts(database_url)["patients"] == len(dataset.patients)
