"""The gateway's approvals under four eyes, and its daily call budgets, over real HTTP.

An assistant (the official ``mcp`` client on ``/mcp``) calls a federated tool
of the upstream ``up`` (``tests/data/mcp_upstream``); the hub's policies send
``up__echo`` for approval by the group ``ops``. Alice and Bob are both in
``ops``: Alice makes the call, so she may not approve it (REST 403, the MCP
tool refuses too); Bob may. Budgets: two calls a day per principal, three per
tool, counted in the registry, so a restarted hub still knows them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from protocols.gateway import GatewaySettings
from protocols.mcp.limits import McpLimits
from registry import Registry
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.upstream import HttpUpstream
from tests.hub.harness import LiveHub, assistant, serve_hub

pytestmark = pytest.mark.anyio

_http_server = fixtures._http_server

BUDGETS = GatewaySettings(servers=("up",), listing_ttl_s=0, principal_daily_calls=2, tool_daily_calls=3)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gateway-four-eyes")
    (path / "policies.json").write_text(json.dumps([
        {"tool": "up__echo", "decision": "approve", "candidateGroups": "ops", "reason": "echo needs a look"},
    ]))
    return path


def serve(folder: Path, upstream: HttpUpstream, *, register: bool) -> Any:
    live = serve_hub(folder, http_allow="127.0.0.1", gateway=BUDGETS, agent_policies=str(folder / "policies.json"),
                     mcp=McpLimits(rate_per_minute=0))
    if register:
        hub = live.__enter__()
        with hub.client() as c:
            c.post("/api/v1/mcp-servers", json={"name": "up", "transport": "http", "url": upstream.url}
                   ).raise_for_status()
            for user in ("alice", "bob", "carol", "dave"):
                c.post("/api/v1/users", json={"id": user, "groups": ["ops"]}).raise_for_status()
        return hub, live
    return live.__enter__(), live


@pytest.fixture(scope="module")
def hub(folder: Path, _http_server: HttpUpstream) -> Iterator[LiveHub]:
    live, context = serve(folder, _http_server, register=True)
    try:
        yield live
    finally:
        context.__exit__(None, None, None)


def user_token(hub: LiveHub, user: str) -> str:
    with hub.client() as c:
        made = c.post("/api/v1/tokens", json={"name": f"{user}-token", "scopes": ["start", "tasks"], "user": user})
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


def outcomes(hub: LiveHub, tool: str) -> list[tuple[str, str]]:
    with hub.client() as c:
        body = c.get("/api/v1/audit", params={"subject": f"gateway:{tool}"}).json()
    rows = body["items"] if isinstance(body, dict) else body
    return [(r["actor"], r["data"]["outcome"]) for r in rows]


def wait_for_task(hub: LiveHub, token: str) -> dict[str, Any]:
    with hub.client(token) as c:
        deadline = time.monotonic() + 20
        while not (tasks := c.get("/api/v1/user-tasks").json()["items"]):
            assert time.monotonic() < deadline, "no approval task appeared"
            time.sleep(0.05)
    return dict(tasks[0])


async def test_the_caller_may_not_approve_their_own_federated_call_and_another_approver_lets_it_run(
    hub: LiveHub, _http_server: HttpUpstream
) -> None:
    _http_server.upstream.reset()
    alice, bob = user_token(hub, "alice"), user_token(hub, "bob")
    results: list[Any] = []
    refusals: dict[str, Any] = {}

    async def call() -> None:
        async with assistant(hub, alice) as client:
            results.append(await client.call_tool("up__echo", {"text": "ship it"}))

    def decide() -> dict[str, Any]:
        task = wait_for_task(hub, bob)
        with hub.client(alice) as c:
            refusals["rest"] = c.post(f"/api/v1/user-tasks/{task['id']}/complete",
                                      json={"variables": {"approved": True}})
            refusals["listed"] = c.get("/api/v1/user-tasks").json()["items"]
        assert _http_server.upstream.calls("echo") == []
        with hub.client(bob) as c:
            c.post(f"/api/v1/user-tasks/{task['id']}/complete",
                   json={"variables": {"approved": True}}).raise_for_status()
        return task

    async def refuse_over_mcp(task: dict[str, Any]) -> None:
        async with assistant(hub, alice) as client:
            refusals["mcp"] = await client.call_tool("agenthub_complete_user_task",
                                                     {"task": task["id"], "variables": {"approved": True}})

    async with anyio.create_task_group() as group:
        group.start_soon(call)
        task = await anyio.to_thread.run_sync(wait_for_task, hub, bob)
        await refuse_over_mcp(task)
        await anyio.to_thread.run_sync(decide)
    assert task["kind"] == "approval" and task["excludedApprovers"] == ["alice"]
    rest = refusals["rest"]
    assert rest.status_code == 403
    assert rest.headers["content-type"].startswith("application/problem+json")
    assert "four eyes" in rest.json()["detail"] and "'alice' may not approve" in rest.json()["detail"]
    assert refusals["listed"] == []  # not offered to the caller
    assert refusals["mcp"].is_error and "four eyes" in refusals["mcp"].content[0].text
    [result] = results
    assert not result.is_error and result.content[0].text == "ship it"
    assert [c["arguments"] for c in _http_server.upstream.calls("echo")] == [{"text": "ship it"}]
    assert outcomes(hub, "up__echo") == [("alice", "ok"), ("alice", "approvalRequested")]


async def test_a_spent_daily_budget_refuses_with_its_reason_is_audited_and_counted_in_the_registry(
    hub: LiveHub, folder: Path, _http_server: HttpUpstream
) -> None:
    _http_server.upstream.reset()
    carol, dave = user_token(hub, "carol"), user_token(hub, "dave")
    async with assistant(hub, carol) as client:
        made = [await client.call_tool("up__add", {"a": n, "b": 1}) for n in range(2)]
        spent = await client.call_tool("up__add", {"a": 9, "b": 1})
    async with assistant(hub, dave) as client:
        third = await client.call_tool("up__add", {"a": 3, "b": 1})
        tool_spent = await client.call_tool("up__add", {"a": 4, "b": 1})
    assert [r.structured_content for r in made] == [{"sum": 1}, {"sum": 2}]
    assert spent.is_error and spent.structured_content is not None
    error = spent.structured_content["error"]
    assert (error["type"], error["budget"], error["limit"]) == ("budget", "principal", 2)
    assert "AGENTHUB_GATEWAY_PRINCIPAL_DAILY_CALLS" in error["message"] and error["retryAfterSeconds"] >= 1
    assert third.structured_content == {"sum": 4}
    assert tool_spent.is_error and tool_spent.structured_content is not None
    assert tool_spent.structured_content["error"]["budget"] == "tool"
    assert [c["arguments"]["a"] for c in _http_server.upstream.calls("add")] == [0, 1, 3]
    assert outcomes(hub, "up__add") == [("dave", "budget"), ("dave", "ok"), ("carol", "budget"), ("carol", "ok"),
                                        ("carol", "ok")]
    registry = Registry.open(f"sqlite:///{folder / 'hub.db'}")
    try:
        day = datetime.now(UTC).date().isoformat()
        assert (registry.budgets.used("principal:carol", day), registry.budgets.used("tool:up__add", day)) == (2, 3)
    finally:
        registry.close()


async def test_budgets_hold_after_the_hub_restarts(tmp_path: Path, _http_server: HttpUpstream) -> None:
    (tmp_path / "policies.json").write_text("[]")
    first, context = serve(tmp_path, _http_server, register=True)
    try:
        alice = user_token(first, "alice")
        async with assistant(first, alice) as client:
            for n in range(2):
                assert not (await client.call_tool("up__add", {"a": n, "b": 0})).is_error
    finally:
        context.__exit__(None, None, None)
    again, context = serve(tmp_path, _http_server, register=False)
    try:
        async with assistant(again, alice) as client:
            refused = await client.call_tool("up__add", {"a": 5, "b": 0})
    finally:
        context.__exit__(None, None, None)
    assert refused.is_error and refused.structured_content is not None
    assert refused.structured_content["error"]["type"] == "budget"
