"""The job types a hub process runs, shared by ``agenthub serve``, ``mcp``, ``run`` and ``worker``.

Every surface that runs jobs builds its handlers here, so a job that the hub
runs (an agent's model step, ``http`` and Camunda's REST connector
``io.camunda:http-json:1``, ``mcp`` and Camunda's MCP clients, ``a2a`` and Camunda's A2A client) runs the same from
the command line, with the same settings: the model resolver and model files
folder, the egress allow-list, the secret provider (``AGENTHUB_SECRETS_FILE``),
the registry's servers and agents, and the hub-wide agent policies.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, Final

from engine import Engine, strict_json
from engine.agent import MODEL_JOB_TYPE, Policy, policy_from_attributes
from engine.scheduler import WorkerRegistry, default_registry
from hub.settings import HubSettings
from protocols.a2a.call_task import A2ACallTask
from protocols.a2a.camunda_client import A2A_CLIENT_JOB_TYPE, CamundaA2aClient
from protocols.a2a.camunda_polling import CamundaA2aPolling
from protocols.gateway import GATEWAY_JOB_TYPE
from protocols.gateway.gateway import Gateway
from protocols.http import (
    CAMUNDA_REST_JOB_TYPE,
    CamundaOutbound,
    CamundaRestConnector,
    EgressPolicy,
    HttpConnector,
    secret_provider,
)
from protocols.http.routes import HttpRoutes
from protocols.llm import ModelResolver, ModelTask
from protocols.llm.camunda_task import TASK_TYPE as CAMUNDA_AGENT_TASK
from protocols.llm.camunda_task import CamundaAgentTask
from protocols.llm.camunda_tools_schema import TOOLS_SCHEMA_TYPE, CamundaToolsSchema
from protocols.llm.documents import http_fetch
from protocols.mcp.camunda_client import MCP_CLIENT_JOB_TYPE, MCP_REMOTE_CLIENT_JOB_TYPE, CamundaMcpClient
from protocols.mcp.roots import ROOTS_JOB_TYPE, ClientRoots
from protocols.mcp.sampling import CALLERS, SAMPLING_PREFIX, sampling_model
from protocols.mcp.tool_task import McpToolTask
from registry import Registry

__all__ = [
    "close_handlers",
    "gateway_of",
    "hub_policies",
    "job_handlers",
    "remote_call_sweeps",
    "running_sweeps",
    "stop_waiting",
]

_CAMUNDA_CONNECTORS: Final = ("io.camunda:", "io.camunda.connectors.")
# what Camunda's MCP and A2A clients read (their template's ``data.*`` inputs and a gateway call's ``toolCall``):
# secrets are resolved there only, so an agent's ``provider`` secrets, visible to its tools, are not needed by them
CAMUNDA_CLIENT_INPUTS: Final = frozenset({"data", "toolCall"})


def job_handlers(
    registry: Registry, settings: HubSettings, extra: WorkerRegistry | None = None, *, engine: Engine | None = None,
    push_base: str | None = None,
) -> WorkerRegistry:
    """The job types this hub runs: the built-in connectors, then every ``@worker`` handler loaded.

    ``a2a`` needs the engine (it keeps a record on the job's element instance), so it is there only with one.
    ``push_base``: the URL where agents reach this hub's ``/a2a-push/`` (default: ``AGENTHUB_PUBLIC_URL``, when
    set); a process that serves no HTTP (``agenthub worker``) names the hub that does, or none.
    """
    workers = WorkerRegistry()
    egress = EgressPolicy.from_env(settings.http_allow)
    routes = HttpRoutes.from_env(settings.http_routes)  # where the URLs that models name go (operator's rewrites)
    http = HttpConnector(egress, secrets=secret_provider(os.environ), routes=routes)
    workers.register("http", http)
    workers.register(CAMUNDA_REST_JOB_TYPE, CamundaRestConnector(http))  # one implementation, Camunda's names
    # with an engine, a call an upstream answers with a task waits for it durably, without a worker slot
    mcp = McpToolTask(registry, egress=egress, records=engine)
    workers.register("mcp", mcp)
    for job_type, remote in ((MCP_CLIENT_JOB_TYPE, False), (MCP_REMOTE_CLIENT_JOB_TYPE, True)):  # Camunda's, on mcp's
        client = CamundaMcpClient(mcp, remote=remote, routes=routes)
        workers.register(job_type, CamundaOutbound(client, secrets=http.secrets, inputs=CAMUNDA_CLIENT_INPUTS))
    if engine is not None:
        a2a = A2ACallTask(registry, engine, egress, push_base=push_base or settings.public_url, routes=routes)
        workers.register("a2a", a2a)
        # Camunda's A2A client, on a2a's registry pins, egress rules and durable waits (closed and swept with it)
        workers.register(A2A_CLIENT_JOB_TYPE, CamundaOutbound(CamundaA2aClient(a2a, engine), secrets=http.secrets,
                                                              inputs=CAMUNDA_CLIENT_INPUTS))
        # the federated calls an approval let through (or an MCP Task started): the gateway's, on mcp's pool and pins
        workers.register(GATEWAY_JOB_TYPE, Gateway(engine, registry, mcp, settings.gateway, egress))
        files = Path(settings.model_files) if settings.model_files else None
        resolver = ModelResolver.standard(files_root=files)
        # mcp:sampling: the calling MCP client's own model, for the instance its call started and the ones it calls
        resolver.register(SAMPLING_PREFIX, functools.partial(sampling_model, ancestors=callers_of(engine)))
        # mcp:roots: the same client's roots, asked mid-run (a service task), beside its other questions
        workers.register(ROOTS_JOB_TYPE, ClientRoots(CALLERS, callers_of(engine)))
        models = ModelTask(engine, resolver, secrets=http.secrets, camunda_model=settings.camunda_model,
                           documents=http_fetch(http))  # a Camunda agent's prompt documents, under egress rules
        workers.register(MODEL_JOB_TYPE, models)
        # Camunda's AI Agent Task: one model turn per job, under Camunda's task headers (resultVariable=agent);
        # its provider's {{secrets.NAME}} are resolved at the model call, as a sub-process agent's, and only there
        workers.register(CAMUNDA_AGENT_TASK, CamundaOutbound(CamundaAgentTask(engine, models)))
        # Camunda's ad-hoc tools schema: the tools of an ad-hoc subprocess, no model asked
        workers.register(TOOLS_SCHEMA_TYPE, CamundaOutbound(CamundaToolsSchema(engine)))
    for job_type, handler in (extra or default_registry).handlers.items():
        # A worker written for a Camunda connector's job type honours Camunda's task headers (resultVariable,
        # resultExpression, errorExpression, retryBackoff) as that connector would. The agentic ones are left
        # as they are: their results are the agent's business.
        camunda = job_type.startswith(_CAMUNDA_CONNECTORS) and not isinstance(handler, CamundaOutbound)
        workers.register(job_type, CamundaOutbound(handler, secrets=http.secrets) if camunda else handler)
    return workers


def callers_of(engine: Engine) -> Callable[[int], Iterator[int]]:
    """``instance`` -> the instances that called it through call activities, nearest first (at most 32)."""

    def ancestors(instance: int) -> Iterator[int]:
        current = engine.instance(instance).parent_instance
        for _ in range(32):
            if current is None:
                return
            yield current
            current = engine.instance(current).parent_instance

    return ancestors


def gateway_of(workers: WorkerRegistry) -> Gateway | None:
    """The gateway ``job_handlers`` registered (with an engine), for the MCP endpoint to offer federated tools."""
    found = workers.handlers.get(GATEWAY_JOB_TYPE)
    return found if isinstance(found, Gateway) else None


def hub_policies(path: str | None) -> tuple[Policy, ...]:
    """The hub-wide agent policies from AGENTHUB_AGENT_POLICIES (a JSON list); ValueError says what is wrong."""
    if not path:
        return ()
    try:
        items = strict_json.loads(Path(path).read_bytes())  # a repeated key would silently drop a policy field
    except (OSError, strict_json.JsonProblem) as exc:
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


def remote_call_sweeps(workers: WorkerRegistry, engine: Engine | None = None) -> list[Coroutine[Any, Any, None]]:
    """What the hub runs while it serves: the a2a and mcp handlers' sweeps, which cancel the remote tasks of jobs that
    were withdrawn while they waited without a worker (``protocols.a2a.call_sweep``, ``protocols.mcp.call_sweep``),
    and, with the engine, the poller
    of Camunda's A2A polling catch events (``protocols.a2a.camunda_polling``)."""
    calls = [h for h in workers.handlers.values() if isinstance(h, A2ACallTask)]
    polls = [CamundaA2aPolling(engine, h).poll_forever() for h in calls[:1]] if engine is not None else []
    mcp = [h for h in workers.handlers.values() if isinstance(h, McpToolTask) and h.records is not None]
    return [*(h.sweep_forever() for h in calls), *(h.sweep_forever() for h in mcp), *polls]


@contextlib.contextmanager
def running_sweeps(workers: WorkerRegistry, engine: Engine) -> Iterator[None]:
    """Run ``remote_call_sweeps`` for the block, on an event loop of their own in a background thread: what
    ``agenthub worker`` runs beside its worker loop, as ``serve`` runs them beside its own. Leaving the block
    cancels them and waits for them to end."""
    coroutines = remote_call_sweeps(workers, engine)
    if not coroutines:
        yield
        return
    loop = asyncio.new_event_loop()
    done = asyncio.Event()

    async def sweep() -> None:
        tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]
        await done.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    thread = threading.Thread(target=loop.run_until_complete, args=(sweep(),), name="agenthub-sweeps", daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(done.set)
        thread.join(timeout=30)
        if not thread.is_alive():
            loop.close()


def stop_waiting(workers: WorkerRegistry) -> None:
    """End the a2a jobs' waits on remote tasks, and agents' model steps waiting for an MCP client's answer, now,
    so that stopping the worker loop is not held up by them.

    Each such a2a job fails this attempt and resumes waiting on the next (its record says which task); such a
    model step fails as a model call that got no answer (retried as any).
    """
    for handler in workers.handlers.values():
        if isinstance(handler, A2ACallTask):
            handler.close()
    CALLERS.release_all()  # agents' model steps waiting for an MCP client's answer in its next call (2026-07-28)


