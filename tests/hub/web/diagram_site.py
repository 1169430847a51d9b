"""A small site for the diagram's browser tests: hub/web/static, the diagram endpoint over a real engine, and pages.

Requests carrying the cookie ``session=reader`` act as a principal with the ``read`` scope (the console's Guard
does this for real sessions); pages get the console's Content-Security-Policy, so a script the vendored code
would need to ``eval`` or inline fails here as it would there.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from engine import Engine
from hub.api.common import Hub, problem_handlers
from hub.web.diagram import routes as diagram_routes
from registry import Principal
from tests.ports import free_port
from tests.servers import serve_app

STATIC = Path(__file__).resolve().parents[3] / "hub" / "web" / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEAD = """<!doctype html><html><head><meta charset="utf-8"><title>diagram</title>
<link rel="stylesheet" href="/static/vendor/bpmn-js/assets/diagram-js.css">
<link rel="stylesheet" href="/static/vendor/bpmn-js/assets/bpmn-js.css">
<link rel="stylesheet" href="/static/diagram.css">
<script src="/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"></script>
<script src="/static/diagram.js" defer></script>
<link rel="stylesheet" href="/static/vendor/form-js/assets/form-js.css">
<script src="/static/vendor/form-js/form-viewer.umd.js"></script>
<script src="/static/forms.js" defer></script>
</head><body>"""


def _script_json(element_id: str, value: Any) -> str:
    # As the console's templates do: JSON in a non-executed script, with "<" escaped so no text can close it.
    body = json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{element_id}">{body}</script>'


def diagram_page(process_id: str, state: dict[str, Any] | None, *, url: str | None = None) -> str:
    xml_url = url or f"/processes/{process_id}/diagram.bpmn"
    state_html = _script_json("state", state) if state is not None else ""
    state_attr = ' data-state-id="state"' if state is not None else ""
    return (
        f'{HEAD}<div id="d" data-diagram="{process_id}" data-xml-url="{xml_url}"{state_attr}></div>{state_html}'
        "</body></html>"
    )


def form_page(schema: dict[str, Any], data: dict[str, Any]) -> str:
    return (
        f'{HEAD}<form method="post" action="/submitted" id="outer">'
        '<div id="f" data-form-schema-id="schema" data-form-data-id="data"></div>'
        f"{_script_json('schema', schema)}{_script_json('data', data)}"
        '<button type="submit" id="send">Send</button></form></body></html>'
    )


@dataclass
class DiagramSite:
    base: str
    engine: Engine[Any]
    pages: dict[str, str] = field(default_factory=dict)
    posted: list[dict[str, str]] = field(default_factory=list)

    def deploy(self, *resources: tuple[str, bytes]) -> None:
        self.engine.deploy(list(resources))

    def page(self, name: str, html: str) -> str:
        self.pages[name] = html
        return f"{self.base}/page/{name}"


class _SessionPrincipal:
    """What the Guard does for the console, reduced to one fixed cookie."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            cookies = Request(scope).cookies
            if cookies.get("session") == "reader":
                scope.setdefault("state", {})["principal"] = Principal("reader", frozenset({"read"}))
        await self.app(scope, receive, send)


@contextmanager
def diagram_site() -> Iterator[DiagramSite]:
    engine: Engine[Any] = Engine.open("memory:")
    port = free_port()
    site = DiagramSite(base=f"http://127.0.0.1:{port}", engine=engine)

    async def page(request: Request) -> Response:
        html = site.pages.get(request.path_params["name"])
        if html is None:
            return Response("no such page", status_code=404)
        return HTMLResponse(html, headers={"Content-Security-Policy": CSP})

    async def submitted(request: Request) -> Response:
        site.posted.append({k: str(v) for k, v in (await request.form()).items()})
        return HTMLResponse("<!doctype html><p id='done'>sent</p>")

    app = Starlette(
        routes=[
            *diagram_routes,
            Route("/page/{name}", page),
            Route("/submitted", submitted, methods=["POST"]),
            Mount("/static", app=StaticFiles(directory=str(STATIC))),
        ],
        exception_handlers=dict(problem_handlers),
    )
    app.state.hub = Hub(engine=engine, registry=None, workers=None, settings=None)  # type: ignore[arg-type]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    try:
        with serve_app(_SessionPrincipal(app), sock, what="the diagram test site", lifespan="off"):
            yield site
    finally:
        sock.close()
        engine.close()
