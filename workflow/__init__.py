"""The decision workflow's domain layer.

Every write of waiting patients and of declared capacity goes through here, whoever sends it
(the JSON API, a FHIR Bundle, the review page): the ownership rules and the contract validator
live once. Functions take an engine and plain arguments (a caller's region or department, never
an API principal) and raise the domain errors of :mod:`capacity.errors`.
"""
