"""RELIABILITY M4: a page from another origin on this machine cannot drive the hub's /mcp, in a real browser.

Headless Chromium loads a page from 127.0.0.1:A (another port: another origin, as a page a DNS-rebinding
attacker serves would be) whose script ``fetch``es 127.0.0.1:P/mcp with a tools/call of an exposed process,
once as a "simple" request (text/plain, no preflight: the browser sends it as is) and once with a bearer
token (preflighted). The hub answers the request it receives 403 for its Origin, and no instance starts.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.hub.harness import LiveHub
from tests.ports import free_port
from tests.servers import serve_app

CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "straight", "arguments": {"amount": 1}}}


def _attacker() -> Starlette:
    async def home(request: Any) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>cat pictures</title><p>nothing to see</p>")

    return Starlette(routes=[Route("/", home)])


def test_a_page_from_another_origin_cannot_call_a_tool(live_hub: LiveHub, page: Any) -> None:
    live_hub.deploy("straight.bpmn", expose=True)
    port = free_port()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    attempted: list[str] = []
    page.on("request", lambda r: attempted.append(r.method) if r.url.endswith("/mcp") else None)
    with sock, serve_app(_attacker(), sock, what="the attacker's page", lifespan="off"):
        page.goto(f"http://127.0.0.1:{port}/")
        outcomes = page.evaluate(
            """async ([url, body, token]) => {
                const tries = [
                    {method: "POST", headers: {"Content-Type": "text/plain"}, body},
                    {method: "POST", body, headers: {"Content-Type": "application/json",
                                                     "Accept": "application/json, text/event-stream",
                                                     "Authorization": "Bearer " + token}},
                ];
                const out = [];
                for (const init of tries) {
                    try { const r = await fetch(url, init); out.push("read " + r.status); }
                    catch (e) { out.push("blocked"); }
                }
                return out;
            }""",
            [f"{live_hub.url}/mcp", json.dumps(CALL), live_hub.admin],
        )
    assert outcomes == ["blocked", "blocked"]  # the page can read nothing back
    assert "POST" in attempted  # the browser did send the simple request
    with live_hub.client(headers={"Origin": f"http://127.0.0.1:{port}"}) as same_request:
        refused = same_request.post("/mcp", content=json.dumps(CALL), headers={"Content-Type": "text/plain"})
    assert refused.status_code == 403  # what such a request gets at the hub: refused for its Origin
    with live_hub.client() as admin:
        assert admin.get("/api/v1/process-instances").json()["items"] == []  # no tool ran
