"""OpenTelemetry on live hubs (AGENTHUB_OTEL): one trace across two hubs, MCP trace context, GenAI spans, /metrics.

The SDK's in-memory exporter and metric reader are installed through the
hub's own setup (``hub.telemetry.install``) before the hubs start with
``otel=True``; both hubs run in this process, so one exporter sees the spans
of both. That the trace crosses the hubs by the wire, not by this process's
context, is shown by the parentage: hub B's server span has hub A's client
span as its remote parent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from engine import Engine, WorkerRegistry, telemetry
from engine.agent import MODEL_JOB_TYPE
from engine.scheduler import run_until_idle
from hub import telemetry as hub_telemetry
from protocols.llm import ModelResolver
from protocols.llm.model_task import ModelTask
from tests.hub.harness import LiveHub, assistant, echo, serve_hub

AGENT = Path(__file__).resolve().parents[1] / "data" / "agent" / "support_agent.bpmn"

ECHO = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:agenthub="urn:agenthub:bpmn:1" id="d" targetNamespace="t">
  <bpmn:process id="traced_echo" isExecutable="true">
    <bpmn:extensionElements>
      <agenthub:tool><agenthub:input name="text" type="string" required="true"/></agenthub:tool>
    </bpmn:extensionElements>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="say"/>
    <bpmn:serviceTask id="say"><bpmn:extensionElements><zeebe:taskDefinition type="echo"/></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="say" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

DELEGATE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="traced_delegate" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>
    <bpmn:serviceTask id="ask">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="a2a" retries="1"/>
        <zeebe:taskHeaders>
          <zeebe:header key="agent" value="hub-b-echo"/>
          <zeebe:header key="resultVariable" value="answer"/>
        </zeebe:taskHeaders>
        <zeebe:ioMapping><zeebe:input source="={text: text}" target="data"/></zeebe:ioMapping>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@dataclass
class Traced:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    a: LiveHub
    b: LiveHub

    def wait_for(self, found: Callable[[list[ReadableSpan]], bool], what: str) -> list[ReadableSpan]:
        """The finished spans, once ``found`` holds of them (a job's span ends just after its report commits)."""
        deadline = time.monotonic() + 20
        while not found(spans := list(self.spans.get_finished_spans())):
            assert time.monotonic() < deadline, f"no {what} among {[s.name for s in spans]}"
            time.sleep(0.02)
        return spans


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traced]:
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    hub_telemetry.install(span_exporter=spans, metric_readers=[reader], env={})
    workers = WorkerRegistry()
    workers.register("echo", echo)
    try:
        with (
            pytest.MonkeyPatch.context() as env,
            serve_hub(tmp_path_factory.mktemp("b"), workers, otel=True) as b,
            b.client() as on_b,
        ):
            on_b.post(
                "/api/v1/deployments",
                files=[("files", ("echo.bpmn", ECHO, "application/xml"))],
                params={"expose": "true"},
            ).raise_for_status()
            env.setenv("HUB_B_TOKEN", b.token("start", "read"))
            with serve_hub(tmp_path_factory.mktemp("a"), otel=True, http_allow="127.0.0.1") as a, a.client() as on_a:
                on_a.post(
                    "/api/v1/agents",
                    json={"name": "hub-b-echo", "url": f"{b.url}/a2a/traced_echo", "tokenEnv": "HUB_B_TOKEN"},
                ).raise_for_status()
                on_a.post(
                    "/api/v1/deployments", files=[("files", ("delegate.bpmn", DELEGATE, "application/xml"))]
                ).raise_for_status()
                yield Traced(spans, reader, a, b)
    finally:
        hub_telemetry.uninstall()


def _start(client: httpx.Client, process_id: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/process-instances", json={"processId": process_id, "variables": variables, "awaitCompletion": 20}
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _start_span(spans: list[ReadableSpan], process_id: str) -> ReadableSpan:
    [found] = [
        s
        for s in spans
        if s.name == "agenthub.command start" and s.attributes and s.attributes.get("agenthub.process.id") == process_id
    ]
    return found


def _trace(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


def test_a_process_on_hub_a_that_delegates_to_hub_b_is_one_trace_across_both_hubs(traced: Traced) -> None:
    traced.spans.clear()
    with traced.a.client() as on_a:
        done = _start(on_a, "traced_delegate", {"text": "hello"})
    assert done["state"] == "completed", done

    def complete(spans: list[ReadableSpan]) -> bool:
        names = [s.name for s in spans]
        a2a_done = any(s.name == "job a2a" and (s.attributes or {}).get("agenthub.job.outcome") == "completed"
                       for s in spans)
        return "job echo" in names and a2a_done and "SendMessage hub-b-echo" in names

    spans = traced.wait_for(complete, "job spans of both hubs")
    on_a_start = _start_span(spans, "traced_delegate")
    on_b_start = _start_span(spans, "traced_echo")
    # the message's own send is the last: hub B may first refuse to push to hub A (its egress rules), and the
    # message goes again without the push config (protocols.a2a.call_task)
    client = [s for s in spans if s.name == "SendMessage hub-b-echo"][-1]
    assert client.context is not None
    [server] = [s for s in spans if s.name == "SendMessage" and s.kind == SpanKind.SERVER
                and s.parent is not None and s.parent.span_id == client.context.span_id]
    # one span per attempt: under load the a2a job's first attempt may leave to wait for the remote task
    # (engine.WaitRemote) and a later one finish it; each continues the instance's trace
    a2a_jobs = [s for s in spans if s.name == "job a2a"]
    a2a_job = a2a_jobs[0]
    [echo_job] = [s for s in spans if s.name == "job echo"]
    trace_id = _trace(on_a_start)
    assert {_trace(s) for s in (client, server, *a2a_jobs, on_b_start, echo_job)} == {trace_id}
    assert a2a_job.parent is not None
    parent = a2a_job.parent.span_id
    assert all(s.parent is not None and s.parent.span_id == parent for s in a2a_jobs)
    outcomes = [(s.attributes or {}).get("agenthub.job.outcome") for s in a2a_jobs]
    assert outcomes == ["waiting"] * (len(a2a_jobs) - 1) + ["completed"], outcomes  # waits, never a failure
    assert client.kind == SpanKind.CLIENT and client.context is not None
    assert server.parent is not None and server.parent.is_remote and server.parent.span_id == client.context.span_id
    assert a2a_job.parent is not None and on_a_start.context is not None
    assert a2a_job.parent.span_id == on_a_start.context.span_id  # the job ran later, from the instance's trace
    assert on_b_start.parent is not None and server.context is not None
    assert on_b_start.parent.span_id == server.context.span_id


def test_an_mcp_tool_call_continues_the_trace_its_meta_carries(traced: Traced) -> None:
    traced.spans.clear()
    token = traced.b.token("start", "read")

    async def call() -> tuple[int, int]:
        async with assistant(traced.b, token) as client:
            # the official client puts the current trace context into the request's _meta (SEP-414)
            with telemetry.tracer().start_as_current_span("assistant") as mine:
                result = await client.call_tool("traced_echo", {"text": "hi"})
                assert not result.is_error, result
                context = mine.get_span_context()
                return context.trace_id, context.span_id

    trace_id, _ = anyio.run(call)
    spans = traced.wait_for(lambda s: any(x.name == "job echo" for x in s), "the echo job's span")
    [server] = [s for s in spans if s.name == "tools/call traced_echo" and s.kind == SpanKind.SERVER]
    assert server.parent is not None and server.parent.is_remote
    assert server.attributes is not None and server.attributes["mcp.method.name"] == "tools/call"
    started = _start_span(spans, "traced_echo")
    [job] = [s for s in spans if s.name == "job echo"]
    assert {_trace(server), _trace(started), _trace(job)} == {trace_id}


def test_an_agent_run_records_a_genai_span_with_tokens_for_each_model_call(traced: Traced, tmp_path: Path) -> None:
    traced.spans.clear()
    script = tmp_path / "turns.json"
    script.write_text(
        json.dumps(
            [
                {"tool_calls": [{"name": "lookup_order", "arguments": {"orderId": "o-1"}}]},
                {"final": "order o-1 is on its way"},
            ]
        )
    )
    engine = Engine.open("memory:")
    engine.deploy([("support_agent.bpmn", AGENT.read_bytes())])
    workers = WorkerRegistry()
    workers.register(MODEL_JOB_TYPE, ModelTask(engine, ModelResolver.standard(files_root=tmp_path)))
    workers.register("lookup", lambda job: {"status": "shipped"})
    view = engine.start(
        "support_agent", {"modelName": "scripted:turns.json", "request": "where is o-1?", "maxCalls": 5}
    )
    run_until_idle(engine, workers, timeout_s=20)
    assert engine.instance(view.key).state == "completed"
    spans = list(traced.spans.get_finished_spans())
    chats = [s for s in spans if s.name == "chat scripted:turns.json"]
    assert len(chats) == 2
    model_jobs = {s.context.span_id: s for s in spans if s.name == f"job {MODEL_JOB_TYPE}" and s.context}
    for chat in chats:
        attributes = chat.attributes or {}
        assert attributes["gen_ai.operation.name"] == "chat"
        assert attributes["gen_ai.provider.name"] == "scripted"
        assert attributes["gen_ai.request.model"] == "scripted:turns.json"
        assert int(attributes["gen_ai.usage.input_tokens"]) > 0  # type: ignore[call-overload]
        assert int(attributes["gen_ai.usage.output_tokens"]) > 0  # type: ignore[call-overload]
        assert "agenthub.model.cost_usd" in attributes
        assert chat.parent is not None and chat.parent.span_id in model_jobs
    [tool] = [s for s in spans if s.name == "job lookup"]
    assert tool.attributes is not None and tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "lookup_order"
    assert _trace(tool) == _trace(chats[0]) == _trace(_start_span(spans, "support_agent"))
    data = traced.metrics.get_metrics_data()
    assert data is not None
    tokens = [
        m
        for r in data.resource_metrics
        for sc in r.scope_metrics
        for m in sc.metrics
        if m.name == "agenthub.model.tokens"
    ]
    assert tokens and any(
        p.attributes and p.attributes.get("gen_ai.request.model") == "scripted:turns.json"
        for p in tokens[0].data.data_points
    )


def test_metrics_are_prometheus_text_for_a_reader_and_refused_without_a_token(traced: Traced) -> None:
    with traced.b.client() as on_b:
        _start(on_b, "traced_echo", {"text": "counted"})
    with traced.b.client(traced.b.token("read")) as reader:
        answer = reader.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    assert "agenthub_instances_started" in answer.text
    assert "agenthub_jobs_ready" in answer.text
    with traced.b.client("") as anonymous:
        assert anonymous.get("/metrics").status_code == 401
