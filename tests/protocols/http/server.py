"""A real HTTP server on 127.0.0.1 for the connector's tests; nothing else is ever contacted.

``serve()`` starts one uvicorn server (Starlette app) on a port the OS picks, in
a background thread. Its routes:

- ``/echo``: answers 200 with JSON of what it received (method, path, query, headers, body text);
- ``/status/{code}``: answers that status with ``{"error": ...}`` and the request headers echoed;
- ``/orders/{id}``: 200 with an order (and the ``expand`` parameter and Accept header it got), 404 for ``missing``;
- ``/slow``: answers after 5 s;
- ``/big?size=n``: ``n`` bytes of text with a Content-Length; ``/stream?size=n`` the same, chunked;
- ``/text``, ``/mislabelled``: plain text, and text that claims to be JSON;
- ``/redirect?to=url&status=302``: a redirect;
- ``/loop``: redirects to itself;
- ``/oauth/token``: OAuth client credentials (``client-1``/``oauth-secret-1``, in the form or a Basic header)
  give a new ``access_token`` valid for an hour; anything else answers 401.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class EchoServer:
    url: str
    port: int
    hits: list[str] = field(default_factory=list)  # paths requested, in order
    received: list[dict[str, str]] = field(default_factory=list)  # request headers of /echo and /status, in order
    at: list[float] = field(default_factory=list)  # when /status was asked (time.monotonic), in order
    queries: list[list[list[str]]] = field(default_factory=list)  # the queries /echo received, in order
    tokens: list[str] = field(default_factory=list)  # access tokens /oauth/token gave, in order
    forms: list[dict[str, str]] = field(default_factory=list)  # the forms /oauth/token received, in order


def _app(server: EchoServer) -> Starlette:
    async def echo(request: Request) -> Response:
        server.hits.append(request.url.path)
        server.received.append(dict(request.headers))
        server.queries.append([[k, v] for k, v in request.query_params.multi_items()])
        body = await request.body()
        return JSONResponse({
            "method": request.method,
            "path": request.url.path,
            "query": [[k, v] for k, v in request.query_params.multi_items()],
            "headers": dict(request.headers),
            "body": body.decode("utf-8"),
        })

    async def status(request: Request) -> Response:
        server.hits.append(request.url.path)
        server.at.append(time.monotonic())
        server.received.append(dict(request.headers))
        code = int(request.path_params["code"])
        return JSONResponse({"error": f"status {code}", "youSent": dict(request.headers)}, status_code=code)

    async def orders(request: Request) -> Response:
        server.hits.append(request.url.path)
        order_id = request.path_params["id"]
        if order_id == "missing":
            return JSONResponse({"error": "no such order"}, status_code=404)
        return JSONResponse({"id": order_id, "total": 42.5, "items": [{"sku": "A-1", "qty": 2}],
                             "expand": request.query_params.get("expand"), "accept": request.headers.get("accept")})

    async def slow(request: Request) -> Response:
        server.hits.append(request.url.path)
        await asyncio.sleep(5)
        return PlainTextResponse("late")

    async def big(request: Request) -> Response:
        server.hits.append(request.url.path)
        return PlainTextResponse("x" * int(request.query_params["size"]))

    async def stream(request: Request) -> Response:
        server.hits.append(request.url.path)
        size = int(request.query_params["size"])

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, size, 1000):
                yield b"y" * min(1000, size - start)

        return StreamingResponse(chunks(), media_type="text/plain")

    async def text(request: Request) -> Response:
        server.hits.append(request.url.path)
        return PlainTextResponse("plain words")

    async def mislabelled(request: Request) -> Response:
        server.hits.append(request.url.path)
        return Response("not {json", media_type="application/json")

    async def redirect(request: Request) -> Response:
        server.hits.append(request.url.path)
        status_code = int(request.query_params.get("status", "302"))
        return RedirectResponse(request.query_params["to"], status_code=status_code)

    async def loop(request: Request) -> Response:
        server.hits.append(request.url.path)
        return RedirectResponse("/loop", status_code=302)

    async def oauth_token(request: Request) -> Response:
        server.hits.append(request.url.path)
        form = {k: str(v) for k, v in (await request.form()).items()}
        server.forms.append(form)
        client, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            client, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if (client, secret) != ("client-1", "oauth-secret-1") or form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        token = f"access-{len(server.tokens) + 1}-{form.get('scope', '')}"
        server.tokens.append(token)
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(routes=[
        Route("/echo", echo, methods=methods),
        Route("/status/{code:int}", status, methods=methods),
        Route("/orders/{id}", orders),
        Route("/slow", slow),
        Route("/big", big),
        Route("/stream", stream),
        Route("/text", text),
        Route("/mislabelled", mislabelled),
        Route("/redirect", redirect, methods=methods),
        Route("/loop", loop),
        Route("/oauth/token", oauth_token, methods=["POST"]),
    ])


@contextmanager
def serve(*, certfile: str | None = None, keyfile: str | None = None) -> Iterator[EchoServer]:
    """Run the app until the block ends; with ``certfile`` and ``keyfile`` it speaks https."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    scheme = "https" if certfile else "http"
    server = EchoServer(url=f"{scheme}://127.0.0.1:{port}", port=port)
    config = uvicorn.Config(
        _app(server), log_level="error", access_log=False, lifespan="off", ws="none", http="h11",
        loop="asyncio", timeout_graceful_shutdown=1, ssl_certfile=certfile, ssl_keyfile=keyfile,
    )
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test HTTP server did not start")
        time.sleep(0.01)
    try:
        yield server
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        sock.close()
