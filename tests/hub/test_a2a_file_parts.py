"""RELIABILITY A9: a message's file part naming a URL is refused, and the hub never fetches it.

The URL points at a server this test runs on 127.0.0.1, which counts what it
is asked: after file parts by URL (plain and with the metadata address's
path) and by inline bytes, over JSON-RPC and HTTP+JSON, it has been asked
nothing, no instance was started, and each caller got the A2A error for an
unsupported content type naming the part.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from tests.hub.harness import LiveHub


class _Counting(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "application/pdf")
        self.end_headers()
        self.wfile.write(b"%PDF-1.4 canary")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def file_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_Counting,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def _message(part: dict[str, Any]) -> dict[str, Any]:
    return {"messageId": str(uuid.uuid4()), "role": "ROLE_USER", "parts": [{"text": "summarise this"}, part]}


def test_file_parts_are_refused_and_never_fetched(live_hub: LiveHub, file_server: tuple[str, list[str]]) -> None:
    base, hits = file_server
    live_hub.deploy("straight.bpmn")
    token = live_hub.token("start", "read")
    parts = [
        {"url": f"{base}/report.pdf", "mediaType": "application/pdf", "filename": "report.pdf"},
        {"url": f"{base}/latest/meta-data/iam/security-credentials/", "mediaType": "text/plain"},
        {"raw": base64.b64encode(b"%PDF-1.4").decode(), "mediaType": "application/pdf", "filename": "inline.pdf"},
    ]
    headers = {"Authorization": f"Bearer {token}", "A2A-Version": "1.0"}
    with httpx.Client(base_url=live_hub.url, headers=headers, timeout=30) as http:
        for part in parts:
            rpc = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": _message(part)}}
            answer = http.post("/a2a/straight", json=rpc)
            assert answer.status_code == 200, answer.text
            error = answer.json()["error"]
            assert error["code"] == -32005, error  # ContentTypeNotSupportedError
            assert "part 1 is a file" in error["message"]
            rest = http.post("/a2a/straight/message:send", json={"message": _message(part)})
            assert rest.status_code in (400, 415), rest.text
            assert "part 1 is a file" in rest.text
    assert hits == [], f"the hub fetched what a message named: {hits}"
    with live_hub.client() as client:
        assert client.get("/api/v1/process-instances").json()["items"] == []
