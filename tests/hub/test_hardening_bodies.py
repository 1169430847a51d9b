"""Bodies of any size and framing are cut off at the endpoint's limit while they stream (RELIABILITY.md A12).

Each test streams a chunked body (no Content-Length) of up to 200 MiB to a live hub
and checks that the hub answers 413 (or 401 for a caller without a token) long
before the client has sent it all, and that the hub's memory does not grow with it.
The hub runs in this process, so its RSS is ours.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psutil
import pytest

from tests.hub.harness import LiveHub

CHUNK = b"x" * (1 << 20)
CHUNKS_AT_MOST = 200  # the client gives up after 200 MiB
SENT_AT_MOST = 64 << 20  # what the hub may let in (limit plus socket buffers) before it closes the connection
RSS_GROWTH_AT_MOST = 50 << 20


class _Body:
    """A chunked body of up to 200 MiB that counts what the client got to send."""

    def __init__(self, prefix: bytes = b"") -> None:
        self.prefix = prefix
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        if self.prefix:
            self.sent += len(self.prefix)
            yield self.prefix
        for _ in range(CHUNKS_AT_MOST):
            self.sent += len(CHUNK)
            yield CHUNK


def _push(live_hub: LiveHub, path: str, token: str, content_type: str, body: _Body) -> tuple[httpx.Response, int]:
    """POST ``body`` chunked to ``path``; the answer and how much the hub's RSS grew meanwhile."""
    process = psutil.Process()
    before = process.memory_info().rss
    headers = {"Content-Type": content_type, "Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    answer = httpx.post(live_hub.url + path, content=iter(body), headers=headers, timeout=60)
    return answer, process.memory_info().rss - before


MULTIPART = b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.bpmn"\r\n\r\n'


@pytest.mark.parametrize(
    ("path", "content_type", "prefix", "scope"),
    [
        # the case: a read-only token pushed the hub to 1.26 GB before its 403
        pytest.param("/a2a", "application/json", b"", "read", id="a2a"),
        pytest.param("/mcp", "application/json", b"", "admin", id="mcp"),
        pytest.param("/api/v1/deployments", "multipart/form-data; boundary=b", MULTIPART, "admin", id="deployments"),
        pytest.param("/api/v1/process-instances", "application/json", b"", "admin", id="process-instances"),
    ],
)
def test_a_chunked_body_over_the_limit_is_cut_off_with_413_while_it_streams(
    live_hub: LiveHub, path: str, content_type: str, prefix: bytes, scope: str
) -> None:
    token = live_hub.admin if scope == "admin" else live_hub.token(scope)
    body = _Body(prefix)
    answer, growth = _push(live_hub, path, token, content_type, body)
    assert answer.status_code == 413, answer.text
    assert answer.headers["connection"] == "close"
    assert "bytes" in answer.text and "larger than" in answer.text
    if path.startswith("/api/"):
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["status"] == 413 and problem["title"] == "Content Too Large"
        assert str(10 * 1024 * 1024) in problem["detail"]
    else:  # JSON-RPC endpoints answer in JSON-RPC
        assert answer.json()["error"]["message"].startswith("the body is larger than")
    assert body.sent < SENT_AT_MOST, f"the hub let {body.sent >> 20} MiB in before answering"
    assert growth < RSS_GROWTH_AT_MOST, f"the hub's RSS grew by {growth >> 20} MiB"


def test_a_chunked_body_without_a_token_gets_401_and_the_connection_closed(live_hub: LiveHub) -> None:
    body = _Body()
    answer, growth = _push(live_hub, "/api/v1/process-instances", "", "application/json", body)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["connection"] == "close"
    assert body.sent < SENT_AT_MOST, f"the hub read {body.sent >> 20} MiB from a caller without a token"
    assert growth < RSS_GROWTH_AT_MOST


def test_a_chunked_body_to_a_public_path_is_refused_since_none_takes_a_body(live_hub: LiveHub) -> None:
    body = _Body()
    answer, _ = _push(live_hub, "/health", "", "application/json", body)
    assert answer.status_code in (405, 413)
    assert answer.headers["connection"] == "close"
    assert body.sent < SENT_AT_MOST


def test_a_body_under_the_limit_still_goes_through(live_hub: LiveHub) -> None:
    with live_hub.client() as c:
        answer = c.post("/api/v1/tokens", content=iter([b'{"name": "chunked", ', b'"scopes": ["read"]}']))
    assert answer.status_code == 201, answer.text
    assert answer.headers.get("connection") != "close"
