"""The CLI runs every job kind the hub runs, and starts cleanly or not at all.

Each test drives the real ``agenthub`` executable as a newcomer would, from a
working directory of its own (not the repository), so nothing depends on
where the command happens to be started.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
import httpx
import pytest
from a2a.types import a2a_pb2, a2a_pb2_grpc

from tests.data.mcp_upstream.fixtures import StdioUpstream
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
COMPLAINT = EXAMPLES / "complaint"
MCP_DATA = REPO / "tests" / "data" / "mcp_upstream"
AGENTHUB = Path(sys.executable).parent / "agenthub"


class Cli:
    def __init__(self, workdir: Path, **env: str) -> None:
        self.workdir = workdir
        self.db = f"sqlite:///{workdir / 'cli.db'}"
        self.env = {**os.environ, "AGENTHUB_DB": self.db, "AGENTHUB_SQLITE_SYNCHRONOUS": "NORMAL", **env}
        for name in ("AGENTHUB_MODEL_FILES", "AGENTHUB_PORT"):
            self.env.pop(name, None)

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(AGENTHUB), *args], cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=180,
            check=False,
        )
        if ok:
            assert result.returncode == 0, f"agenthub {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    return Cli(workdir)


def _only_task(cli: Cli) -> dict[str, Any]:
    [task] = cli.json("tasks")
    return dict(task)


def test_the_complaint_example_runs_end_to_end_from_the_cli_alone(cli: Cli) -> None:
    """run drives the agent until it asks a person; worker --until-idle finishes what each answer unblocked.

    The working directory is not the repository: the agent's rules file was deployed with its process.
    """
    workers = str(COMPLAINT / "workers.py")
    variables = {"customer": "ada", "orderId": "A-100", "complaint": "Never arrived."}
    started = cli("run", str(COMPLAINT / "complaint.bpmn"), "--workers", workers, "--vars", json.dumps(variables),
                  "--json")
    instance = json.loads(started.stdout)["instance"]
    assert json.loads(started.stdout)["state"] == "active"
    question = _only_task(cli)
    assert question["element"] == "ask_customer"
    cli("complete", str(question["id"]), "--vars", '{"choice": "refund"}')
    cli("worker", "--workers", workers, "--until-idle")
    approval = _only_task(cli)
    assert approval["kind"] == "approval" and approval["tool"] == "propose_refund"
    refused = cli("complete", str(approval["id"]), "--vars", '{"approved": true}', ok=False)  # the operator started it
    assert refused.returncode == 2 and "--as USER_ID" in refused.stderr
    cli("user", "add", "fay", "--groups", "finance")
    cli("complete", str(approval["id"]), "--vars", '{"approved": true}', "--as", "fay")
    finished = cli("worker", "--workers", workers, "--until-idle")
    assert "agenthub.model" in finished.stderr  # the built-in model step is one of the job types it handled
    assert cli.json("instance", str(instance))["state"] == "completed"
    trail = cli("journal", str(instance)).stdout
    assert "rules:agent-rules.json" in trail and "approved" in trail


def test_run_and_worker_handle_the_hubs_built_in_job_types(cli: Cli) -> None:
    result = cli("worker", "--until-idle")
    handled = result.stderr.splitlines()[0]
    for job_type in ("agenthub.model", "http", "mcp", "a2a"):
        assert job_type in handled
    assert "no job types" not in result.stderr


def test_run_calls_a_tool_on_a_registered_mcp_server(cli: Cli, tmp_path: Path) -> None:
    """The mcp job type from the CLI uses the registry, as the hub does: the server an admin added."""
    upstream = StdioUpstream(tmp_path)
    cli("mcp-server", "add", "upstream", "--command", " ".join(upstream.argv()))
    done = cli.json("run", str(MCP_DATA / "mcp_echo.bpmn"), "--vars", '{"text": "from the cli"}')
    assert done["state"] == "completed"
    assert done["variables"]["echoed"] == "from the cli"
    assert [call["tool"] for call in upstream.calls()] == ["echo"]


def test_an_http_job_from_the_cli_obeys_the_egress_allow_list(cli: Cli, tmp_path: Path) -> None:
    """The http connector refuses loopback unless AGENTHUB_HTTP_ALLOW admits it: the same rule as in the hub."""
    model = tmp_path / "fetch.bpmn"
    model.write_text(_HTTP_MODEL.format(url="http://127.0.0.1:9/never"))
    refused = cli.json("run", str(model))
    assert refused["state"] == "incident"
    [incident] = cli.json("incidents")
    assert "127.0.0.1" in incident["message"] and "AGENTHUB_HTTP_ALLOW" in incident["message"]


def test_a_database_in_a_missing_folder_is_an_error_naming_the_folder(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    for args in (["instances"], ["tasks"], ["deploy", str(COMPLAINT / "complaint.bpmn")], ["worker", "--until-idle"]):
        result = cli(*args, "--db", f"sqlite:///{missing / 'x.db'}", ok=False)
        assert result.returncode == 2
        assert f"the database folder '{missing}' does not exist" in result.stderr
    assert not (tmp_path / "no").exists()


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def test_serve_on_a_taken_port_fails_before_it_writes_anything(cli: Cli, taken_port: int, tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    result = cli("serve", "--port", str(taken_port), "--db", f"sqlite:///{db}", ok=False)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{taken_port}: the port is in use" in result.stderr
    assert "ahk_" not in result.stdout + result.stderr  # no one-time admin token spent
    assert not db.exists()
    cli.env["AGENTHUB_PORT"] = str(taken_port)
    from_env = cli("serve", "--db", f"sqlite:///{db}", ok=False)
    assert f"127.0.0.1:{taken_port}" in from_env.stderr and not db.exists()


def test_serve_with_a_grpc_port_that_is_taken_fails_before_it_writes_anything(
    cli: Cli, taken_port: int, tmp_path: Path
) -> None:
    db = tmp_path / "hub.db"
    result = cli("serve", "--port", str(free_port()), "--a2a-grpc-port", str(taken_port), "--db", f"sqlite:///{db}",
                 ok=False)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{taken_port}: the port is in use" in result.stderr
    assert "choose another with --a2a-grpc-port" in result.stderr and not db.exists()
    port = free_port()
    same = cli("serve", "--port", str(port), "--a2a-grpc-port", str(port), "--db", f"sqlite:///{db}", ok=False)
    assert "gRPC needs a port of its own" in same.stderr and not db.exists()
    cli.env["AGENTHUB_A2A_GRPC_PORT"] = "x"
    bad = cli("serve", "--db", f"sqlite:///{db}", ok=False)
    assert "AGENTHUB_A2A_GRPC_PORT must be a port number" in bad.stderr and not db.exists()


@pytest.mark.parametrize(("value", "message"), [("abc", "not 'abc'"), ("70000", "not 70000")])
def test_a_bad_agenthub_port_is_refused_with_its_name(cli: Cli, value: str, message: str) -> None:
    cli.env["AGENTHUB_PORT"] = value
    result = cli("serve", ok=False)
    assert result.returncode == 2
    assert "AGENTHUB_PORT must be a port number between 1 and 65535" in result.stderr and message in result.stderr


def test_serve_listens_on_agenthub_port_and_its_grpc_port(cli: Cli, tmp_path: Path) -> None:
    port, grpc_port = free_port(), free_port()
    env = {**cli.env, "AGENTHUB_PORT": str(port), "AGENTHUB_DB": f"sqlite:///{tmp_path / 'hub.db'}",
           "AGENTHUB_A2A_GRPC_PORT": str(grpc_port)}
    process = subprocess.Popen(
        [str(AGENTHUB), "serve", "--no-worker"], cwd=cli.workdir, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "the hub did not answer within 60 s"
                time.sleep(0.2)
        assert health.status_code == 200
        assert _grpc_refusal(grpc_port) == "UNAUTHENTICATED"  # the gRPC binding answers, behind the same gate
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert f"agenthub serving on http://127.0.0.1:{port} (REST /api/v1, MCP /mcp, A2A gRPC on 127.0.0.1:{grpc_port})" \
        in stderr
    assert "created an admin API token" in stderr


def _grpc_refusal(port: int) -> str:
    """The status of an A2A gRPC call without a token to 127.0.0.1:port."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            a2a_pb2_grpc.A2AServiceStub(channel).GetTask(a2a_pb2.GetTaskRequest(id="x"), timeout=30)
        except grpc.RpcError as refused:
            return str(refused.code().name)
    return "OK"


_HTTP_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="urn:test">
  <bpmn:process id="fetch" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:serviceTask id="Fetch">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="http" retries="1" />
        <zeebe:taskHeaders>
          <zeebe:header key="url" value="{url}" />
        </zeebe:taskHeaders>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="Done" />
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Fetch" />
    <bpmn:sequenceFlow id="F2" sourceRef="Fetch" targetRef="Done" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_database_that_cannot_be_opened_is_named_without_its_password(cli: Cli) -> None:
    url = "postgresql+psycopg://agent:s3cret-pw@127.0.0.1:1/hub"  # nothing listens on port 1
    for args in (["instances"], ["token", "list"], ["worker", "--until-idle"]):
        result = cli(*args, "--db", url, ok=False)
        assert result.returncode == 2 and "cannot open database" in result.stderr
        assert "s3cret-pw" not in result.stderr and "agent:***@127.0.0.1:1/hub" in result.stderr


def test_a_route_sends_the_url_a_camunda_model_names_to_another_server(tmp_path: Path) -> None:
    """AGENTHUB_HTTP_ROUTES: the REST connector's url names a host this machine never reaches; the operator's
    route sends it to a server on 127.0.0.1, path and query kept, and the allow-list checks the routed address;
    a malformed route stops the command with the entry named."""
    from tests.protocols.http.server import serve

    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    rest = REPO / "tests" / "protocols" / "http" / "data" / "camunda_rest.bpmn"
    variables = {"baseUrl": "https://api.rest.example/v1", "path": "/echo", "method": "GET", "query": {"q": "1"}}
    with serve() as server:
        routed = Cli(workdir, AGENTHUB_HTTP_ALLOW="127.0.0.1", REST_SIGNING_KEY="k-4f1",
                     AGENTHUB_HTTP_ROUTES=f"https://api.rest.example/v1={server.url},https://other.example={server.url}/x")
        done = routed.json("run", str(rest), "--vars", json.dumps(variables))
        assert done["state"] == "completed", done
        assert done["variables"]["status"] == 200
        assert server.hits == ["/echo"] and server.queries == [[["q", "1"]]]

    malformed = Cli(workdir, AGENTHUB_HTTP_ROUTES="api.rest.example=http://127.0.0.1:9")
    refused = malformed("run", str(rest), ok=False)
    assert refused.returncode == 2
    assert "AGENTHUB_HTTP_ROUTES entry 'api.rest.example=http://127.0.0.1:9'" in refused.stderr
