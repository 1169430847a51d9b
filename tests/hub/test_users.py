"""Local users (issue 12): people with groups, added with ``agenthub user``, whose tokens authenticate as them.

Each test drives the real ``agenthub`` executable on the live hub's own database, and the hub over real HTTP.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from registry import Registry
from tests.hub.harness import LiveHub

AGENTHUB = Path(sys.executable).parent / "agenthub"
TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


class Cli:
    """``agenthub`` on one database; ``run`` answers whatever happened, the others insist on success."""

    def __init__(self, db: str) -> None:
        self.db = db

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AGENTHUB), *args, "--db", self.db], capture_output=True, text=True, timeout=120, check=False
        )

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.run(*args)
        assert result.returncode == 0, f"agenthub {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def lines(self, *args: str) -> list[str]:
        return self(*args).stdout.splitlines()

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def error(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 2, f"agenthub {' '.join(args)} did not fail:\n{result.stdout}\n{result.stderr}"
        assert result.stdout == ""
        return result.stderr.strip()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(f"sqlite:///{tmp_path / 'hub.db'}")  # the database the live_hub fixture serves


def started_by(hub: LiveHub, token: str) -> str:
    """Who the hub thinks ``token`` is: the owner of an instance started with it."""
    with hub.client(token) as c:
        answer = c.post("/api/v1/process-instances", json={"processId": "straight", "variables": {"amount": 1}})
        assert answer.status_code == 201, answer.text
        key = answer.json()["instance"]
        return str(c.get(f"/api/v1/process-instances/{key}").json()["startedBy"])


def refused_within(hub: LiveHub, token: str, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # the guard caches a verified token for two seconds
        with hub.client(token) as c:
            if c.get("/api/v1/incidents").status_code == 401:
                return True
        time.sleep(0.25)
    return False


def test_users_are_added_with_groups_and_listed_as_a_table_and_as_json(live_hub: LiveHub, cli: Cli) -> None:
    assert cli.lines("user", "list") == ["no users"]
    assert cli.json("user", "list") == []
    added = cli("user", "add", "ada", "--name", "Ada Lovelace", "--groups", "ops,finance,ops")
    assert added.stdout == "added user ada 'Ada Lovelace' in groups finance, ops\n"
    cli("user", "add", "bob@example.com")
    header, ada, bob = cli.lines("user", "list")
    assert header.split() == ["ID", "NAME", "GROUPS", "CREATED", "(UTC)"]
    assert re.fullmatch(rf"ada\s+Ada Lovelace\s+finance,ops\s+{TIME}", ada), ada
    assert re.fullmatch(rf"bob@example.com\s+bob@example.com\s+{TIME}", bob), bob
    listed = cli.json("user", "list")
    assert [(u["id"], u["name"], u["groups"]) for u in listed] == [
        ("ada", "Ada Lovelace", ["finance", "ops"]),
        ("bob@example.com", "bob@example.com", []),
    ]
    assert all(isinstance(u["createdAt"], int) for u in listed)
    with live_hub.client() as c:
        assert c.get("/api/v1/users").json() == {"items": listed}  # the CLI's --json is the REST shape


def test_a_users_token_acts_as_the_user_until_the_user_is_removed(live_hub: LiveHub, cli: Cli) -> None:
    live_hub.deploy("straight.bpmn")
    cli("user", "add", "ada", "--name", "Ada", "--groups", "ops")
    created = cli("token", "create", "--user", "ada", "--scopes", "read,start", "--name", "laptop")
    secret = created.stdout.splitlines()[-1]
    assert re.fullmatch(r"ahk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", secret)
    assert "for user ada" in created.stderr
    machine = cli("token", "create", "--scopes", "read,start", "--name", "ci").stdout.splitlines()[-1]
    assert started_by(live_hub, secret) == "ada"
    assert started_by(live_hub, machine) == "ci"
    [token] = [t for t in cli.json("token", "list") if t["name"] == "laptop"]
    assert token["user"] == "ada"
    assert any(re.match(r"\S+\s+laptop \(user ada\)\s+read,start", line) for line in cli.lines("token", "list"))

    changed = cli("user", "add", "ada", "--update", "--groups", "audit,finance")
    assert changed.stdout == "updated user ada 'Ada' in groups audit, finance\n"
    assert [u["groups"] for u in cli.json("user", "list")] == [["audit", "finance"]]
    assert started_by(live_hub, secret) == "ada"  # the same token, the same person, new groups

    removed = cli("user", "remove", "ada")
    assert removed.stdout == f"removed user ada; revoked token {token['id']}\n"
    assert refused_within(live_hub, secret)
    assert started_by(live_hub, machine) == "ci"  # machine tokens are not touched


def test_user_and_token_mistakes_are_refused_with_what_to_do(cli: Cli) -> None:
    cli("user", "add", "ada")
    assert "invalid user id 'not ok'" in cli.error("user", "add", "not ok")
    assert "invalid group name 'a/b'" in cli.error("user", "add", "bob", "--groups", "ops,a/b")
    taken = cli.error("user", "add", "ada", "--name", "Ada")
    assert "a user 'ada' exists already" in taken and "--update" in taken and "user remove" in taken
    assert cli.error("user", "remove", "nobody") == "error: no user 'nobody' (see `agenthub user list`)"
    assert cli.error("user", "add", "nobody", "--update", "--groups", "ops").startswith("error: no user 'nobody'")
    assert "nothing to change" in cli.error("user", "add", "ada", "--update")
    unknown = cli.error("token", "create", "--user", "nobody", "--scopes", "read")
    assert unknown == "error: no user 'nobody': add one with `agenthub user add nobody` first"
    assert "is a user's id" in cli.error("token", "create", "--scopes", "read", "--name", "ada")
    assert "unknown scope 'root'" in cli.error("token", "create", "--user", "ada", "--scopes", "root")
    assert [u["id"] for u in cli.json("user", "list")] == ["ada"]


def test_users_and_their_tokens_over_rest_with_problem_details_for_mistakes(live_hub: LiveHub, tmp_path: Path) -> None:
    live_hub.deploy("straight.bpmn")
    with live_hub.client() as admin:
        added = admin.post("/api/v1/users", json={"id": "ada", "name": "Ada", "groups": ["ops", "ops"]})
        assert added.status_code == 201 and added.json()["groups"] == ["ops"]
        issued = admin.post("/api/v1/tokens", json={"user": "ada", "scopes": ["read", "start"]})
        assert issued.status_code == 201 and issued.json()["user"] == "ada" and issued.json()["name"] == "token"
        secret = issued.json()["token"]
        assert started_by(live_hub, secret) == "ada"
        changed = admin.patch("/api/v1/users/ada", json={"groups": ["finance"]})
        assert changed.status_code == 200 and changed.json()["groups"] == ["finance"]

        for body, status, detail in (
            ({"id": "ada"}, 409, "exists already"),
            ({"id": "no way"}, 400, "invalid user id"),
            ({"id": "bob", "groups": "ops"}, 400, "'groups' must be an array"),
            ({"name": "Bob"}, 400, "'id' is required"),
        ):
            answer = admin.post("/api/v1/users", json=body)
            assert answer.status_code == status and detail in answer.json()["detail"], answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
        unknown = admin.post("/api/v1/tokens", json={"user": "bob", "scopes": ["read"]})
        assert unknown.status_code == 404 and "no user 'bob'" in unknown.json()["detail"]
        assert admin.post("/api/v1/tokens", json={"scopes": ["read"]}).status_code == 400  # a machine needs a name
        assert admin.delete("/api/v1/users/bob").status_code == 404

        assert admin.patch("/api/v1/users/ada", json={}).status_code == 400

        removed = admin.delete("/api/v1/users/ada")
        assert removed.json() == {"removed": "ada", "revokedTokens": [issued.json()["id"]]}
        assert admin.get("/api/v1/users").json() == {"items": []}
    registry = Registry.open(f"sqlite:///{tmp_path / 'hub.db'}")  # the live hub's database
    try:
        events = registry.store.events("user:ada")
    finally:
        registry.close()
    admin_name = "admin (AGENTHUB_ADMIN_TOKEN)"  # the admin token live_hub seeds, who made each change
    assert [(e["kind"], e["actor"]) for e in reversed(events)] == [
        ("user.added", admin_name), ("user.updated", admin_name), ("user.removed", admin_name)
    ]
    with live_hub.client(live_hub.token("read")) as reader:
        assert reader.get("/api/v1/users").status_code == 403  # users are the admin's
    assert refused_within(live_hub, secret)
