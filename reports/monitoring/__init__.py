"""The quarterly monitoring report of maximum waiting times, in the national model's categories.

Every completed pathway (forløb) of the quarter falls in one of three categories (the national
monitoring model since Q1 2024, brief 7.1):

1. within the maximum waiting time;
2. exceeded, but the rules complied, by reason: the patient's health, the patient's wish, or
   capacity where the patient was informed and offered referral elsewhere;
3. rules not complied (no offer of referral, booking errors, unforeseen events).

Counts go per home region (the region with the duty to act), collaboration and procedure, with
totals along every axis, and the days exceeded (sum, mean, median over the pathways in categories
2 and 3). Counts of 1-4 are suppressed with secondary suppression (:mod:`reports.suppression`);
days statistics are published only for groups of at least five exceeded pathways whose size is
itself published.

One module a concern:

- :mod:`~reports.monitoring.period`: the quarter, and :class:`MonitoringError`;
- :mod:`~reports.monitoring.pathways`: a pathways file (CSV or Parquet, :data:`PATHWAY_COLUMNS`,
  validated with file, row and column) or simulated outcomes as normalised pathways;
- :mod:`~reports.monitoring.sources`: the file, a scenario run folder, or a simulated quarter
  (the bundled reference data or a stored snapshot replayed week by week);
- :mod:`~reports.monitoring.cube`: the counts, their suppression and the days exceeded;
- :mod:`~reports.monitoring.text`: the words in Danish and English;
- :mod:`~reports.monitoring.output`: the HTML page, its PDF, the CSV and the workbook.
"""

from reports.monitoring.cube import (
    ALL,
    CATEGORIES,
    CATEGORY_EQUATIONS,
    DAYS_COLUMNS,
    MonitoringReport,
    build_report,
    dimensions,
)
from reports.monitoring.output import localised, render_html, write_excel, write_report
from reports.monitoring.pathways import (
    EXCEED_REASONS,
    NORMALISED,
    PATHWAY_COLUMNS,
    check_pathways,
    normalised,
    pathways_from_outcomes,
    pathways_from_run,
    read_pathways,
)
from reports.monitoring.period import MonitoringError, Quarter
from reports.monitoring.sources import (
    SimulatedQuarter,
    Source,
    file_source,
    run_source,
    simulate_quarter,
    stored_pathways,
)
from reports.monitoring.text import ENGLISH_LABELS, LANGUAGES, TEXT, label

__all__ = [
    "ALL",
    "CATEGORIES",
    "CATEGORY_EQUATIONS",
    "DAYS_COLUMNS",
    "ENGLISH_LABELS",
    "EXCEED_REASONS",
    "LANGUAGES",
    "NORMALISED",
    "PATHWAY_COLUMNS",
    "TEXT",
    "MonitoringError",
    "MonitoringReport",
    "Quarter",
    "SimulatedQuarter",
    "Source",
    "build_report",
    "check_pathways",
    "dimensions",
    "file_source",
    "label",
    "localised",
    "normalised",
    "pathways_from_outcomes",
    "pathways_from_run",
    "read_pathways",
    "render_html",
    "run_source",
    "simulate_quarter",
    "stored_pathways",
    "write_excel",
    "write_report",
]
