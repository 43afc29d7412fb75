"""kapacitet's domain layer: vocabulary, validated data intake, rules, reference data and storage.

Nothing here imports :mod:`solver`; data flows one way, from files and databases into typed
pandas frames that the solver consumes.
"""
