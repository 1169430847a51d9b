"""A pooled session's tool listing, reused only while the upstream has promised to say when it changes.

Every ``mcp`` job and every federated call checks the pin against a listing
(``tool_task``); fetching one per call costs a round trip. ``ToolListing``
lets a call reuse the session's last listing when, and only when:

- the upstream advertised ``tools.listChanged`` and acknowledged our
  ``subscriptions/listen`` for ``notifications/tools/list_changed``
  (protocol 2026-07-28; older sessions cannot be subscribed, so they list
  at every call as before);
- the listing was fetched while that subscription was live, and no change
  notification arrived since the request for it was sent (a generation
  count: a listing in flight when a change arrives is not kept);
- it is younger than ``reuse_s`` (a bound on what a lost notification costs).

A notification, the end or loss of the subscription, or the session's end
drops the listing, so the next call lists again. What stays true: a tool
whose change the upstream announced is never called on the old pin, and the
pin comparison itself is never skipped. What is traded: a change the
upstream makes without announcing it is seen at most ``reuse_s`` late.
Rejected: reusing listings on every session for a fixed window, which would
let any upstream swap a tool under a pin for that window unannounced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio

from protocols.mcp.client import UpstreamSession

__all__ = ["ToolListing", "watch_tools"]

log = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class ToolListing:
    """One session's listing and whether it may be reused; touched on the session's event loop only."""

    reuse_s: float
    watching: bool = False  # the upstream acknowledged our subscription to tools/list_changed
    generation: int = 0  # bumped by every change notification and by the subscription's end
    tools: list[dict[str, Any]] | None = None
    at: float = 0.0

    def fresh(self) -> list[dict[str, Any]] | None:
        """The listing to reuse now, or None: list again."""
        if not self.watching or self.tools is None or anyio.current_time() - self.at >= self.reuse_s:
            return None
        return [dict(tool) for tool in self.tools]

    def begin(self) -> int | None:
        """Before a listing request: the generation to ``keep`` it under, or None when it will not be kept."""
        return self.generation if self.watching and self.reuse_s > 0 else None

    def keep(self, generation: int | None, tools: list[dict[str, Any]], since: float) -> None:
        """Keep a listing requested at ``since`` under ``generation`` unless a change came meanwhile."""
        if generation is not None and generation == self.generation and self.watching:
            self.tools, self.at = [dict(tool) for tool in tools], since

    def changed(self) -> None:
        self.generation += 1
        self.tools = None

    def stopped(self) -> None:
        self.watching = False
        self.changed()


async def watch_tools(session: UpstreamSession, listing: ToolListing) -> None:
    """Subscribe to the upstream's tool changes for as long as the session lives; never raises but cancellation.

    Does nothing when the upstream does not advertise ``tools.listChanged`` or cannot be subscribed.
    """
    try:
        async with session.tool_changes() as changes:
            if changes is None:
                return
            listing.watching = True
            async for _ in changes:
                listing.changed()
    except Exception as exc:  # whatever ends the subscription (lost, refused, closed) only ends the reuse
        log.debug("MCP server '%s': the tools/list_changed subscription ended: %s", session.server.name, exc)
    finally:
        listing.stopped()
