"""`kapacitet report meeting|monitoring|capacity-check`: printable reports for people.

Each report registers its own subcommand from its own module, so this group stays a list.
"""

from __future__ import annotations

import typer

from kapacitet.cli import report_checks, report_meeting

report_app = typer.Typer(no_args_is_help=True, add_completion=False)


def register(app: typer.Typer) -> None:
    """Add the ``report`` sub-app to the app."""
    app.add_typer(
        report_app,
        name="report",
        help="Reports: the meeting pack, quarterly monitoring, the annual capacity check.",
    )
    report_meeting.register(report_app)
    report_checks.register(report_app)
