"""`kapacitet serve` and `kapacitet token create`: run the HTTP API and issue its tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from kapacitet.cli.storage_commands import DatabaseOption

ROLES = ("region", "department", "collaboration_chair", "specialist_unit", "admin")


def register(app: typer.Typer) -> None:
    """Add the API commands to the app."""
    token_app = typer.Typer(help="Issue API bearer tokens.", no_args_is_help=True)
    app.add_typer(token_app, name="token")

    @app.command()
    def serve(
        db: DatabaseOption = None,
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    ) -> None:
        """Run the HTTP API (migrates the database first); docs at /docs."""
        import uvicorn

        from api.app import create_app

        uvicorn.run(create_app(db), host=host, port=port)

    @token_app.command("create")
    def create(
        role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
        region: Annotated[str | None, typer.Option(help="The region (role region).")] = None,
        department: Annotated[
            str | None, typer.Option(help="The department_id (role department).")
        ] = None,
        collaboration: Annotated[
            str | None, typer.Option(help="The collaboration (role collaboration_chair).")
        ] = None,
        name: Annotated[str | None, typer.Option(help="Who holds it (audit log).")] = None,
        db: DatabaseOption = None,
    ) -> None:
        """Print a new bearer token once; only its SHA-256 hash is stored."""
        from api.security import Role, create_token
        from capacity.storage import create_database_engine, upgrade_database
        from capacity.vocabulary import COLLABORATIONS, REGIONS

        if role not in ROLES:
            raise typer.BadParameter(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        needed = {"region": region, "department": department, "collaboration_chair": collaboration}
        if role in needed and not needed[role]:
            option = {"region": "--region", "department": "--department"}.get(
                role, "--collaboration"
            )
            raise typer.BadParameter(f"role {role} needs {option}")
        if region is not None and region not in REGIONS:
            raise typer.BadParameter(f"unknown region {region!r}; one of {', '.join(REGIONS)}")
        if collaboration is not None and collaboration not in COLLABORATIONS:
            raise typer.BadParameter(
                f"unknown collaboration {collaboration!r}; one of {', '.join(COLLABORATIONS)}"
            )
        engine = create_database_engine(db)
        try:
            upgrade_database(engine)
            with engine.begin() as connection:
                token, token_id = create_token(
                    connection,
                    Role(role),
                    name or f"{role} {region or department or collaboration or ''}".strip(),
                    region=region,
                    department_id=department,
                    collaboration=collaboration,
                )
        finally:
            engine.dispose()
        typer.echo(token)
        typer.echo(f"token {token_id} ({role}); shown once, store it now", err=True)
