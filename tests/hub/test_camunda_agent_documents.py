"""Documents in a Camunda agent's prompt (``data.userPrompt.documents``) reach the model as content parts.

The hub has no Camunda document store: it takes Camunda's ``inline`` references (the content with them) and
``external`` ones (a URL, fetched through the HTTP connector's egress allow-list), and refuses a store reference
with an incident that says what it takes. The model is the scripted OpenAI-compatible server on 127.0.0.1, so
what the model was sent is what the server received.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.ports import ManualClock
from engine.scheduler import run_until_idle
from hub.job_types import job_handlers
from hub.settings import HubSettings
from registry import Registry
from tests.protocols.llm.openai_server import OpenAIServer, openai_server

SUBPROCESS = Path(__file__).resolve().parents[1] / "data" / "agent" / "camunda_agent.bpmn"
TASK = SUBPROCESS.with_name("camunda_agent_task.bpmn")
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
                       "AAAABJRU5ErkJggg==")
PDF = b"%PDF-1.4 tiny"
NOTES = b"Invoice 4711: 3 widgets at 12.50 EUR each."


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    opened = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}", clock=ManualClock())
    text = SUBPROCESS.read_text().replace(
        '<zeebe:input source="=agent.context" target="agentContext"/>',
        '<zeebe:input source="=inputDocuments" target="data.userPrompt.documents"/>\n'
        '          <zeebe:input source="=agent.context" target="agentContext"/>')
    assert "inputDocuments" in text
    task = TASK.read_text().replace(
        '<zeebe:input source="=agent.context" target="data.context"/>',
        '<zeebe:input source="=inputDocuments" target="data.userPrompt.documents"/>\n'
        '          <zeebe:input source="=agent.context" target="data.context"/>')
    assert "inputDocuments" in task
    opened.deploy([(SUBPROCESS.name, text.encode()), (TASK.name, task.encode())])
    yield opened
    opened.close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("CALC_LLM_KEY", "sk-doc-test-9a7e")
    with openai_server() as running:
        yield running


@pytest.fixture
def files() -> Iterator[str]:
    """A file server on 127.0.0.1: ``/notes.txt`` and ``/scan.pdf``, anything else 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = {"/notes.txt": (NOTES, "text/plain; charset=utf-8"), "/scan.pdf": (PDF, None)}
            body, kind = found.get(self.path, (b"", None))
            self.send_response(200 if self.path in found else 404)
            if kind:
                self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _run(engine: Engine, tmp_path: Path, server: OpenAIServer, documents: list[dict[str, Any]],
         process: str = "camunda_agent") -> int:
    workers = job_handlers(Registry.open(f"sqlite:///{tmp_path / 'registry.db'}"), HubSettings(http_allow="127.0.0.1"),
                           engine=engine)
    key = engine.start(process, {"inputText": "What do these say?", "inputDocuments": documents,
                                 "followUpInput": None, "maxCalls": 3, "window": 20, "responseFormat": "text",
                                 "llmEndpoint": server.url}).key
    run_until_idle(engine, workers, timeout_s=60)
    return key


def test_inline_and_fetched_documents_go_to_the_model_as_text_image_and_file_parts_of_the_user_message(
    engine: Engine, tmp_path: Path, server: OpenAIServer, files: str,
) -> None:
    server.reply_text("Three widgets, one pixel, one scan.")
    documents = [
        {"camunda.document.type": "inline", "content": "Order 12: ship by Friday.", "name": "order.txt",
         "contentType": "text/plain"},
        {"camunda.document.type": "inline", "content": base64.b64encode(PNG).decode(), "encoding": "base64",
         "name": "pixel.png"},
        {"camunda.document.type": "external", "url": f"{files}/notes.txt"},
        {"camunda.document.type": "external", "url": f"{files}/scan.pdf", "contentType": "application/pdf"},
    ]
    key = _run(engine, tmp_path, server, documents)

    [request] = server.received
    [user] = [m for m in request.body["messages"] if m["role"] == "user"]
    assert user["content"] == [
        {"type": "text", "text": "What do these say?"},
        {"type": "text", "text": "Order 12: ship by Friday."},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{base64.b64encode(PNG).decode()}"}},
        {"type": "text", "text": NOTES.decode()},
        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{base64.b64encode(PDF).decode()}",
                                  "filename": "scan.pdf"}},
    ]
    view = engine.instance(key)
    assert view.variables["agent"]["responseText"] == "Three widgets, one pixel, one scan."
    [kept] = [m for m in view.variables["agent"]["context"]["conversation"]["messages"] if m["role"] == "user"]
    assert kept["content"][1:] == [{"type": "document", "document": d} for d in documents]  # references, as Camunda


def test_a_reference_into_camundas_document_store_is_an_incident_that_says_what_the_hub_takes(
    engine: Engine, tmp_path: Path, server: OpenAIServer,
) -> None:
    stored = {"camunda.document.type": "camunda", "storeId": "in-memory", "documentId": "d-1",
              "metadata": {"contentType": "application/pdf", "fileName": "a.pdf"}}
    key = _run(engine, tmp_path, server, [stored])
    assert server.received == []
    [incident] = engine.incidents(instance=key)
    assert "Camunda's document store" in incident.message and "'d-1'" in incident.message
    assert '"camunda.document.type": "inline"' in incident.message and "AGENTHUB_HTTP_ALLOW" in incident.message


def test_a_document_of_a_type_no_model_takes_or_a_url_outside_the_allow_list_is_an_incident_at_once(
    engine: Engine, tmp_path: Path, server: OpenAIServer,
) -> None:
    archive = {"camunda.document.type": "inline", "content": "UEsDBA==", "encoding": "base64", "name": "a.zip"}
    key = _run(engine, tmp_path, server, [archive])
    [incident] = engine.incidents(instance=key)
    assert "application/zip" in incident.message and "PDFs" in incident.message

    elsewhere = {"camunda.document.type": "external", "url": "http://10.255.0.1/secret.txt"}
    key = _run(engine, tmp_path, server, [elsewhere])
    [incident] = engine.incidents(instance=key)
    assert "prompt document 1" in incident.message and "AGENTHUB_HTTP_ALLOW" in incident.message
    assert server.received == []  # nothing reached the model


def test_the_ai_agent_task_sends_its_prompt_documents_as_the_sub_process_agent_does(
    engine: Engine, tmp_path: Path, server: OpenAIServer,
) -> None:
    server.reply_text("Friday.")
    order = {"camunda.document.type": "inline", "content": {"order": 12, "due": "Friday"}, "name": "order.json"}
    key = _run(engine, tmp_path, server, [order], process="camunda_agent_task")

    [request] = server.received
    [user] = [m for m in request.body["messages"] if m["role"] == "user"]
    assert user["content"] == [{"type": "text", "text": "What do these say?"},
                               {"type": "text", "text": '{"order": 12, "due": "Friday"}'}]
    assert engine.instance(key).variables["agent"]["responseText"] == "Friday."
