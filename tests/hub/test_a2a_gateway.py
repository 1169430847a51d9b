"""The hub's guard in front of A2A: cards readable from any origin, and refusals in A2A's own terms.

A refused A2A call says why with its HTTP status (401 with a challenge, 403)
and uses no code A2A gives another meaning: -32001 and -32003 are
TaskNotFound and PushNotificationNotSupported, so a client would report
"task not found" for a missing token (docs/A2A.md, "Errors").
"""

from __future__ import annotations

import httpx
import pytest

from tests.hub.harness import LiveHub

FOREIGN = "https://elsewhere.example"
A2A_CODES = range(-32099, -32000 + 1)  # A2A's own codes live in JSON-RPC's server-error range
SEND = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {}}


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/agent-card.json",
        "/.well-known/agent.json",
        "/a2a/straight/.well-known/agent-card.json",
        "/a2a/straight/.well-known/agent.json",
    ],
)
def test_a_page_on_another_origin_can_read_the_public_cards(live_hub: LiveHub, path: str) -> None:
    live_hub.deploy("straight.bpmn", expose=True)
    with httpx.Client(base_url=live_hub.url, headers={"Origin": FOREIGN}, timeout=30) as http:
        read = http.get(path)
        preflight = http.options(path, headers={"Access-Control-Request-Method": "GET"})
    assert read.status_code == 200, read.text
    assert read.json()["name"]
    assert preflight.status_code == 204
    for response in (read, preflight):
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers
    assert preflight.headers["access-control-allow-methods"] == "GET"


def test_a_foreign_origin_is_still_refused_everywhere_but_the_cards(live_hub: LiveHub) -> None:
    live_hub.deploy("straight.bpmn", expose=True)
    with live_hub.client(headers={"Origin": FOREIGN, "A2A-Version": "1.0"}) as http:
        calls = [
            http.post("/a2a/straight", json=SEND),
            http.get("/a2a/straight/tasks"),
            http.post("/.well-known/agent-card.json"),  # a card's path takes reads only
            http.options("/a2a/straight", headers={"Access-Control-Request-Method": "POST"}),
            http.get("/api/v1/process-instances"),
        ]
    for response in calls:
        assert response.status_code == 403, (response.request.url, response.text)
        assert "access-control-allow-origin" not in response.headers


def test_a2a_refusals_say_401_and_403_with_no_code_that_means_something_else(live_hub: LiveHub) -> None:
    live_hub.deploy("straight.bpmn", expose=True)
    reader = live_hub.token("read")
    with httpx.Client(base_url=live_hub.url, headers={"A2A-Version": "1.0"}, timeout=30) as http:
        missing = http.post("/a2a/straight", json=SEND)
        wrong = http.post("/a2a/straight", json=SEND, headers={"Authorization": "Bearer nope"})
        scope = http.post("/a2a/straight", json=SEND, headers={"Authorization": f"Bearer {reader}"})
        foreign = http.post("/a2a/straight", json=SEND, headers={"Origin": FOREIGN})
        rest = http.post("/a2a/straight/message:send", json={"message": {}})
        rest_scope = http.post(
            "/a2a/straight/message:send", json={"message": {}}, headers={"Authorization": f"Bearer {reader}"}
        )
    for response, status in ((missing, 401), (wrong, 401), (scope, 403), (foreign, 403)):
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == -32600 and error["code"] not in A2A_CODES, error
    for response in (missing, wrong):
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert rest.status_code == 401 and rest.json()["error"]["status"] == "UNAUTHENTICATED"
    [info] = rest.json()["error"]["details"]  # AIP-193, as A2A's HTTP+JSON binding answers errors
    assert (info["@type"], info["reason"], info["domain"]) == (
        "type.googleapis.com/google.rpc.ErrorInfo", "UNAUTHENTICATED", "agenthub")
    assert rest.headers["www-authenticate"].startswith("Bearer")
    assert rest_scope.status_code == 403 and rest_scope.json()["error"]["status"] == "PERMISSION_DENIED"


def test_the_mcp_endpoint_keeps_its_own_refusal_codes(live_hub: LiveHub) -> None:
    with httpx.Client(base_url=live_hub.url, timeout=30) as http:
        answer = http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == -32001
