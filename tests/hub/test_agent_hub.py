"""The complaint example on a live hub, as users drive it: an assistant starts it over MCP, people answer over REST.

The agent runs on the offline rule-based model (no key, no network); the
customer answers its question, finance approves the refund in the task
list, and the journal shows the whole trail.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from engine.scheduler import WorkerRegistry
from hub.settings import HubSettings
from tests.hub.harness import LiveHub, start_hub
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
AGENTHUB = str(Path(sys.executable).with_name("agenthub"))


def _complaint_workers() -> WorkerRegistry:
    spec = importlib.util.spec_from_file_location("complaint_workers", EXAMPLES / "complaint" / "workers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    workers = WorkerRegistry()
    for job_type, name in (("complaint-lookup-order", "lookup_order"), ("complaint-refund", "refund"),
                           ("complaint-notify", "notify")):
        workers.register(job_type, getattr(module, name))
    return workers


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    port = free_port()
    settings = HubSettings(db=f"sqlite:///{tmp_path / 'hub.db'}", port=port, admin_token="ahk_00000000_" + "a" * 43)
    server, thread = start_hub(settings, _complaint_workers())
    try:
        live = LiveHub(url=f"http://127.0.0.1:{port}", port=port, admin=settings.admin_token or "",
                       app=server.config.app)
        with live.client() as c:
            # the agent's rules file goes with its BPMN in one deployment: the hub needs no folder of model files
            files = [("files", ("complaint.bpmn", (EXAMPLES / "complaint" / "complaint.bpmn").read_bytes(),
                                "application/xml")),
                     ("files", ("agent-rules.json", (EXAMPLES / "complaint" / "agent-rules.json").read_bytes(),
                                "application/json"))]
            c.post("/api/v1/deployments", files=files, params={"expose": "true"}).raise_for_status()
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _open_tasks(hub: LiveHub, instance: int, token: str) -> list[dict[str, Any]]:
    with hub.client(token) as c:
        answer = c.get("/api/v1/user-tasks", params={"instance": instance})
        answer.raise_for_status()
        return list(answer.json()["items"])


def _user_token(hub: LiveHub, user: str, groups: list[str]) -> str:
    """A person's token: a local user with ``groups``, allowed to read and to work on tasks."""
    with hub.client() as c:
        c.post("/api/v1/users", json={"id": user, "groups": groups}).raise_for_status()
        answer = c.post("/api/v1/tokens", json={"user": user, "name": f"{user}-laptop", "scopes": ["tasks", "read"]})
        answer.raise_for_status()
        return str(answer.json()["token"])


def _wait_for_task(hub: LiveHub, instance: int, token: str, element: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [t for t in _open_tasks(hub, instance, token) if t["element"] == element]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no open task {element} on instance {instance}")


async def _over_mcp(hub: LiveHub, token: str, tool: str, arguments: dict[str, Any]) -> Any:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
        Client(streamable_http_client(f"{hub.url}/mcp", http_client=http)) as client,
    ):
        return await client.call_tool(tool, arguments)


def test_a_complaint_runs_end_to_end_offline_with_a_question_and_a_finance_approval(hub: LiveHub) -> None:
    assistant_token = hub.token("start", "read", "tasks")
    started = anyio.run(_over_mcp, hub, assistant_token, "complaint",
                        {"customer": "ada", "orderId": "A-100", "complaint": "My kettle never arrived."})
    assert started.structured_content is not None
    instance = int(started.structured_content["instance"])
    people = _user_token(hub, "ada", [])  # the customer, whom the agent asks
    finance = _user_token(hub, "fay", ["finance"])  # who approves refunds over 50
    question = _wait_for_task(hub, instance, people, "ask_customer")
    assert question["assignee"] == "ada"
    asked = question["inputs"]["question"]  # the agent's question, as the person sees it in the task list
    assert asked.startswith("Order A-100 can be refunded") and asked.endswith("a refund or a replacement?")
    assert question["agent"] == "Resolve"
    listed = anyio.run(_over_mcp, hub, hub.admin, "agenthub_list_user_tasks", {"instance": instance})
    assert listed.structured_content is not None
    assert [t["inputs"] for t in listed.structured_content["tasks"]] == [question["inputs"]]
    mine = anyio.run(_over_mcp, hub, assistant_token, "agenthub_list_user_tasks", {"instance": instance})
    assert mine.structured_content == {"tasks": [], "next": None}  # ada's question, not the assistant's
    with hub.client(people) as c:
        c.post(f"/api/v1/user-tasks/{question['id']}/complete",
               json={"variables": {"choice": "refund"}}).raise_for_status()
    approval = _wait_for_task(hub, instance, finance, "propose_refund")
    assert approval["kind"] == "approval" and approval["tool"] == "propose_refund"
    assert approval["arguments"] == {"orderId": "A-100", "amount": 120.0, "reason": "My kettle never arrived."}
    assert approval["inputs"]["arguments"] == approval["arguments"] and approval["inputs"]["tool"] == "propose_refund"
    assert approval["candidateGroups"] == ["finance"]
    assert "The customer wants a refund; I propose the full amount." in approval["reasoning"]

    refused = anyio.run(_over_mcp, hub, assistant_token, "agenthub_complete_user_task",
                        {"task": approval["id"], "variables": {"approved": True}})
    assert refused.is_error  # an MCP client (possibly an agent) cannot approve an agent's call

    with hub.client(people) as c:  # finance approves, not the customer
        refused_by_ada = c.post(f"/api/v1/user-tasks/{approval['id']}/complete", json={"variables": {"approved": True}})
        assert refused_by_ada.status_code == 403, refused_by_ada.text
    with hub.client(finance) as c:
        c.post(f"/api/v1/user-tasks/{approval['id']}/complete",
               json={"variables": {"approved": True}}).raise_for_status()
        deadline = time.monotonic() + 30
        while (view := c.get(f"/api/v1/process-instances/{instance}").json())["state"] != "completed":
            assert time.monotonic() < deadline, view
            time.sleep(0.1)
    assert view["variables"]["resolution"]["response"].startswith("Refunded 120 for order A-100")
    assert view["variables"]["notified"] is True

    db = hub.app.state.hub.settings.db
    text = subprocess.run([AGENTHUB, "journal", str(instance), "--db", db], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    assert "model call 1 · rules:agent-rules.json" in text
    assert "propose_refund: approve [model:" in text
    assert "propose_refund: approved by fay" in text
    entries = json.loads(subprocess.run([AGENTHUB, "journal", str(instance), "--db", db, "--json"],
                                        capture_output=True, text=True, timeout=60, check=True).stdout)
    assert sum(1 for e in entries if e["type"] == "agent_model_called") == 5
