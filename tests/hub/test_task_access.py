"""Who may complete a user task (issue 12, part 4): its assignee; while unassigned, its candidate users and groups;
anyone with 'tasks' when it names no one; an admin by override. Over REST, the ``agenthub`` CLI and MCP.

Every test runs against a live hub over real HTTP, with users and tokens made by the real ``agenthub`` executable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.hub.harness import LiveHub, assistant, one_user_task
from tests.hub.test_users import Cli

FINANCE = one_user_task("refund", "Approve the refund", "finance")


@pytest.fixture
def cli(live_hub: LiveHub, tmp_path: Path) -> Cli:
    return Cli(f"sqlite:///{tmp_path / 'hub.db'}")  # the database the live_hub fixture serves


def people(cli: Cli) -> dict[str, str]:
    """Ada in finance, Bob in support; each with a 'tasks' token."""
    tokens = {}
    for user, group in (("ada", "finance"), ("bob", "support")):
        cli("user", "add", user, "--groups", group)
        made = cli("token", "create", "--user", user, "--scopes", "read,tasks", "--name", f"{user}-laptop")
        tokens[user] = made.stdout.splitlines()[-1]
    return tokens


def refund_task(hub: LiveHub) -> tuple[int, int]:
    """A started refund: its instance and its open task (offered to the finance group)."""
    with hub.client() as c:
        if not c.get("/api/v1/process-definitions").text.count('"refund"'):
            files = [("files", ("refund.bpmn", FINANCE, "application/xml"))]
            c.post("/api/v1/deployments", files=files).raise_for_status()
        started = c.post("/api/v1/process-instances", json={"processId": "refund"})
        assert started.status_code == 201, started.text
        instance = int(started.json()["instance"])
        [task] = c.get("/api/v1/user-tasks", params={"instance": instance}).json()["items"]
        return instance, int(task["id"])


def task(hub: LiveHub, key: int) -> dict[str, Any]:
    with hub.client() as c:
        return dict(c.get(f"/api/v1/user-tasks/{key}").json())


def assert_refused(answer: Any, *words: str) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    for word in words:
        assert word in answer.json()["detail"]


def test_a_finance_user_completes_a_finance_task_and_a_support_user_is_refused(live_hub: LiveHub, cli: Cli) -> None:
    tokens = people(cli)
    _, key = refund_task(live_hub)
    before = task(live_hub, key)
    assert before["candidateGroups"] == ["finance"] and before["assignee"] is None and before["candidateUsers"] == []

    with live_hub.client(tokens["bob"]) as bob:
        assert_refused(bob.post(f"/api/v1/user-tasks/{key}/complete", json={"variables": {"ok": True}}),
                       "'bob' may not complete", "group 'finance'")
        claim = bob.post(f"/api/v1/user-tasks/{key}/assignment", json={"assignee": "bob"})
        assert_refused(claim, "'bob' may not claim")
        assert bob.get("/api/v1/user-tasks").json()["items"] == []  # not his to see
    assert task(live_hub, key) == before  # nothing changed

    with live_hub.client(tokens["ada"]) as ada:
        assert [t["id"] for t in ada.get("/api/v1/user-tasks").json()["items"]] == [key]
        done = ada.post(f"/api/v1/user-tasks/{key}/complete", json={"variables": {"ok": True}})
        assert done.status_code == 200, done.text
        assert done.json()["state"] == "completed"


def test_after_a_claim_only_the_assignee_may_complete_until_it_is_unclaimed(live_hub: LiveHub, cli: Cli) -> None:
    tokens = people(cli)
    cli("user", "add", "cy", "--groups", "finance")
    cy = cli("token", "create", "--user", "cy", "--scopes", "tasks", "--name", "cy").stdout.splitlines()[-1]
    _, key = refund_task(live_hub)

    with live_hub.client(tokens["ada"]) as ada, live_hub.client(cy) as other:
        claimed = ada.post(f"/api/v1/user-tasks/{key}/assignment", json={"assignee": "ada"})
        assert claimed.status_code == 200 and claimed.json()["assignee"] == "ada"
        assert other.get("/api/v1/user-tasks").json()["items"] == []  # now ada's, no longer the group's
        assert_refused(other.post(f"/api/v1/user-tasks/{key}/complete"), "only its assignee 'ada'")
        assert_refused(other.delete(f"/api/v1/user-tasks/{key}/assignment"), "assigned to 'ada'")
        assert_refused(other.post(f"/api/v1/user-tasks/{key}/assignment", json={"assignee": "cy"}))
        assert_refused(ada.post(f"/api/v1/user-tasks/{key}/assignment", json={"assignee": "cy"}), "needs an admin")
        assert task(live_hub, key)["assignee"] == "ada"

        assert ada.delete(f"/api/v1/user-tasks/{key}/assignment").json()["assignee"] is None
        assert other.post(f"/api/v1/user-tasks/{key}/claim").json()["assignee"] == "cy"  # the old route claims too
        assert other.post(f"/api/v1/user-tasks/{key}/complete").json()["state"] == "completed"


def test_an_admin_may_assign_to_anyone_and_complete_any_task_as_an_override(live_hub: LiveHub, cli: Cli) -> None:
    tokens = people(cli)
    _, key = refund_task(live_hub)
    with live_hub.client() as admin:
        assert admin.post(f"/api/v1/user-tasks/{key}/assignment", json={"assignee": "ada"}).json()["assignee"] == "ada"
        assert [t["id"] for t in admin.get("/api/v1/user-tasks", params={"all": "true"}).json()["items"]] == [key]
    with live_hub.client(tokens["bob"]) as bob:
        assert_refused(bob.get("/api/v1/user-tasks", params={"all": "true"}), "only an admin")
    with live_hub.client() as admin:
        done = admin.post(f"/api/v1/user-tasks/{key}/complete", json={"variables": {"ok": True}})
        assert done.status_code == 200 and done.json()["state"] == "completed"


def test_the_cli_claims_unclaims_and_completes_as_a_user_or_as_the_operator(live_hub: LiveHub, cli: Cli) -> None:
    people(cli)
    instance, key = refund_task(live_hub)
    [listed] = cli.json("tasks", "--as", "ada")
    assert listed["id"] == key and listed["candidateGroups"] == ["finance"] and listed["assignee"] is None
    assert cli.json("tasks", "--as", "bob") == []

    refused = cli.error("complete", str(key), "--vars", '{"ok": true}', "--as", "bob")
    assert "'bob' may not complete user task" in refused and "group 'finance'" in refused
    assert task(live_hub, key)["state"] == "created"

    assert cli("claim", str(key), "--user", "ada").stdout == f"user task {key} assigned to ada\n"
    assert task(live_hub, key)["assignee"] == "ada"
    assert cli("unclaim", str(key)).stdout == f"user task {key} unassigned\n"
    assert task(live_hub, key)["assignee"] is None

    assert cli("complete", str(key), "--vars", '{"ok": true}', "--as", "ada").stdout == f"completed user task {key}\n"
    assert task(live_hub, key)["state"] == "completed"

    second_instance, second = refund_task(live_hub)
    done = cli("complete", str(second), "--vars", '{"ok": true}').stdout
    assert done.startswith(f"completed user task {second} as cli:") and done.endswith(" (override)\n")
    assert "no user 'nobody'" in cli.error("complete", str(second), "--as", "nobody")
    with live_hub.client() as c:
        journal = c.get(f"/api/v1/process-instances/{instance}/journal").json()
        overridden = c.get(f"/api/v1/process-instances/{second_instance}/journal").json()
    claims = [e["data"]["assignee"] for e in journal["items"] if e["type"] == "user_task_claimed"]
    assert claims == ["ada", None]  # the claim and the unclaim are in the instance's journal
    [by_ada] = [e["data"] for e in journal["items"] if e["type"] == "user_task_completed"]
    assert by_ada.get("completedBy") == "ada"
    [by_operator] = [e["data"] for e in overridden["items"] if e["type"] == "user_task_completed"]
    assert by_operator["completedBy"].startswith("cli:") and by_operator["completedBy"].endswith(" (override)")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_mcp_task_tools_apply_the_same_rule(live_hub: LiveHub, cli: Cli, anyio_backend: str) -> None:
    tokens = people(cli)
    _, key = refund_task(live_hub)
    async with assistant(live_hub, tokens["bob"]) as bob:
        listed = await bob.call_tool("agenthub_list_user_tasks", {})
        assert listed.structured_content == {"tasks": [], "next": None}
        refused = await bob.call_tool("agenthub_complete_user_task", {"task": key, "variables": {"ok": True}})
        assert refused.is_error and refused.structured_content is not None
        assert refused.structured_content["error"]["type"] == "forbidden"
        assert "group 'finance'" in refused.structured_content["error"]["message"]
    assert task(live_hub, key)["state"] == "created"
    async with assistant(live_hub, tokens["ada"]) as ada:
        listed = await ada.call_tool("agenthub_list_user_tasks", {})
        assert listed.structured_content is not None and [t["id"] for t in listed.structured_content["tasks"]] == [key]
        done = await ada.call_tool("agenthub_complete_user_task", {"task": key, "variables": {"ok": True}})
        assert not done.is_error, done
    assert task(live_hub, key)["state"] == "completed"


def test_a_filtered_listing_pages_through_what_the_caller_may_see(live_hub: LiveHub, cli: Cli) -> None:
    tokens = people(cli)
    keys = [refund_task(live_hub)[1] for _ in range(3)]
    with live_hub.client() as admin:  # one of them is bob's now: ada no longer sees it
        admin.post(f"/api/v1/user-tasks/{keys[1]}/assignment", json={"assignee": "bob"}).raise_for_status()
    seen: list[int] = []
    after: int | None = None
    with live_hub.client(tokens["ada"]) as ada:
        while True:
            page = ada.get("/api/v1/user-tasks", params={"limit": 1, **({"after": after} if after else {})}).json()
            seen += [t["id"] for t in page["items"]]
            if (after := page["page"]["next"]) is None:
                break
    assert seen == [keys[0], keys[2]]
    with live_hub.client(tokens["bob"]) as bob:
        assert [t["id"] for t in bob.get("/api/v1/user-tasks").json()["items"]] == [keys[1]]
