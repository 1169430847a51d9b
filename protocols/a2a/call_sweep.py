"""Canceling the remote A2A tasks whose ``a2a`` job was withdrawn while it waited without a worker.

A job that waits on its task without a worker (``engine.WaitRemote``) runs
no code: if a boundary event fires or its instance is canceled, the job is
simply gone, and nothing is left to cancel its task at the agent, which the
handler does itself while it holds the job. The hub's list of those tasks
(``registry.a2a_calls``) outlives the job; ``sweep_orphans`` goes through it
a page at a time, and for every entry whose job no longer exists cancels the
task at its agent and forgets the entry. One sweep for all waits: no thread,
no task, no connection per wait.

Not done here: canceling on ``close()``. A hub that stops leaves every task
running and every entry in place; the jobs resume where they were when it
starts again.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping

from protocols.a2a.call_record import JobRecords
from protocols.a2a.client import AgentSession, WaitSettings, connect
from protocols.http import EgressPolicy, Resolver, system_resolver
from registry import Registry, RemoteCall

__all__ = ["CANCEL_TIMEOUT_S", "cancel_quietly", "sweep_orphans"]

log = logging.getLogger("agenthub.a2a.call")

CANCEL_TIMEOUT_S = 10.0
_PAGE = 500


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
) -> int:
    """Cancel the task of every listed call whose job no longer exists, and forget it; how many were canceled."""
    canceled = 0
    after: int | None = None
    while True:
        page = await asyncio.to_thread(registry.a2a_calls.page, after=after, limit=_PAGE)
        if not page:
            return canceled
        after = page[-1].job
        for call in page:
            if await asyncio.to_thread(_job_open, records, call):
                continue
            await _cancel(registry, call, egress, settings, environ, resolve, ssl_context)
            await asyncio.to_thread(registry.a2a_calls.remove, call.job)
            canceled += 1


def _job_open(records: JobRecords, call: RemoteCall) -> bool:
    return any(found.get("key") == call.job for found in records.jobs(call.instance))


async def _cancel(
    registry: Registry,
    call: RemoteCall,
    egress: EgressPolicy,
    settings: WaitSettings | None,
    environ: Mapping[str, str],
    resolve: Resolver,
    ssl_context: ssl.SSLContext | None,
) -> None:
    try:
        agent = await asyncio.to_thread(registry.agents.get, call.agent)
        async with connect(agent, egress, settings=settings, environ=environ, resolve=resolve,
                           ssl_context=ssl_context) as session:
            await cancel_quietly(session, call.task_id)
    except Exception as exc:  # the agent was removed, refused by the egress policy, unreachable: said, not retried
        log.warning("job %s was withdrawn, but task %s of agent '%s' could not be canceled: %s",
                    call.job, call.task_id, call.agent, exc)
        return
    log.info("job %s was withdrawn while it waited: task %s of agent '%s' was canceled there",
             call.job, call.task_id, call.agent)
