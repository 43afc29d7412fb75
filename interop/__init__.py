"""Interoperability with other systems: HL7 FHIR R4 import and export (``interop.fhir``)."""
