"""Upstream MCP sessions kept open between jobs: at most one per registered server, on an event loop of their own.

Owns: a background event loop on a daemon thread (started on first use,
stopped by ``close``); for each server one open session (``client.connect``),
keyed by the server's name and a ``fingerprint`` of its registry entry and of
the credentials resolved for it now; handing that session to any number of
jobs at once (MCP allows concurrent requests on a session); retiring it;
and retrying a job's *listing* once on a fresh session when the session it
found already open has failed.

Does not know: pins, the registry, deadlines. The caller (``tool_task``)
lists the tools, checks the pin and calls the tool on the session it leased,
under its own deadline; cancelling the caller cancels the request on this
loop, which the SDK cancels upstream (``notifications/cancelled``), and the
caller waits for that to happen before it goes on.

    pool = SessionPool()
    async with pool.session(server) as session:  # from any thread's event loop
        tools = await session.list_tools()
        outcome = await session.call_tool("add", {"a": 1, "b": 2})
    pool.close()

Why a loop of its own: the worker loop runs each job under ``asyncio.run``,
so a session opened on a job's loop would die with the job. One session per
worker thread was rejected: it would hold up to ``concurrency`` connections
(or child processes) per server and still have to be bound to a loop.

A session is retired, and closed once its last job is done, when:

- anything raised while a job used it (transport or protocol error, a
  timeout, a cancellation): whatever it was, the next job opens a fresh one,
  which is cheap; only the listing is ever retried, never a ``tools/call``;
- a job brings another fingerprint (the entry changed, the server was
  removed and registered again, a secret was rotated) or ``discard`` names it;
- nobody used it for ``idle_s``;
- the pool closes (then at once: requests still in flight fail).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import logging
import math
import os
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import anyio

from protocols.mcp.client import (
    McpClientError,
    McpConnectError,
    McpOutputTooLarge,
    McpProtocolError,
    McpTimeout,
    ToolOutcome,
    UpstreamSession,
    connect,
    display_target,
    resolve_headers,
    stdio_environment,
)
from registry import McpServer

__all__ = ["DEFAULT_IDLE_S", "PoolState", "PooledSession", "SessionPool", "fingerprint"]

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_IDLE_S = 60.0
_CANCEL_GRACE_S = 10.0  # how long a cancelled caller waits for its request to be cancelled upstream
_CLOSE_GRACE_S = 10.0  # how long ``close`` waits for the sessions to close (a stdio server's stop takes up to ~6 s)


def fingerprint(server: McpServer, environ: Mapping[str, str]) -> str:
    """A digest of the registry entry and of the credentials resolved for it from ``environ``.

    A session opened under another fingerprint is not used. ``created_at`` is
    part of it, so a server removed and registered again gets a new session
    even with the same settings. Raises ``McpConfigError`` when a variable the
    entry names is not set.
    """
    resolved = stdio_environment(server, environ) if server.transport == "stdio" else resolve_headers(server, environ)
    entry = [server.transport, server.url, server.command, server.headers, server.env, server.bearer_env]
    material = [*entry, server.created_at, resolved]
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PoolState:
    """What the pool holds now: the servers with an open (or opening) session, and its loop's task count."""

    sessions: tuple[str, ...]
    tasks: int


@dataclass(eq=False, slots=True)
class _Entry:
    """One pooled session: the task holding it open, and how many jobs and requests are using it."""

    server: McpServer
    key: str
    session: UpstreamSession | None = None
    error: McpClientError | None = None  # why it could not be opened
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # opened, or failed to
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    users: int = 0  # leases plus requests in flight
    retired: bool = False
    idle_since: float = 0.0
    idle_timer: asyncio.TimerHandle | None = None
    holder: asyncio.Task[None] | None = None


@dataclass(slots=True)
class _Lease:
    """One job's hold on a session: the session its listing came from is the one its call goes to."""

    server: McpServer
    key: str
    environ: dict[str, str]
    loop: asyncio.AbstractEventLoop
    entry: _Entry | None = None


class _Remote(Generic[T]):
    """A coroutine run as a task on the pool's loop for a caller on another; its outcome lands in ``result``.

    Unlike ``asyncio.run_coroutine_threadsafe``, cancelling leaves ``result``
    pending until the task has finished, so the caller can wait for the
    request to be cancelled upstream.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> None:
        self.result: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._loop = loop
        self._task: asyncio.Task[T] | None = None
        self._cancelled = False
        loop.call_soon_threadsafe(self._start, coro)  # before any cancel: callbacks run in order

    def cancel(self) -> None:
        with suppress(RuntimeError):  # the loop is closed: every task on it has finished
            self._loop.call_soon_threadsafe(self._cancel)

    def _start(self, coro: Coroutine[Any, Any, T]) -> None:
        self._task = self._loop.create_task(coro)
        self._task.add_done_callback(self._finish)

    def _cancel(self) -> None:
        self._cancelled = True
        if self._task is not None:
            self._task.cancel()

    def _finish(self, task: asyncio.Task[T]) -> None:
        if task.cancelled():
            if self._cancelled:
                self.result.cancel()
            else:  # the pool closed under it
                self.result.set_exception(
                    McpConnectError("the MCP session pool was closed while a request was in flight")
                )
        elif (exc := task.exception()) is not None:
            self.result.set_exception(exc)
        else:
            self.result.set_result(task.result())


class PooledSession:
    """A session lent to one job: list the tools first, then call one; both run on the pool's loop."""

    def __init__(self, pool: SessionPool, lease: _Lease) -> None:
        self._pool = pool
        self._lease = lease

    async def list_tools(self) -> list[dict[str, Any]]:
        """``UpstreamSession.list_tools``, retried once on a fresh session if the open one failed."""
        return await self._pool._run(self._lease, self._pool._list(self._lease))

    async def call_tool(self, tool: str, arguments: Mapping[str, Any]) -> ToolOutcome:
        """``UpstreamSession.call_tool`` on the session the tools were listed on; never retried."""
        return await self._pool._run(self._lease, self._pool._call(self._lease, tool, arguments))


class SessionPool:
    """Open upstream sessions shared by the jobs of any thread; see the module docstring.

    ``environ`` is where credentials and a stdio server's variables are read
    (default: ``os.environ``, at each job).
    """

    def __init__(self, *, idle_s: float = DEFAULT_IDLE_S, environ: Mapping[str, str] | None = None) -> None:
        self.idle_s = idle_s
        self._environ = environ
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # Touched on the pool's loop only:
        self._entries: dict[str, _Entry] = {}  # the current session of each server
        self._live: set[_Entry] = set()  # every session still open (or opening), retired ones included

    # --- the caller's side (any thread) ----------------------------------------------------------

    @asynccontextmanager
    async def session(self, server: McpServer) -> AsyncIterator[PooledSession]:
        """A session with ``server`` for one job; credentials are resolved now (``McpConfigError``)."""
        environ = dict(os.environ if self._environ is None else self._environ)
        key = fingerprint(server, environ)
        with self._lock:
            loop = self._started()
        lease = _Lease(server, key, environ, loop)
        try:
            yield PooledSession(self, lease)
        finally:
            with suppress(RuntimeError):  # the pool was closed: nothing is left to release
                loop.call_soon_threadsafe(self._end, lease)

    def discard(self, server: str) -> None:
        """Retire the session with ``server`` (when it was removed from the registry); jobs using it finish first."""
        with self._lock:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._discard, server)

    def state(self) -> PoolState:
        """The open sessions and the loop's tasks (for tests and diagnostics)."""
        with self._lock:
            loop = self._loop
        if loop is None:
            return PoolState((), 0)

        async def look() -> PoolState:
            names = sorted(entry.server.name for entry in self._live)
            return PoolState(tuple(names), len(asyncio.all_tasks()) - 1)  # all but this one

        return asyncio.run_coroutine_threadsafe(look(), loop).result(timeout=_CLOSE_GRACE_S)

    def close(self) -> None:
        """Close every session (stdio servers are stopped) and stop the thread; a later job starts them again."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or not thread.is_alive():
            return
        if threading.current_thread() is thread:  # a finalizer run on the loop itself: it cannot wait for itself
            loop.create_task(self._shutdown()).add_done_callback(lambda _: loop.stop())
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=2 * _CLOSE_GRACE_S)
        except (concurrent.futures.TimeoutError, RuntimeError):
            log.warning("the MCP session pool did not close its sessions in time")
        finally:
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=2 * _CLOSE_GRACE_S)

    def _started(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:  # under self._lock
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=_serve, args=(loop,), name="mcp-session-pool", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
        return self._loop

    async def _run(self, lease: _Lease, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the lease's loop; when the caller is cancelled, cancel it there and wait for it."""
        with self._lock:
            if self._loop is not lease.loop:
                coro.close()
                raise McpConnectError(f"MCP server '{lease.server.name}': the session pool was closed during the job")
            remote = _Remote(lease.loop, coro)
        waiter = asyncio.wrap_future(remote.result)
        try:
            return await asyncio.shield(waiter)
        except asyncio.CancelledError:
            remote.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.wait([waiter], timeout=_CANCEL_GRACE_S)
            if waiter.done() and not waiter.cancelled():
                waiter.exception()  # retrieved: the caller's cancellation is what counts
            raise

    # --- the pool's loop -------------------------------------------------------------------------

    async def _list(self, lease: _Lease) -> list[dict[str, Any]]:
        self._end(lease)  # listing again: on the server's current session
        for attempt in (1, 2):
            entry, established = self._acquire(lease)
            lease.entry = entry
            try:
                session = await self._opened(entry)  # a job that gives up waiting leaves the opening to others
                with self._using(entry):
                    return await session.list_tools()
            except (McpConnectError, McpProtocolError) as exc:
                # Only a session some earlier job left open is worth a second try; a fresh one that fails is the answer.
                if attempt == 2 or not established or isinstance(exc, McpOutputTooLarge):
                    raise
                log.info(
                    "MCP server '%s': the open session failed (%s); listing again on a fresh one",
                    entry.server.name,
                    exc,
                )
                self._end(lease)
        raise AssertionError("unreachable")

    async def _call(self, lease: _Lease, tool: str, arguments: Mapping[str, Any]) -> ToolOutcome:
        entry = lease.entry
        if entry is None or entry.session is None:
            raise RuntimeError("list the tools before calling one: the pin is checked against that listing")
        with self._using(entry):
            return await entry.session.call_tool(tool, arguments)

    def _end(self, lease: _Lease) -> None:
        if lease.entry is not None:
            self._release(lease.entry)
            lease.entry = None

    def _acquire(self, lease: _Lease) -> tuple[_Entry, bool]:
        """The server's current session (opened now if need be), and whether it was open before this job came."""
        entry = self._entries.get(lease.server.name)
        if entry is not None and entry.key != lease.key:
            self._retire(entry)
            entry = None
        if entry is None:
            entry = _Entry(lease.server, lease.key)
            self._entries[lease.server.name] = entry
            self._live.add(entry)
            entry.holder = asyncio.get_running_loop().create_task(
                self._hold(entry, lease.environ), name=f"mcp-session:{lease.server.name}"
            )
        entry.users += 1
        return entry, entry.session is not None

    async def _opened(self, entry: _Entry) -> UpstreamSession:
        await entry.ready.wait()
        if entry.session is None:
            error = entry.error or McpConnectError(f"MCP server '{entry.server.name}': the session could not be opened")
            raise type(error)(str(error))  # a copy: several jobs may be waiting on one opening
        return entry.session

    @contextmanager
    def _using(self, entry: _Entry) -> Iterator[None]:
        entry.users += 1
        try:
            yield
        except BaseException:
            self._retire(entry)  # whatever failed, the next job gets a fresh session
            raise
        finally:
            self._release(entry)

    def _release(self, entry: _Entry) -> None:
        entry.users -= 1
        if entry.users > 0:
            return
        if entry.retired:
            entry.stop.set()
            return
        entry.idle_since = asyncio.get_running_loop().time()
        if entry.idle_timer is None:
            entry.idle_timer = asyncio.get_running_loop().call_later(self.idle_s, self._idle_check, entry)

    def _idle_check(self, entry: _Entry) -> None:
        entry.idle_timer = None
        if entry.retired or entry.users > 0:
            return  # the last release schedules the next check
        left = entry.idle_since + self.idle_s - asyncio.get_running_loop().time()
        if left > 0:
            entry.idle_timer = asyncio.get_running_loop().call_later(left, self._idle_check, entry)
        else:
            self._retire(entry)

    def _retire(self, entry: _Entry) -> None:
        if self._entries.get(entry.server.name) is entry:
            del self._entries[entry.server.name]
        entry.retired = True
        if entry.idle_timer is not None:
            entry.idle_timer.cancel()
            entry.idle_timer = None
        if entry.users == 0:
            entry.stop.set()

    def _discard(self, server: str) -> None:
        if (entry := self._entries.get(server)) is not None:
            self._retire(entry)

    async def _hold(self, entry: _Entry, environ: Mapping[str, str]) -> None:
        """Open the session, keep it open until ``entry.stop``, close it; the opening has the entry's timeout."""
        server = entry.server
        try:
            with anyio.CancelScope(deadline=anyio.current_time() + server.timeout_s) as opening:
                async with connect(server, environ=environ) as session:
                    opening.deadline = math.inf
                    entry.session = session
                    entry.ready.set()
                    await entry.stop.wait()
            if entry.session is None and opening.cancelled_caught:
                entry.error = McpTimeout(
                    f"MCP server '{server.name}' ({display_target(server)}): opening a session did not finish "
                    f"within {server.timeout_s:g} s"
                )
        except McpClientError as exc:
            if entry.session is None:
                entry.error = exc
            else:  # it failed while open, or while closing: the jobs using it have seen that already
                log.debug("MCP server '%s': the session ended: %s", server.name, exc)
        except Exception as exc:  # connect translates what it knows; this is a bug, kept from the jobs' messages
            log.exception("MCP server '%s': the session failed", server.name)
            if entry.session is None:
                entry.error = McpConnectError(f"MCP server '{server.name}': {type(exc).__name__}")
        finally:
            self._retire(entry)
            self._live.discard(entry)
            entry.ready.set()

    async def _shutdown(self) -> None:
        """Close every session now, those still in use too (their requests fail with the connection closed)."""
        for entry in list(self._live):
            self._retire(entry)
            entry.stop.set()
        holders = [entry.holder for entry in self._live if entry.holder is not None]
        if holders:
            _, late = await asyncio.wait(holders, timeout=_CLOSE_GRACE_S)
            for holder in late:
                holder.cancel()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    """The pool's thread: run the loop until ``close`` stops it, then finish every task left (as ``asyncio.run``)."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        left = asyncio.all_tasks(loop)
        for task in left:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
