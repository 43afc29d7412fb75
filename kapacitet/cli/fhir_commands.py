"""`kapacitet fhir import|export|export-capacity|export-referrals`: FHIR R4 Bundles in and out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kapacitet.cli.storage_commands import DatabaseOption

if TYPE_CHECKING:
    from capacity.frames import Dataset

OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write the Bundle here (default: standard output).")
]
FolderArgument = Annotated[
    Path | None,
    typer.Argument(help="A contract folder; without it the database (--db) is read."),
]


def register(app: typer.Typer) -> None:
    """Add the ``fhir`` sub-app to the app."""
    fhir_app = typer.Typer(
        help="HL7 FHIR R4 Bundles: import capacity and referrals, export proposals.",
        no_args_is_help=True,
    )
    app.add_typer(fhir_app, name="fhir")

    @fhir_app.command("import")
    def import_bundle(
        file: Annotated[Path, typer.Argument(help="A FHIR JSON Bundle (capacity or referrals).")],
        db: DatabaseOption = None,
    ) -> None:
        """Validate a capacity or referral Bundle and store it.

        An invalid Bundle stores nothing: exit 1, one line per problem at its FHIRPath.
        """

        from capacity import frames, storage
        from capacity.frames import Dataset
        from interop.fhir.imports import read_bundle, validate_bundle
        from interop.fhir.outcome import BundleRejected
        from kapacitet.cli.storage_commands import _shown, report_table
        from workflow import tables as store
        from workflow.capacity import merged_declarations

        try:
            imported = read_bundle(file.read_bytes())
            stored = storage.read_snapshot(db)
            tables = validate_bundle(imported, stored.departments, stored.services)
        except OSError as error:
            typer.echo(f"{file}: {error.strerror}", err=True)
            raise typer.Exit(1) from None
        except BundleRejected as rejected:
            for issue in rejected.issues:
                typer.echo(f"{file.name}: {issue}", err=True)
            typer.echo(
                f"{file.name}: {len(rejected.issues)} problem(s); nothing was stored", err=True
            )
            raise typer.Exit(1) from None
        dataset = Dataset(
            departments=tables.get("departments", frames.empty(frames.DEPARTMENTS)),
            services=tables.get("services", frames.empty(frames.SERVICES)),
            capacity=tables.get("capacity", frames.empty(frames.CAPACITY)),
            patients=tables.get("patients", frames.empty(frames.PATIENTS)),
            source=f"fhir: {file.name}",
        )
        try:
            # a capacity Bundle changes only the (service, day) cells it gives
            report = storage.load_dataset(db, dataset, admit=merged_declarations)
        except storage.LoadRejected as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from None
        engine = storage.create_database_engine(storage.resolve_url(db))
        try:
            with engine.begin() as connection:
                counts = [list(row) for row in report.rows()]
                store.append_audit(
                    connection, None, "CLI", "fhir import", file.name,
                    after={"fhir": imported.kind, "counts": counts},
                )  # fmt: skip
        finally:
            engine.dispose()
        typer.echo(f"{file} ({imported.kind} Bundle) -> {_shown(db)}")
        typer.echo(report_table(report))
        if report.load_id is None:
            typer.echo("nothing changed: the database already holds exactly this data")

    @fhir_app.command("export")
    def export_run(
        run: Annotated[int, typer.Option("--run", help="The solve run's id.")],
        db: DatabaseOption = None,
        out: OutOption = None,
    ) -> None:
        """Write a solve run's proposals as a Bundle of Appointments.

        Decided proposals are booked or cancelled, each with an AppointmentResponse.
        """
        from capacity import storage
        from capacity.errors import KapacitetError
        from interop.fhir.exports import write_json
        from interop.fhir.runs import run_appointments
        from workflow.access import COMMAND_LINE

        engine = storage.create_database_engine(storage.resolve_url(db))
        try:
            storage.upgrade_database(engine)
            with engine.begin() as connection:
                bundle = run_appointments(connection, COMMAND_LINE, run)
        except KapacitetError as problem:
            typer.echo(problem.message, err=True)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
        _write(write_json(bundle), out)

    @fhir_app.command("export-capacity")
    def export_capacity(
        folder: FolderArgument = None,
        db: DatabaseOption = None,
        week: Annotated[
            str | None, typer.Option("--week", help="From the database: this ISO week and 5 more.")
        ] = None,
        region: Annotated[
            str | None, typer.Option("--region", help="Only this region's departments.")
        ] = None,
        out: OutOption = None,
    ) -> None:
        """Write departments, services and free slots as a capacity Bundle (Schedules, Slots)."""
        from interop.fhir.exports import capacity_bundle, write_json

        dataset = _dataset(folder, db, week)
        if region is not None:
            dataset = _region_capacity(dataset, region)
        _write(write_json(capacity_bundle(dataset)), out)

    @fhir_app.command("export-referrals")
    def export_referrals(
        folder: FolderArgument = None,
        db: DatabaseOption = None,
        region: Annotated[
            str | None, typer.Option("--region", help="Only patients of this home region.")
        ] = None,
        out: OutOption = None,
    ) -> None:
        """Write the waiting list as a referral Bundle (Patients, ServiceRequests, bookings)."""
        from interop.fhir.exports import referrals_bundle, write_json

        patients = _dataset(folder, db, None).patients
        if region is not None:
            patients = patients[patients["home_region"] == region].reset_index(drop=True)
        _write(write_json(referrals_bundle(patients)), out)


def _dataset(folder: Path | None, db: str | None, week: str | None) -> Dataset:
    """A contract folder (validated) or the database's current snapshot; exit 1 if invalid."""
    from capacity.validation import ValidationFailed

    try:
        if folder is not None:
            from capacity.io import read_folder

            return read_folder(folder)
        from capacity.storage import read_snapshot

        return read_snapshot(db, week=week)
    except (ValidationFailed, ValueError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None


def _region_capacity(dataset: Dataset, region: str) -> Dataset:
    """Only the departments of ``region``, their services and their capacity."""
    from dataclasses import replace

    ours = dataset.departments["region"] == region
    if not ours.any():
        typer.echo(f"no department in region {region!r}", err=True)
        raise typer.Exit(1)
    ids = dataset.departments.loc[ours, "department_id"]
    return replace(
        dataset,
        departments=dataset.departments[ours].reset_index(drop=True),
        services=dataset.services[dataset.services["department_id"].isin(ids)].reset_index(
            drop=True
        ),
        capacity=dataset.capacity[dataset.capacity["department_id"].isin(ids)].reset_index(
            drop=True
        ),
    )


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)
