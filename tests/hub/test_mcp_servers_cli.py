"""``agenthub mcp-server``: register upstream servers, review their tools, approve changes; no secret ever printed.

Most cases drive the typer app in-process; the stdio case runs the real
``agenthub`` executable, as an admin would. Requirements covered: M11 (the
review shows what changed; approval lets the process run), M18 (a secret is
never printed or stored), M19 (the full argv is shown and run without a shell).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from engine import Engine, WorkerRegistry
from engine.ports import ManualClock
from engine.scheduler import run_until_idle
from hub.commands.mcp_servers import app
from protocols.mcp.tool_task import McpToolTask
from registry import Registry, tool_hash
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.fixtures import CANARY, StdioUpstream
from tests.data.mcp_upstream.upstream import HttpUpstream, default_tools

# The upstream fixtures this module uses: assigned, so that pytest finds them and ruff sees no redefinition.
_http_server = fixtures._http_server
http_upstream = fixtures.http_upstream
stdio_upstream = fixtures.stdio_upstream

AGENTHUB = Path(sys.executable).parent / "agenthub"
DATA = Path(__file__).resolve().parents[1] / "data" / "mcp_upstream"


class Cli:
    def __init__(self, db: str) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> Result:
        # the upstreams listen on loopback, which registration reaches only when the allow-list admits it
        result = self.runner.invoke(app, [*args, "--db", self.db], env={"AGENTHUB_HTTP_ALLOW": "127.0.0.1"})
        assert result.exit_code == code, f"mcp-server {' '.join(args)}: {result.output}"
        return result


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'agenthub.db'}"


@pytest.fixture
def cli(db: str) -> Cli:
    return Cli(db)


@pytest.fixture
def registry(db: str) -> Iterator[Registry]:
    opened = Registry.open(db)
    yield opened
    opened.close()


def test_add_shows_each_tool_with_its_hash_and_registers_them_approved(
    cli: Cli, http_upstream: HttpUpstream, registry: Registry
) -> None:
    out = cli("add", "upstream", "--url", http_upstream.url, "--timeout", "30").stdout
    assert f"streamable HTTP {http_upstream.url}" in out
    for name, definition in default_tools().items():
        assert f"sha256:{tool_hash(definition)}" in out, name
    assert "registered MCP server 'upstream' with 8 tool(s) approved" in out
    assert all(t.callable for t in registry.mcp.tools("upstream"))
    assert "upstream" in cli("list").stdout and "8/8 tools callable" in cli("list").stdout
    [listed] = json.loads(cli("list", "--json").stdout)
    assert listed["url"] == http_upstream.url and listed["timeoutSeconds"] == 30


def test_tools_shows_what_changed_and_approve_lets_the_process_run(
    cli: Cli, http_upstream: HttpUpstream, registry: Registry, db: str
) -> None:
    cli("add", "upstream", "--url", http_upstream.url)
    tools = http_upstream.upstream.tools
    tools["echo"]["description"] = "Echo the text back, and keep a copy"
    tools["echo"]["annotations"] = {"destructiveHint": True}
    tools["multiply"] = {**tools["add"], "name": "multiply", "description": "Multiply"}
    del tools["argv"]

    out = cli("tools", "upstream").stdout
    assert "1 new, 1 changed, 1 removed, 6 unchanged" in out
    assert "echo" in out and "changed (blocked): annotations, description" in out
    assert "pending (new, blocked)" in out and "removed" in out
    report = json.loads(cli("tools", "upstream", "--json", "--no-refresh").stdout)
    states = {t["name"]: (t["state"], t["callable"], t["changedFields"]) for t in report["tools"]}
    assert states["echo"] == ("changed", False, ["annotations", "description"])
    assert states["multiply"] == ("pending", False, [])
    assert states["argv"][0] == "removed" and states["add"] == ("approved", True, [])

    stale = cli("approve", "upstream", "--tool", "echo", "--hash", "0" * 64, code=2)
    assert "changed again since you reviewed it" in stale.stderr
    current = tool_hash(tools["echo"])
    assert cli("approve", "upstream", "--tool", "echo", "--hash", f"sha256:{current}").stdout == "approved: echo\n"
    assert registry.mcp.tool("upstream", "echo").callable
    assert not registry.mcp.tool("upstream", "multiply").callable
    assert cli("approve", "upstream").stdout == "approved: multiply\n"

    engine = Engine.open(db, clock=ManualClock())
    try:
        engine.deploy([("mcp_echo.bpmn", (DATA / "mcp_echo.bpmn").read_bytes())])
        key = engine.start("mcp_echo", {"text": "approved"}).key
        workers = WorkerRegistry()
        workers.register("mcp", McpToolTask(registry))
        run_until_idle(engine, workers, timeout_s=60)
        view = engine.instance(key)
        assert view.state == "completed" and view.variables["echoed"] == "approved"
    finally:
        engine.close()


def test_reject_keeps_a_changed_tool_blocked_until_approved(
    cli: Cli, http_upstream: HttpUpstream, registry: Registry
) -> None:
    cli("add", "upstream", "--url", http_upstream.url)
    http_upstream.upstream.tools["echo"]["description"] = "Echo the text back, and keep a copy"
    cli("tools", "upstream")
    current = tool_hash(http_upstream.upstream.tools["echo"])
    stale = cli("reject", "upstream", "--tool", "echo", "--hash", "0" * 64, code=2)
    assert "changed again since it was reviewed" in stale.stderr
    out = cli("reject", "upstream", "--tool", "echo", "--hash", f"sha256:{current}", "--reason", "keeps copies")
    assert out.stdout == f"rejected echo (sha256:{current}): it stays blocked\n"
    assert registry.mcp.tool("upstream", "echo").state == "rejected"
    assert "rejected" in cli("tools", "upstream").stdout  # fetched again, the same definition: still rejected
    assert not registry.mcp.tool("upstream", "echo").callable
    assert cli("reject", "upstream", "--tool", "add", "--hash", "x", code=2).stderr.startswith("error: tool 'add'")


def test_no_secret_is_printed_or_stored(
    cli: Cli, http_upstream: HttpUpstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """M18: the bearer secret and the header secret are read at call time and appear nowhere but upstream."""
    monkeypatch.setenv("UPSTREAM_TOKEN", CANARY)
    monkeypatch.setenv("UPSTREAM_KEY", CANARY + "-key")
    args = ["--url", http_upstream.url, "--bearer-env", "UPSTREAM_TOKEN", "--header", "X-Api-Key=env:UPSTREAM_KEY"]
    outputs = [cli("add", "upstream", *args), cli("list"), cli("list", "--json"), cli("tools", "upstream", "--json")]
    for result in outputs:
        assert CANARY not in result.output
    assert "Authorization=Bearer env:UPSTREAM_TOKEN" in outputs[0].stdout
    assert {a for a in http_upstream.authorizations()} == {f"Bearer {CANARY}"}
    for stored in tmp_path.glob("agenthub.db*"):  # the tables, the audit rows, the write-ahead log
        assert CANARY.encode() not in stored.read_bytes()


def test_a_stdio_command_runs_as_the_exact_argv_without_a_shell(
    stdio_upstream: StdioUpstream, tmp_path: Path, db: str
) -> None:
    """M19, through the real ``agenthub`` executable: ';', '&&' and '$(...)' are arguments, never shell syntax."""
    marker = tmp_path / "pwned"
    program = " ".join(stdio_upstream.argv())
    command = f"{program} ; touch {marker} && $(touch {marker})"
    result = subprocess.run(
        [str(AGENTHUB), "mcp-server", "add", "local", "--command", command, "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "AGENTHUB_DB": db},
    )
    assert result.returncode == 0, result.stderr
    argv = [*stdio_upstream.argv(), ";", "touch", str(marker), "&&", "$(touch", f"{marker})"]
    assert f"stdio, argv run without a shell: {json.dumps(argv)}" in result.stdout
    started = [e for e in stdio_upstream.ledger() if e["event"] == "started"]
    assert started and started[0]["argv"][1:] == argv[2:]
    assert not marker.exists()
    registry = Registry.open(db)
    try:
        assert registry.mcp.get("local").command == argv
    finally:
        registry.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "x"], "give either --url URL"),
        (["add", "x", "--url", "http://127.0.0.1:1/mcp", "--command", "prog"], "give either --url URL"),
        (["add", "x", "--url", "http://127.0.0.1:1/mcp", "--header", "novalue"], "--header 'novalue': write NAME="),
        (["add", "x", "--command", "prog 'unclosed"], "--command: No closing quotation"),
        (["add", "bad__name", "--url", "http://127.0.0.1:1/mcp"], "server name 'bad__name' must be"),
        (["add", "x", "--url", "http://127.0.0.1:1/mcp", "--header", "Authorization=Bearer abc"], "env:VAR"),
        (["add", "x", "--url", "http://127.0.0.1:1/mcp", "--bearer-env", "UNSET_VAR_4711"], "UNSET_VAR_4711"),
        (["tools", "nothing"], "no MCP server named 'nothing'"),
        (["approve", "nothing"], "no MCP server named 'nothing'"),
        (["approve", "nothing", "--hash", "abc"], "--hash needs --tool"),
        (["remove", "nothing"], "no MCP server named 'nothing'"),
    ],
)
def test_a_mistake_exits_2_with_one_clear_message(cli: Cli, args: list[str], message: str) -> None:
    result = cli(*args, code=2)
    assert message in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_an_unreachable_server_is_not_registered(cli: Cli, registry: Registry) -> None:
    result = cli("add", "gone", "--url", closed_port_url(), "--timeout", "10", code=2)
    assert "MCP server 'gone'" in result.stderr and "cannot be reached" in result.stderr
    assert registry.mcp.all() == []


def test_a_name_taken_already_is_refused_before_connecting(cli: Cli, http_upstream: HttpUpstream) -> None:
    cli("add", "upstream", "--url", http_upstream.url)
    requests = len(http_upstream.upstream.events("request"))
    result = cli("add", "upstream", "--url", http_upstream.url, code=2)
    assert "is registered already" in result.stderr
    assert len(http_upstream.upstream.events("request")) == requests


def test_remove_forgets_the_server_and_its_tools(cli: Cli, http_upstream: HttpUpstream, registry: Registry) -> None:
    cli("add", "upstream", "--url", http_upstream.url)
    assert cli("remove", "upstream").stdout == "removed MCP server 'upstream'\n"
    assert registry.mcp.all() == []
    assert "no MCP servers" in cli("list").stdout
