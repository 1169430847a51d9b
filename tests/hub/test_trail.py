"""The trail (issue "people", part 7): every command that changes state records who made it, and how.

A person (a user's token), a machine client (a machine token) and the local operator (the CLI, with and without
``--as``) start, message, set variables, retry, cancel and assign, over real HTTP, MCP and the real ``agenthub``
executable; the instance's journal then says who did each step (``by``: id and channel), as JSON over REST and as
text from ``agenthub journal``. Registry changes name their actor in the audit (``agenthub audit``,
``GET /api/v1/audit``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.client import ClientConfig, ClientFactory
from a2a.types import TaskState
from a2a.utils.constants import TransportProtocol

from hub.console import operator
from tests.hub.harness import LiveHub, assistant, one_user_task
from tests.hub.test_users import Cli
from tests.protocols.a2a.harness import message, send

PAYMENT = Path(__file__).resolve().parents[1] / "data" / "cli" / "payment.bpmn"
ADMIN = "admin (AGENTHUB_ADMIN_TOKEN)"  # the name of the admin token live_hub seeds
REVIEW = one_user_task("review", "Approve", "managers")


@pytest.fixture
def cli(live_hub: LiveHub, tmp_path: Path) -> Cli:
    return Cli(f"sqlite:///{tmp_path / 'hub.db'}")  # the database the live_hub fixture serves


def people(hub: LiveHub, cli: Cli) -> dict[str, str]:
    """Alice, a person in 'managers' (her token made with the CLI), and 'robot', a machine (its token over REST)."""
    cli("user", "add", "alice", "--name", "Alice", "--groups", "managers")
    alice = cli("token", "create", "--user", "alice", "--scopes", "read,start,tasks").stdout.splitlines()[-1]
    with hub.client() as admin:
        made = admin.post("/api/v1/tokens", json={"name": "robot", "scopes": ["read", "start", "tasks"]})
        assert made.status_code == 201, made.text
    return {"alice": alice, "robot": made.json()["token"]}


def journal(hub: LiveHub, instance: int) -> list[dict[str, Any]]:
    with hub.client() as c:
        answer = c.get(f"/api/v1/process-instances/{instance}/journal", params={"limit": 1000})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])


def who_did(entries: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The ``by`` of every entry of this type, in order."""
    return [e["data"]["by"] for e in entries if e["type"] == kind and "by" in (e["data"] or {})]


def ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def test_the_journal_names_the_person_and_the_machine_behind_each_step_over_rest(live_hub: LiveHub, cli: Cli) -> None:
    tokens = people(live_hub, cli)
    cli("deploy", str(PAYMENT))
    with live_hub.client(tokens["alice"]) as alice, live_hub.client(tokens["robot"]) as robot:
        started = ok(alice.post("/api/v1/process-instances",
                                json={"processId": "payment", "variables": {"orderId": "x", "price": 10}}), 201)
        key = started["instance"]
        assert started["startedBy"] == "alice"
        ok(robot.post("/api/v1/messages", json={"name": "payment-received", "correlationKey": "x",
                                                "variables": {"amount": 3}}), 201)
        [incident] = ok(robot.get("/api/v1/incidents", params={"instance": key}))["items"]
        ok(alice.post(f"/api/v1/process-instances/{key}/variables", json={"variables": {"amount": 10}}))
        ok(robot.post(f"/api/v1/incidents/{incident['id']}/resolve"))
        ok(alice.post("/api/v1/signals", json={"name": "shutdown"}), 201)
    entries = journal(live_hub, key)
    assert who_did(entries, "instance_started") == [
        {"id": "alice", "channel": "rest", "person": True, "name": "Alice", "groups": ["managers"]}
    ]
    robot_by = {"id": "robot", "channel": "rest", "person": False}
    assert who_did(entries, "event_received") == [robot_by, who_did(entries, "instance_started")[0]]
    assert [(e["data"]["kind"], e["elementId"]) for e in entries if e["type"] == "event_received"] == [
        ("message", "Paid"), ("signal", "Stop")
    ]
    [names] = [e["data"]["variables"] for e in entries if e["type"] == "variables_set"]
    assert names == ["amount"]  # the names only: the values are in variables_updated
    assert [b["id"] for b in who_did(entries, "variables_set")] == ["alice"]
    assert who_did(entries, "incident_resolved") == [robot_by]
    assert entries[-1]["type"] == "instance_completed"


def test_a_cancel_and_an_assignment_record_who_and_an_admin_override(live_hub: LiveHub, cli: Cli) -> None:
    tokens = people(live_hub, cli)
    cli("deploy", str(PAYMENT))
    with live_hub.client() as admin:
        ok(admin.post("/api/v1/deployments", files=[("files", ("review.bpmn", REVIEW, "application/xml"))]), 201)
    with live_hub.client(tokens["alice"]) as alice, live_hub.client(tokens["robot"]) as robot:
        key = ok(robot.post("/api/v1/process-instances",
                            json={"processId": "payment", "variables": {"orderId": "y", "price": 1}}), 201)["instance"]
        ok(alice.post(f"/api/v1/process-instances/{key}/cancel"))
        review = ok(robot.post("/api/v1/process-instances", json={"processId": "review"}), 201)["instance"]
        [task] = ok(alice.get("/api/v1/user-tasks", params={"instance": review}))["items"]
        ok(alice.post(f"/api/v1/user-tasks/{task['id']}/assignment", json={"assignee": "alice"}))
    with live_hub.client() as admin:  # the task is alice's now: only an admin's override may take it from her
        ok(admin.delete(f"/api/v1/user-tasks/{task['id']}/assignment"))
    assert [b["id"] for b in who_did(journal(live_hub, key), "instance_terminated")] == ["alice"]
    claims = [(e["data"]["assignee"], e["data"]["by"]) for e in journal(live_hub, review)
              if e["type"] == "user_task_claimed"]
    assert [(assignee, by["id"], by.get("override", False)) for assignee, by in claims] == [
        ("alice", "alice", False), (None, ADMIN, True)
    ]


def test_agenthub_journal_shows_who_did_each_step_and_for_whom_with_as(live_hub: LiveHub, cli: Cli) -> None:
    tokens = people(live_hub, cli)
    cli("deploy", str(PAYMENT))
    me = operator().name
    started = cli.json("start", "payment", "--vars", '{"orderId": "z", "price": 10}', "--as", "alice")
    key = started["instance"]
    assert cli.json("instance", str(key))["startedBy"] == "alice"  # acting for alice: the instance is hers
    cli("publish", "payment-received", "--key", "z", "--vars", '{"amount": 1}')
    [incident] = cli.json("incidents")
    cli("variables", str(key), "--vars", '{"amount": 10}', "--as", "alice")
    cli("retry", str(incident["id"]))
    with live_hub.client(tokens["robot"]) as robot:
        ok(robot.post(f"/api/v1/process-instances/{key}/cancel"))

    lines = cli.lines("journal", str(key))
    said = {line.split()[1]: line for line in lines if " — by " in line}
    assert said["instance_started"].endswith(f" — by alice (entered by {me}) via cli")
    assert said["event_received"].endswith(f" — by {me} via cli")
    assert said["variables_set"].endswith(f" — by alice (entered by {me}) via cli")
    assert '["amount"]' in said["variables_set"] and '"by"' not in said["variables_set"]
    assert said["incident_resolved"].endswith(f" — by {me} via cli")
    assert said["instance_terminated"].endswith(" — by robot via rest")

    as_json = cli.json("journal", str(key))  # the data as stored
    [started] = who_did(as_json, "instance_started")
    assert started is not None and (started["id"], started["channel"], started["operator"]) == ("alice", "cli", me)
    assert cli.error("start", "payment", "--as", "nobody").startswith("error: no user 'nobody'")


def test_registry_changes_show_in_the_audit_with_who_made_them_and_how(live_hub: LiveHub, cli: Cli) -> None:
    people(live_hub, cli)
    me = operator().name
    with live_hub.client() as admin:
        ok(admin.patch("/api/v1/users/alice", json={"groups": ["managers", "finance"]}))
        ok(admin.delete("/api/v1/tokens/robot"))
        audit = ok(admin.get("/api/v1/audit"))["items"]
        assert ok(admin.get("/api/v1/audit", params={"subject": "user:alice"}))["items"] == [
            e for e in audit if e["subject"] == "user:alice"
        ]
    kinds = [(e["kind"], e["actor"], (e["data"] or {}).get("by", {}).get("channel")) for e in audit]
    assert kinds[:5] == [  # newest first; the seeded admin token, made by no one, comes last
        ("token.revoked", ADMIN, "rest"), ("user.updated", ADMIN, "rest"), ("token.created", ADMIN, "rest"),
        ("token.created", me, "cli"), ("user.added", me, "cli"),
    ]
    assert [e["kind"] for e in cli.json("audit", "--subject", "user:alice")] == ["user.updated", "user.added"]
    lines = cli.lines("audit", "--limit", "3")
    assert lines[0].split() == ["AT", "(UTC)", "CHANGE", "SUBJECT", "BY", "DETAILS"]
    assert "token.revoked" in lines[1] and f"{ADMIN} via rest" in lines[1]
    assert "user.updated" in lines[2] and 'groups=["finance", "managers"]' in lines[2]
    with live_hub.client(live_hub.token("read")) as reader:
        assert reader.get("/api/v1/audit").status_code == 403  # the audit is the admin's


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_what_an_mcp_client_does_is_recorded_as_over_mcp(live_hub: LiveHub, cli: Cli, anyio_backend: str) -> None:
    tokens = people(live_hub, cli)
    live_hub.deploy("straight.bpmn", expose=True)
    cli("deploy", str(PAYMENT))
    with live_hub.client(tokens["alice"]) as alice:
        key = ok(alice.post("/api/v1/process-instances",
                            json={"processId": "payment", "variables": {"orderId": "m", "price": 1}}), 201)["instance"]
    async with assistant(live_hub, tokens["robot"]) as robot:
        sent = await robot.call_tool("agenthub_publish_message", {"name": "payment-received", "correlationKey": "m"})
        assert not sent.is_error, sent
        called = await robot.call_tool("straight", {"amount": 2})
        assert not called.is_error, called
    assert who_did(journal(live_hub, key), "event_received") == [{"id": "robot", "channel": "mcp", "person": False}]
    with live_hub.client() as admin:
        [straight] = ok(admin.get("/api/v1/process-instances", params={"processId": "straight"}))["items"]
    assert who_did(journal(live_hub, straight["instance"]), "instance_started") == [
        {"id": "robot", "channel": "mcp", "person": False}
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_instance_another_agent_starts_over_a2a_is_recorded_as_its(live_hub: LiveHub, cli: Cli,
                                                                            anyio_backend: str) -> None:
    tokens = people(live_hub, cli)
    live_hub.deploy("straight.bpmn")
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {tokens['robot']}"}, timeout=30) as http:
        config = ClientConfig(httpx_client=http, supported_protocol_bindings=[TransportProtocol.JSONRPC.value])
        client = await ClientFactory(config).create_from_url(f"{live_hub.url}/a2a/straight")
        async with client:
            task = await send(client, message(data={"amount": 3}))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert who_did(journal(live_hub, int(task.id)), "instance_started") == [
        {"id": "robot", "channel": "a2a", "person": False}
    ]
