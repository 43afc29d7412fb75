"""The ``kapacitet`` command: a thin Typer shell over capacity, solver and scenarios.

Each area registers its own subcommands from its own module, so the shell stays a list.
"""

from __future__ import annotations

import typer

from kapacitet.cli import (
    api_commands,
    capacity_commands,
    data_commands,
    fhir_commands,
    pathway_commands,
    reference_commands,
    report_commands,
    scenario_commands,
    solve_commands,
    storage_commands,
)

app = typer.Typer(
    name="kapacitet",
    help="Capacity-sharing optimisation engine for Danish cancer care.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Capacity-sharing optimisation engine for Danish cancer care."""


data_commands.register(app)
reference_commands.register(app)
storage_commands.register(app)
solve_commands.register(app)
scenario_commands.register(app)
api_commands.register(app)
report_commands.register(app)
fhir_commands.register(app)
capacity_commands.register(app)
pathway_commands.register(app)


def main() -> None:
    """Entry point of the console script."""
    app()
