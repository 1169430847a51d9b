"""Who may approve an agent's tool call (issue "people", part 5), on a live hub over REST, MCP and the CLI.

The complaint example's refund over 50 waits for finance. Sam (in finance) starts the complaint, Ada the customer
answers the agent's question; neither may approve (four eyes). Fay and Gus are finance, Bob support. Variants of
the example's policy add ``candidateUsers``, ``allowMachines`` and ``approvals="2"``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from hub.settings import HubSettings
from tests.hub.harness import LiveHub, start_hub
from tests.hub.test_agent_hub import _complaint_workers
from tests.hub.test_users import Cli
from tests.ports import free_port

COMPLAINT = Path(__file__).resolve().parents[2] / "examples" / "complaint"
POLICY = 'candidateGroups="finance" reason="refunds over 50 need finance approval"'


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    port = free_port()
    settings = HubSettings(db=f"sqlite:///{tmp_path / 'hub.db'}", port=port, admin_token="ahk_00000000_" + "a" * 43)
    server, thread = start_hub(settings, _complaint_workers())
    try:
        yield LiveHub(url=f"http://127.0.0.1:{port}", port=port, admin=settings.admin_token or "",
                      app=server.config.app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def cli(hub: LiveHub, tmp_path: Path) -> Cli:
    return Cli(f"sqlite:///{tmp_path / 'hub.db'}")  # the database the hub serves


@pytest.fixture
def tokens(hub: LiveHub) -> dict[str, str]:
    """A token for each person: sam and fay and gus in finance, bob in support, ada the customer, root an admin
    (made by the admin over REST: a dozen CLI processes cost more than the tests; tests/hub/test_users.py covers
    the CLI's side)."""
    made = {}
    with hub.client() as admin:
        for user, groups, scopes in (("sam", "finance", "read,start,tasks"), ("fay", "finance", "read,tasks"),
                                     ("gus", "finance", "read,tasks"), ("bob", "support", "read,tasks"),
                                     ("ada", "", "read,tasks"), ("root", "ops", "admin")):
            admin.post("/api/v1/users", json={"id": user, "name": user.title(),
                                              "groups": groups.split(",") if groups else []}).raise_for_status()
            answer = admin.post("/api/v1/tokens", json={"user": user, "name": user, "scopes": scopes.split(",")})
            answer.raise_for_status()
            made[user] = answer.json()["token"]
    return made


def deploy(hub: LiveHub, extra: str = "") -> None:
    """The complaint example, its refund policy with ``extra`` attributes."""
    bpmn = (COMPLAINT / "complaint.bpmn").read_text()
    assert POLICY in bpmn
    files = [("files", ("complaint.bpmn", bpmn.replace(POLICY, f"{POLICY} {extra}").encode(), "application/xml")),
             ("files", ("agent-rules.json", (COMPLAINT / "agent-rules.json").read_bytes(), "application/json"))]
    with hub.client() as c:
        c.post("/api/v1/deployments", files=files).raise_for_status()


def wait_for(hub: LiveHub, instance: int, element: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    with hub.client() as c:
        while time.monotonic() < deadline:
            listed = c.get("/api/v1/user-tasks", params={"instance": instance, "all": "true"}).json()["items"]
            found = [t for t in listed if t["element"] == element and t["state"] == "created"]
            if found:
                return dict(found[0])
            time.sleep(0.1)
    raise AssertionError(f"no open task {element} on instance {instance}")


def refund_approval(hub: LiveHub, tokens: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """Sam starts a complaint, Ada wants a refund: the instance and its approval task."""
    with hub.client(tokens["sam"]) as sam:
        started = sam.post("/api/v1/process-instances", json={"processId": "complaint", "variables": {
            "customer": "ada", "orderId": "A-100", "complaint": "My kettle never arrived."}})
        assert started.status_code == 201, started.text
    instance = int(started.json()["instance"])
    question = wait_for(hub, instance, "ask_customer")
    with hub.client(tokens["ada"]) as ada:
        ada.post(f"/api/v1/user-tasks/{question['id']}/complete",
                 json={"variables": {"choice": "refund"}}).raise_for_status()
    return instance, wait_for(hub, instance, "propose_refund")


def task(hub: LiveHub, key: int) -> dict[str, Any]:
    with hub.client() as c:
        return dict(c.get(f"/api/v1/user-tasks/{key}").json())


def journal(hub: LiveHub, instance: int, kind: str) -> list[dict[str, Any]]:
    with hub.client() as c:
        items = c.get(f"/api/v1/process-instances/{instance}/journal", params={"limit": 1000}).json()["items"]
    return [e["data"] for e in items if e["type"] == kind]


def approve(hub: LiveHub, token: str, key: int, approved: bool = True) -> Any:
    with hub.client(token) as c:
        return c.post(f"/api/v1/user-tasks/{key}/complete", json={"variables": {"approved": approved}})


def assert_refused(answer: Any, *words: str) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    for word in words:
        assert word in answer.json()["detail"], answer.json()["detail"]


async def over_mcp(hub: LiveHub, token: str, key: int) -> Any:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
        Client(streamable_http_client(f"{hub.url}/mcp", http_client=http)) as client,
    ):
        return await client.call_tool("agenthub_complete_user_task", {"task": key, "variables": {"approved": True}})


def test_only_finance_other_than_the_requester_approves_the_refund_over_rest(hub: LiveHub, tokens: dict[str, str]
                                                                              ) -> None:
    deploy(hub)
    instance, approval = refund_approval(hub, tokens)
    assert approval["candidateGroups"] == ["finance"] and approval["candidateUsers"] == []
    assert approval["approvers"] == 1 and approval["excludedApprovers"] == ["sam", "ada"]
    key = approval["id"]

    assert_refused(approve(hub, tokens["bob"], key), "'bob' may not complete", "group 'finance'")
    assert_refused(approve(hub, tokens["sam"], key), "'sam' may not approve", "four eyes")
    assert_refused(approve(hub, tokens["ada"], key), "four eyes")
    with hub.client(tokens["sam"]) as sam:  # not in sam's task list either, finance as he is
        assert sam.get("/api/v1/user-tasks", params={"instance": instance}).json()["items"] == []
    assert task(hub, key)["state"] == "created" and journal(hub, instance, "agent_approval_decided") == []

    done = approve(hub, tokens["fay"], key)
    assert done.status_code == 200 and done.json()["state"] == "completed"
    [decided] = journal(hub, instance, "agent_approval_decided")
    assert decided["approver"] == "fay" and decided["approved"] is True
    assert decided["by"] == {"id": "fay", "name": "Fay", "channel": "rest", "person": True, "groups": ["finance"]}
    assert decided["argumentsHash"] == approval["argumentsHash"]


def test_a_machine_client_approves_over_mcp_only_where_the_policy_allows_machines(hub: LiveHub,
                                                                                  tokens: dict[str, str]) -> None:
    with hub.client() as c:
        made = c.post("/api/v1/tokens", json={"name": "robot", "scopes": ["read", "tasks"]})
        made.raise_for_status()
    robot = str(made.json()["token"])
    deploy(hub, 'candidateUsers="robot"')
    _, approval = refund_approval(hub, tokens)
    assert approval["candidateUsers"] == ["robot"] and approval["allowMachines"] is False
    refused = anyio.run(over_mcp, hub, robot, approval["id"])
    assert refused.is_error and refused.structured_content is not None
    assert refused.structured_content["error"]["type"] == "forbidden"
    assert "machine client" in refused.structured_content["error"]["message"]
    assert task(hub, approval["id"])["state"] == "created"
    by_fay = anyio.run(over_mcp, hub, tokens["fay"], approval["id"])  # a finance person may, over MCP too
    assert not by_fay.is_error, by_fay
    assert task(hub, approval["id"])["state"] == "completed"

    deploy(hub, 'candidateUsers="robot" allowMachines="true"')
    instance, allowed = refund_approval(hub, tokens)
    assert allowed["allowMachines"] is True
    done = anyio.run(over_mcp, hub, robot, allowed["id"])
    assert not done.is_error, done
    [decided] = journal(hub, instance, "agent_approval_decided")
    assert decided["approver"] == "robot" and decided["by"]["channel"] == "mcp" and decided["by"]["person"] is False


def test_two_approvers_must_be_distinct_and_an_admin_override_is_recorded(hub: LiveHub, cli: Cli,
                                                                          tokens: dict[str, str]) -> None:
    deploy(hub, 'approvals="2"')
    instance, approval = refund_approval(hub, tokens)
    key = approval["id"]
    assert approval["approvers"] == 2 and approval["approvedBy"] == []

    first = cli("complete", str(key), "--vars", '{"approved": true}', "--as", "fay").stdout
    assert first == f"approved user task {key}: 1 of 2 approvals, it waits for the others\n"
    assert task(hub, key)["state"] == "created" and task(hub, key)["approvedBy"] == ["fay"]
    again = cli.error("complete", str(key), "--vars", '{"approved": true}', "--as", "fay")
    assert "'fay' may not approve" in again and "2 distinct approvers" in again
    assert_refused(approve(hub, tokens["fay"], key), "approved this call already")
    [given] = journal(hub, instance, "agent_approval_given")
    assert given["by"]["id"] == "fay" and given["by"]["channel"] == "cli" and given["argumentsHash"]

    assert_refused(approve(hub, tokens["sam"], key), "four eyes")  # an admin could not lift it either
    done = approve(hub, tokens["root"], key)  # not finance: an admin's override, recorded as one
    assert done.status_code == 200 and done.json()["state"] == "completed"
    [decided] = journal(hub, instance, "agent_approval_decided")
    assert decided["approvers"] == ["fay", "root"] and decided["by"]["override"] is True
    assert decided["by"]["id"] == "root" and decided["by"]["groups"] == ["ops"]
    text = cli("journal", str(instance)).stdout
    assert "propose_refund: approval 1 of 2 by fay (via cli)" in text
    assert "propose_refund: approved by root (override, via rest)" in text


def test_one_rejection_rejects_the_refund_that_needs_two_approvers(hub: LiveHub, tokens: dict[str, str]) -> None:
    deploy(hub, 'approvals="2"')
    instance, approval = refund_approval(hub, tokens)
    assert approve(hub, tokens["fay"], approval["id"]).json()["state"] == "created"
    assert approve(hub, tokens["gus"], approval["id"], approved=False).json()["state"] == "completed"
    [decided] = journal(hub, instance, "agent_approval_decided")
    assert decided["approved"] is False and decided["approver"] == "gus"
    deadline = time.monotonic() + 30
    with hub.client() as c:
        while (view := c.get(f"/api/v1/process-instances/{instance}").json())["state"] != "completed":
            assert time.monotonic() < deadline, view
            time.sleep(0.1)
    assert "could not be made" in view["variables"]["resolution"]["response"]  # the refund never ran
