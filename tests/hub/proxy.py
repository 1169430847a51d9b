"""A client-side proxy for suites that cannot send a bearer token: adds one, forwards everything else as is.

The MCP conformance suite has no option for an Authorization header, and the
hub refuses every unauthenticated request. This proxy stands where an
assistant holding a token would: Host, Origin and the body pass through
untouched (so the suite's DNS-rebinding probes still reach the hub's guard),
responses stream back (SSE included). A header value loses the whitespace around it, as RFC 9110 (5.5) says it is
not part of the value: the proxy's HTTP client will not send it, and the hub's own trimming is tested over a raw
socket (``test_auth``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


class TokenProxy:
    def __init__(self, target: str, token: str) -> None:
        self.target = target.rstrip("/")
        self.token = token
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(60, read=None))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
            await self.client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        request = Request(scope, receive)
        headers = [(k, v.strip(" \t")) for k, v in request.headers.items()
                   if k.lower() not in _HOP and k.lower() != "authorization"]
        headers.append(("authorization", f"Bearer {self.token}"))
        url = self.target + request.url.path + (f"?{request.url.query}" if request.url.query else "")

        async def body() -> AsyncIterator[bytes]:
            async for chunk in request.stream():
                yield chunk

        upstream = await self.client.send(
            self.client.build_request(request.method, url, headers=headers, content=body()), stream=True
        )
        response = StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            headers={k: v for k, v in upstream.headers.items() if k.lower() not in _HOP},
            background=BackgroundTask(upstream.aclose),
        )
        await response(scope, receive, send)
