"""The kapacitet HTTP API: ``create_app(database_url)`` returns the FastAPI application.

uvicorn --factory api.app:create_app      # or: kapacitet serve --db URL
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine, event
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import docs, headers, problems
from api.logging import install_redaction
from api.routers import (
    audit,
    capacity,
    capacity_workbook,
    fhir,
    health,
    patients,
    reference,
    referrals,
    scenario_runs,
    solve_runs,
    tokens,
    web,
)
from api.settings import Settings
from capacity.storage import create_database_engine, upgrade_database
from workflow import leases
from workflow.workers import RunWorkers

#: How long a SQLite writer waits for another's write lock before "database is locked" (ms).
SQLITE_BUSY_TIMEOUT_MS = 60_000


def _serve_sqlite_concurrently(engine: Engine) -> None:
    """Let a SQLite store serve parallel requests: write-ahead logging, patient writers.

    In SQLite's default journal a commit waits until every reader is done, so with many solves
    reading snapshots a writer holding the lock can wait past the busy timeout and every other
    writer fails with "database is locked". In WAL mode readers never block a commit (each
    still reads one consistent snapshot). WAL is a property of the database file; it stays.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @event.listens_for(engine, "connect")
    def _patient_writer(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")

    engine.dispose()  # pooled connections predate the listener
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA journal_mode = WAL")
    finally:
        raw.close()


class StreamedBodyLimit:
    """Refuse a body sent without ``Content-Length`` (chunked) once it passes the limit: 413.

    The limit is raised as an HTTP exception from the body's ``receive``, so the route's body
    parsing hands it to the problem+json handler; a declared length over the limit is refused
    before anything is read (``limit_body`` in :func:`create_app`).
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(
                        413,
                        f"request body over {self.max_body_bytes} bytes; send smaller batches",
                    )
            return message

        await self.app(scope, counted, send)


def _stop_runs_on_signal(bound: Engine) -> Callable[[], None]:
    """On SIGTERM or SIGINT tell this process's runs to stop, then let the server's own handler
    begin its graceful shut-down; returns what restores the handlers.

    The server (uvicorn) waits for requests in flight before the lifespan ends, and a
    synchronous solve is one: told at the signal, it stops at its next phase instead of
    holding the shut-down open. Only the main thread can set handlers (uvicorn's loop runs
    there); elsewhere, as in tests, nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Callable[[int, Any], Any]] = {}
    for number in (signal.SIGTERM, signal.SIGINT):
        handler = signal.getsignal(number)
        if not callable(handler):  # no server handler to chain to
            continue

        def stop_runs_then(signum: int, frame: Any, handler: Any = handler) -> None:
            leases.shut_down(bound)
            handler(signum, frame)

        previous[number] = handler
        signal.signal(number, stop_runs_then)

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    return restore


def create_app(
    database_url: str | None = None,
    max_body_bytes: int | None = None,
    *,
    async_threshold: int | None = None,
    run_workers: int | None = None,
    **limits: Any,
) -> FastAPI:
    """The API on ``database_url`` (else ``$KAPACITET_DB``), migrating the store on start-up.

    A solve of at least ``async_threshold`` patients (default 1000,
    ``$KAPACITET_ASYNC_THRESHOLD``) answers 202 and runs on one of ``run_workers`` (default 2)
    background threads the app owns from start-up to shut-down; scenario runs always do.
    Smaller solves answer 200 when done, at most ``run_workers`` of them at a time.
    ``limits`` sets any other field of :class:`api.settings.Settings` (quotas, leases).

    Runs are leased to this process (:mod:`workflow.leases`): start-up and a keeper thread recover
    only runs whose lease expired, so several processes can share one store. Shut-down (SIGTERM)
    tells runs in flight to stop, waits ``shutdown_grace_seconds`` and marks what is left
    ``interrupted``.
    """
    install_redaction()
    settings = Settings.resolve(
        database_url, max_body_bytes, async_threshold, run_workers, **limits
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_database_engine(settings.database_url)
        upgrade_database(engine)
        _serve_sqlite_concurrently(engine)
        leases.configure(settings.lease_seconds, settings.heartbeat_seconds)
        keeper = leases.Keeper(engine)
        keeper.start()
        app.state.engine = engine
        app.state.run_executor = RunWorkers(settings.run_workers)
        app.state.solve_slots = threading.BoundedSemaphore(settings.run_workers)
        restore_signals = _stop_runs_on_signal(engine)
        try:
            yield
        finally:
            restore_signals()
            leases.shut_down(engine)
            await asyncio.to_thread(app.state.run_executor.stop, settings.shutdown_grace_seconds)
            keeper.stop()
            # queued runs never started, and any still inside a long phase: not lost, but
            # interrupted (their workers are daemon threads and end with the process)
            leases.interrupt_own(engine)
            engine.dispose()

    app = FastAPI(
        title="kapacitet",
        summary="Capacity sharing for Danish cancer care: waiting lists, solves, proposals.",
        version="1",
        lifespan=lifespan,
        responses=problems.RESPONSES,
        docs_url=None,  # served from the package by api.docs, never from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    problems.install(app)

    app.add_middleware(StreamedBodyLimit, max_body_bytes=settings.max_body_bytes)

    @app.middleware("http")
    async def limit_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > settings.max_body_bytes):
            return problems.problem_response(
                413, f"request body over {settings.max_body_bytes} bytes; send smaller batches"
            )
        return await call_next(request)

    for module in (
        health,
        reference,
        patients,
        capacity_workbook,
        capacity,
        solve_runs,
        scenario_runs,
        tokens,
        audit,
        fhir,
        referrals,
        web,
    ):
        app.include_router(module.router)
    docs.install_docs(app)
    headers.install(app)  # last: it wraps every other middleware, so 413s carry the headers too
    return app


def app_from_environment() -> FastAPI:
    """The app on ``$KAPACITET_DB`` (uvicorn's factory for ``kapacitet serve --workers N``)."""
    return create_app()


def serve(database_url: str | None, host: str, port: int, workers: int = 1) -> None:
    """Run the API on ``host:port`` under uvicorn (``kapacitet serve``), its logs redacted.

    With ``workers`` > 1, uvicorn starts that many processes on the one socket, each with its
    own run workers; they share the store's run queue through leases (:mod:`workflow.leases`),
    so a queued run is solved by exactly one of them. The store is migrated once, here, before
    the processes start.
    """
    import os

    import uvicorn

    install_redaction()  # uvicorn's access log never holds a CPR-like run
    if workers <= 1:
        uvicorn.run(create_app(database_url), host=host, port=port)
        return
    settings = Settings.resolve(database_url, None, None, None)
    engine = create_database_engine(settings.database_url)
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
    os.environ["KAPACITET_DB"] = settings.database_url
    uvicorn.run("api.app:app_from_environment", factory=True, host=host, port=port, workers=workers)
