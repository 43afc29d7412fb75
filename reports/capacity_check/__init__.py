"""The annual capacity check: demand against declared capacity, single points of failure, and
where one more slot avoids the most breaches.

Three analyses, each from the same data (the bundled reference data, or a database of weekly
loads):

1. **Balance** per collaboration, procedure and region over the period's ISO weeks: weekly demand
   (new referrals of the region's residents) against the free slots the region's departments
   declare; utilisation = demand / declared capacity; a *structural deficit* is a service and
   region whose demand exceeds its capacity in at least :data:`PERSISTENT_SHARE` of the weeks.
2. **Single points of failure** on sampled weeks (a full waiting list and six weeks of slots
   each): the maximum flow of the deadline-compliant network (:mod:`solver.capacity_flow`), the
   loss of that maximum flow when each department is removed, and the departments of the
   minimum cut.
3. **Shadow prices** on the same weeks (:func:`solver.shadow.shadow_prices`): for every declared
   department-day, how many breaches one more slot would avoid; ranked per department and service
   by the best day.

One module a concern:

- :mod:`~reports.capacity_check.period`: the year's ISO weeks and the sampled weeks;
- :mod:`~reports.capacity_check.sources`: the reference data and the database reads;
- :mod:`~reports.capacity_check.balance`: weekly demand against capacity, structural deficits;
- :mod:`~reports.capacity_check.analysis`: the sampled weeks' network analyses and the check;
- :mod:`~reports.capacity_check.text` and :mod:`~reports.capacity_check.figures`: words, figures;
- :mod:`~reports.capacity_check.output`: the HTML page, its PDF and the workbook.
"""

from reports.capacity_check.analysis import (
    NETWORK_WEEKS,
    CapacityCheck,
    WeekAnalysis,
    analyse_week,
    best_extra_slots,
    reference_check,
    stored_check,
)
from reports.capacity_check.balance import ABROAD, ALL, PERSISTENT_SHARE, Balance
from reports.capacity_check.figures import utilisation_figure, weekly_figure
from reports.capacity_check.output import TOP, render_html, write_check
from reports.capacity_check.period import CapacityCheckError, iso_weeks, sample_weeks
from reports.capacity_check.sources import reference_balance, stored_balance
from solver.capacity_flow import (
    CompliantFlow,
    CompliantNetwork,
    FlowEngine,
    compliant_network,
    department_losses,
    max_compliant_flow,
    min_cut_departments,
)

__all__ = [
    "ABROAD",
    "ALL",
    "NETWORK_WEEKS",
    "PERSISTENT_SHARE",
    "TOP",
    "Balance",
    "CapacityCheck",
    "CapacityCheckError",
    "CompliantFlow",
    "CompliantNetwork",
    "FlowEngine",
    "WeekAnalysis",
    "analyse_week",
    "best_extra_slots",
    "compliant_network",
    "department_losses",
    "iso_weeks",
    "max_compliant_flow",
    "min_cut_departments",
    "reference_balance",
    "reference_check",
    "render_html",
    "sample_weeks",
    "stored_balance",
    "stored_check",
    "utilisation_figure",
    "weekly_figure",
    "write_check",
]
