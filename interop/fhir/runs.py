"""A stored solve run's proposals as FHIR: what ``GET /fhir/Appointment`` and
``kapacitet fhir export`` both answer."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import Connection

from interop.fhir.exports import appointments_bundle
from workflow.access import Principal
from workflow.decisions import latest_decisions
from workflow.runs import visible_proposals


def run_appointments(conn: Connection, who: Principal, run_id: int) -> Bundle:
    """The run's proposals ``who`` may see, with their latest decisions, as a Bundle of
    Appointments (the workflow's errors when the run is unknown or not done)."""
    proposals = [proposal.as_json() for proposal in visible_proposals(conn, who, run_id)]
    return appointments_bundle(run_id, proposals, latest_decisions(conn, run_id))
