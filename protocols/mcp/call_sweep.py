"""Cancelling the upstream MCP tasks whose ``mcp`` job was withdrawn while it waited without a worker.

A job that waits on an upstream's task without a worker (``engine.WaitRemote``, ``tool_task``) runs no code: if a
boundary event fires or its instance is cancelled, the job is simply gone, and nothing is left to cancel the task
upstream. The hub's list of those tasks (``registry.mcp_calls``) outlives the job; ``sweep_orphans`` goes through
it a page at a time, and for every entry whose job no longer exists asks the server to cancel the task
(``tasks/cancel``) and forgets the entry. One sweep for all waits, as for A2A (``protocols.a2a.call_sweep``).

A cancel that could not reach the server (refused connection, timeout) keeps the entry: the next sweep tries again,
for up to ``GIVE_UP_S`` after the first failure (``protocols.orphans``). Whatever the server answers
(cancelled, an unknown task), a server removed from the registry or refused by the egress policy settles it.
"""

from __future__ import annotations

import asyncio
import logging

from protocols.mcp.client import McpConnectError, McpTimeout, deadline
from protocols.mcp.client_pool import SessionPool
from protocols.orphans import CancelRetries, JobLister, sweep_withdrawn
from registry import McpCall, Registry

__all__ = ["CANCEL_TIMEOUT_S", "sweep_orphans"]

log = logging.getLogger("agenthub.mcp.call")

CANCEL_TIMEOUT_S = 10.0


async def sweep_orphans(registry: Registry, records: JobLister, pool: SessionPool, retries: CancelRetries) -> int:
    """Cancel the task of every listed call whose job no longer exists, and forget it; how many were settled."""

    async def cancel(call: McpCall) -> bool:
        return await _cancel(registry, pool, call, retries)

    return await sweep_withdrawn(registry.mcp_calls.page, registry.mcp_calls.remove, records, cancel, retries)


async def _cancel(registry: Registry, pool: SessionPool, call: McpCall, retries: CancelRetries) -> bool:
    """Cancel the call's task; False when the server could not be reached and the entry is kept for a later try."""
    what = f"task {call.task_id} of MCP server '{call.server}'"
    try:
        server = await asyncio.to_thread(registry.mcp.get, call.server)
        async with deadline(CANCEL_TIMEOUT_S, f"cancelling {what}"), pool.session(server) as session:
            await session.cancel_task(call.task_id)
    except (McpConnectError, McpTimeout) as exc:
        return retries.unreachable(call.job, what, exc, log)
    except Exception as exc:  # the server answered (an unknown task), was removed, or is refused: settled
        log.info("job %s was withdrawn while it waited; cancelling %s: %s: %s", call.job, what,
                 type(exc).__name__, exc)
        return True
    log.info("job %s was withdrawn while it waited: %s was cancelled there", call.job, what)
    return True
