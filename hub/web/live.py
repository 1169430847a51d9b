"""Live instance pages: Server-Sent Events that say "this instance changed", woken by the engine's commits.

``GET /instances/{key}/events?after=POSITION`` is a ``text/event-stream``.
The engine calls its ``commit_listeners`` after every commit, on the
committing thread; ``Commits`` turns each call into ``loop.call_soon_threadsafe``
wake-ups of the streams waiting in the event loop (nothing polls). A woken
stream reads the instance's journal past the last position it sent (one
indexed query, at most every ``MIN_GAP_S``) and, when it grew, sends
``event: changed`` with ``id:`` the new position (a reconnecting browser sends
it back as ``Last-Event-ID``). The page (``static/live.js``) then fetches
itself again and swaps the parts that change.

Limits: at most ``MAX_STREAMS`` streams at once (503 beyond, with
``Retry-After``); a comment every ``HEARTBEAT_S`` keeps proxies from closing
an idle stream and notices a client that left; a stream ends after
``MAX_STREAM_S`` and the browser opens a new one, so a hub shutting down
never waits long on a stream (uvicorn waits for open responses before the
app's shutdown runs, so the app cannot end them from there).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from hub.web.render import PageError, blocking, hub_of, page, require_page

__all__ = ["Commits", "routes"]

MAX_STREAMS = 200
HEARTBEAT_S = 10.0
MAX_STREAM_S = 30.0
MIN_GAP_S = 0.2


class Commits:
    """The engine's commits as asyncio wake-ups: ``listen()`` registers an event that every commit sets."""

    def __init__(self, engine: Any, max_streams: int = MAX_STREAMS) -> None:
        self._engine = engine
        self._max = max_streams
        self._lock = threading.Lock()
        self._waiting: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def _committed(self) -> None:
        with self._lock:
            waiting = tuple(self._waiting)
        for loop, event in waiting:
            with contextlib.suppress(RuntimeError):  # that loop closed: its stream is gone
                loop.call_soon_threadsafe(event.set)

    def open(self) -> asyncio.Event | None:
        """A wake-up event for a new stream, or None when ``max_streams`` are open already."""
        event = asyncio.Event()
        with self._lock:
            if len(self._waiting) >= self._max:
                return None
            if not self._waiting:
                self._engine.commit_listeners.add(self._committed)
            self._waiting.add((asyncio.get_running_loop(), event))
        return event

    def close(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiting = {w for w in self._waiting if w[1] is not event}
            if not self._waiting:
                self._engine.commit_listeners.discard(self._committed)

    @property
    def open_streams(self) -> int:
        return len(self._waiting)


_commits_lock = threading.Lock()


def commits_of(request: Request) -> Commits:
    """The app's one ``Commits`` (made on first use, kept on ``app.state``)."""
    with _commits_lock:
        found: Commits | None = getattr(request.app.state, "console_commits", None)
        if found is None:
            found = Commits(hub_of(request).engine)
            request.app.state.console_commits = found
        return found


def _latest(engine: Any, key: int, after: int) -> int:
    """The newest journal position of the instance past ``after`` (``after`` when there is none)."""
    while True:
        entries = engine.journal(key, after=after, limit=1000)
        if not entries:
            return after
        after = int(entries[-1]["position"])
        if len(entries) < 1000:
            return after


async def _stream(request: Request, key: int, after: int, commits: Commits, wake: asyncio.Event) -> AsyncIterator[str]:
    engine = hub_of(request).engine
    loop = asyncio.get_running_loop()
    ends = loop.time() + MAX_STREAM_S
    try:
        yield "retry: 1000\n\n"
        while True:
            wake.clear()  # before the look: a commit after it wakes the next wait
            latest = await blocking(_latest, engine, key, after)
            if latest > after:
                after = latest
                yield f"id: {after}\nevent: changed\ndata: {json.dumps({'instance': key, 'position': after})}\n\n"
            left = ends - loop.time()
            if left <= 0:
                return
            try:
                await asyncio.wait_for(wake.wait(), timeout=min(HEARTBEAT_S, left))
                await asyncio.sleep(MIN_GAP_S)  # commits come in bursts: one look for the burst
            except TimeoutError:
                yield ": still here\n\n"
    finally:
        commits.close(wake)


@page
async def events(request: Request) -> Response:
    require_page(request, "read")
    raw = request.path_params["key"]
    if not raw.isdigit():
        raise PageError(404, f"there is no instance '{raw}'")
    key = int(raw)
    await blocking(hub_of(request).engine.instance, key)  # 404 for an unknown instance
    since = request.headers.get("last-event-id") or request.query_params.get("after") or ""
    after = int(since) if since.isdigit() else await blocking(_latest, hub_of(request).engine, key, 0)
    commits = commits_of(request)
    wake = commits.open()
    if wake is None:
        return Response("too many live pages are open; this page still works, reload it to see changes\n",
                        status_code=503, headers={"Retry-After": "30"}, media_type="text/plain")
    return StreamingResponse(_stream(request, key, after, commits, wake), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


routes: list[BaseRoute] = [Route("/instances/{key}/events", events, methods=["GET"])]
