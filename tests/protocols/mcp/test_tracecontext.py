"""W3C trace context through MCP (protocols.tracecontext): the client puts it in ``_meta``, the server continues it.

The hub's own MCP client calls the test MCP server (the hub's endpoint) on
127.0.0.1 inside a span; the server's span for the request is that client
span's remote child, and the instance the call starts keeps the same trace.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from engine import telemetry
from protocols.mcp.client import call_tool
from registry import McpServer
from tests.protocols.mcp.conftest import McpHub


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.use(provider, MeterProvider())
    try:
        yield exporter
    finally:
        telemetry.use(None, None)
        provider.shutdown()


def test_a_tool_call_carries_the_trace_in_meta_and_the_server_continues_it(
    mcp_hub: McpHub, spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_TEST_TOKEN", "agent")
    server = McpServer(name="self", transport="http", url=mcp_hub.url, bearer_env="TRACE_TEST_TOKEN")
    with telemetry.tracer().start_as_current_span("job") as job:
        outcome = asyncio.run(call_tool(server, "echo", {"greeting": "hi"}, timeout_s=20))
    assert not outcome.is_error, outcome
    finished = spans.get_finished_spans()
    [client] = [s for s in finished if s.name == "tools/call echo" and s.kind == SpanKind.CLIENT]
    [incoming] = [s for s in finished if s.name == "tools/call echo" and s.kind == SpanKind.SERVER]
    [start] = [s for s in finished if s.name == "agenthub.command start"]
    trace_id = job.get_span_context().trace_id
    assert client.context is not None and incoming.context is not None and start.context is not None
    assert {client.context.trace_id, incoming.context.trace_id, start.context.trace_id} == {trace_id}
    assert client.attributes is not None and client.attributes["gen_ai.tool.name"] == "echo"
    assert client.attributes["agenthub.mcp.server"] == "self"
    assert incoming.parent is not None and incoming.parent.is_remote
    assert incoming.parent.span_id == client.context.span_id
    assert start.parent is not None and start.parent.span_id == incoming.context.span_id


def test_without_telemetry_a_tool_call_records_nothing_and_sends_no_trace(
    mcp_hub: McpHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_TEST_TOKEN", "agent")
    server = McpServer(name="self", transport="http", url=mcp_hub.url, bearer_env="TRACE_TEST_TOKEN")
    outcome = asyncio.run(call_tool(server, "echo", {"greeting": "hi"}, timeout_s=20))
    assert not outcome.is_error
    [instance] = mcp_hub.engine.instances(process_id="echo")
    with mcp_hub.engine.store.transaction() as tx:
        loaded = tx.instances.load(instance.key, lock=False)
    assert loaded is not None and loaded[0].trace is None
