"""``SessionPool``: upstream sessions kept open between jobs, against a real upstream over HTTP and over stdio.

Each job here runs on one long-lived event loop (``jobs_loop``), as the
worker loop runs async jobs. Requirements covered (RELIABILITY.md section 2): M17 (deadline,
cancellation upstream, nothing leaked: threads, tasks, child processes), M6
(a rotated secret is sent on a new session, never the old one), and the
pool's own: one session per server, a new one when the entry changes, a
failed session replaced, a ``tools/call`` never sent twice.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

import pytest
import uvicorn

from protocols.mcp.client import McpConfigError, McpConnectError, McpTimeout, ToolOutcome, deadline
from protocols.mcp.client_pool import SessionPool, fingerprint
from registry import McpServer
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.fixtures import CANARY, StdioUpstream, http_entry, new_children
from tests.data.mcp_upstream.upstream import HttpUpstream, MemoryUpstream
from tests.protocols.mcp import jobs_loop as loops
from tests.protocols.mcp.jobs_loop import on_jobs_loop

# The upstream fixtures this module uses: assigned, so that pytest finds them and ruff sees no redefinition.
_http_server = fixtures._http_server
http_upstream = fixtures.http_upstream
stdio_upstream = fixtures.stdio_upstream

earlier_children = fixtures.earlier_children  # autouse: children other tests left are not this test's


T = TypeVar("T")
HANDSHAKES = ("server/discover", "initialize")
jobs_loop = loops.jobs_loop  # autouse: one event loop for this module


def wait_for(check: Callable[[], bool], seconds: float = 15.0) -> None:
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.02)


def job(
    pool: SessionPool, server: McpServer, tool: str = "echo", arguments: dict[str, Any] | None = None
) -> ToolOutcome:
    """One job as the ``mcp`` job type runs it: list the tools, then call one, on the jobs' event loop."""

    async def run() -> ToolOutcome:
        async with deadline(20, "job"), pool.session(server) as session:
            await session.list_tools()
            return await session.call_tool(tool, {"text": "hi"} if arguments is None else arguments)

    return on_jobs_loop(run())


@pytest.fixture
def pool() -> Iterator[SessionPool]:
    opened = SessionPool()
    yield opened
    opened.close()


def http_sessions(upstream: MemoryUpstream) -> int:
    """Sessions opened with the HTTP upstream: each begins with ``server/discover`` (or ``initialize``, legacy)."""
    return sum(1 for e in upstream.events("request") if e["headers"].get("mcp-method") in HANDSHAKES)


def started(stdio: StdioUpstream) -> int:
    return sum(1 for e in stdio.ledger() if e["event"] == "started")


def test_sequential_jobs_on_one_server_share_one_http_session(pool: SessionPool, http_upstream: HttpUpstream) -> None:
    server = http_entry(http_upstream)
    for text in ("a", "b", "c"):
        assert job(pool, server, arguments={"text": text}).text() == text
    methods = [e["headers"].get("mcp-method") for e in http_upstream.upstream.events("request")]
    assert methods.count("tools/list") == methods.count("tools/call") == 3  # the listing is fetched at every job
    assert http_sessions(http_upstream.upstream) == 1
    assert pool.state().sessions == ("upstream",)


def test_sequential_jobs_on_one_stdio_server_start_it_once(pool: SessionPool, stdio_upstream: StdioUpstream) -> None:
    for _ in range(3):
        job(pool, stdio_upstream.entry())
    assert started(stdio_upstream) == 1
    assert len(stdio_upstream.calls("echo")) == 3


def test_concurrent_jobs_from_many_threads_share_one_session(pool: SessionPool, http_upstream: HttpUpstream) -> None:
    server = http_entry(http_upstream)
    with ThreadPoolExecutor(max_workers=8) as threads:
        texts = list(threads.map(lambda i: job(pool, server, arguments={"text": str(i)}).text(), range(40)))
    assert texts == [str(i) for i in range(40)]
    assert http_sessions(http_upstream.upstream) == 1


def test_the_fingerprint_changes_with_every_field_of_the_entry_and_with_the_secret_it_reads() -> None:
    base = McpServer(name="s", transport="http", url="http://127.0.0.1:1/mcp", bearer_env="TOKEN", created_at=1)
    environ = {"TOKEN": "one", "KEY": "k"}
    changed = [
        replace(base, url="http://127.0.0.1:2/mcp"),
        replace(base, headers={"X-Team": "blue"}),
        replace(base, headers={"X-Key": "env:KEY"}),
        replace(base, bearer_env="KEY"),
        replace(base, created_at=2),  # removed and registered again
    ]
    prints = {fingerprint(base, environ), *(fingerprint(s, environ) for s in changed)}
    assert len(prints) == 1 + len(changed)
    assert fingerprint(base, {**environ, "TOKEN": "two"}) != fingerprint(base, environ)
    assert "one" not in fingerprint(base, environ)
    stdio = McpServer(name="s", transport="stdio", command=["prog"], env=["VAR"])
    assert fingerprint(stdio, {"VAR": "1"}) != fingerprint(stdio, {"VAR": "2"})
    assert fingerprint(stdio, {"VAR": "1"}) != fingerprint(replace(stdio, command=["prog", "-v"]), {"VAR": "1"})
    with pytest.raises(McpConfigError, match="VAR is not set"):
        fingerprint(stdio, {})


def test_a_changed_entry_gets_a_new_session_and_the_old_one_is_closed(
    pool: SessionPool, http_upstream: HttpUpstream
) -> None:
    job(pool, http_entry(http_upstream, headers={"X-Team": "blue"}))
    job(pool, http_entry(http_upstream, headers={"X-Team": "green"}))
    assert http_sessions(http_upstream.upstream) == 2
    assert [e["headers"].get("x-team") for e in http_upstream.upstream.events("request")][-1] == "green"
    wait_for(lambda: pool.state().sessions == ("upstream",))  # the blue one closed, not merely forgotten


def test_a_rotated_secret_is_sent_on_a_new_session_and_the_old_one_is_never_used_again(
    pool: SessionPool, http_upstream: HttpUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """M6: the bearer secret is read at each job; once it changes, no request carries the old one."""
    server = http_entry(http_upstream, bearer_env="UPSTREAM_TOKEN")
    monkeypatch.setenv("UPSTREAM_TOKEN", CANARY)
    job(pool, server)
    monkeypatch.setenv("UPSTREAM_TOKEN", "rotated")
    seen = len(http_upstream.upstream.events("request"))
    job(pool, server)
    later = http_upstream.upstream.events("request")[seen:]
    assert later and {e["authorization"] for e in later} - {f"Bearer {CANARY}"} == {"Bearer rotated"}
    assert http_sessions(http_upstream.upstream) == 2
    monkeypatch.delenv("UPSTREAM_TOKEN")
    with pytest.raises(McpConfigError, match="UPSTREAM_TOKEN, which is not set"):
        job(pool, server)


def test_discard_closes_the_session_of_a_removed_server(pool: SessionPool, stdio_upstream: StdioUpstream) -> None:
    job(pool, stdio_upstream.entry())
    pool.discard("upstream")
    wait_for(lambda: pool.state().sessions == ())
    wait_for(lambda: new_children() == [])


def test_a_killed_stdio_server_is_replaced_by_a_fresh_one_at_the_next_job(
    pool: SessionPool, stdio_upstream: StdioUpstream
) -> None:
    job(pool, stdio_upstream.entry())
    [child] = new_children()
    child.kill()
    child.wait(10)
    assert job(pool, stdio_upstream.entry(), arguments={"text": "again"}).text() == "again"
    assert started(stdio_upstream) == 2
    assert len(stdio_upstream.calls("echo")) == 2


@contextmanager
def serve_memory_upstream(sock: socket.socket) -> Iterator[MemoryUpstream]:
    """The fake upstream over HTTP on ``sock``: a stand-in for a server that is restarted on the same port."""
    upstream = MemoryUpstream()
    app = upstream.server().streamable_http_app()

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            upstream.record({"event": "request", "authorization": headers.get("authorization"), "headers": headers})
        await app(scope, receive, send)

    server = uvicorn.Server(uvicorn.Config(recording, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), 10)
    try:
        yield upstream
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def listening_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def test_a_restarted_http_server_gets_a_fresh_session_at_the_next_job(pool: SessionPool) -> None:
    first_socket = listening_socket()
    port = int(first_socket.getsockname()[1])
    server = McpServer(name="upstream", transport="http", url=f"http://127.0.0.1:{port}/mcp")
    with serve_memory_upstream(first_socket) as first:
        job(pool, server)
        assert http_sessions(first) == 1
    with pytest.raises(McpConnectError, match="cannot be reached"):  # gone: listing failed, and so did a fresh open
        job(pool, server)
    with serve_memory_upstream(listening_socket(port)) as second:
        assert job(pool, server, arguments={"text": "back"}).text() == "back"
        assert http_sessions(second) == 1
        assert [c["arguments"] for c in second.calls("echo")] == [{"text": "back"}]


def test_a_call_whose_session_dies_is_not_sent_again(pool: SessionPool, stdio_upstream: StdioUpstream) -> None:
    """Only a listing is retried on a fresh session; the upstream may have acted on a call, so it fails the job."""
    job(pool, stdio_upstream.entry())
    with ThreadPoolExecutor(max_workers=1) as thread:
        sleeping = thread.submit(job, pool, stdio_upstream.entry(), "sleep", {})
        wait_for(lambda: len(stdio_upstream.calls("sleep")) == 1)
        [child] = new_children()
        child.kill()
        with pytest.raises(McpConnectError, match="closed the connection"):
            sleeping.result(timeout=20)
    assert len(stdio_upstream.calls("sleep")) == 1
    assert started(stdio_upstream) == 1


def test_a_timed_out_call_is_cancelled_upstream_and_the_next_job_works(
    pool: SessionPool, http_upstream: HttpUpstream
) -> None:
    """M17: a job's deadline cancels its request on the shared session, and the job waits for that to be sent."""
    server = http_entry(http_upstream)

    async def sleep() -> None:  # 2 s: room for the handshake on a loaded machine, so that the call is sent
        async with deadline(2, "sleep"), pool.session(server) as session:
            await session.list_tools()
            await session.call_tool("sleep", {})

    started_at = time.monotonic()
    with pytest.raises(McpTimeout, match=r"did not finish within 2 s"):
        on_jobs_loop(sleep())
    assert time.monotonic() - started_at < 30  # the deadline ended it: the sleep tool never returns by itself
    wait_for(lambda: len(http_upstream.upstream.events("cancelled")) == 1)
    assert job(pool, server, arguments={"text": "next"}).text() == "next"


def test_an_idle_session_is_closed_and_its_stdio_server_stopped(stdio_upstream: StdioUpstream) -> None:
    pool = SessionPool(idle_s=0.2)
    try:
        job(pool, stdio_upstream.entry())
        wait_for(lambda: pool.state().sessions == ())
        wait_for(lambda: new_children() == [])
        job(pool, stdio_upstream.entry())  # and a later job opens a new one
        assert started(stdio_upstream) == 2
    finally:
        pool.close()


def test_many_jobs_and_timeouts_leave_one_thread_one_task_per_session_and_close_leaves_nothing(
    http_upstream: HttpUpstream, stdio_upstream: StdioUpstream
) -> None:
    """M17: after jobs that completed, failed and timed out on both transports, the pool holds what it should."""
    threads_before = set(threading.enumerate())
    pool = SessionPool()
    servers = [http_entry(http_upstream), stdio_upstream.entry(name="local")]

    def timed_out(server: McpServer) -> None:
        async def run() -> None:
            async with deadline(1, "sleep"), pool.session(server) as session:
                await session.list_tools()
                await session.call_tool("sleep", {})

        with pytest.raises(McpTimeout):
            on_jobs_loop(run())

    with ThreadPoolExecutor(max_workers=4) as threads:
        list(threads.map(lambda i: job(pool, servers[i % 2], arguments={"text": str(i)}), range(60)))
        list(threads.map(timed_out, servers * 3))
        list(threads.map(lambda i: job(pool, servers[i % 2], "fail", {}), range(10)))
    wait_for(lambda: pool.state().sessions == ("local", "upstream"))  # sessions the timeouts retired are closed
    holding = pool.state().tasks
    assert holding <= 2 * 8  # each session's own tasks (transport readers and writers), nothing per job
    for i in range(20):
        job(pool, servers[i % 2])
    assert pool.state().tasks == holding
    pool.close()
    assert pool.state().sessions == ()
    assert new_children() == []
    wait_for(lambda: set(threading.enumerate()) <= threads_before)  # asyncio's waitpid threads: the pool has none
    wait_for(lambda: len(http_upstream.upstream.events("cancelled")) == len(http_upstream.upstream.calls("sleep")))
