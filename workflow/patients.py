"""The one write path for waiting patients: a region adds its own, changes only its own.

JSON posts, FHIR referral Bundles, patches and the review page all store patients through
:func:`store_patients` or :func:`patch_patient`; the operator's ``kapacitet load`` stores whole
folders without a region. The rules, each checked against the *stored* rows inside the load's
transaction (so no concurrent write slips between check and store):

- a region may create patients of its own and change only patients it already owns; any other
  patient is refused without saying whether the pseudonym exists elsewhere;
- every write is checked by the contract validator, a patch as the whole record it leaves;
- a booking made by a decision stays until a decision changes it (the load reports conflicts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from capacity.errors import Forbidden, NotFound
from capacity.frames import Dataset
from capacity.storage import schema
from capacity.storage.repository import LoadReport, Recorded
from workflow.records import dataset_of, store, validated_records

#: Ids looked up per query when checking who owns posted patients (well under SQLite's limit
#: on bound parameters).
_IDS_PER_QUERY: Final = 5_000
#: Said of every patient a region may not write: its own message, whatever the reason.
NOT_YOURS: Final = (
    "not one of your region's patients: a region may add new patients and change only its own"
)
#: The 404 for a patient the caller may not see (the requested id is never repeated).
NO_SUCH_PATIENT: Final = "no such patient among the patients you may see"
_STORED_COLUMNS: Final = [c for c in schema.patients.c if c.name not in ("load_id", "position")]


@dataclass(frozen=True)
class PatchResult:
    """A patched patient as it was and as it is now (stored columns, Python values)."""

    before: dict[str, Any]
    after: dict[str, Any]
    report: LoadReport


def store_patients(
    bound: Engine,
    region: str,
    records: list[dict[str, Any]],
    source: str,
    recorded: Recorded | None = None,
) -> LoadReport:
    """Validate the region's posted patients and upsert them by ``patient_id``.

    Raises :class:`~capacity.errors.Forbidden` (nothing stored) when a record names another
    home region or a pseudonym the region does not own, and
    :class:`~capacity.errors.Invalid` with ``patients[i].column`` paths for invalid records.
    ``recorded`` (the caller's audit entry) commits with the patients.
    """
    foreign = [
        {"field": f"patients[{i}].home_region", "message": f"not your region ({region})"}
        for i, record in enumerate(records)
        if record.get("home_region") != region
    ]
    if foreign:
        raise Forbidden("a region may post only its own patients", errors=foreign)
    with bound.connect() as connection:
        patients = validated_records(connection, "patients", records)

    def owned_or_new(connection: Connection, dataset: Dataset) -> Dataset:
        refused = [
            {"field": f"patients[{position}].patient_id", "message": NOT_YOURS}
            for position in _not_owned(connection, region, dataset.patients["patient_id"])
        ]
        if refused:
            raise Forbidden("a region may post only its own patients", errors=refused)
        return dataset

    return store(
        bound, dataset_of(source, patients=patients), admit=owned_or_new, recorded=recorded
    )


#: Audits a patch inside its transaction: the connection, the record before and after.
PatchAudit = Callable[[Connection, dict[str, Any], dict[str, Any]], None]


def patch_patient(
    bound: Engine,
    region: str,
    patient_id: str,
    changes: Mapping[str, Any],
    source: str,
    audit: PatchAudit | None = None,
) -> PatchResult:
    """Change fields of one of the region's patients: the stored record with ``changes``
    applied is validated as a whole, then stored.

    Raises :class:`~capacity.errors.NotFound` for a patient the region does not own (or that
    does not exist: the same answer) and :class:`~capacity.errors.Invalid` with
    ``patients[0].column`` paths when the changed record breaks a rule. ``audit`` records the
    patch in the same transaction as the change.
    """
    found: dict[str, dict[str, Any]] = {}

    def changed(connection: Connection, dataset: Dataset) -> Dataset:
        before = owned_patient(connection, region, patient_id)
        if before is None:
            raise NotFound(NO_SUCH_PATIENT)
        found["before"] = before
        record = before | dict(changes)
        patients = validated_records(connection, "patients", [record])
        if "deadline" not in changes and before["deadline"] is not None:
            # the deadline is not patched: keep the rule that produced it, not "given"
            patients["deadline_rule"] = pd.Series([before["deadline_rule"]], dtype="string")
        return dataset_of(dataset.source, patients=patients)

    def recorded(connection: Connection, report: LoadReport) -> None:
        after = owned_patient(connection, region, patient_id)
        if after is None:  # a write by the region itself could not remove it; be explicit
            raise NotFound(NO_SUCH_PATIENT)
        found["after"] = after
        if audit is not None:
            audit(connection, found["before"], after)

    report = store(bound, dataset_of(source), admit=changed, recorded=recorded)
    return PatchResult(found["before"], found["after"], report)


def owned_patient(connection: Connection, region: str, patient_id: str) -> dict[str, Any] | None:
    """The stored record of one of the region's patients (None when it owns no such one)."""
    p = schema.patients.c
    row = connection.execute(
        sa.select(*_STORED_COLUMNS).where(p.patient_id == patient_id, p.home_region == region)
    ).first()
    return dict(row._mapping) if row is not None else None


def _not_owned(connection: Connection, region: str, patient_ids: pd.Series) -> list[int]:
    """Positions of the ids stored under another home region."""
    p = schema.patients.c
    others: set[str] = set()
    for chunk in _chunks([str(i) for i in patient_ids]):
        others |= set(
            connection.execute(
                sa.select(p.patient_id).where(p.patient_id.in_(chunk), p.home_region != region)
            ).scalars()
        )
    return [i for i, patient_id in enumerate(patient_ids) if patient_id in others]


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _IDS_PER_QUERY):
        yield ids[start : start + _IDS_PER_QUERY]
