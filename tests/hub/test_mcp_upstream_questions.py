"""An upstream MCP server that asks a question before it answers a call (2026-07-28: an ``InputRequiredResult``)
has it answered by whoever the call is for: hub A calls hub B's process tools over real HTTP on 127.0.0.1.

Hub B serves ``welcome`` (a process tool whose start event has a form: B asks its caller who joins before anything
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
from tests.data.mcp_upstream.models import WELCOME, tool_task_process
from tests.hub.harness import LiveHub, assistant
from tests.hub.hub_pair import get_json, hubs_deployed
from tests.polling import until_found

TOKEN_ENV = "AGENTHUB_TEST_HUB_B_QUESTIONS_TOKEN"

ASKING = tool_task_process("join_on_b", "b", "welcome", retries=2, result_variable="joined",
                           headers={"inputAssignee": "dora", "inputCandidateGroups": "hr"})


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveHub, LiveHub]]:
    with hubs_deployed(tmp_path_factory, TOKEN_ENV, ("welcome.bpmn", WELCOME), ("join_on_b.bpmn", ASKING)) as pair:
        yield pair


def _joins_on_b(b: LiveHub) -> list[dict[str, Any]]:
    return list(get_json(b, "/api/v1/process-instances", processId="welcome", limit=1000)["items"])


def _ended(hub: LiveHub, instance: int) -> dict[str, Any] | None:
    view = get_json(hub, f"/api/v1/process-instances/{instance}")
    return dict(view) if view["state"] != "active" else None


def _audit(a: LiveHub, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """The gateway's rows of calls of ``b__welcome`` with ``arguments``, the newest first."""
    rows = get_json(a, "/api/v1/audit", subject="gateway:b__welcome", limit=1000)["items"]
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
        items = get_json(a, "/api/v1/user-tasks", instance=instance)["items"]
        return dict(items[0]) if items else None

    task = until_found(asked, "the person's task on hub A")
    assert task["name"] == "b: Who joins the team?" and task["assignee"] == "dora"
    assert task["candidateGroups"] == ["hr"]
    assert task["kind"] == "mcp-input" and task["server"] == "b" and task["tool"] == "welcome"
    assert "taskId" not in task  # no upstream task: B holds nothing while A's person is asked
    assert task["requestedSchema"]["required"] == ["name"]
    view = get_json(a, f"/api/v1/process-instances/{instance}")
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


@pytest.mark.parametrize(("mode", "name", "rounds"), [
    ("2026-07-28", "Grace", [("ok", None), ("inputRequired", 1)]),  # newest first: each round a call of its own
    ("legacy", "Barbara", [("ok", 1)]),  # one call, asked within it
])
def test_through_the_gateway_an_assistant_that_offers_elicitation_answers_the_upstreams_question(
    hubs: tuple[LiveHub, LiveHub], mode: str, name: str, rounds: list[tuple[str, int | None]],
) -> None:
    """A 2026-07-28 assistant gets the question in the hub's own result (its SDK calls again with the answer); one
    on a 2025-era session is asked by a request of the hub's during the call."""
    a, _b = hubs
    asked: list[ElicitRequestParams] = []
    team = f"team-{mode}"

    async def elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action="accept", content={"name": name})

    async def call() -> Any:
        async with assistant(a, a.admin, mode, elicitation_callback=elicit) as client:
            return await client.call_tool("b__welcome", {"team": team})

    result = anyio.run(call)
    assert not result.is_error, _text(result)
    assert f"{name} joins {team}" in str(result.structured_content or _text(result))
    assert [q.message for q in asked] == ["Who joins the team?"]
    audited = _audit(a, {"team": team})
    assert [(r["outcome"], r.get("questionsAsked")) for r in audited] == rounds
    assert name not in str(audited)  # counted, not kept


def test_through_the_gateway_an_assistant_that_takes_no_questions_is_told_what_was_asked_at_once(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    a, _b = hubs

    async def call() -> Any:
        async with assistant(a, a.admin, "2026-07-28") as client:
            return await client.call_tool("b__welcome", {"team": "kernel"})

    result = anyio.run(call)
    assert result.is_error
    said = _text(result)
    assert "asked 'Who joins the team?' before answering" in said and "takes no questions" in said, said
