"""The hub's ASGI app: REST API, MCP and A2A endpoints and health, behind one guard, with the worker loop alongside.

    app = create_app(HubSettings.from_env())

The app owns the engine, the registry and (unless ``worker=False``) a
worker loop thread that fires timers and runs the job handlers registered
in-process: Python ``@worker`` modules plus the built-in ``http``, ``mcp`` and
``a2a`` job types. Everything is opened in ``create_app`` and closed by the lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from engine import Engine, WorkerLoop
from engine.scheduler import WorkerRegistry, WorkerSettings
from engine.store import sqlite_template
from hub import a2a_push, health
from hub import telemetry as hub_telemetry
from hub.api import (
    admin,
    decisions,
    deployments,
    discover,
    discover_logs,
    drafts,
    events,
    instances,
    jobs,
    mcp_servers,
    mcp_virtual,
    resource_metadata,
    tasks,
)
from hub.api.common import Hub, problem, problem_handlers
from hub.api.openapi import openapi_document
from hub.camunda_api import routes as camunda_routes
from hub.draft_tool import draft_tool
from hub.guard import BearerAuth, Guard
from hub.inbound import inbound_routes
from hub.job_types import (
    close_handlers,
    gateway_of,
    hub_policies,
    job_handlers,
    remote_call_sweeps,
    stop_waiting,
)
from hub.oidc import OidcVerifier
from hub.settings import HubSettings
from hub.web import is_console_path
from hub.web import routes as console
from hub.web.render import render
from protocols.a2a import A2AEndpoint
from protocols.a2a.grpc_server import A2AGrpcServer
from protocols.a2a.push_configs import PushConfigs
from protocols.a2a.push_dispatch import PushThread
from protocols.a2a.signing import JWKS_PATH, CardSigner
from protocols.http import EgressPolicy
from protocols.mcp import McpEndpoint
from protocols.mcp.server import MAX_BODY_BYTES as MCP_MAX_BODY_BYTES
from registry import Registry

log = logging.getLogger("agenthub.hub")
HUB_JOB_SLOTS = 64
HUB_JOB_THREADS = 16


class WorkerThread:
    """The engine's worker loop (an event loop) on a thread of its own, stopped with the app."""

    def __init__(self, engine: Engine, workers: WorkerRegistry) -> None:
        # The hub's built-in job types (http, mcp, a2a) mostly wait on the network: more slots than `agenthub
        # worker`'s default 4. They are async: a waiting job holds a task on the loop, not a thread, so the slots
        # are many; sync handlers (agents' model steps, @worker functions) keep the 16 threads the hub had when
        # every slot was a thread. Measured with bench/hub.py (b), 20 clients, 16 thread slots: p99 6.6 s -> 1.5 s.
        settings = WorkerSettings(concurrency=HUB_JOB_SLOTS, threads=HUB_JOB_THREADS)
        self.loop = WorkerLoop(engine, workers, settings=settings)
        self.thread = threading.Thread(target=self._run, name="agenthub-worker", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.loop.run()
        except BaseException as exc:  # reported by /health/ready; the hub keeps answering
            self.error = exc
            log.exception("the worker loop stopped")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.loop.stop()
        self.thread.join(timeout=30)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(request.app.state.hub.settings))


async def not_found(request: Request, exc: Exception) -> Response:
    if is_console_path(request.url.path) and "text/html" in request.headers.get("accept", ""):
        detail = str(getattr(exc, "detail", "")) if isinstance(exc, HTTPException) else ""
        message = detail if detail and detail != "Not Found" else f"there is no page at {request.url.path}"
        return render(request, "error.html", {"status": 404, "message": message}, status=404)
    return problem(404, f"no such endpoint: {request.method} {request.url.path}")


async def not_allowed(request: Request, exc: Exception) -> Response:
    return problem(405, f"{request.method} is not allowed on {request.url.path}")


def create_app(
    settings: HubSettings,
    *,
    engine: Engine | None = None,
    registry: Registry | None = None,
    workers: WorkerRegistry | None = None,
) -> Starlette:
    engine = engine or Engine.open(settings.db, synchronous=settings.sqlite_synchronous)
    registry = registry or Registry.open(settings.db, templates=sqlite_template)
    engine.agent_policies = hub_policies(settings.agent_policies)
    engine.limits = settings.limits
    # agents that push notify a2a calls' tasks to this hub's own URL (AGENTHUB_PUBLIC_URL, else where it listens)
    handlers = job_handlers(registry, settings, workers, engine=engine, push_base=settings.base_url)
    hub = Hub(engine=engine, registry=registry, workers=handlers, settings=settings)
    traced = hub_telemetry.install() if settings.otel else None  # before the endpoints: they record through it
    endpoint = McpEndpoint(engine, limits=settings.mcp, gateway=gateway_of(handlers),
                           virtual_servers=registry.virtual.find, registry=registry,
                           extra_tools=(draft_tool(engine, registry.store,
                                                   Path(settings.model_files) if settings.model_files else None),))
    # A2A push notifications go only where the http connector may go (AGENTHUB_HTTP_ALLOW), checked at connect time.
    push_egress = EgressPolicy.from_env(settings.http_allow)
    agents = A2AEndpoint(
        engine, base_url=lambda: settings.base_url, push=PushConfigs(registry.push, push_egress),
        messages=registry.a2a_messages, registry=registry,
        signer=CardSigner.from_file(settings.a2a_signing_key, lambda: settings.base_url.rstrip("/") + JWKS_PATH)
        if settings.a2a_signing_key else None,
        grpc_target=lambda: settings.a2a_grpc_target,
    )
    oidc = OidcVerifier(settings.oidc) if settings.oidc is not None else None  # one key cache: API and console
    # the A2A gRPC binding (`serve --a2a-grpc-port`): the same agents and checks, on a port of its own
    grpc = (A2AGrpcServer(agents, BearerAuth(registry.tokens, oidc).principal, host=settings.host,
                          port=settings.a2a_grpc_port, max_message_bytes=settings.max_body_bytes)
            if settings.a2a_grpc_port is not None else None)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        generated = registry.tokens.seed_admin(settings.admin_token)
        if generated is not None:
            print(
                f"agenthub: created an admin API token (shown this once; store it now):\n  {generated}",
                file=sys.stderr,
                flush=True,
            )
        if traced is not None:
            hub_telemetry.watch(engine)
        worker = WorkerThread(engine, handlers) if settings.worker else None
        app.state.worker = worker
        if worker is not None:
            worker.start()
        pusher = PushThread.for_hub(engine, registry.push, push_egress, os.environ)
        pusher.start()
        running = remote_call_sweeps(handlers, engine) if worker is not None else []
        sweeps = [asyncio.create_task(sweep) for sweep in running]
        try:
            if grpc is not None:
                await grpc.start()
            async with endpoint.lifespan(), agents.lifespan():
                yield
        finally:
            if grpc is not None:
                await grpc.stop()
            for sweep in sweeps:
                sweep.cancel()
            await asyncio.gather(*sweeps, return_exceptions=True)
            pusher.stop()
            stop_waiting(handlers)
            if worker is not None:
                worker.stop()
            close_handlers(handlers)
            hub_telemetry.unwatch(engine)

    routes: list[BaseRoute] = [
        *health.routes,
        *hub_telemetry.routes,  # /metrics: Prometheus, when AGENTHUB_OTEL is on
        *resource_metadata.routes,
        Route("/api/v1/openapi.json", openapi, methods=["GET"]),
        *deployments.routes,
        *decisions.routes,
        *instances.routes,
        *tasks.routes,
        *events.routes,
        *jobs.routes,
        *admin.routes,
        *mcp_virtual.routes,  # before mcp_servers': /api/v1/mcp-servers/virtual is not a server's name
        *mcp_servers.routes,
        *discover.routes,
        *discover_logs.routes,
        *drafts.routes,
        *camunda_routes,  # /v2: Camunda 8's REST API, for its SDKs and Modeler
        *inbound_routes(settings),  # /inbound/{webhookId} (the Guard lets it through to its own checks)
        *a2a_push.routes,  # /a2a-push/{job}: an agent's notification, with its call's token (past the Guard too)
        Route("/mcp", endpoint.asgi),  # an ASGI app as endpoint: every method; /mcp/ goes to the Mount
        Route("/mcp/{name}", endpoint.virtual_asgi),  # a virtual server: a curated set (registry.virtual)
        Mount("/mcp", app=endpoint.asgi),
        *agents.routes,
        *console.routes,  # last: the console's pages take what the API and the protocols leave
    ]
    bind_host = settings.host if settings.host not in ("0.0.0.0", "::") else None
    guard = Middleware(
        Guard,
        tokens=registry.tokens,
        port=lambda: settings.port,
        allowed_hosts=(*settings.allowed_hosts, *([bind_host] if bind_host else [])),
        allowed_origins=settings.allowed_origins,
        max_body_bytes=settings.max_body_bytes,
        body_limits=(("/mcp", MCP_MAX_BODY_BYTES),),  # the MCP SDK's own limit, enforced while the body streams
        resource_metadata=lambda: settings.base_url + resource_metadata.METADATA_PATH,
        oidc=oidc,
        sessions=registry.sessions,
    )
    app = Starlette(
        routes=routes,
        middleware=[guard],
        lifespan=lifespan,
        exception_handlers={**problem_handlers, 404: not_found, 405: not_allowed},
    )
    app.state.hub = hub
    app.state.readiness = health.Readiness(
        engine.store, timeout_s=settings.ready_timeout_s, min_free_disk_mb=settings.min_free_disk_mb
    )
    app.state.worker = None
    app.state.mcp = endpoint
    app.state.a2a = agents
    app.state.oidc = oidc
    app.state.telemetry = traced
    return app
