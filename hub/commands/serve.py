"""``agenthub serve`` (the hub over HTTP) and ``agenthub mcp`` (MCP over stdio for desktop assistants)."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from hub.console import Db, database_url, fail, open_registry, printable_url
from hub.settings import DEFAULT_PORT, HubSettings, is_loopback, parse_port

Workers = Annotated[
    list[str] | None,
    typer.Option("--workers", help="Module (dotted name or .py path) whose @worker handlers to run in the hub."),
]


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind; loopback unless you mean otherwise.")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int | None, typer.Option("--port", help=f"TCP port (default: $AGENTHUB_PORT, else {DEFAULT_PORT}).")
    ] = None,
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
    otel: Annotated[
        bool, typer.Option("--otel", help="OpenTelemetry traces and metrics, Prometheus at /metrics (AGENTHUB_OTEL=1).")
    ] = False,
    a2a_grpc_port: Annotated[
        int | None,
        typer.Option("--a2a-grpc-port", help="Serve the A2A gRPC binding on this port too (AGENTHUB_A2A_GRPC_PORT)."),
    ] = None,
    db: Db = None,
) -> None:
    """Run the hub: REST API under /api/v1, MCP at /mcp, health at /health; with the worker loop unless told not to."""
    import uvicorn

    from engine import EngineError
    from engine.store import StoreError
    from hub.app import create_app
    from hub.cli import register_workers
    from registry import InvalidEntry

    try:  # every setting is checked before anything is written
        from_env = HubSettings.from_env()
        port = parse_port(port, "--port") if port is not None else from_env.port
        grpc_port = (parse_port(a2a_grpc_port, "--a2a-grpc-port") if a2a_grpc_port is not None
                     else from_env.a2a_grpc_port)
    except ValueError as exc:
        fail(str(exc))
    if grpc_port is not None and grpc_port == port:
        fail(f"--a2a-grpc-port {grpc_port} is the hub's HTTP port: gRPC needs a port of its own")
    # The port is taken before anything is written: a start that cannot listen creates no database, no token.
    listener = _listen(host, port)
    if grpc_port is not None:  # free now (the gRPC server binds it itself as the hub starts): checked likewise
        _listen(host, grpc_port, what="--a2a-grpc-port").close()
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
        otel=True if otel else None,
        a2a_grpc_port=grpc_port,
    )
    registry = open_registry(settings.db)
    if not is_loopback(host) and not (settings.admin_token or registry.tokens.all()):
        fail(
            f"refusing to listen on {host}, which is not a loopback address, with no API token configured: "
            "set AGENTHUB_ADMIN_TOKEN (or create one with `agenthub token create --scopes admin`) first"
        )
    try:
        app = create_app(settings, registry=registry)
    except (EngineError, StoreError, InvalidEntry, ValueError) as exc:
        fail(str(exc))
    if examples is not None:
        from hub.demo import deploy_examples
        from hub.deploying import DeploymentFilesError

        try:
            for line in deploy_examples(app.state.hub.engine, examples):
                typer.echo(line, err=True)
        except (EngineError, DeploymentFilesError) as exc:
            fail(f"--examples: {exc}")
    grpc_note = f", A2A gRPC on {host}:{grpc_port}" if grpc_port is not None else ""
    typer.echo(
        f"agenthub serving on {settings.base_url} (REST /api/v1, MCP /mcp{grpc_note}); database "
        f"{printable_url(settings.db)}; worker loop {'off' if no_worker else 'on'}",
        err=True,
    )
    # http and loop "auto": httptools' C parser and uvloop, both locked dependencies (h11 and asyncio's own loop
    # where they cannot be installed): a bare MCP request costs the hub about a quarter less CPU, a federated call
    # 5 to 20% less (bench/http_stack.py, docs/BENCHMARKS.md).
    config = uvicorn.Config(app, log_level=log_level, access_log=False, server_header=False, http="auto", loop="auto")
    uvicorn.Server(config).run(sockets=[listener])


def _listen(host: str, port: int, *, what: str = "--port") -> socket.socket:
    """A listening socket on ``host:port``, or a clear error: before the hub opens its database or makes a token."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}")
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart reuses the port at once
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        fail(
            f"cannot listen on {host}:{port}: {reason}; nothing was started or written "
            + ("(choose another with --port, AGENTHUB_PORT or `make run PORT=...`)" if what == "--port"
               else f"(choose another with {what})")
        )
    sock.set_inheritable(True)
    return sock



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
    from hub.app import WorkerThread
    from hub.cli import open_engine, register_workers
    from hub.draft_tool import draft_tool
    from hub.job_types import close_handlers, gateway_of, hub_policies, job_handlers
    from protocols.mcp import McpEndpoint
    from registry import InvalidEntry, Principal, parse_scopes

    try:
        granted = frozenset(parse_scopes(scopes))
    except InvalidEntry as exc:
        fail(str(exc))
    register_workers(workers)
    url = database_url(db)
    try:
        settings = HubSettings.from_env(db=url)
    except ValueError as exc:
        fail(str(exc))
    engine = open_engine(url)
    registry = open_registry(url)
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
        files = Path(settings.model_files) if settings.model_files else None
        endpoint = McpEndpoint(engine, gateway=gateway_of(handlers), registry=registry,  # federated tools too
                               extra_tools=(draft_tool(engine, registry.store, files),))
        asyncio.run(endpoint.run_stdio(principal))
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            worker.stop()
        close_handlers(handlers)
        engine.close()
        registry.close()
