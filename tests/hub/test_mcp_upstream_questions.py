"""An upstream MCP server that asks a question before it answers a call (2026-07-28: an ``InputRequiredResult``)
has it answered by whoever the call is for: hub A calls hub B's process tools over real HTTP on 127.0.0.1.

Hub B serves ``join`` (a process tool whose start event has a form: B asks its caller who joins before anything
starts, in the call's result). Hub A declares elicitation to the servers it calls (``protocols.mcp.client_input``):

- an ``mcp`` service task of A's parks its job on a person's user task carrying the question and the requested
  schema; their answer goes back to B with the call sent again (``inputResponses`` and B's ``requestState``), and
  A's instance ends with B's result;
- through A's gateway, a 2026-07-28 assistant that offers elicitation gets B's question in A's own result and
  answers it (its SDK sends the call again); one on a 2025-era session is asked by a request of A's; one that
  offers no elicitation gets a tool error naming the question at once. Each round is one audited call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp_types import ElicitRequestParams, ElicitResult, TextContent

from protocols.gateway.audit import arguments_digest
from protocols.mcp.limits import McpLimits
from tests.data.mcp_upstream.models import tool_task_process
from tests.hub.harness import LiveHub, assistant, serve_hub
from tests.hub.hub_pair import hub_calling
from tests.polling import until_found

TOKEN_ENV = "AGENTHUB_TEST_HUB_B_QUESTIONS_TOKEN"

JOIN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
                  xmlns:agenthub="urn:agenthub:bpmn:1" id="join-defs" targetNamespace="urn:test">
  <bpmn:process id="join" isExecutable="true">
    <bpmn:extensionElements>
      <agenthub:tool><agenthub:input name="team" type="string" required="true"/></agenthub:tool>
    </bpmn:extensionElements>
    <bpmn:startEvent id="start">
      <bpmn:documentation>Who joins the team?</bpmn:documentation>
      <bpmn:extensionElements>
        <agenthub:schema>{"type": "object", "properties": {"name": {"type": "string", "title": "Name"}},
                          "required": ["name"]}</agenthub:schema>
      </bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="say"/>
    <bpmn:scriptTask id="say">
      <bpmn:extensionElements>
        <zeebe:script expression="=name + &quot; joins &quot; + team" resultVariable="said"/>
      </bpmn:extensionElements>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="say" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""

ASKING = tool_task_process("join_on_b", "b", "join", retries=2, result_variable="joined",
                           headers={"inputAssignee": "dora", "inputCandidateGroups": "hr"})


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveHub, LiveHub]]:
    with serve_hub(tmp_path_factory.mktemp("hub-b"), mcp=McpLimits(rate_per_minute=0)) as b:
        with b.client() as rest:
            rest.post("/api/v1/deployments", files=[("files", ("join.bpmn", JOIN, "application/xml"))],
                      params={"expose": "true"}).raise_for_status()
        with hub_calling(b, tmp_path_factory.mktemp("hub-a"), TOKEN_ENV) as a:
            with a.client() as rest:
                rest.post("/api/v1/deployments", files=[("files", ("join_on_b.bpmn", ASKING, "application/xml"))]
                          ).raise_for_status()
            yield a, b


def _get(hub: LiveHub, path: str, **params: Any) -> Any:
    with hub.client() as rest:
        answer = rest.get(path, params=params)
        answer.raise_for_status()
        return answer.json()


def _joins_on_b(b: LiveHub) -> list[dict[str, Any]]:
    return list(_get(b, "/api/v1/process-instances", processId="join", limit=1000)["items"])


def _ended(hub: LiveHub, instance: int) -> dict[str, Any] | None:
    view = _get(hub, f"/api/v1/process-instances/{instance}")
    return dict(view) if view["state"] != "active" else None


def _audit(a: LiveHub, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """The gateway's rows of calls of ``b__join`` with ``arguments``, the newest first."""
    rows = _get(a, "/api/v1/audit", subject="gateway:b__join", limit=1000)["items"]
    return [r["data"] for r in rows if r["data"]["argumentsHash"] == arguments_digest(arguments)]


def _text(result: Any) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, TextContent))


def test_a_question_before_the_upstreams_answer_is_a_persons_task_and_their_answer_sends_the_call_again(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    a, b = hubs
    before = len(_joins_on_b(b))
    with a.client() as rest:
        answer = rest.post("/api/v1/process-instances", json={"processId": "join_on_b", "variables": {"team": "core"}})
        answer.raise_for_status()
        instance = int(answer.json()["instance"])

    def asked() -> dict[str, Any] | None:
        items = _get(a, "/api/v1/user-tasks", instance=instance)["items"]
        return dict(items[0]) if items else None

    task = until_found(asked, "the person's task on hub A")
    assert task["name"] == "b: Who joins the team?" and task["assignee"] == "dora"
    assert task["candidateGroups"] == ["hr"]
    assert task["kind"] == "mcp-input" and task["server"] == "b" and task["tool"] == "join"
    assert "taskId" not in task  # no upstream task: B holds nothing while A's person is asked
    assert task["requestedSchema"]["required"] == ["name"]
    view = _get(a, f"/api/v1/process-instances/{instance}")
    assert [(w["kind"], w["assignee"]) for w in view["waitingFor"]] == [("userTask", "dora")]
    assert len(_joins_on_b(b)) == before  # B started nothing: it asks before its instance starts

    with a.client() as rest:
        rest.post(f"/api/v1/user-tasks/{task['id']}/complete",
                  json={"variables": {"name": "Ada", "salary": 100}}).raise_for_status()
    done = until_found(lambda: _ended(a, instance), "the end of hub A's instance")
    assert done["state"] == "completed", done
    assert done["variables"]["joined"]["said"] == "Ada joins core"  # B's result, from the call sent again
    [there] = [i for i in _joins_on_b(b) if i["variables"]["team"] == "core"]  # one instance, once answered
    assert there["variables"]["name"] == "Ada" and "salary" not in there["variables"]  # only the schema's fields


def test_through_the_gateway_a_2026_assistant_gets_the_upstreams_question_in_the_hubs_result(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    a, _b = hubs
    asked: list[ElicitRequestParams] = []

    async def elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action="accept", content={"name": "Grace"})

    async def call() -> Any:
        async with assistant(a, a.admin, "2026-07-28", elicitation_callback=elicit) as client:
            return await client.call_tool("b__join", {"team": "compilers"})

    result = anyio.run(call)
    assert not result.is_error, _text(result)
    assert "Grace joins compilers" in str(result.structured_content or _text(result))
    [question] = asked
    assert question.message == "Who joins the team?"
    rounds = _audit(a, {"team": "compilers"})  # one row per round: each is a call of the assistant's
    assert [(r["outcome"], r.get("questionsAsked")) for r in rounds] == [("ok", None), ("inputRequired", 1)]
    assert "Grace" not in str(rounds)  # counted, not kept


def test_through_the_gateway_a_2025_assistant_is_asked_by_a_request_of_the_hubs(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    a, _b = hubs
    asked: list[ElicitRequestParams] = []

    async def elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action="accept", content={"name": "Barbara"})

    async def call() -> Any:
        async with assistant(a, a.admin, "legacy", elicitation_callback=elicit) as client:
            return await client.call_tool("b__join", {"team": "databases"})

    result = anyio.run(call)
    assert not result.is_error, _text(result)
    assert "Barbara joins databases" in str(result.structured_content or _text(result))
    assert [q.message for q in asked] == ["Who joins the team?"]
    [row] = _audit(a, {"team": "databases"})  # one call, asked within it
    assert row["outcome"] == "ok" and row["questionsAsked"] == 1


def test_through_the_gateway_an_assistant_that_takes_no_questions_is_told_what_was_asked_at_once(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    a, _b = hubs

    async def call() -> Any:
        async with assistant(a, a.admin, "2026-07-28") as client:
            return await client.call_tool("b__join", {"team": "kernel"})

    result = anyio.run(call)
    assert result.is_error
    said = _text(result)
    assert "asked 'Who joins the team?' before answering" in said and "takes no questions" in said, said
