"""Upstream MCP sessions kept open between jobs: at most one per registered server on each event loop using it.

Owns: for each event loop that runs jobs (in the hub, the worker loop's one)
and each server, one open session (``client.connect``), opened on that loop
by a task of its own and keyed by the server's name and a ``fingerprint`` of
its registry entry and of the credentials resolved for it now; handing that
session to any number of the loop's jobs at once (MCP allows concurrent
requests on a session); retiring it; and retrying a job's *listing* once on
a fresh session when the session it found already open has failed.

Does not know: pins, the registry, deadlines. The caller (``tool_task``)
lists the tools, checks the pin and calls the tool on the session it leased,
under its own deadline; the request runs in the caller's task, so cancelling
the caller cancels the request, which the SDK cancels upstream
(``notifications/cancelled``) before the cancellation reaches the caller.

    pool = SessionPool()
    async with pool.session(server) as session:  # on the caller's event loop
        tools = await session.list_tools()
        outcome = await session.call_tool("add", {"a": 1, "b": 2})
    pool.close()  # from any thread

Why per loop: a session's streams and tasks belong to the loop that opened
it, and only a task on that loop can use them. The worker loop runs every
async job on one event loop, so a worker process holds one session per
server for as long as it runs. A loop that ends (``asyncio.run`` returning)
cancels its tasks, which closes its sessions: a caller running each job
under an ``asyncio.run`` of its own gets a new session at each job. Rejected:
a private loop on a thread of the pool's own, which it had while the worker
loop ran each job under ``asyncio.run``: every request crossed two threads,
and each pool kept a thread for its whole life.

A session is retired, and closed once its last job is done, when:

- anything raised while a job used it (transport or protocol error, a
  timeout, a cancellation): whatever it was, the next job opens a fresh one,
  which is cheap; only the listing is ever retried, never a ``tools/call``;
- a job brings another fingerprint (the entry changed, the server was
  removed and registered again, a secret was rotated) or ``discard`` names it;
- nobody used it for ``idle_s``;
- the pool closes (then at once: requests still in flight fail);
- its loop ends.

With ``listing_reuse_s`` above 0, a session whose upstream lets itself be
subscribed to ``notifications/tools/list_changed`` keeps its last listing
for that long, dropped at any change notification (``client_listing``);
every other session lists at every job, as before.
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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from mcp_types import InputRequiredResult, InputResponses

from protocols.http import EgressPolicy
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
from protocols.mcp.client_listing import ToolListing, watch_tools
from protocols.mcp.tasks_client import AskingTask, CreatedTask, DetailedTask
from registry import McpServer

_T = TypeVar("_T")

__all__ = ["DEFAULT_IDLE_S", "PoolState", "PooledSession", "SessionPool", "fingerprint"]

log = logging.getLogger(__name__)

DEFAULT_IDLE_S = 60.0
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
    """What the pool holds now: the servers with an open (or opening) session, and the tasks of their loops."""

    sessions: tuple[str, ...]
    tasks: int


@dataclass(eq=False, slots=True)
class _Entry:
    """One pooled session: the task holding it open, and how many jobs and requests are using it."""

    sessions: _Sessions  # the loop's sessions it is one of
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
    listing: ToolListing = field(default_factory=lambda: ToolListing(0.0))  # reused while the upstream announces


@dataclass(eq=False, slots=True)
class _Sessions:
    """The sessions opened on one event loop; touched on that loop only, but for the counts kept under the lock."""

    loop: asyncio.AbstractEventLoop
    entries: dict[str, _Entry] = field(default_factory=dict)  # the current session of each server
    live: set[_Entry] = field(default_factory=set)  # every session still open (or opening), retired ones included
    leases: int = 0  # jobs holding a lease on this loop (under the pool's lock)
    closed: bool = False  # the pool was closed after these were opened (under the pool's lock)


@dataclass(slots=True)
class _Lease:
    """One job's hold on a session: the session its listing came from is the one its call goes to."""

    server: McpServer
    key: str
    environ: dict[str, str]
    sessions: _Sessions
    entry: _Entry | None = None


class PooledSession:
    """A session lent to one job: list the tools first, then call one; both on the job's own event loop."""

    def __init__(self, pool: SessionPool, lease: _Lease) -> None:
        self._pool = pool
        self._lease = lease

    async def list_tools(self) -> list[dict[str, Any]]:
        """``UpstreamSession.list_tools``, retried once on a fresh session if the open one failed."""
        return await self._pool._list(self._lease)

    async def call_tool(self, tool: str, arguments: Mapping[str, Any]) -> ToolOutcome:
        """``UpstreamSession.call_tool`` on the session the tools were listed on; never retried."""
        return await self._pool._call(self._lease, lambda session: session.call_tool(tool, arguments))

    async def call(
        self, tool: str, arguments: Mapping[str, Any], *, tasks_back: bool = False, input_back: bool = False,
        responses: InputResponses | None = None, state: str | None = None,
    ) -> ToolOutcome | CreatedTask | InputRequiredResult | AskingTask:
        """``UpstreamSession.call`` on the session the tools were listed on; never retried."""
        return await self._pool._call(self._lease, lambda session: session.call(
            tool, arguments, tasks_back=tasks_back, input_back=input_back, responses=responses, state=state))

    async def task(self, task_id: str) -> DetailedTask | None:
        """``UpstreamSession.task`` on the server's current session (a task is not bound to one)."""
        return await self._pool._on_session(self._lease, lambda session: session.task(task_id))

    async def update_task(self, task_id: str, responses: dict[str, Any]) -> None:
        """``UpstreamSession.update_task`` on the server's current session."""
        await self._pool._on_session(self._lease, lambda session: session.update_task(task_id, responses))

    async def follow_task(
        self, task_id: str, responses: dict[str, Any], *, input_back: bool = False
    ) -> ToolOutcome | AskingTask:
        """``UpstreamSession.follow_task`` on the server's current session (a task is not bound to one)."""
        return await self._pool._on_session(
            self._lease, lambda session: session.follow_task(task_id, responses, input_back=input_back))

    async def cancel_task(self, task_id: str) -> None:
        """``UpstreamSession.cancel_task`` on the server's current session."""
        await self._pool._on_session(self._lease, lambda session: session.cancel_task(task_id))


class SessionPool:
    """Open upstream sessions shared by the jobs of each event loop; see the module docstring.

    ``environ`` is where credentials and a stdio server's variables are read
    (default: ``os.environ``, at each job). ``egress``: the allow-list every
    connection to an HTTP server is checked against, at each connection
    (``client.connect``); None checks nothing.
    """

    def __init__(
        self, *, idle_s: float = DEFAULT_IDLE_S, environ: Mapping[str, str] | None = None,
        egress: EgressPolicy | None = None, listing_reuse_s: float = 0.0,
    ) -> None:
        self.idle_s = idle_s
        self.listing_reuse_s = listing_reuse_s
        self._environ = environ
        self._egress = egress
        self._lock = threading.Lock()
        self._loops: dict[asyncio.AbstractEventLoop, _Sessions] = {}  # the loops holding sessions or leases
        self._closing: set[asyncio.Task[None]] = set()  # closes ``close`` could not wait for (it ran on their loop)

    # --- the caller's side -----------------------------------------------------------------------

    @asynccontextmanager
    async def session(self, server: McpServer) -> AsyncIterator[PooledSession]:
        """A session with ``server`` for one job; credentials are resolved now (``McpConfigError``)."""
        environ = dict(os.environ if self._environ is None else self._environ)
        key = fingerprint(server, environ)
        lease = _Lease(server, key, environ, self._join(asyncio.get_running_loop()))
        try:
            yield PooledSession(self, lease)
        finally:
            self._end(lease)
            self._leave(lease.sessions)

    def discard(self, server: str) -> None:
        """Retire the sessions with ``server`` (when it was removed from the registry); jobs using them finish first."""
        current = _running_loop()
        for sessions in self._held():
            if sessions.loop is current:
                self._discard(sessions, server)
            else:
                with suppress(RuntimeError):  # that loop is closed: its sessions are gone
                    sessions.loop.call_soon_threadsafe(self._discard, sessions, server)

    def state(self) -> PoolState:
        """The open sessions and the tasks of the loops holding them (for tests and diagnostics)."""
        current = _running_loop()
        names: list[str] = []
        tasks = 0
        for sessions in self._held():
            if sessions.loop is current or not sessions.loop.is_running():
                seen = _look(sessions)
            else:

                async def look(held: _Sessions = sessions) -> tuple[list[str], int]:
                    return _look(held)

                looking = look()
                try:
                    future = asyncio.run_coroutine_threadsafe(looking, sessions.loop)
                except RuntimeError:  # the loop ended meanwhile, and its sessions with it
                    looking.close()
                    continue
                try:
                    seen = future.result(timeout=_CLOSE_GRACE_S)
                except (TimeoutError, asyncio.CancelledError):
                    continue
            names += seen[0]
            tasks += seen[1]
        return PoolState(tuple(sorted(names)), tasks)

    def close(self) -> None:
        """Close every session (stdio servers are stopped), waiting for it unless it is on the caller's own loop.

        A job that comes later opens a new session.
        """
        with self._lock:
            held = list(self._loops.values())
            self._loops.clear()
            for sessions in held:
                sessions.closed = True
        current = _running_loop()
        waits = []
        for sessions in held:
            loop = sessions.loop
            if loop is current:  # it cannot wait for itself: the sessions close once the caller yields
                closing = loop.create_task(self._shutdown(sessions))
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
                continue
            shutdown = self._shutdown(sessions)
            try:
                future = asyncio.run_coroutine_threadsafe(shutdown, loop)
            except RuntimeError:  # that loop is closed: its sessions were closed with it
                shutdown.close()
                continue
            if loop.is_running():  # a stopped loop closes them when it runs again
                waits.append(future)
        for future in waits:
            try:
                future.result(timeout=2 * _CLOSE_GRACE_S)
            except (TimeoutError, RuntimeError, asyncio.CancelledError, concurrent.futures.CancelledError):
                log.warning("the MCP session pool did not close its sessions in time")

    def _join(self, loop: asyncio.AbstractEventLoop) -> _Sessions:
        """The sessions of ``loop``, for one more lease."""
        with self._lock:
            for ended in [other for other in self._loops if other.is_closed()]:
                del self._loops[ended]  # closed without its tasks cancelled: nothing of it can be used
            sessions = self._loops.get(loop)
            if sessions is None:
                sessions = self._loops[loop] = _Sessions(loop)
            sessions.leases += 1
            return sessions

    def _leave(self, sessions: _Sessions) -> None:
        with self._lock:
            sessions.leases -= 1
        self._forget(sessions)

    def _forget(self, sessions: _Sessions) -> None:
        """Drop a loop's record once it holds no session and no lease (its loop may be ending)."""
        with self._lock:
            if not sessions.live and sessions.leases == 0 and self._loops.get(sessions.loop) is sessions:
                del self._loops[sessions.loop]

    def _held(self) -> list[_Sessions]:
        with self._lock:
            return [sessions for sessions in self._loops.values() if not sessions.loop.is_closed()]

    # --- on the sessions' loop -------------------------------------------------------------------

    async def _list(self, lease: _Lease) -> list[dict[str, Any]]:
        if lease.sessions.closed:
            raise McpConnectError(f"MCP server '{lease.server.name}': the session pool was closed during the job")
        self._end(lease)  # listing again: on the server's current session
        for attempt in (1, 2):
            entry, established = self._acquire(lease)
            lease.entry = entry
            try:
                session = await self._opened(entry)  # a job that gives up waiting leaves the opening to others
                reused = entry.listing.fresh()
                if reused is not None:
                    return reused
                generation, since = entry.listing.begin(), anyio.current_time()
                with self._using(entry):
                    listed = await session.list_tools()
                entry.listing.keep(generation, listed, since)
                return listed
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

    async def _call(self, lease: _Lease, call: Callable[[UpstreamSession], Awaitable[_T]]) -> _T:
        entry = lease.entry
        if entry is None or entry.session is None:
            raise RuntimeError("list the tools before calling one: the pin is checked against that listing")
        with self._using(entry):
            return await call(entry.session)

    async def _on_session(self, lease: _Lease, ask: Callable[[UpstreamSession], Awaitable[_T]]) -> _T:
        """``ask`` on the server's current session (opened now if need be), no listing first."""
        if lease.sessions.closed:
            raise McpConnectError(f"MCP server '{lease.server.name}': the session pool was closed during the job")
        self._end(lease)
        entry, _ = self._acquire(lease)
        lease.entry = entry
        session = await self._opened(entry)
        with self._using(entry):
            return await ask(session)

    def _end(self, lease: _Lease) -> None:
        if lease.entry is not None:
            self._release(lease.entry)
            lease.entry = None

    def _acquire(self, lease: _Lease) -> tuple[_Entry, bool]:
        """The server's current session (opened now if need be), and whether it was open before this job came."""
        sessions = lease.sessions
        entry = sessions.entries.get(lease.server.name)
        if entry is not None and entry.key != lease.key:
            self._retire(entry)
            entry = None
        if entry is None:
            entry = _Entry(sessions, lease.server, lease.key, listing=ToolListing(self.listing_reuse_s))
            sessions.entries[lease.server.name] = entry
            sessions.live.add(entry)
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
        entries = entry.sessions.entries
        if entries.get(entry.server.name) is entry:
            del entries[entry.server.name]
        entry.retired = True
        if entry.idle_timer is not None:
            entry.idle_timer.cancel()
            entry.idle_timer = None
        if entry.users == 0:
            entry.stop.set()

    def _discard(self, sessions: _Sessions, server: str) -> None:
        if (entry := sessions.entries.get(server)) is not None:
            self._retire(entry)

    async def _hold(self, entry: _Entry, environ: Mapping[str, str]) -> None:
        """Open the session, keep it open until ``entry.stop``, close it; the opening has the entry's timeout."""
        server = entry.server
        try:
            with anyio.CancelScope(deadline=anyio.current_time() + server.timeout_s) as opening:
                async with connect(server, environ=environ, egress=self._egress) as session:
                    opening.deadline = math.inf
                    entry.session = session
                    async with anyio.create_task_group() as watching:
                        if self.listing_reuse_s > 0:
                            watching.start_soon(watch_tools, session, entry.listing)
                        entry.ready.set()
                        await entry.stop.wait()
                        watching.cancel_scope.cancel()
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
            entry.sessions.live.discard(entry)
            entry.ready.set()
            self._forget(entry.sessions)

    async def _shutdown(self, sessions: _Sessions) -> None:
        """Close a loop's sessions now, those still in use too (their requests fail with the connection closed)."""
        for entry in list(sessions.live):
            self._retire(entry)
            entry.stop.set()
        holders = [entry.holder for entry in sessions.live if entry.holder is not None]
        if holders:
            _, late = await asyncio.wait(holders, timeout=_CLOSE_GRACE_S)
            for holder in late:
                holder.cancel()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _look(sessions: _Sessions) -> tuple[list[str], int]:
    """A loop's sessions, and its tasks but the one looking (run on that loop, or while it is not running)."""
    names = [entry.server.name for entry in sessions.live]
    current = asyncio.current_task() if _running_loop() is sessions.loop else None
    return names, len([task for task in asyncio.all_tasks(sessions.loop) if task is not current])
