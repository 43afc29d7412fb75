"""`kapacitet serve` and `kapacitet token create|list|revoke`: run the HTTP API, manage tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from kapacitet.cli.storage_commands import DatabaseOption

ROLES = ("region", "department", "collaboration_chair", "specialist_unit", "admin")


def register(app: typer.Typer) -> None:
    """Add the API commands to the app."""
    token_app = typer.Typer(help="Issue, list and revoke API bearer tokens.", no_args_is_help=True)
    app.add_typer(token_app, name="token")

    @app.command()
    def serve(
        db: DatabaseOption = None,
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        workers: Annotated[
            int,
            typer.Option(
                min=1,
                max=64,
                help="Server processes sharing the port and the store's run queue.",
            ),
        ] = 1,
    ) -> None:
        """Run the HTTP API (migrates the database first); docs at /docs."""
        from api.app import serve as serve_api

        serve_api(db, host, port, workers)

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
        expires_in: Annotated[
            str | None, typer.Option(help="Expire after e.g. 90d, 12h or 2w (default: never).")
        ] = None,
        db: DatabaseOption = None,
    ) -> None:
        """Print a new bearer token once; only its SHA-256 hash is stored."""
        from capacity.storage import create_database_engine, upgrade_database
        from capacity.vocabulary import COLLABORATIONS, REGIONS
        from workflow import tables
        from workflow.access import Role
        from workflow.tokens import create_token, parse_duration

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
        try:
            lifetime = parse_duration(expires_in) if expires_in is not None else None
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--expires-in") from error
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
                    expires_at=tables.now() + lifetime if lifetime is not None else None,
                )
        finally:
            engine.dispose()
        typer.echo(token)
        typer.echo(f"token {token_id} ({role}); shown once, store it now", err=True)

    @token_app.command("list")
    def list_command(db: DatabaseOption = None) -> None:
        """Print every token (id, role, scope, name, created, expires, revoked); never a hash."""
        from capacity.storage import create_database_engine, upgrade_database
        from workflow.tokens import list_tokens

        engine = create_database_engine(db)
        try:
            upgrade_database(engine)
            with engine.begin() as connection:
                tokens = list_tokens(connection)
        finally:
            engine.dispose()
        typer.echo("token_id\trole\tscope\tname\tcreated_at\texpires_at\trevoked_at")
        for token in tokens:
            t = token.audited()
            scope = t["region"] or t["department_id"] or t["collaboration"] or "-"
            typer.echo(
                "\t".join(
                    str(v or "-")
                    for v in (
                        t["token_id"],
                        t["role"],
                        scope,
                        t["name"],
                        t["created_at"],
                        t["expires_at"],
                        t["revoked_at"],
                    )
                )
            )

    @token_app.command("revoke")
    def revoke(
        token_id: Annotated[int, typer.Argument(help="The token's id (kapacitet token list).")],
        db: DatabaseOption = None,
    ) -> None:
        """Revoke a token now: from then on the API answers it with 401 (audited)."""
        from capacity.errors import NotFound
        from capacity.storage import create_database_engine, upgrade_database
        from workflow.tokens import revoke_token

        engine = create_database_engine(db)
        try:
            upgrade_database(engine)
            with engine.begin() as connection:
                revoked = revoke_token(connection, token_id)
        except NotFound as error:
            typer.echo(f"error: {error.message}", err=True)
            raise typer.Exit(1) from error
        finally:
            engine.dispose()
        typer.echo(f"token {token_id} revoked at {revoked.audited()['revoked_at']}")
