"""``agenthub serve`` (the hub over HTTP) and ``agenthub mcp`` (MCP over stdio for desktop assistants)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import Annotated

import typer

from hub.console import Db, database_url, fail
from hub.settings import DEFAULT_PORT, HubSettings, is_loopback

Workers = Annotated[
    list[str] | None,
    typer.Option("--workers", help="Module (dotted name or .py path) whose @worker handlers to run in the hub."),
]


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind; loopback unless you mean otherwise.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = DEFAULT_PORT,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Run no worker loop here (separate `agenthub worker` processes do).")
    ] = False,
    workers: Workers = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option("--allowed-host", help="A host name clients use to reach the hub (besides loopback names)."),
    ] = None,
    examples: Annotated[
        Path | None,
        typer.Option("--examples", help="A folder of example processes (BPMN + workers.py) to deploy, exposed."),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
    db: Db = None,
) -> None:
    """Run the hub: REST API under /api/v1, MCP at /mcp, health at /health; with the worker loop unless told not to."""
    import uvicorn

    from engine import EngineError
    from hub.app import create_app
    from hub.cli import register_workers
    from registry import InvalidEntry, Registry

    if not 0 < port < 65536:
        fail("--port must be between 1 and 65535")
    register_workers(workers)
    if examples is not None:
        from hub.demo import load_example_workers
        from hub.loading import WorkerModuleError

        if not examples.is_dir():
            fail(f"--examples: '{examples}' is not a folder")
        try:
            load_example_workers(examples)
        except WorkerModuleError as exc:
            fail(str(exc))
    settings = HubSettings.from_env(
        db=database_url(db),
        host=host,
        port=port,
        worker=not no_worker,
        allowed_hosts=tuple(allowed_host) if allowed_host else None,
    )
    if examples is not None and settings.model_files is None:  # the examples' agents name their model files
        settings = dataclasses.replace(settings, model_files=str(examples.resolve()))
    try:
        registry = Registry.open(settings.db)
    except Exception as exc:
        fail(f"cannot open database '{settings.db}': {exc}")
    if not is_loopback(host) and not (settings.admin_token or registry.tokens.all()):
        fail(
            f"refusing to listen on {host}, which is not a loopback address, with no API token configured: "
            "set AGENTHUB_ADMIN_TOKEN (or create one with `agenthub token create --scopes admin`) first"
        )
    try:
        app = create_app(settings, registry=registry)
    except (EngineError, InvalidEntry, ValueError) as exc:
        fail(str(exc))
    if examples is not None:
        from hub.demo import deploy_examples

        try:
            for line in deploy_examples(app.state.hub.engine, examples):
                typer.echo(line, err=True)
        except EngineError as exc:
            fail(f"--examples: {exc}")
    typer.echo(
        f"agenthub serving on {settings.base_url} (REST /api/v1, MCP /mcp); database {_safe(settings.db)}; "
        f"worker loop {'off' if no_worker else 'on'}",
        err=True,
    )
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, server_header=False)
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        fail(f"cannot listen on {host}:{port}: the port is taken or not allowed", code=int(exc.code or 1) or 2)


def _safe(url: str) -> str:
    """A database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def mcp(
    scopes: Annotated[
        str, typer.Option("--scopes", help="What the assistant may do, as token scopes (comma separated).")
    ] = "read,start,tasks",
    workers: Workers = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Run no worker loop in this process.")] = False,
    db: Db = None,
) -> None:
    """Serve MCP over stdin/stdout for a desktop assistant; the processes deployed with --expose are its tools.

    The assistant runs with the rights of whoever starts this command (it
    opens the database directly), narrowed to --scopes.
    """
    from engine import Engine
    from hub.app import WorkerThread, close_handlers, hub_policies, job_handlers
    from hub.cli import register_workers
    from protocols.mcp import McpEndpoint
    from registry import InvalidEntry, Principal, Registry, parse_scopes

    try:
        granted = frozenset(parse_scopes(scopes))
    except InvalidEntry as exc:
        fail(str(exc))
    register_workers(workers)
    url = database_url(db)
    settings = HubSettings.from_env(db=url)
    engine = Engine.open(url)
    registry = Registry.open(url)
    try:
        engine.agent_policies = hub_policies(settings.agent_policies)
    except ValueError as exc:
        fail(str(exc))
    handlers = job_handlers(registry, settings, engine=engine)  # a2a and agents' model steps need the engine
    worker = None if no_worker else WorkerThread(engine, handlers)
    if worker is not None:
        worker.start()
    principal = Principal(name=f"stdio:{os.environ.get('USER', 'local')}", scopes=granted)
    try:
        asyncio.run(McpEndpoint(engine).run_stdio(principal))
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            worker.stop()
        close_handlers(handlers)
        engine.close()
        registry.close()
