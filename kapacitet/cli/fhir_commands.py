"""`kapacitet fhir import|export`: HL7 FHIR R4 Bundles in and out."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``fhir`` sub-app to the app."""
