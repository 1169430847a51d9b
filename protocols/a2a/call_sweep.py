"""Canceling the remote A2A tasks whose ``a2a`` job was withdrawn while it waited without a worker.

A job that waits on its task without a worker (``engine.WaitRemote``) runs
no code: if a boundary event fires or its instance is canceled, the job is
simply gone, and nothing is left to cancel its task at the agent, which the
handler does itself while it holds the job. The hub's list of those tasks
(``registry.a2a_calls``) outlives the job; ``sweep_orphans`` goes through it
a page at a time, and for every entry whose job no longer exists cancels the
task at its agent and forgets the entry. One sweep for all waits: no thread,
no task, no connection per wait.

A cancel that could not reach the agent (refused connection, timeout, a
server error) keeps the entry: the next sweep tries again, for up to
``GIVE_UP_S`` after the first failure (``protocols.orphans``), then
the entry is dropped with a warning naming the task. Whatever the agent answers (canceled, not
cancelable, not found) settles it, as does an agent removed from the registry
or refused by the egress policy: those would fail the same way forever.

Not done here: canceling on ``close()``. A hub that stops leaves every task
running and every entry in place; the jobs resume where they were when it
starts again.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping

import httpx
from a2a.client.errors import A2AClientError
from a2a.utils.errors import InternalError

from protocols.a2a.call_record import JobRecords
from protocols.a2a.client import AgentSession, WaitSettings, connect
from protocols.http import ConnectionFailed, EgressPolicy, HttpTimeout, Resolver, system_resolver
from protocols.orphans import GIVE_UP_S, CancelRetries, sweep_withdrawn
from registry import Registry, RemoteCall

__all__ = ["CANCEL_TIMEOUT_S", "GIVE_UP_S", "CancelRetries", "cancel_quietly", "sweep_orphans"]

log = logging.getLogger("agenthub.a2a.call")

CANCEL_TIMEOUT_S = 10.0
# Failures that say nothing about the task: the agent may answer the next sweep.
_TRANSIENT = (A2AClientError, InternalError, ConnectionFailed, HttpTimeout, httpx.TransportError, OSError, TimeoutError)


async def cancel_quietly(session: AgentSession, task_id: str) -> None:
    """Ask the agent to cancel the task; what it answers changes nothing here (it may have ended already)."""
    try:
        async with asyncio.timeout(CANCEL_TIMEOUT_S):
            await session.cancel(task_id)
    except Exception as exc:
        log.info("agent '%s': canceling task %s failed: %s: %s", session.name, task_id, type(exc).__name__, exc)


async def sweep_orphans(
    registry: Registry,
    records: JobRecords,
    egress: EgressPolicy,
    *,
    settings: WaitSettings | None = None,
    environ: Mapping[str, str],
    resolve: Resolver = system_resolver,
    ssl_context: ssl.SSLContext | None = None,
    retries: CancelRetries | None = None,
) -> int:
    """Cancel the task of every listed call whose job no longer exists, and forget it; how many were settled.

    An entry whose agent could not be reached stays for the next sweep (``retries``; without one, a fresh
    count per sweep, so nothing is ever given up).
    """
    retries = retries if retries is not None else CancelRetries()
    counted = retries

    async def cancel(call: RemoteCall) -> bool:
        return await _cancel(registry, call, egress, settings, environ, resolve, ssl_context, counted)

    return await sweep_withdrawn(registry.a2a_calls.page, registry.a2a_calls.remove, records, cancel, retries)


async def _cancel(
    registry: Registry,
    call: RemoteCall,
    egress: EgressPolicy,
    settings: WaitSettings | None,
    environ: Mapping[str, str],
    resolve: Resolver,
    ssl_context: ssl.SSLContext | None,
    retries: CancelRetries,
) -> bool:
    """Cancel the call's task; False when the agent could not be reached and the entry is kept for a later try."""
    try:
        agent = await asyncio.to_thread(registry.agents.get, call.agent)
        async with connect(agent, egress, settings=settings, environ=environ, resolve=resolve,
                           ssl_context=ssl_context) as session, asyncio.timeout(CANCEL_TIMEOUT_S):
            await session.cancel(call.task_id)
    except _TRANSIENT as exc:
        return retries.unreachable(call.job, f"task {call.task_id} of agent '{call.agent}'", exc, log)
    except Exception as exc:  # the agent answered (not cancelable, not found), was removed, or is refused: settled
        log.info("job %s was withdrawn while it waited; canceling task %s of agent '%s': %s: %s",
                 call.job, call.task_id, call.agent, type(exc).__name__, exc)
        return True
    log.info("job %s was withdrawn while it waited: task %s of agent '%s' was canceled there",
             call.job, call.task_id, call.agent)
    return True
