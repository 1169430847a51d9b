"""The hub's ASGI app: REST API, MCP and A2A endpoints and health, behind one guard, with the worker loop alongside.

    app = create_app(HubSettings.from_env())

The app owns the engine, the registry and (unless ``worker=False``) a
worker loop thread that fires timers and runs the job handlers registered
in-process: Python ``@worker`` modules plus the built-in ``http``, ``mcp`` and
``a2a`` job types. Everything is opened in ``create_app`` and closed by the lifespan.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from engine import Engine, WorkerLoop
from engine.agent import MODEL_JOB_TYPE, Policy, policy_from_attributes
from engine.scheduler import WorkerRegistry, WorkerSettings, default_registry
from hub.api import admin, deployments, events, instances, jobs, mcp_servers, tasks
from hub.api.common import Hub, problem, problem_handlers
from hub.api.openapi import openapi_document
from hub.guard import Guard
from hub.settings import HubSettings
from protocols.a2a import A2AEndpoint
from protocols.a2a.call_task import A2ACallTask
from protocols.a2a.push_configs import PushConfigs
from protocols.a2a.push_dispatch import PushThread
from protocols.http import EgressPolicy, HttpConnector
from protocols.llm import ModelResolver, ModelTask
from protocols.mcp import McpEndpoint
from protocols.mcp.tool_task import McpToolTask
from registry import Registry

log = logging.getLogger("agenthub.hub")
HUB_JOB_SLOTS = 16


def job_handlers(
    registry: Registry, settings: HubSettings, extra: WorkerRegistry | None = None, *, engine: Engine | None = None
) -> WorkerRegistry:
    """The job types this hub runs: the built-in connectors, then every ``@worker`` handler loaded.

    ``a2a`` needs the engine (it keeps a record on the job's element instance), so it is there only with one.
    """
    workers = WorkerRegistry()
    egress = EgressPolicy.from_env(settings.http_allow)
    workers.register("http", HttpConnector(egress))
    workers.register("mcp", McpToolTask(registry))
    if engine is not None:
        workers.register("a2a", A2ACallTask(registry, engine, egress))
        files = Path(settings.model_files) if settings.model_files else None
        workers.register(MODEL_JOB_TYPE, ModelTask(engine, ModelResolver.standard(files_root=files)))
    for job_type, handler in (extra or default_registry).handlers.items():
        workers.register(job_type, handler)
    return workers


def hub_policies(path: str | None) -> tuple[Policy, ...]:
    """The hub-wide agent policies from AGENTHUB_AGENT_POLICIES (a JSON list); ValueError says what is wrong."""
    if not path:
        return ()
    try:
        items = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"AGENTHUB_AGENT_POLICIES: cannot read {path}: {exc}") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValueError(f"AGENTHUB_AGENT_POLICIES: {path} must hold a JSON list of policy objects")
    policies = []
    for index, item in enumerate(items):
        try:
            policies.append(policy_from_attributes({k: str(v) for k, v in item.items()}, line=index, origin="hub"))
        except ValueError as exc:
            raise ValueError(f"AGENTHUB_AGENT_POLICIES: policy {index + 1} in {path}: {exc}") from None
    return tuple(policies)


def close_handlers(workers: WorkerRegistry) -> None:
    """Close what built-in handlers hold open (the mcp job type's pooled upstream sessions, a2a's waits)."""
    for handler in workers.handlers.values():
        if isinstance(handler, McpToolTask | A2ACallTask):
            handler.close()


def stop_waiting(workers: WorkerRegistry) -> None:
    """End the a2a jobs' waits on remote tasks now, so that stopping the worker loop is not held up by them.

    Each such job fails this attempt and resumes waiting on the next (its record says which task).
    """
    for handler in workers.handlers.values():
        if isinstance(handler, A2ACallTask):
            handler.close()


class WorkerThread:
    """The engine's worker loop on a thread of its own, stopped with the app."""

    def __init__(self, engine: Engine, workers: WorkerRegistry) -> None:
        # The hub's built-in job types (http, mcp) mostly wait on the network: more slots than `agenthub worker`'s
        # default 4. Measured with bench/hub.py (b), 20 clients: p99 6.6 s -> 1.5 s; throughput stays CPU-bound.
        self.loop = WorkerLoop(engine, workers, settings=WorkerSettings(concurrency=HUB_JOB_SLOTS))
        self.thread = threading.Thread(target=self._run, name="agenthub-worker", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.loop.run()
        except BaseException as exc:  # reported by /health; the hub keeps answering
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


async def health(request: Request) -> Response:
    state: Hub = request.app.state.hub
    worker: WorkerThread | None = request.app.state.worker
    body: dict[str, Any] = {"status": "ok", "database": state.engine.store.dialect}
    body["worker"] = "off" if worker is None else ("running" if worker.alive else "stopped")
    return JSONResponse(body)


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(request.app.state.hub.settings))


async def not_found(request: Request, exc: Exception) -> Response:
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
    engine = engine or Engine.open(settings.db)
    registry = registry or Registry.open(settings.db)
    engine.agent_policies = hub_policies(settings.agent_policies)
    handlers = job_handlers(registry, settings, workers, engine=engine)
    hub = Hub(engine=engine, registry=registry, workers=handlers, settings=settings)
    endpoint = McpEndpoint(engine)
    # A2A push notifications go only where the http connector may go (AGENTHUB_HTTP_ALLOW), checked at connect time.
    push_egress = EgressPolicy.from_env(settings.http_allow)
    agents = A2AEndpoint(engine, base_url=lambda: settings.base_url, push=PushConfigs(registry.push, push_egress))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        generated = registry.tokens.seed_admin(settings.admin_token)
        if generated is not None:
            print(
                f"agenthub: created an admin API token (shown this once; store it now):\n  {generated}",
                file=sys.stderr,
                flush=True,
            )
        worker = WorkerThread(engine, handlers) if settings.worker else None
        app.state.worker = worker
        if worker is not None:
            worker.start()
        pusher = PushThread.for_hub(engine, registry.push, push_egress, os.environ)
        pusher.start()
        try:
            async with endpoint.lifespan(), agents.lifespan():
                yield
        finally:
            pusher.stop()
            stop_waiting(handlers)
            if worker is not None:
                worker.stop()
            close_handlers(handlers)

    routes: list[BaseRoute] = [
        Route("/health", health, methods=["GET"]),
        Route("/api/v1/openapi.json", openapi, methods=["GET"]),
        *deployments.routes,
        *instances.routes,
        *tasks.routes,
        *events.routes,
        *jobs.routes,
        *admin.routes,
        *mcp_servers.routes,
        Route("/mcp", endpoint.asgi),  # an ASGI app as endpoint: every method; /mcp/ goes to the Mount
        Mount("/mcp", app=endpoint.asgi),
        *agents.routes,
    ]
    bind_host = settings.host if settings.host not in ("0.0.0.0", "::") else None
    guard = Middleware(
        Guard,
        tokens=registry.tokens,
        port=lambda: settings.port,
        allowed_hosts=(*settings.allowed_hosts, *([bind_host] if bind_host else [])),
        allowed_origins=settings.allowed_origins,
        max_body_bytes=settings.max_body_bytes,
    )
    app = Starlette(
        routes=routes,
        middleware=[guard],
        lifespan=lifespan,
        exception_handlers={**problem_handlers, 404: not_found, 405: not_allowed},
    )
    app.state.hub = hub
    app.state.worker = None
    app.state.mcp = endpoint
    app.state.a2a = agents
    return app
