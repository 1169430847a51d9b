"""Resource subscriptions: ``notifications/resources/updated`` when a subscribed instance changes.

``resources/subscribe`` takes any URI that ``resources/read`` would answer
(an instance's state, or a resource a process declares) and needs the
``read`` scope; an unknown URI is ``INVALID_PARAMS``. Instances are what
change: a declared resource is fixed text, so its subscription is accepted
and stays quiet.

``run`` is one task per endpoint. It wakes when the engine commits in this
process (``Engine.commit_listeners``), else every ``POLL_S`` for commits of
other processes, and at most every ``MIN_INTERVAL_S``; it then reads the
journal head of every watched instance (``Engine.journal_heads``: one
indexed query for all of them, where one per instance took 0.14 ms each, so
1,000 watched instances cost a check 137 ms), and notifies the session of
each whose journal grew past the position last seen, on its standalone
stream. A session holds at most ``PER_SESSION``
subscriptions and the endpoint ``TOTAL`` (``INVALID_REQUEST`` past either);
a session whose notification cannot be delivered loses its subscriptions.
On 2026-07-28 (no ``resources/subscribe``), a ``subscriptions/listen`` stream
(``_listen``) has its instances watched the same way (``watch``, ``forget``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

import anyio
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, INVALID_REQUEST, EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

from engine import Engine
from protocols.mcp._context import Context, in_thread, principal_of, require, session_key
from protocols.mcp._resources import Resources

log = logging.getLogger("agenthub.mcp")

PER_SESSION = 64
TOTAL = 4096
POLL_S = 1.0
MIN_INTERVAL_S = 0.1
_INSTANCE = re.compile(r"^agenthub://instances/([0-9]{1,19})$")


@dataclass
class _Watch:
    deliver: Callable[[str], Awaitable[None]]  # tells the watcher's client that ``uri`` changed
    positions: dict[str, int] = field(default_factory=dict)  # uri -> the journal position last seen (-1: none)


class Subscriptions:
    def __init__(self, engine: Engine, resources: Resources) -> None:
        self.engine = engine
        self.resources = resources
        self._watches: dict[str, _Watch] = {}
        self._wake = anyio.Event()

    def count(self) -> int:
        return sum(len(w.positions) for w in self._watches.values())

    async def subscribe(self, ctx: Context, params: SubscribeRequestParams) -> EmptyResult:
        require(principal_of(ctx), "read", "subscribing to resources")
        uri = str(params.uri)
        if not await self.resources.exists(uri):
            raise MCPError(
                INVALID_PARAMS, "resource not found: subscribe to a URI that resources/read answers", {"uri": uri[:200]}
            )
        watch = self._watches.setdefault(session_key(ctx), _Watch(ctx.session.send_resource_updated))
        watch.deliver = ctx.session.send_resource_updated
        if uri not in watch.positions and (len(watch.positions) >= PER_SESSION or self.count() >= TOTAL):
            raise MCPError(
                INVALID_REQUEST,
                f"too many subscriptions: a session may hold {PER_SESSION} (the hub "
                f"{TOTAL}); unsubscribe from some first",
            )
        watch.positions.update(await self._positions([uri]))
        self._wake.set()
        return EmptyResult()

    async def unsubscribe(self, ctx: Context, params: UnsubscribeRequestParams) -> EmptyResult:
        principal_of(ctx)
        key = session_key(ctx)
        watch = self._watches.get(key)
        if watch is not None:
            watch.positions.pop(str(params.uri), None)
            if not watch.positions:
                del self._watches[key]
        return EmptyResult()

    async def watch(self, key: str, uris: list[str], deliver: Callable[[str], Awaitable[None]]) -> None:
        """Call ``deliver(uri)`` whenever one of ``uris`` changes, under ``key`` (a ``subscriptions/listen``
        stream's) until ``forget(key)``; ``INVALID_REQUEST`` past ``PER_SESSION`` or the server's ``TOTAL``."""
        if len(uris) > PER_SESSION or self.count() + len(uris) > TOTAL:
            raise MCPError(INVALID_REQUEST, f"too many subscriptions: a stream may hold {PER_SESSION} (the hub "
                                            f"{TOTAL}); listen to fewer")
        self._watches[key] = _Watch(deliver, await self._positions(uris))
        self._wake.set()

    def forget(self, key: str) -> None:
        """Stop what ``watch`` started under ``key``."""
        self._watches.pop(key, None)

    async def _positions(self, uris: list[str]) -> dict[str, int]:
        """Where each URI's journal ends now (-1: not an instance's, nothing to watch), in one query."""
        keys = {uri: int(found.group(1)) for uri in uris if (found := _INSTANCE.match(uri)) is not None}
        heads = await in_thread(partial(self.engine.journal_heads, sorted(set(keys.values())))) if keys else {}
        return {uri: heads.get(keys[uri], 0) if uri in keys else -1 for uri in uris}

    async def run(self) -> None:
        """Notify subscribers of changed instances until cancelled."""
        loop = asyncio.get_running_loop()

        def on_commit() -> None:  # runs on the committing thread
            loop.call_soon_threadsafe(self._wake.set)

        self.engine.commit_listeners.add(on_commit)
        try:
            while True:
                with anyio.move_on_after(POLL_S):
                    await self._wake.wait()
                self._wake = anyio.Event()
                if self._watches:
                    await self._check()
                await anyio.sleep(MIN_INTERVAL_S)
        finally:
            self.engine.commit_listeners.discard(on_commit)

    async def _check(self) -> None:
        """One query for the journal heads of every watched instance, then a notification for each that grew."""
        watched = {uri: int(found.group(1)) for watch in self._watches.values() for uri in watch.positions
                   if (found := _INSTANCE.match(uri)) is not None}
        if not watched:
            return
        heads = await in_thread(partial(self.engine.journal_heads, sorted(set(watched.values()))))
        for key, watch in list(self._watches.items()):
            for uri, seen in list(watch.positions.items()):
                head = heads.get(watched[uri], seen) if uri in watched else seen
                if head <= seen:
                    continue
                watch.positions[uri] = head
                try:
                    await watch.deliver(uri)
                except Exception as exc:  # the session is gone: nobody is listening any more
                    log.debug("dropped the subscriptions of a session that went away: %s", exc)
                    self._watches.pop(key, None)
                    break
