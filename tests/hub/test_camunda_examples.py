"""Camunda's own agentic example models, run unchanged on a live hub (issue 14's "Done when").

Camunda's models are under the Camunda License, so none is in this repository: fetch them (e.g.
``camunda/connectors``, ``connectors/agentic-ai/examples``) into a folder outside it and name that folder
in ``AGENTHUB_CAMUNDA_EXAMPLES``; without it every case is skipped (CI cannot reach GitHub). Each ``.bpmn``
under the folder is one case: deployed with the ``.form`` files beside it, started (from its none start
event, with its start form's fields filled in), its user tasks completed with their forms' fields filled in
(checkboxes ticked, so chat loops end), until the instance ends. Every Camunda agent is sent to a scripted
OpenAI-compatible server on 127.0.0.1 (``AGENTHUB_CAMUNDA_MODEL`` naming an ``openai/`` model, litellm's
base URL pointed at the server), which answers every model call with a final JSON text.

The report per model (printed, and the failure message): deployed? ran to its end? stuck where and why
(the instance's ``waitingFor``, its incidents). Our own small models with the same extension elements are
the regression tests that run in CI (``test_camunda_agent_*.py``, ``test_camunda_connectors.py`` ...).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from tests.data.a2a.client.scenario_agent import serve_scenario_agent
from tests.data.mcp_upstream.example_server import serve_example
from tests.hub.harness import LiveHub, serve_hub

FOLDER = os.environ.get("AGENTHUB_CAMUNDA_EXAMPLES", "")
# without the folder, one placeholder case that the skip below reports (not an empty, silent parameter set)
MODELS = sorted(Path(FOLDER).rglob("*.bpmn")) if FOLDER else [Path("unset.bpmn")]
ANSWER = json.dumps({"answer": "Done: nothing more to do.", "fraudDetected": False})
ROUNDS = 12  # user tasks answered per instance before the case is reported as stuck
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
POLL_S = 20.0  # how long one instance may stay busy (jobs running) before it is reported as stuck
AGENT_PORTS = (11001, 10000, 10001, 10002, 10003)  # where the examples' A2A clients look for their agents
MCP_PORT = 12001  # where the MCP resources example's remote client looks for its server
HUB_PORT = 8085  # where the push-notification examples' webhook URL (/inbound/my-webhook-id) names the hub
# public MCP servers the examples' remote clients name, and the client ids their mcpclient:1 elements use: all
# served by the example MCP server here (routes and registrations, as an operator would point them at mirrors)
PUBLIC_MCP = ("https://mcp.deepwiki.com/mcp", "https://remote.mcpservers.org/fetch/mcp")
CLIENT_IDS = ("filesystem", "time")


def _answering_server() -> tuple[ThreadingHTTPServer, str]:
    """An OpenAI-compatible chat server on 127.0.0.1 answering every agent's call with ``ANSWER`` as final text,
    and the REST connector's calls to OpenAI (routed to ``/openai/...``) with "yes"."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            # the REST connector's own OpenAI calls (routed here under /openai): the fraud models' final check
            # asks for a plain "yes" to accept the agent's decision, and an e-mail body may be anything
            content = "yes" if self.path.startswith("/openai/") else ANSWER
            reply = {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1767225600,
                "model": body.get("model", ""),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="camunda-examples-llm", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """What the examples reach outside the hub, for the module: the scripted model server, and the examples'
    A2A agents where they name them (the A2A client examples' own, an AI Agent's A2A tools), each where the port
    is free; the agents' URLs."""
    server, url = _answering_server()
    patch = pytest.MonkeyPatch()
    patch.setenv("NO_PROXY", "127.0.0.1")
    patch.setenv("OPENAI_API_BASE", url)
    patch.setenv("OPENAI_BASE_URL", url)
    patch.setenv("OPENAI_API_KEY", "sk-scripted")
    try:
        with contextlib.ExitStack() as stack:
            agents = [url for port in AGENT_PORTS if (url := _try(stack, serve_scenario_agent, port)) is not None]
            mcp = _try(stack, serve_example, MCP_PORT)
            yield [*agents, *([mcp] if mcp else [])]
    finally:
        patch.undo()
        server.shutdown()
        server.server_close()


@pytest.fixture
def hub(outside: list[str], tmp_path: Path) -> Iterator[LiveHub]:
    """A hub of its own per model (two of Camunda's push examples share a webhook id, as two deployments in one
    cluster would clash), where the push examples' webhook URL names it when the port is free, with the
    examples' agents registered."""
    mcp = next((url for url in outside if url.endswith("/mcp")), None)
    # the public hosts the examples name, routed to the stand-ins (AGENTHUB_HTTP_ROUTES): the REST connector's
    # OpenAI call to the scripted model server, the public MCP servers to the example MCP server
    routes = [f"https://api.openai.com={os.environ['OPENAI_BASE_URL'].removesuffix('/v1')}/openai"]
    if mcp:
        routes += [f"{public}={mcp}" for public in PUBLIC_MCP]
    with serve_hub(tmp_path, port=HUB_PORT if _free(HUB_PORT, wait_s=10) else None, camunda_model="openai/scripted",
                   http_allow="127.0.0.1", http_routes=",".join(routes)) as live:
        with live.client() as client:
            for url in outside:
                name = f"example-{url.rsplit(':', 1)[1].split('/')[0]}"
                answer = (client.post("/api/v1/mcp-servers", json={"name": name, "transport": "http", "url": url})
                          if url.endswith("/mcp") else client.post("/api/v1/agents", json={"name": name, "url": url}))
                assert answer.status_code == 201, answer.text
            for client_id in CLIENT_IDS if mcp else ():  # mcpclient:1 names its server by the runtime's client id
                answer = client.post("/api/v1/mcp-servers", json={"name": client_id, "transport": "http", "url": mcp})
                assert answer.status_code == 201, answer.text
        yield live


def _free(port: int, wait_s: float = 0.0) -> bool:
    """Whether ``port`` can be bound on 127.0.0.1, waiting up to ``wait_s`` for the previous model's hub to let
    go of it (a hub on another port would miss the pushes that name this one)."""
    deadline = time.monotonic() + wait_s
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
                return True
            except OSError:
                if time.monotonic() >= deadline:
                    return False
        time.sleep(0.2)


def _try(stack: contextlib.ExitStack, serve: Any, port: int) -> str | None:
    """Serve on ``port`` for the module, or None (printed) when the port is taken."""
    if not _free(port):
        print(f"port {port} is taken: the examples that name it stop on an unregistered agent")
        return None
    return str(stack.enter_context(serve(port)))


def _fill(form: Any) -> dict[str, Any]:
    """Values for a form-js schema's fields: checkboxes ticked, the first option chosen, text for the rest."""
    values: dict[str, Any] = {}

    def walk(components: list[dict[str, Any]]) -> None:
        for component in components:
            walk(component.get("components") or [])
            key, kind = component.get("key"), component.get("type")
            # a file picker uploads documents, which this driver does not: Camunda leaves its key unset then
            if not isinstance(key, str) or kind in (
                "button",
                "text",
                "html",
                "image",
                "spacer",
                "separator",
                "filepicker",
                "documentPreview",
            ):
                continue
            options = component.get("values") or []
            if kind in ("checkbox",):
                value: Any = True
            elif kind == "checklist" or kind == "taglist":
                value = [options[0]["value"]] if options else []
            elif options:
                value = options[0]["value"]
            elif kind == "number":
                value = 1
            elif kind == "datetime":
                value = "2026-01-01"
            else:
                value = "Please go ahead."
            target = values
            *path, last = key.split(".")
            for part in path:
                target = target.setdefault(part, {})
            target[last] = value

    schema = form.get("schema") if isinstance(form, dict) else None
    if isinstance(schema, str):
        schema = json.loads(schema)
    walk((schema or {}).get("components") or [])
    return values


def _start_process(path: Path) -> str | None:
    """The process a case starts: the file's executable process with a none start event, if any."""
    root = ElementTree.parse(path).getroot()
    for process in root.iter(f"{BPMN}process"):
        starts = [e for e in process if e.tag == f"{BPMN}startEvent"]
        if process.get("isExecutable") == "true" and any(
            len([d for d in e if d.tag.endswith("EventDefinition")]) == 0 for e in starts
        ):
            return process.get("id")
    return None


def _with_callees(path: Path) -> list[Path]:
    """``path`` and the models beside it whose processes it calls (by a call activity's literal or FEEL string)."""
    found, todo = [path], [path]
    while todo:
        text = todo.pop().read_text(encoding="utf-8")
        for other in sorted(path.parent.glob("*.bpmn")):
            process_id = _start_process(other) or ""
            if other not in found and process_id and (f'"{process_id}"' in text or f"&#34;{process_id}&#34;" in text):
                found.append(other)
                todo.append(other)
    return found


def _drive(client: httpx.Client, key: int) -> tuple[bool, str]:
    """Answer the instance's user tasks until it ends; (ended, where it stopped and why)."""
    answered = 0
    deadline = time.monotonic() + POLL_S
    while True:
        view = client.get(f"/api/v1/process-instances/{key}").json()
        if view.get("state") in ("completed", "COMPLETED"):
            return True, "completed"
        if view.get("state") not in ("active", "ACTIVE"):
            return False, f"state {view.get('state')}: {json.dumps(view.get('waitingFor') or view)[:600]}"
        tasks = client.get("/api/v1/user-tasks", params={"instance": key, "all": "true"}).json()["items"]
        if tasks and answered < ROUNDS:
            task = client.get(f"/api/v1/user-tasks/{tasks[0]['id']}").json()
            answer = client.post(
                f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": _fill(task.get("form"))}
            )
            if answer.status_code >= 300:
                return False, f"user task {task.get('element')} refused: {answer.text[:400]}"
            answered += 1
            deadline = time.monotonic() + POLL_S
            continue
        waiting = json.dumps(view.get("waitingFor"))
        incidents = [
            i
            for i in client.get("/api/v1/incidents", params={"instance": key}).json().get("items") or []
            if i.get("state") != "resolved"
        ]
        if incidents:
            return False, f"incident: {json.dumps(incidents)[:600]}"
        if time.monotonic() > deadline:
            return False, f"waits at {json.dumps(view.get('activeElements'))[:300]} for {waiting[:600]}"
        time.sleep(0.1)


@pytest.mark.skipif(
    not FOLDER,
    reason="AGENTHUB_CAMUNDA_EXAMPLES is not set: Camunda's examples are fetched, "
    "never committed, and CI cannot reach GitHub",
)
@pytest.mark.parametrize("path", MODELS, ids=[str(p.relative_to(FOLDER)) if FOLDER else p.name for p in MODELS])
def test_a_camunda_example_model_deploys_and_runs_to_its_end(hub: LiveHub, path: Path) -> None:
    # the model with its folder's forms and the models whose processes it calls (each case starts the model it is
    # named after, on a hub of its own)
    files = [("files", (p.name, p.read_bytes(), "application/json")) for p in sorted(path.parent.glob("*.form"))]
    files += [("files", (p.name, p.read_bytes(), "application/xml")) for p in _with_callees(path)]
    with hub.client() as client:
        deployment = client.post("/api/v1/deployments", files=files)
        assert deployment.status_code < 300, f"{path.name}: not deployed: {deployment.text[:800]}"
        process_id = _start_process(path)
        assert process_id is not None, f"{path.name}: deployed; no executable process with a none start event"
        callers = [
            p.name
            for p in path.parent.glob("*.bpmn")
            if p != path and f'processId="{process_id}"' in p.read_text(encoding="utf-8")
        ]
        if callers:  # a called process runs with its caller's variables, in the caller's case
            pytest.skip(f"{path.name}: deployed; runs as the called process of {', '.join(callers)}")
        start_form = client.get(f"/api/v1/process-definitions/{process_id}/form")
        variables = _fill(start_form.json()) if start_form.status_code == 200 else {}
        started = client.post("/api/v1/process-instances", json={"processId": process_id, "variables": variables})
        assert started.status_code < 300, f"{path.name}: deployed, start refused: {started.text[:600]}"
        ended, where = _drive(client, int(started.json()["instance"]))
    print(f"\n{path.relative_to(FOLDER)}: deployed; {'ran to its end' if ended else 'stuck: ' + where}")
    assert ended, f"{path.name}: deployed, stuck: {where}"
