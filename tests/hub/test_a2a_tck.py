"""The A2A TCK (a2aproject/a2a-tck, branch ``1.0-dev``) against a live hub: every MUST-level test passes.

``.ci/run`` installs the TCK at a pinned commit into
``$AGENTHUB_A2A_TCK`` (default ``~/.cache/agenthub-a2a-tck``), outside the
repository, with a virtual environment of its own (``.venv``). Locally the
test is skipped when it is missing; under CI it fails.

The system under test is the agent of ``examples/a2a-tck/tck.bpmn``, a
process that serves the TCK's scenarios keyed on the message id's prefix.
The TCK cannot send a bearer token, so it talks to the hub through
``proxy.TokenProxy``; the hub's public URL is the proxy's, so the agent
card sends the TCK back through it. Push notifications go to the TCK's
webhook receiver on 127.0.0.1, the one destination the hub's egress
allow-list admits here.

A MUST-level test may fail only if ``a2a-tck-expected-failures.yml`` names
it with a reason; a skipped one only for a reason listed in
``EXPECTED_SKIPS``. The TCK runs are marked slow; the scenarios of the
process are also checked one by one here, quickly, with the a2a-sdk client.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.types import Message, Part, Role, SendMessageRequest, StreamResponse, TaskState
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]

from engine.scheduler import WorkerRegistry
from hub.settings import HubSettings
from registry import generate_token
from tests.hub.grpc_proxy import serve_grpc_proxy
from tests.hub.harness import start_hub
from tests.hub.proxy import TokenProxy
from tests.ports import free_port

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "a2a-tck-expected-failures.yml"
PROCESS = HERE.parents[1] / "examples" / "a2a-tck" / "tck.bpmn"
TRANSPORTS = "jsonrpc,http_json,grpc"

# Why a MUST-level test may be skipped: the TCK's own reasons for "not supported" errors of capabilities the hub
# has, and for the TCK's made-up required extension.
EXPECTED_SKIPS = (
    re.compile(r"^Agent supports (push notifications|streaming|extended agent card)"),
    re.compile(r"^Agent card does not declare urn:a2a:tck:required-extension as required"),
)

slow = pytest.mark.slow


def _tck() -> tuple[Path, Path]:
    root = Path(os.environ.get("AGENTHUB_A2A_TCK", Path.home() / ".cache" / "agenthub-a2a-tck"))
    python = root / ".venv" / "bin" / "python"
    if not ((root / "run_tck.py").exists() and python.exists()):
        message = f"the A2A TCK is not installed under {root} (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return root, python


@dataclass
class Sut:
    url: str  # the agent's URL, through the proxy
    admin: str


@pytest.fixture
def sut(tmp_path: Path) -> Iterator[Sut]:
    """A hub with the TCK process deployed, behind a token-adding proxy whose address is the hub's public URL, and
    its gRPC endpoint behind a gRPC proxy that adds the token and the agent's tenant (``grpc_proxy``), whose
    address is the one the cards give."""
    port, proxy_port, admin = free_port(), free_port(), generate_token()
    grpc_port, grpc_proxy_port = free_port(), free_port()
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    settings = HubSettings(
        db=f"sqlite:///{tmp_path / 'hub.db'}",
        port=port,
        admin_token=admin,
        public_url=proxy_url,
        http_allow="127.0.0.1",  # the TCK's webhook receiver; nothing else may be called
        a2a_grpc_port=grpc_port,
        a2a_grpc_url=f"127.0.0.1:{grpc_proxy_port}",
    )
    hub, hub_thread = start_hub(settings, WorkerRegistry())
    proxy = uvicorn.Server(
        uvicorn.Config(
            TokenProxy(f"http://127.0.0.1:{port}", admin), host="127.0.0.1", port=proxy_port, log_level="warning"
        )
    )
    thread = threading.Thread(target=proxy.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not proxy.started and time.monotonic() < deadline:
        time.sleep(0.02)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {admin}"}) as client:
        files = [("files", (PROCESS.name, PROCESS.read_bytes(), "application/xml"))]
        client.post("/api/v1/deployments", files=files, params={"expose": "true"}).raise_for_status()
    with serve_grpc_proxy(f"127.0.0.1:{grpc_port}", admin, "tck", grpc_proxy_port):
        yield Sut(url=f"{proxy_url}/a2a/tck", admin=admin)
    proxy.should_exit = hub.should_exit = True
    thread.join(timeout=30)
    hub_thread.join(timeout=30)


def _baseline() -> dict[str, str]:
    """Test ids the hub is expected to fail, each with the reason written in the comment above it."""
    excused: dict[str, str] = {}
    reason: list[str] = []
    for line in BASELINE.read_text().splitlines():
        text = line.strip()
        if text.startswith("#"):
            reason.append(text.lstrip("# "))
        elif text.startswith("- "):
            excused[text[2:].strip()] = " ".join(reason)
            reason = []
        else:
            reason = []  # a comment heading the file or a section is nobody's reason
    return excused


def _results(junit: Path) -> dict[str, tuple[str, str]]:
    """Each test case's outcome (passed, failed, skipped) and message, by ``file::Class::test[params]``."""
    outcomes: dict[str, tuple[str, str]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, message = "failed", (child.get("message") or "")[:500]
            elif child.tag == "skipped":
                outcome, message = "skipped", (child.get("message") or "")[:500]
        outcomes[name] = outcome, message
    return outcomes


def test_the_baseline_gives_a_reason_for_every_expected_failure() -> None:
    excused = _baseline()
    assert excused
    for test_id, reason in excused.items():
        assert reason, f"{test_id} is excused without a reason"


@slow
def test_the_agent_card_as_served_validates_against_the_tck_schema(sut: Sut, tmp_path: Path) -> None:
    """CARD-STRUCT-001: the public card is a pure A2A 1.0 document (the 0.3 card is served at ``agent.json``)."""
    root, python = _tck()
    card = httpx.get(f"{sut.url}/.well-known/agent-card.json").raise_for_status().json()
    assert card["capabilities"]["pushNotifications"] is True
    (tmp_path / "card.json").write_text(json.dumps(card))
    check = (
        "import json, sys; from pathlib import Path; from tck.validators.json_schema import JSONSchemaValidator; "
        "r = JSONSchemaValidator(Path('specification/a2a.json')).validate(json.load(open(sys.argv[1])), 'Agent Card'); "
        "print(r.errors); sys.exit(0 if r.valid else 1)"
    )
    result = subprocess.run(
        [str(python), "-c", check, str(tmp_path / "card.json")], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


@slow
def test_the_hub_passes_every_must_level_test_of_the_a2a_tck(sut: Sut, tmp_path: Path) -> None:
    root, python = _tck()
    junit = tmp_path / "junit.xml"
    command = [
        str(python),
        "run_tck.py",
        "--sut-host",
        sut.url,
        "--transport",
        TRANSPORTS,
        "--level",
        "must",
        "--",
        "--webhook-host",
        "127.0.0.1",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
    ]
    result = subprocess.run(
        command,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        env={k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))},
    )
    report = result.stdout[-8000:] + result.stderr[-2000:]
    assert junit.exists(), report
    outcomes = _results(junit)
    assert len(outcomes) > 100, report
    excused = _baseline()
    failed = {name: message for name, (outcome, message) in outcomes.items() if outcome == "failed"}
    unexpected = {name: message for name, message in failed.items() if name not in excused}
    assert not unexpected, "\n".join(f"{name}: {message}" for name, message in unexpected.items())
    stale = [name for name in excused if outcomes.get(name, ("missing", ""))[0] != "failed"]
    assert not stale, f"excused in {BASELINE.name} but not failing (remove them): {stale}"
    skipped = {name: message for name, (outcome, message) in outcomes.items() if outcome == "skipped"}
    odd = {name: m for name, m in skipped.items() if not any(p.search(m) for p in EXPECTED_SKIPS)}
    assert not odd, "\n".join(f"{name}: {message}" for name, message in odd.items())
    passed = sum(1 for outcome, _ in outcomes.values() if outcome == "passed")
    print(
        f"A2A TCK (must, {TRANSPORTS}): {passed} passed, {len(failed)} failed (excused), {len(skipped)} skipped",
        file=sys.stderr,
    )


# --- the scenario process, one scenario at a time ----------------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def tck_agent(sut: Sut, *, streaming: bool = False) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(timeout=30) as http:  # through the proxy, which adds the token
        config = ClientConfig(httpx_client=http, streaming=streaming)
        client = await ClientFactory(config).create_from_url(sut.url)
        async with client:
            yield client


def _ask(prefix: str, task_id: str = "") -> SendMessageRequest:
    return SendMessageRequest(
        message=Message(
            message_id=f"{prefix}-{uuid.uuid4()}", role=Role.ROLE_USER, parts=[Part(text="hi")], task_id=task_id
        )
    )


async def _answer(client: Client, request: SendMessageRequest) -> StreamResponse:
    [response] = [r async for r in client.send_message(request)]
    return response


@pytest.mark.anyio
async def test_the_tck_process_completes_with_its_reply_as_the_status_message(sut: Sut) -> None:
    async with tck_agent(sut) as client:
        task = (await _answer(client, _ask("tck-complete-task"))).task
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert [p.text for p in task.status.message.parts] == ["Hello from TCK"]
    [artifact] = task.artifacts
    data = MessageToDict(artifact.parts[0].data)
    assert "a2aReply" not in data and "a2aMessageId" not in data and data["text"] == "hi"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("prefix", "part"),
    [
        ("tck-artifact-text", {"text": "Generated text content"}),
        ("tck-artifact-file", {"filename": "output.txt", "mediaType": "text/plain"}),
        ("tck-artifact-file-url", {"url": "https://example.com/output.txt", "filename": "output.txt"}),
        ("tck-artifact-data", {"data": {"key": "value", "count": 42.0}}),
    ],
)
async def test_the_tck_process_answers_with_the_artifacts_it_made(sut: Sut, prefix: str, part: dict[str, Any]) -> None:
    async with tck_agent(sut) as client:
        task = (await _answer(client, _ask(prefix))).task
    [artifact] = task.artifacts
    shown = MessageToDict(artifact.parts[0])
    assert artifact.artifact_id and {k: shown.get(k) for k in part} == part
    if prefix == "tck-artifact-file":
        assert "raw" in shown


@pytest.mark.anyio
async def test_the_tck_process_can_answer_with_a_message_and_no_task(sut: Sut) -> None:
    async with tck_agent(sut) as client:
        response = await _answer(client, _ask("tck-message-response"))
    assert response.WhichOneof("payload") == "message"
    assert [p.text for p in response.message.parts] == ["Direct message response"]
    assert response.message.role == Role.ROLE_AGENT


@pytest.mark.anyio
async def test_the_tck_process_rejects_and_waits_for_input_until_told_to_complete(sut: Sut) -> None:
    async with tck_agent(sut) as client:
        rejected = (await _answer(client, _ask("tck-reject-task"))).task
        asking = (await _answer(client, _ask("tck-input-required"))).task
        again = (await _answer(client, _ask("tck-input-required", asking.id))).task
        done = (await _answer(client, _ask("tck-complete-task", asking.id))).task
    assert rejected.status.state == TaskState.TASK_STATE_REJECTED
    assert [p.text for p in rejected.status.message.parts] == ["rejected"]
    assert asking.status.state == again.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert again.id == done.id == asking.id
    assert done.status.state == TaskState.TASK_STATE_COMPLETED


@pytest.mark.anyio
async def test_a_tck_stream_shows_working_then_the_artifact_then_completed(sut: Sut) -> None:
    async with tck_agent(sut, streaming=True) as client:
        events = [r async for r in client.send_message(_ask("tck-stream-001"))]
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds == ["task", "artifact_update", "status_update"]
    assert events[0].task.status.state == TaskState.TASK_STATE_WORKING
    assert [p.text for p in events[1].artifact_update.artifact.parts] == ["Stream hello from TCK"]
    assert events[2].status_update.status.state == TaskState.TASK_STATE_COMPLETED
