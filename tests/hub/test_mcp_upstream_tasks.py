"""An ``mcp`` service task whose upstream answers with a task (the MCP Tasks extension, 2026-07-28) waits for it
durably, holding no worker slot, and a federated call through the gateway is followed to the task's end: hub A
calls hub B's process tools over real HTTP on 127.0.0.1.

Hub B serves ``hold`` (waits until the test releases it), the conformance fixtures ``slow_compute`` (a timer) and
``protocol_error_job`` (an incident, so a ``failed`` task) as tools; hub A (given 8 worker slots) registers it as the
MCP server ``b`` and runs processes whose service tasks call them. The job leaves its worker with the task's id on
its element instance (``mcpTask``), is listed as waiting on remote work (REST and the console), and completes when a
later read finds the task completed; a failed task fails the attempt, saying why; a job withdrawn while it waits
(its instance cancelled) has the task cancelled upstream by the hub's sweep.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp_types import TextContent

from protocols.mcp.client import connect
from protocols.mcp.limits import McpLimits
from registry import McpServer
from tests.data.mcp_upstream.models import tool_task_process
from tests.hub.harness import LiveHub, assistant, serve_hub
from tests.hub.hub_pair import hub_calling
from tests.hub.web.console import signed_in_client
from tests.polling import until_found

FIXTURES = Path(__file__).resolve().parent / "mcp_fixtures"
TOKEN_ENV = "AGENTHUB_TEST_HUB_B_TOKEN"
SLOTS = 8  # hub A's worker slots in this test (64 by default)
MANY = 3 * SLOTS  # all wait at once only if none holds a slot

# On hub B: a tool whose instance waits until the test releases it (a message correlated by the label).
HOLD = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:agenthub="urn:agenthub:bpmn:1" id="h" targetNamespace="x">
  <bpmn:message id="release" name="release">
    <bpmn:extensionElements><zeebe:subscription correlationKey="=label"/></bpmn:extensionElements>
  </bpmn:message>
  <bpmn:process id="hold" isExecutable="true">
    <bpmn:documentation>Holds until released.</bpmn:documentation>
    <bpmn:extensionElements>
      <agenthub:tool><agenthub:input name="label" type="string" required="true"/></agenthub:tool>
    </bpmn:extensionElements>
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="released"><bpmn:messageEventDefinition messageRef="release"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="say">
      <bpmn:extensionElements>
        <zeebe:script expression="=&quot;released &quot; + label" resultVariable="said"/>
      </bpmn:extensionElements>
    </bpmn:scriptTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="released"/>
    <bpmn:sequenceFlow id="f2" sourceRef="released" targetRef="say"/>
    <bpmn:sequenceFlow id="f3" sourceRef="say" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveHub, LiveHub]]:
    with serve_hub(tmp_path_factory.mktemp("hub-b"), mcp=McpLimits(rate_per_minute=0)) as b:
        files = [("files", (f"{n}.bpmn", (FIXTURES / f"{n}.bpmn").read_bytes(), "application/xml"))
                 for n in ("slow_compute", "protocol_error_job")] + [("files", ("hold.bpmn", HOLD, "application/xml"))]
        with b.client() as rest:
            rest.post("/api/v1/deployments", files=files, params={"expose": "true"}).raise_for_status()
        with pytest.MonkeyPatch.context() as env:
            env.setattr("hub.app.HUB_JOB_SLOTS", SLOTS)
            with hub_calling(b, tmp_path_factory.mktemp("hub-a"), TOKEN_ENV) as a:
                with a.client() as rest:
                    compute = tool_task_process("compute_on_b", "b", "slow_compute")
                    hold = tool_task_process("hold_on_b", "b", "hold")
                    broken = tool_task_process("broken_on_b", "b", "protocol_error_job", retries=1)
                    models = [("files", ("compute.bpmn", compute, "application/xml")),
                              ("files", ("hold.bpmn", hold, "application/xml")),
                              ("files", ("broken.bpmn", broken, "application/xml"))]
                    rest.post("/api/v1/deployments", files=models).raise_for_status()
                yield a, b




def _start(hub: LiveHub, process_id: str, variables: dict[str, Any]) -> int:
    with hub.client() as rest:
        answer = rest.post("/api/v1/process-instances", json={"processId": process_id, "variables": variables})
        answer.raise_for_status()
        return int(answer.json()["instance"])


def _instance(hub: LiveHub, key: int) -> dict[str, Any]:
    with hub.client() as rest:
        answer = rest.get(f"/api/v1/process-instances/{key}")
        answer.raise_for_status()
        return dict(answer.json())


def _remote_wait(view: dict[str, Any]) -> dict[str, Any] | None:
    for element in view.get("activeElements", []):
        waiting = element.get("waitingFor") or {}
        if "remoteWait" in waiting:
            return dict(waiting)
    return None


def test_a_call_answered_with_a_task_waits_without_a_slot_and_completes_with_the_tasks_result(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    a, b = hubs
    assert a.app.state.worker.loop.settings.concurrency == SLOTS
    keys = [_start(a, "hold_on_b", {"label": f"n{i}"}) for i in range(MANY)]

    def all_waiting() -> list[dict[str, Any]] | None:
        found = [_remote_wait(_instance(a, k)) for k in keys]
        return [w for w in found if w is not None] if all(found) else None

    waiting = until_found(all_waiting, f"{MANY} remote waits at once", timeout_s=60)
    assert all("MCP task" in w["remoteWait"]["reason"] and "'hold'" in w["remoteWait"]["reason"] for w in waiting)
    with signed_in_client(a) as console:  # where a person looks: the instance's page says on what it waits
        page = console.get(f"/instances/{keys[0]}").text
    assert "waiting on <span class=\"text\" data-remote-wait>MCP task" in page and "no worker slot held" in page
    with b.client() as rest:  # one tools/call each: a task is read again, never called again
        started = rest.get("/api/v1/process-instances", params={"processId": "hold", "limit": 1000}).json()
        assert len(started["items"]) == MANY
        for i in range(MANY):
            rest.post("/api/v1/messages", json={"name": "release", "correlationKey": f"n{i}"}).raise_for_status()
    until_found(lambda: all(_instance(a, k)["state"] == "completed" for k in keys) or None, "every instance completed",
           timeout_s=90)
    assert _instance(a, keys[0])["variables"]["computed"]["said"] == "released n0"


def test_a_failed_upstream_task_fails_the_attempt_saying_why(hubs: tuple[LiveHub, LiveHub]) -> None:
    a, _ = hubs
    key = _start(a, "broken_on_b", {})
    until_found(lambda: _instance(a, key)["state"] == "incident" or None, "an incident")
    with a.client() as rest:
        [incident] = rest.get("/api/v1/incidents", params={"instance": key}).json()["items"]
    assert "of tool 'protocol_error_job' of MCP server 'b' failed" in incident["message"]
    assert "the next attempt calls the tool again" in incident["message"]
    with a.client() as rest:
        journal = rest.get(f"/api/v1/process-instances/{key}/journal", params={"limit": 1000}).json()["items"]
    records = [e["data"]["variables"]["mcpTask"] for e in journal
               if e["type"] == "variables_updated" and "mcpTask" in e["data"]["variables"]]
    # the record kept while the task ran (local to the service task), then forgotten: a retry calls afresh
    assert [r and (r["server"], r["tool"]) for r in records] == [("b", "protocol_error_job"), None]



def test_a_federated_call_an_upstream_answers_with_a_task_is_followed_to_its_result(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    """Through the gateway the assistant's call stays open: the hub follows the upstream's task (``tasks/get``) and
    answers with its result, as for a plain call."""
    a, _ = hubs

    async def call() -> Any:
        async with assistant(a, a.admin) as client:
            return await client.call_tool("b__slow_compute", {"seconds": 1, "label": "federated"})

    result = anyio.run(call)
    assert not result.is_error, result
    assert any(isinstance(b, TextContent) and b.text == "computed federated in 1 seconds" for b in result.content)


def test_a_job_withdrawn_while_it_waits_has_its_upstream_task_cancelled_by_the_sweep(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    a, b = hubs
    key = _start(a, "compute_on_b", {"seconds": 120, "label": "orphan"})
    until_found(lambda: _remote_wait(_instance(a, key)), "the remote wait")

    def upstream() -> dict[str, Any] | None:
        with b.client() as rest:
            listed = rest.get("/api/v1/process-instances", params={"processId": "slow_compute", "limit": 1000})
        views = [_instance(b, int(i["instance"])) for i in listed.json()["items"]]
        return next((v for v in views if v["variables"].get("label") == "orphan"), None)

    running = until_found(upstream, "hub B's instance")
    assert running["state"] == "active"
    with a.client() as rest:
        rest.post(f"/api/v1/process-instances/{key}/cancel").raise_for_status()
    until_found(lambda: _instance(b, running["instance"])["state"] == "terminated" or None,
           "the upstream task cancelled (hub B's instance terminated)", timeout_s=30)


def test_a_task_the_upstream_does_not_know_reads_as_none(hubs: tuple[LiveHub, LiveHub]) -> None:
    """What a job's read meets when the upstream lost or expired its task: no error, so the job can say so and
    call afresh."""
    _, b = hubs
    server = McpServer(name="b", transport="http", url=f"{b.url}/mcp", bearer_env=TOKEN_ENV)

    async def read() -> Any:
        with pytest.MonkeyPatch.context() as env:
            env.setenv(TOKEN_ENV, b.admin)
            async with connect(server) as session:
                return await session.task("987654321")

    assert anyio.run(read) is None
