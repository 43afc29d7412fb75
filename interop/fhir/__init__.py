"""HL7 FHIR R4 exchange: capacity and referral Bundles in, proposals out as Appointments.

Resources are ``fhir.resources.R4B`` models (R4B is FHIR R4's technical correction; the resources
used here have R4's elements). See docs/fhir.md for the mapping to the contract's columns.
"""
