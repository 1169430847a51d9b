"""The MCP client against a real upstream server on 127.0.0.1: over streamable HTTP and as a stdio subprocess.

Requirements covered (RELIABILITY.md section 2): M6 (only the entry's own
credential goes upstream), M16 (output capped and cleaned), M17 (deadline,
cancellation upstream, nothing leaked), M18 (a secret never in an error), M19
(stdio argv without a shell, scrubbed environment).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from protocols.mcp.client import (
    MAX_TEXT_CHARS,
    McpConfigError,
    McpConnectError,
    McpOutputTooLarge,
    McpTimeout,
    call_tool,
    connect,
    deadline,
    list_tools,
)
from registry import McpServer, tool_hash
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.fixtures import CANARY, StdioUpstream, http_entry, new_children
from tests.data.mcp_upstream.upstream import NOISY, HttpUpstream

# The upstream fixtures this module uses: assigned, so that pytest finds them and ruff sees no redefinition.
_http_server = fixtures._http_server
http_upstream = fixtures.http_upstream
stdio_upstream = fixtures.stdio_upstream

Entry = tuple[McpServer, Callable[[], list[dict[str, Any]]]]


earlier_children = fixtures.earlier_children  # autouse: children other tests left are not this test's


@pytest.fixture(params=["http", "stdio"])
def upstream(request: pytest.FixtureRequest) -> Entry:
    """The upstream's registry entry and a way to read its ledger, once per transport."""
    if request.param == "http":
        http: HttpUpstream = request.getfixturevalue("http_upstream")
        return http_entry(http), lambda: [e for e in http.upstream.ledger if e["event"] != "request"]
    stdio: StdioUpstream = request.getfixturevalue("stdio_upstream")
    return stdio.entry(), stdio.ledger


def wait_for(check: Callable[[], bool], seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.02)


def test_tools_are_listed_as_json_by_alias_with_the_pinned_fields(upstream: Entry) -> None:
    server, _ = upstream
    tools = {t["name"]: t for t in asyncio.run(list_tools(server))}
    assert tools["echo"] == {
        "name": "echo",
        "description": "Echo the text back",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        "annotations": {"readOnlyHint": True},
    }
    assert tools["add"]["outputSchema"]["required"] == ["sum"]
    assert len(tool_hash(tools["add"])) == 64


def test_a_call_returns_structured_content_and_text_and_reaches_the_upstream_once(upstream: Entry) -> None:
    server, ledger = upstream
    outcome = asyncio.run(call_tool(server, "add", {"a": 2, "b": 40}, timeout_s=20))
    assert outcome.structured_content == {"sum": 42}
    assert json.loads(outcome.text()) == {"sum": 42}
    assert not outcome.is_error and not outcome.truncated
    assert [e for e in ledger() if e["event"] == "call"] == [
        {"event": "call", "tool": "add", "arguments": {"a": 2, "b": 40}}
    ]


def test_a_tool_error_comes_back_as_an_outcome_marked_is_error(upstream: Entry) -> None:
    outcome = asyncio.run(call_tool(upstream[0], "fail", {}, timeout_s=20))
    assert outcome.is_error
    assert outcome.text() == "the disk is full"  # its ANSI colour codes stripped


def test_only_the_entrys_own_bearer_secret_and_headers_go_upstream(
    http_upstream: HttpUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """M6: the bearer token is the registry entry's, read from its variable at call time; nothing else is sent."""
    monkeypatch.setenv("UPSTREAM_TOKEN", CANARY)
    monkeypatch.setenv("UPSTREAM_KEY", "key-from-env")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # ignored: the client never takes settings from env
    server = http_entry(http_upstream, bearer_env="UPSTREAM_TOKEN", headers={"X-Api-Key": "env:UPSTREAM_KEY"})
    asyncio.run(call_tool(server, "echo", {"text": "hi"}, timeout_s=20))
    requests = http_upstream.upstream.events("request")
    assert requests
    assert {r["authorization"] for r in requests} == {f"Bearer {CANARY}"}
    assert {r["headers"].get("x-api-key") for r in requests} == {"key-from-env"}


def test_debug_logs_never_hold_the_secret(
    http_upstream: HttpUpstream, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """M18: with every logger at DEBUG, a call and a timed-out call log nothing of the bearer secret."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("UPSTREAM_TOKEN", CANARY)
    server = http_entry(http_upstream, bearer_env="UPSTREAM_TOKEN")
    asyncio.run(call_tool(server, "echo", {"text": "hi"}, timeout_s=20))
    with pytest.raises(McpTimeout) as caught:
        asyncio.run(call_tool(server, "sleep", {}, timeout_s=0.5))
    assert caplog.records  # debug logging was on
    assert CANARY not in caplog.text
    assert CANARY not in str(caught.value)


def test_a_missing_credential_variable_is_named_and_nothing_is_sent(
    http_upstream: HttpUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UPSTREAM_TOKEN", raising=False)
    server = http_entry(http_upstream, bearer_env="UPSTREAM_TOKEN")
    with pytest.raises(McpConfigError, match="environment variable UPSTREAM_TOKEN, which is not set"):
        asyncio.run(call_tool(server, "echo", {"text": "hi"}, timeout_s=20))
    assert http_upstream.upstream.calls() == []  # (a cancellation from an earlier test may still arrive)


def test_a_stdio_server_inherits_only_path_home_lang_and_its_listed_variables(
    stdio_upstream: StdioUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """M19: the child's environment is scrubbed of everything its entry does not name."""
    monkeypatch.setenv("NOT_FOR_THE_SERVER", CANARY)
    monkeypatch.setenv("FOR_THE_SERVER", "yes")
    server = stdio_upstream.entry(env=["FOR_THE_SERVER"])
    names = set(json.loads(asyncio.run(call_tool(server, "env", {}, timeout_s=20)).text()))
    assert "FOR_THE_SERVER" in names
    assert "NOT_FOR_THE_SERVER" not in names
    assert names <= {"PATH", "HOME", "LANG", "FOR_THE_SERVER", "LC_CTYPE"}  # Python may set LC_CTYPE itself


def test_a_listed_variable_that_is_not_set_is_named_and_nothing_is_started(
    stdio_upstream: StdioUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FOR_THE_SERVER", raising=False)
    with pytest.raises(McpConfigError, match="FOR_THE_SERVER is not set"):
        asyncio.run(list_tools(stdio_upstream.entry(env=["FOR_THE_SERVER"])))
    assert stdio_upstream.ledger() == []


def test_shell_metacharacters_in_a_stdio_command_are_passed_as_literal_arguments(
    stdio_upstream: StdioUpstream, tmp_path: Path
) -> None:
    """M19: the argv goes to exec as it is; no shell ever sees ';', '&&', '|', '$(...)' or backticks."""
    marker = tmp_path / "pwned"
    extra = [";", "touch", str(marker), "&&", f"touch {marker}", f"$(touch {marker})", f"`touch {marker}`", "|", "sudo"]
    server = McpServer(name="upstream", transport="stdio", command=stdio_upstream.argv(*extra))
    argv = json.loads(asyncio.run(call_tool(server, "argv", {}, timeout_s=20)).text())
    assert argv[1:] == [str(stdio_upstream.state), *extra]
    assert not marker.exists()


def test_a_call_past_its_deadline_times_out_and_is_cancelled_upstream(upstream: Entry) -> None:
    """M17: the deadline holds, and the upstream sees the cancellation while the connection is still open."""
    server, ledger = upstream

    async def scenario() -> float:
        async with connect(server) as session:
            started = time.monotonic()
            with pytest.raises(McpTimeout, match=r"did not finish within 0\.5 s"):
                async with deadline(0.5, "sleep"):
                    await session.call_tool("sleep", {})
            took = time.monotonic() - started
            with anyio.fail_after(10):
                while not any(e["event"] == "cancelled" for e in ledger()):  # noqa: ASYNC110 - another process
                    await anyio.sleep(0.02)
            return took

    assert asyncio.run(scenario()) < 2.0


def test_a_hundred_timed_out_calls_leave_no_thread_or_task_behind(http_upstream: HttpUpstream) -> None:
    """M17: after 100 calls cancelled by their deadline, the thread and task counts are back where they were."""
    server = http_entry(http_upstream)
    threads_before = threading.active_count()

    async def scenario() -> int:
        async def one() -> None:
            with pytest.raises(McpTimeout):
                await call_tool(server, "sleep", {}, timeout_s=1)

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(one)
        await anyio.sleep(0.1)
        return len(asyncio.all_tasks()) - 1  # all but this one

    assert asyncio.run(scenario()) == 0
    wait_for(lambda: threading.active_count() <= threads_before)
    wait_for(lambda: len(http_upstream.upstream.events("cancelled")) == len(http_upstream.upstream.calls("sleep")))


def test_timed_out_stdio_calls_leave_no_process_behind(stdio_upstream: StdioUpstream) -> None:
    for _ in range(2):
        with pytest.raises(McpTimeout):  # the deadline leaves the child time to start (Python and the SDK: ~1 s
            # on a quiet machine, several at a load of 10 or more)
            asyncio.run(call_tool(stdio_upstream.entry(), "sleep", {}, timeout_s=6))
    assert new_children() == []
    assert len(stdio_upstream.calls("sleep")) == 2


def test_output_is_stripped_of_escape_sequences_and_bidi_controls(upstream: Entry) -> None:
    """M16: what reaches variables and logs has no ANSI, bell, carriage return or bidi override; HTML stays text."""
    text = asyncio.run(call_tool(upstream[0], "noisy", {}, timeout_s=20)).text()
    assert text == "ok red gnp.exe <script>alert(1)</script>\nend"
    assert text != NOISY


def test_a_large_result_is_cut_to_the_limit_and_marked_truncated(upstream: Entry) -> None:
    outcome = asyncio.run(call_tool(upstream[0], "big", {"size": 3 * MAX_TEXT_CHARS}, timeout_s=30))
    assert len(outcome.text()) == MAX_TEXT_CHARS
    assert outcome.truncated and outcome.content[0]["truncated"] is True
    assert outcome.to_json()["truncated"] is True


def test_a_result_beyond_the_message_cap_fails_the_call_without_exhausting_the_hub(upstream: Entry) -> None:
    with pytest.raises(McpOutputTooLarge, match="larger than"):
        asyncio.run(call_tool(upstream[0], "big", {"size": 20_000_000}, timeout_s=60))


def test_an_unreachable_server_is_a_connect_error_naming_it(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = McpServer(name="gone", transport="http", url=f"http://127.0.0.1:{port}/mcp?key=secret")
    with pytest.raises(McpConnectError) as caught:
        asyncio.run(list_tools(server, timeout_s=10))
    assert "MCP server 'gone'" in str(caught.value)
    assert "secret" not in str(caught.value)  # the query may carry credentials


def test_a_missing_program_is_a_connect_error_naming_it() -> None:
    server = McpServer(name="nothing", transport="stdio", command=["/nonexistent/mcp-server", "--flag"])
    with pytest.raises(McpConnectError, match="cannot start '/nonexistent/mcp-server': no such program"):
        asyncio.run(list_tools(server, timeout_s=10))


def test_a_program_that_exits_at_once_is_a_connect_error() -> None:
    server = McpServer(name="quitter", transport="stdio", command=[sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(McpConnectError, match="closed the connection before answering"):
        asyncio.run(list_tools(server, timeout_s=10))
