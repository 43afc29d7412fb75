"""The decision workflow's domain layer: who may do what, and every write the service makes.

- :mod:`workflow.access`: roles, principals and the one access table (who may see or change what).
- :mod:`workflow.patients`, :mod:`workflow.capacity`, :mod:`workflow.records`: the write paths of
  waiting patients and declared capacity (JSON, FHIR, patch and page alike).
- :mod:`workflow.runs`: solve runs (snapshot, queue, execute, cancel, read their proposals);
  :mod:`workflow.proposals` the typed proposal record; :mod:`workflow.leases` which process runs
  what and how a run is told to stop; :mod:`workflow.workers` the background threads;
  :mod:`workflow.status` the run statuses.
- :mod:`workflow.decisions`: accept, reject or hold a proposal, with its checks.
- :mod:`workflow.scenario_runs`: what-if scenario runs and their quotas.
- :mod:`workflow.tokens`: API tokens (create, list, revoke).
- :mod:`workflow.tables`: the queries on the workflow's tables (audit log, data version, locks).
- :mod:`workflow.errors`: the workflow's refusals beyond :mod:`capacity.errors`.

Functions take an engine or connection and plain arguments or a
:class:`~workflow.access.Principal`, and raise the domain errors of :mod:`capacity.errors`;
only ``api/`` turns them into problem+json and the review page into messages. Nothing here
imports ``api``.
"""
