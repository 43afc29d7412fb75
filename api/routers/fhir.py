"""HL7 FHIR R4 exchange: Bundles in (capacity, referrals), Appointments out (proposals)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/fhir", tags=["fhir"])
