"""A process tool's start form (``<agenthub:schema>`` on its start event) is asked of the caller's user before
anything starts, and a tool that names ``clientCapabilities`` refuses a client without them: through a live hub,
with the official SDK's ``Client``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitRequestParams, ElicitResult, ListRootsResult, Root, TextContent

from tests.data.mcp_upstream.models import WELCOME
from tests.hub.harness import LiveHub, serve_hub
from tests.hub.mcp_tasks_client import TasksClient

pytestmark = pytest.mark.anyio
FIXTURES = Path(__file__).resolve().parent / "mcp_fixtures"
MODES = ["legacy", "2026-07-28"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with serve_hub(tmp_path_factory.mktemp("start-form")) as live:
        files = [("files", ("welcome.bpmn", WELCOME, "application/xml"))]
        files += [("files", (f"{n}.bpmn", (FIXTURES / f"{n}.bpmn").read_bytes(), "application/xml"))
                  for n in ("test_tool_with_task", "test_missing_capability", "test_input_required_result_list_roots")]
        with live.client() as rest:
            rest.post("/api/v1/deployments", files=files, params={"expose": "true"}).raise_for_status()
        yield live


def _started(hub: LiveHub, process: str) -> int:
    with hub.client() as rest:
        answer = rest.get("/api/v1/process-instances", params={"processId": process, "limit": 1000})
        answer.raise_for_status()
        return len(answer.json()["items"])


async def _call(hub: LiveHub, tool: str, arguments: dict[str, Any], mode: str, **options: Any) -> Any:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {hub.admin}"}, timeout=30) as http,
        Client(streamable_http_client(f"{hub.url}/mcp", http_client=http), mode=mode, **options) as client,
    ):
        return await client.call_tool(tool, arguments)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_the_start_form_is_asked_before_the_instance_starts_with_the_answer(
    hub: LiveHub, mode: str, action: str
) -> None:
    asked: list[ElicitRequestParams] = []

    async def elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action=action, content={"name": "Ada"} if action == "accept" else None)  # type: ignore[arg-type]

    before = _started(hub, "welcome")
    done = await _call(hub, "welcome", {"team": "ops"}, mode, elicitation_callback=elicit)
    [question] = asked
    assert question.message == "Who joins the team?"
    assert question.requested_schema["required"] == ["name"]  # type: ignore[union-attr]
    if action == "accept":
        assert not done.is_error and done.structured_content["said"] == "Ada joins ops"
        assert _started(hub, "welcome") == before + 1  # one instance, though the 2026 client called twice
    else:
        assert done.is_error and "nothing started" in done.content[0].text
        assert _started(hub, "welcome") == before


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_that_cannot_answer_a_start_form_or_lacks_a_named_capability_is_refused_with_32021(
    hub: LiveHub, mode: str
) -> None:
    before = _started(hub, "welcome"), _started(hub, "test_missing_capability")
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {hub.admin}"}, timeout=30) as http,
        Client(streamable_http_client(f"{hub.url}/mcp", http_client=http), mode=mode) as client,
    ):
        with pytest.raises(MCPError) as no_elicitation:
            await client.call_tool("welcome", {"team": "ops"})
        assert no_elicitation.value.code == -32021
        assert no_elicitation.value.error.data == {"requiredCapabilities": {"elicitation": {}}}
        with pytest.raises(MCPError) as no_sampling:
            await client.call_tool("test_missing_capability", {"prompt": "hello"})
        assert no_sampling.value.code == -32021 and "offers sampling" in no_sampling.value.error.message
        assert no_sampling.value.error.data == {"requiredCapabilities": {"sampling": {}}}
    assert (_started(hub, "welcome"), _started(hub, "test_missing_capability")) == before


async def test_a_start_form_asked_in_the_result_then_a_task_carries_the_answer_to_the_end(hub: LiveHub) -> None:
    """The Tasks extension's composition (SEP-2663): the question first (multi-round-trip), then the task."""
    asked: list[ElicitRequestParams] = []

    async def elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action="accept", content={"name": "Alice"})

    tasks = TasksClient()
    done = await _call(hub, "test_tool_with_task", {}, "2026-07-28", elicitation_callback=elicit, extensions=[tasks])
    assert [q.message for q in asked] == ["What is your name?"]
    first = done.content[0]
    assert isinstance(first, TextContent) and first.text == "Hello, Alice!"
    [created] = tasks.created
    assert created.status == "working" and tasks.seen[-1].status == "completed"


@pytest.mark.parametrize("mode", MODES)
async def test_a_tool_that_needs_the_clients_roots_asks_for_them_before_it_starts(hub: LiveHub, mode: str) -> None:
    """``clientCapabilities="roots"``: a ``roots/list`` request (2025-era) or an input request in the result
    (2026-07-28), and the instance starts with them as ``clientRoots``; a client without roots is -32021."""
    asked: list[str] = []

    async def roots(context: Any) -> ListRootsResult:
        asked.append("roots")
        return ListRootsResult(roots=[Root(uri="file:///home/ada/project", name="project")])  # type: ignore[arg-type]

    before = _started(hub, "test_input_required_result_list_roots")
    done = await _call(hub, "test_input_required_result_list_roots", {}, mode, list_roots_callback=roots)
    assert done.content[0].text == "the client's roots: file:///home/ada/project" and asked == ["roots"]
    assert _started(hub, "test_input_required_result_list_roots") == before + 1
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {hub.admin}"}, timeout=30) as http,
        Client(streamable_http_client(f"{hub.url}/mcp", http_client=http), mode=mode) as client,
    ):
        with pytest.raises(MCPError) as refused:
            await client.call_tool("test_input_required_result_list_roots", {})
    assert refused.value.code == -32021 and refused.value.error.data == {"requiredCapabilities": {"roots": {}}}
