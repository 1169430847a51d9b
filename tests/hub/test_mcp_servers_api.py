"""``/api/v1/mcp-servers``: register upstream MCP servers over REST, review and approve their tools.

The routes run in a minimal Starlette app whose middleware sets the caller's
principal (the hub's guard does that in the real app; one test goes through
the real app too). Requirements covered: M6 (the caller's token never goes
upstream), M11 (review and approval), M18 (no secret in an answer or a table),
M19 (a command is an argv, run without a shell).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from engine import Engine, WorkerRegistry
from engine.ports import ManualClock
from engine.scheduler import run_until_idle
from hub.api import mcp_servers
from hub.api.common import Hub, problem_handlers
from hub.settings import HubSettings
from protocols.mcp.tool_task import McpToolTask
from registry import Principal, Registry, tool_hash
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.fixtures import CANARY, StdioUpstream
from tests.data.mcp_upstream.upstream import HttpUpstream, default_tools
from tests.hub.harness import AsPrincipal, LiveHub, serve_hub

# The upstream fixtures this module uses: assigned, so that pytest finds them and ruff sees no redefinition.
_http_server = fixtures._http_server
http_upstream = fixtures.http_upstream
stdio_upstream = fixtures.stdio_upstream

DATA = Path(__file__).resolve().parents[1] / "data" / "mcp_upstream"
CALLER_TOKEN = "ahk_caller00_hub-callers-own-token-must-never-travel-upstream"
BASE = "/api/v1/mcp-servers"


class Api:
    def __init__(self, root: Path) -> None:
        self.url = f"sqlite:///{root / 'agenthub.db'}"
        self.engine = Engine.open(self.url, clock=ManualClock())
        self.registry = Registry.open(self.url)
        # the upstreams listen on loopback, which registration reaches only when the allow-list admits it
        settings = HubSettings(http_allow="127.0.0.1")
        self.hub = Hub(engine=self.engine, registry=self.registry, workers=WorkerRegistry(), settings=settings)

    def client(self, *scopes: str) -> TestClient:
        app = Starlette(
            routes=mcp_servers.routes,
            exception_handlers=problem_handlers,
            middleware=[Middleware(AsPrincipal, principal=Principal("tester", frozenset(scopes)))],
        )
        app.state.hub = self.hub
        return TestClient(app, headers={"Authorization": f"Bearer {CALLER_TOKEN}"})

    def close(self) -> None:
        self.engine.close()
        self.registry.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    opened = Api(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def admin(api: Api) -> Iterator[TestClient]:
    with api.client("admin") as client:
        yield client


def test_an_admin_registers_a_server_and_only_its_own_credential_goes_upstream(
    api: Api, admin: TestClient, http_upstream: HttpUpstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """M6 and M18: upstream sees the entry's bearer secret, never the caller's token; no answer holds a secret."""
    monkeypatch.setenv("UPSTREAM_TOKEN", CANARY)
    body = {"name": "upstream", "url": http_upstream.url, "bearerEnv": "UPSTREAM_TOKEN", "timeoutSeconds": 20}
    created = admin.post(BASE, json=body)
    assert created.status_code == 201, created.text
    hashes = {t["name"]: t["hash"] for t in created.json()["tools"]}
    assert hashes == {name: tool_hash(t) for name, t in default_tools().items()}
    assert created.json()["bearerEnv"] == "UPSTREAM_TOKEN" and created.json()["transport"] == "http"

    answers = [
        created,
        admin.get(BASE),
        admin.get(f"{BASE}/upstream"),
        admin.get(f"{BASE}/upstream/tools?refresh=true"),
    ]
    assert all(a.status_code == 200 for a in answers[1:])
    assert [s["name"] for s in answers[1].json()["items"]] == ["upstream"]
    assert {t["state"] for t in answers[2].json()["tools"]} == {"approved"}
    for answer in answers:
        assert CANARY not in answer.text
    assert set(http_upstream.authorizations()) == {f"Bearer {CANARY}"}
    assert not any(CALLER_TOKEN in json.dumps(e) for e in http_upstream.upstream.ledger)
    for stored in tmp_path.glob("agenthub.db*"):
        assert CANARY.encode() not in stored.read_bytes()

    api.engine.deploy([("mcp_add.bpmn", (DATA / "mcp_add.bpmn").read_bytes())])
    key = api.engine.start("mcp_add", {"a": 20, "b": 22}).key
    workers = WorkerRegistry()
    workers.register("mcp", McpToolTask(api.registry))
    run_until_idle(api.engine, workers, timeout_s=60)
    assert api.engine.instance(key).variables["sum"] == {"sum": 42}


def test_a_stdio_command_is_an_argv_run_without_a_shell(
    admin: TestClient, stdio_upstream: StdioUpstream, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    argv = [*stdio_upstream.argv(), ";", "touch", str(marker), "&&", f"$(touch {marker})"]
    created = admin.post(BASE, json={"name": "local", "command": argv})
    assert created.status_code == 201, created.text
    assert created.json()["command"] == argv and created.json()["transport"] == "stdio"
    assert not marker.exists()


def test_review_shows_changed_fields_and_approval_needs_the_reviewed_hash(
    admin: TestClient, http_upstream: HttpUpstream
) -> None:
    assert admin.post(BASE, json={"name": "upstream", "url": http_upstream.url}).status_code == 201
    http_upstream.upstream.tools["echo"]["annotations"] = {"destructiveHint": True}
    review = admin.get(f"{BASE}/upstream/tools", params={"refresh": "true"}).json()
    assert review["sync"]["changed"] == ["echo"]
    [echo] = [t for t in review["items"] if t["name"] == "echo"]
    assert (echo["state"], echo["callable"], echo["changedFields"]) == ("changed", False, ["annotations"])

    stale = admin.post(f"{BASE}/upstream/approve", json={"tool": "echo", "hash": "0" * 64})
    assert stale.status_code == 409 and stale.json()["hash"] == echo["hash"]
    approved = admin.post(f"{BASE}/upstream/approve", json={"tool": "echo", "hash": echo["hash"]})
    assert approved.status_code == 200 and approved.json()["approved"] == ["echo"]
    assert admin.post(f"{BASE}/upstream/approve").json()["approved"] == []


def test_removing_a_server_forgets_it(admin: TestClient, http_upstream: HttpUpstream) -> None:
    assert admin.post(BASE, json={"name": "upstream", "url": http_upstream.url}).status_code == 201
    assert admin.delete(f"{BASE}/upstream").status_code == 204
    gone = admin.get(f"{BASE}/upstream")
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert "no MCP server named 'upstream'" in gone.json()["detail"]


def test_reading_needs_read_and_changing_needs_admin(api: Api, http_upstream: HttpUpstream) -> None:
    with api.client("admin") as admin:
        assert admin.post(BASE, json={"name": "upstream", "url": http_upstream.url}).status_code == 201
    with api.client("read") as reader:
        assert reader.get(BASE).status_code == 200
        assert reader.get(f"{BASE}/upstream/tools").status_code == 200
        for response in (
            reader.post(BASE, json={"name": "other", "url": http_upstream.url}),
            reader.post(f"{BASE}/upstream/approve"),
            reader.delete(f"{BASE}/upstream"),
        ):
            assert response.status_code == 403
            assert response.json()["requiredScope"] == "admin"
    with api.client("start") as starter:
        assert starter.get(BASE).status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"url": "http://127.0.0.1:1/mcp"}, 400, "'name' is required"),
        ({"name": "x"}, 400, "give either 'url'"),
        ({"name": "x", "url": "http://127.0.0.1:1/mcp", "command": ["prog"]}, 400, "give either 'url'"),
        ({"name": "x", "command": ["prog", 1]}, 400, "'command' must be an array of strings"),
        ({"name": "x", "url": "http://127.0.0.1:1/mcp", "headers": {"X": 1}}, 400, "'headers' must map"),
        ({"name": "x", "url": "ftp://127.0.0.1/mcp"}, 400, "starting with http:// or https://"),
        ({"name": "x", "url": "http://127.0.0.1:1/mcp", "bearerEnv": "UNSET_VAR_4711"}, 400, "UNSET_VAR_4711"),
        ({"name": "x", "url": "http://127.0.0.1:1/mcp", "timeoutSeconds": 5}, 502, "cannot be reached"),
    ],
)
def test_a_bad_registration_is_refused_with_a_problem_saying_why(
    admin: TestClient, body: dict[str, Any], status: int, detail: str
) -> None:
    answer = admin.post(BASE, json=body)
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["detail"]
    assert admin.get(BASE).json()["items"] == []


def test_a_name_taken_is_refused_before_the_server_is_contacted(admin: TestClient, http_upstream: HttpUpstream) -> None:
    assert admin.post(BASE, json={"name": "upstream", "url": http_upstream.url}).status_code == 201
    requests = len(http_upstream.upstream.events("request"))
    assert admin.post(BASE, json={"name": "upstream", "url": http_upstream.url}).status_code == 409
    assert len(http_upstream.upstream.events("request")) == requests


@pytest.fixture
def loopback_hub(tmp_path: Path) -> Iterator[LiveHub]:
    """A live hub whose egress allow-list admits loopback, where the upstream listens."""
    with serve_hub(tmp_path, http_allow="127.0.0.1") as live:
        yield live


def test_through_the_real_hub_the_callers_token_never_reaches_the_upstream(
    loopback_hub: LiveHub, http_upstream: HttpUpstream
) -> None:
    """M6 end to end: the admin's hub token authenticates the registration and stays in the hub."""
    live_hub = loopback_hub
    with live_hub.client() as client:
        created = client.post(BASE, json={"name": "upstream", "url": http_upstream.url})
        assert created.status_code == 201, created.text
        assert client.get(f"{BASE}/upstream/tools", params={"refresh": "true"}).status_code == 200
    with httpx.Client(base_url=live_hub.url, timeout=30) as anonymous:
        assert anonymous.get(BASE).status_code == 401
    assert http_upstream.upstream.events("request")
    assert not any(live_hub.admin in json.dumps(e) for e in http_upstream.upstream.ledger)
    assert set(http_upstream.authorizations()) == {None}
