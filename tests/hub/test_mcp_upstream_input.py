"""An upstream MCP task that asks for input becomes a person's user task in the calling process, and their answer
goes back upstream: hub A calls hub B's process tools over real HTTP on 127.0.0.1 (the MCP Tasks extension).

Hub B serves ``confirm_delete`` (the conformance fixture: a user task assigned to its caller, with a schema), so
a call from hub A's ``mcp`` service task becomes a task on B that reports ``input_required`` with an
``elicitation/create`` request. Hub A parks its job on a user task (assigned by the service task's
``inputAssignee``) that carries the question and the requested schema; the console draws the schema as a form.
The person's answer goes to B (``tasks/update``): accepted, B's task is completed as the caller with the schema's
fields only, and A's instance ends with the tool's result; declined, B's question is left to B's people and A's job
waits, saying on what. The hub's sweep (every 0.5 s here) leaves B's task alone while A's person is asked, and
cancels it once A's instance is cancelled. Through A's gateway the question goes to the assistant's user: by a
request of A's (2025-era session) or in A's result under a sealed state (2026-07-28), or the call fails at once.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitRequestParams, ElicitResult, InputRequiredResult, TextContent

from protocols.gateway.audit import arguments_digest
from tests.browser import browser, page
from tests.data.mcp_upstream.models import tool_task_process
from tests.hub.harness import LiveHub, assistant
from tests.hub.hub_pair import get_json, hubs_deployed
from tests.hub.web.console import sign_in, signed_in_client
from tests.polling import until_found

__all__ = ["browser", "page"]

FIXTURES = Path(__file__).resolve().parent / "mcp_fixtures"
TOKEN_ENV = "AGENTHUB_TEST_HUB_B_INPUT_TOKEN"

ASKING = tool_task_process("delete_on_b", "b", "confirm_delete", retries=2, result_variable="said",
                           headers={"inputAssignee": "dora"})


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveHub, LiveHub]]:
    fixture = (FIXTURES / "confirm_delete.bpmn").read_bytes()
    with hubs_deployed(tmp_path_factory, TOKEN_ENV, ("confirm_delete.bpmn", fixture), ("delete.bpmn", ASKING)) as pair:
        yield pair


def _start(hub: LiveHub, filename: str) -> int:
    with hub.client() as rest:
        answer = rest.post("/api/v1/process-instances",
                           json={"processId": "delete_on_b", "variables": {"filename": filename}})
        answer.raise_for_status()
        return int(answer.json()["instance"])


def _open_task(hub: LiveHub, instance: int) -> dict[str, Any] | None:
    items = get_json(hub, "/api/v1/user-tasks", instance=instance)["items"]
    return dict(items[0]) if items else None


def _asked(a: LiveHub, filename: str) -> tuple[int, dict[str, Any], int]:
    """An instance started on hub A for ``filename``, its person's task once the upstream asks, and the instance
    on hub B that asks (B's task id is its instance's key)."""
    instance = _start(a, filename)
    asked = until_found(lambda: _open_task(a, instance), "user task on hub A")
    return instance, asked, int(asked["taskId"])


def _complete(hub: LiveHub, task: int, variables: dict[str, Any]) -> None:
    with hub.client() as rest:
        rest.post(f"/api/v1/user-tasks/{task}/complete", json={"variables": variables}).raise_for_status()


def _ended(hub: LiveHub, instance: int) -> dict[str, Any] | None:
    view = get_json(hub, f"/api/v1/process-instances/{instance}")
    return dict(view) if view["state"] != "active" else None


def test_an_upstream_question_is_a_persons_task_here_and_their_answer_completes_the_call(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    a, b = hubs
    instance, asked, on_b = _asked(a, "report.pdf")
    assert asked["assignee"] == "dora" and asked["name"] == "b: Delete the file?"
    details = asked  # a task's details are fields of its JSON
    assert details["kind"] == "mcp-input" and details["server"] == "b" and details["tool"] == "confirm_delete"
    assert details["question"] == "Delete the file?"
    assert details["requestedSchema"]["properties"]["confirm"]["type"] == "boolean"
    waiting = get_json(a, f"/api/v1/process-instances/{instance}")
    assert [(w["kind"], w["task"], w["assignee"]) for w in waiting["waitingFor"]] == [
        ("userTask", asked["id"], "dora")]  # where a user looks: the instance waits for dora, not for a worker

    _complete(a, int(asked["id"]), {"confirm": True, "note": "stays here"})
    done = until_found(lambda: _ended(a, instance), "the end of hub A's instance")
    assert done["state"] == "completed" and done["variables"]["said"]["confirm"] is True  # B's structured result
    there = get_json(b, f"/api/v1/process-instances/{on_b}")
    assert there["state"] == "completed" and there["variables"]["confirm"] is True
    assert there["variables"]["mcpContent"] == [{"type": "text", "text": "deleted report.pdf"}]
    journal = get_json(b, f"/api/v1/process-instances/{on_b}/journal")
    [completed] = [e["data"] for e in journal["items"] if e["type"] == "user_task_completed"]
    assert completed["variables"] == ["confirm"]  # only what the request's schema asks for went upstream
    assert completed["by"] == {"id": there["variables"]["caller"], "channel": "mcp", "person": False}


def test_a_declined_question_is_left_to_the_upstreams_people_and_the_job_waits_saying_on_what(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    a, b = hubs
    instance, asked, on_b = _asked(a, "notes.txt")
    _complete(a, int(asked["id"]), {"action": "decline"})

    def remote_wait() -> str | None:
        view = get_json(a, f"/api/v1/process-instances/{instance}")
        for element in view["activeElements"]:
            reason = (element.get("waitingFor") or {}).get("remoteWait", {}).get("reason")
            if reason:
                return str(reason)
        return None

    reason = until_found(remote_wait, "a remote wait on hub A")
    assert f"MCP task {on_b}" in reason and "'confirm_delete'" in reason
    assert _open_task(a, instance) is None  # not asked again here
    [b_task] = get_json(b, "/api/v1/user-tasks", instance=on_b)["items"]  # still open there, for B's people
    _complete(b, int(b_task["id"]), {"confirm": False})
    done = until_found(lambda: _ended(a, instance), "the end of hub A's instance", timeout_s=60)
    assert done["state"] == "completed" and done["variables"]["said"]["confirm"] is False


def test_an_instance_cancelled_while_its_person_is_asked_has_the_upstream_task_cancelled_by_the_sweep(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    a, b = hubs
    instance, _asked_there, on_b = _asked(a, "draft.md")
    time.sleep(1.5)  # three sweeps: the parked job's call is still listed, and its upstream task left alone
    assert get_json(b, f"/api/v1/process-instances/{on_b}")["state"] == "active"
    with a.client() as rest:
        rest.post(f"/api/v1/process-instances/{instance}/cancel").raise_for_status()
    until_found(lambda: _ended(b, on_b), "the upstream task cancelled (hub B's instance ended)")
    assert get_json(b, f"/api/v1/process-instances/{on_b}")["state"] == "terminated"


@pytest.mark.parametrize(("mode", "rounds"), [
    ("legacy", [("ok", 1)]),  # one call, asked within it
    ("2026-07-28", [("ok", None), ("inputRequired", 1)]),  # newest first: each round a call of the assistant's
])
def test_through_the_gateway_the_upstream_tasks_question_is_put_to_the_assistants_user(
    hubs: tuple[LiveHub, LiveHub], mode: str, rounds: list[tuple[str, int | None]],
) -> None:
    """On a session that carries server requests, to a client that declared elicitation, the gateway asks the
    upstream task's question as its own ``elicitation/create``; on 2026-07-28, where no server request reaches the
    client, it answers with the question in an ``InputRequiredResult`` of its own, whose sealed ``requestState``
    names the upstream task, and the assistant's SDK calls again with the answer. Either way the answer goes to
    the task (``tasks/update``), followed to its result."""
    a, b = hubs
    asked: list[ElicitRequestParams] = []
    filename = f"asked-{mode}.txt"

    async def elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action="accept", content={"confirm": True})

    async def call() -> Any:
        async with assistant(a, a.admin, mode, elicitation_callback=elicit) as client:
            return await client.call_tool("b__confirm_delete", {"filename": filename})

    result = anyio.run(call)
    assert not result.is_error, result
    assert result.structured_content["confirm"] is True and result.structured_content["filename"] == filename
    [question] = asked
    assert question.message == "Delete the file?"
    assert question.requested_schema["properties"]["confirm"]["type"] == "boolean"  # type: ignore[union-attr]
    digest = arguments_digest({"filename": filename})
    rows = [r["data"] for r in get_json(a, "/api/v1/audit", subject="gateway:b__confirm_delete")["items"]
            if r["data"]["argumentsHash"] == digest]
    assert [(r["outcome"], r.get("questionsAsked")) for r in rows] == rounds
    assert "confirm" not in json.dumps(rows).replace("confirm_delete", "")  # counted, not kept: no answer
    [on_b] = [i for i in get_json(b, "/api/v1/process-instances", processId="confirm_delete", limit=1000)["items"]
              if i["variables"].get("filename") == filename]
    assert on_b["state"] == "completed" and on_b["variables"]["confirm"] is True


def test_a_gateway_request_state_works_only_for_its_caller_and_unchanged(hubs: tuple[LiveHub, LiveHub]) -> None:
    a, b = hubs
    other = a.token("start")

    async def refuse(context: Any, params: ElicitRequestParams) -> ElicitResult:
        raise AssertionError("driven by hand here")

    async def asked(token: str) -> Any:
        async with assistant(a, token, "2026-07-28", elicitation_callback=refuse) as client:
            return await client.session.call_tool("b__confirm_delete", {"filename": "sealed.txt"},
                                                   allow_input_required=True)

    async def again(token: str, state: str, key: str) -> str:
        async with assistant(a, token, "2026-07-28", elicitation_callback=refuse) as client:
            try:
                done = await client.session.call_tool(
                    "b__confirm_delete", {"filename": "sealed.txt"}, request_state=state, allow_input_required=True,
                    input_responses={key: ElicitResult(action="accept", content={"confirm": True})})
            except MCPError as exc:
                return f"{exc.error.code}: {exc.error.message}"
            return f"answered: {done.structured_content}"

    first = anyio.run(asked, a.admin)
    assert isinstance(first, InputRequiredResult) and first.request_state
    [(key, request)] = (first.input_requests or {}).items()
    assert request.method == "elicitation/create"
    state = first.request_state
    edited = state[:-1] + ("0" if state[-1] != "0" else "1")
    assert anyio.run(again, a.admin, edited, key).startswith("-32602: the requestState was not given by this hub")
    assert "another caller" in anyio.run(again, other, state, key)  # the task is its caller's to answer
    assert "'confirm': True" in anyio.run(again, a.admin, state, key)  # who was asked still can
    [on_b] = [i for i in get_json(b, "/api/v1/process-instances", processId="confirm_delete", limit=1000)["items"]
              if i["variables"].get("filename") == "sealed.txt"]
    assert on_b["state"] == "completed"


def test_a_federated_call_whose_upstream_task_asks_for_input_fails_at_once_saying_what_and_cancels_it(
    hubs: tuple[LiveHub, LiveHub],
) -> None:
    """A client that cannot be asked (2026-07-28 carries no server request, and the gateway does not pass questions
    on in results): nobody here can answer the upstream's question, which is that client's, so the call ends at once
    with what was asked, not at its deadline."""
    a, b = hubs

    async def call() -> Any:
        async with assistant(a, a.admin) as client:
            return await client.call_tool("b__confirm_delete", {"filename": "through-the-gateway.txt"})

    began = time.monotonic()
    result = anyio.run(call)
    assert result.is_error and time.monotonic() - began < 20  # the call's budget is 30 s
    said = " ".join(block.text for block in result.content if isinstance(block, TextContent))
    assert "asks for input" in said and "elicitation/create: Delete the file?" in said, said

    found = re.search(r"task (\d+) asks for input", said)
    assert found is not None, said
    on_b = get_json(b, f"/api/v1/process-instances/{found.group(1)}")  # hub B's task id is its instance's key
    assert on_b["process"] == "confirm_delete" and on_b["state"] == "terminated"  # cancelled, not left waiting


def test_the_console_draws_the_upstreams_requested_schema_as_the_tasks_form(
    hubs: tuple[LiveHub, LiveHub], page: Any,
) -> None:
    a, _b = hubs
    instance, asked, _on_b = _asked(a, "photo.png")
    with signed_in_client(a) as console:
        html = console.get(f"/tasks/{asked['id']}").text
    found = re.search(r'<script type="application/json" id="task-form-schema">(.*?)</script>', html, re.S)
    assert found is not None
    schema = json.loads(found.group(1))
    assert [(c["type"], c["key"], c["label"]) for c in schema["components"]] == [("checkbox", "confirm", "Delete it")]
    assert schema["components"][0]["validate"] == {"required": True}

    sign_in(page, a)
    page.goto(f"{a.url}/tasks/{asked['id']}")
    page.wait_for_selector('[data-form-schema-id][data-rendered="true"]')
    page.get_by_label("Delete it").check()
    page.get_by_role("button", name="Complete").click()
    page.wait_for_url(re.compile(r".*/tasks\?done=\d+$"))
    assert page.errors == []
    done = until_found(lambda: _ended(a, instance), "the end of hub A's instance")
    assert done["variables"]["said"]["confirm"] is True
