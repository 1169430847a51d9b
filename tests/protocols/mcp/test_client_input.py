"""Who answers an upstream's question asked before its answer (2026-07-28: ``InputRequiredResult``), against the
test upstream's ``ask`` tool over streamable HTTP and stdio on 127.0.0.1 (``protocols.mcp.client_input``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp_types import ElicitResult, InputRequiredResult

from protocols.mcp import client_input
from protocols.mcp.client import McpClientError, call_tool, connect
from registry import McpServer
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.fixtures import StdioUpstream, http_entry
from tests.data.mcp_upstream.upstream import ASK_TOOL, ASKED, HttpUpstream

_http_server = fixtures._http_server
http_upstream = fixtures.http_upstream
stdio_upstream = fixtures.stdio_upstream
earlier_children = fixtures.earlier_children

Entry = tuple[McpServer, Callable[[], list[dict[str, Any]]]]


@pytest.fixture(params=["http", "stdio"])
def upstream(request: pytest.FixtureRequest) -> Entry:
    """The upstream's registry entry, listing ``ask``, and a way to read its ledger, once per transport."""
    if request.param == "http":
        http: HttpUpstream = request.getfixturevalue("http_upstream")
        http.upstream.tools["ask"] = ASK_TOOL
        return http_entry(http), lambda: [e for e in http.upstream.ledger if e["event"] != "request"]
    stdio: StdioUpstream = request.getfixturevalue("stdio_upstream")
    stdio.set_tools({**stdio.tools, "ask": ASK_TOOL})
    return stdio.entry(), stdio.ledger


def test_a_question_nobody_can_answer_fails_the_call_naming_it(upstream: Entry) -> None:
    server, ledger = upstream
    said = f"asked '{ASKED}' before answering, which nobody here answered: the call's caller takes no questions"
    with pytest.raises(McpClientError, match=re.escape(said)):
        anyio.run(lambda: call_tool(server, "ask", {}, timeout_s=20))
    assert [e["tool"] for e in ledger() if e["event"] == "call"] == ["ask"]  # asked once, not sent again


def test_a_callers_asker_answers_and_the_sdk_sends_the_call_again_with_the_answer(upstream: Entry) -> None:
    server, ledger = upstream
    asked: list[dict[str, Any]] = []

    async def ask(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params)
        return {"action": "accept", "content": {"name": "Ada"}}

    async def scenario() -> str:
        with client_input.answering(ask):
            return (await call_tool(server, "ask", {}, timeout_s=20)).text()

    assert anyio.run(scenario) == "hello Ada (round-1)"  # the answer and the server's state came back
    [question] = asked
    assert question["message"] == ASKED and question["requestedSchema"]["required"] == ["name"]
    assert [e["tool"] for e in ledger() if e["event"] == "call"] == ["ask", "ask"]


def test_handed_back_the_question_is_the_calls_answer_and_the_caller_sends_it_again(upstream: Entry) -> None:
    server, _ledger = upstream

    async def scenario() -> tuple[InputRequiredResult, str]:
        async with connect(server) as session:
            assert "ask" in [t["name"] for t in await session.list_tools()]
            first = await session.call("ask", {}, input_back=True)
            assert isinstance(first, InputRequiredResult)
            again = await session.call("ask", {}, input_back=True, state=first.request_state,
                                       responses={"who": ElicitResult(action="accept", content={"name": "Lin"})})
            assert not isinstance(again, InputRequiredResult) and hasattr(again, "text")
            return first, again.text()

    first, said = anyio.run(scenario)
    assert first.request_state == "round-1" and list(first.input_requests or {}) == ["who"]
    assert said == "hello Lin (round-1)"
