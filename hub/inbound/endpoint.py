"""The HTTP side of inbound webhooks: ``/inbound/{webhookId}`` for callers, ``GET /api/v1/inbound`` for admins.

A request to ``/inbound/{webhookId}`` is answered in this order: 404 when no
active element has that id; a one-time verification challenge
(``inbound.verificationExpression``, which changes nothing); the element's method, HMAC and authorization
checks (``hub.inbound.checks``: 405, 401, 403); 400 for a body that is not
what its content type says; then ``hub.inbound.trigger``. Every refusal comes
before the engine is asked to change anything, so a request that does not
authenticate starts nothing and publishes nothing.

The Guard lets ``/inbound/`` through without a bearer token (a webhook
authenticates by its own configured means) but still checks Host, Origin and
the body's size. Log lines name the webhook, the method and the outcome:
never a header, a secret or the body.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
from dataclasses import replace
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine import strict_json
from hub.api.common import hub, read_body, require
from hub.inbound.active import WebhookCache, active_webhooks
from hub.inbound.checks import Refused, WebhookMisconfigured, WebhookRequest, check_request
from hub.inbound.config import A2A_WEBHOOK_TYPE, WebhookElement
from hub.inbound.jwks import JwksCache
from hub.inbound.trigger import choose, correlate, respond, variables_of, verification
from protocols.a2a.camunda_results import pushed_task
from protocols.http import EgressPolicy
from protocols.http.secrets import SecretProvider

__all__ = ["InboundWebhooks"]

METHODS: Final = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
_FORM: Final = "application/x-www-form-urlencoded"
log = logging.getLogger("agenthub.hub.inbound")


class _BadBody(Exception):
    pass


def _request(request: Request, raw: bytes) -> tuple[WebhookRequest, bool]:
    """The request as expressions see it, and whether its body could be read as its content type says."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    params: dict[str, str] = {}
    for name, value in parse_qsl(request.url.query, keep_blank_values=True):
        params.setdefault(name, value)  # the first value wins, as in Camunda's runtime
    try:
        body, readable = _body(raw, headers.get("content-type", "")), True
    except _BadBody:
        body, readable = raw.decode("utf-8", "replace"), False
    return WebhookRequest(request.method, raw, headers, params, body), readable


def _body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return {}
    media = content_type.split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadBody from None
    if media == _FORM:
        return dict(parse_qsl(text, keep_blank_values=True))
    if "xml" in media or media.startswith("text/"):
        return text
    try:
        return strict_json.loads(raw)
    except strict_json.JsonProblem:
        raise _BadBody from None


def _answer(status: int, headers: dict[str, str], body: Any) -> Response:
    if body is None:
        return Response(status_code=status, headers=headers)
    given = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    if isinstance(body, str):
        # Camunda escapes a text body (it may echo the request) unless the answer declares XML
        text = body if given and "xml" in given.lower() else html.escape(body)
        return Response(text, status_code=status, headers=headers, media_type=None if given else "text/plain")
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return Response(data, status_code=status, headers=headers, media_type=None if given else "application/json")


def _refusal(status: int, detail: str) -> Response:
    return JSONResponse({"message": detail}, status_code=status)


class InboundWebhooks:
    """The routes, with what they keep between requests: the secret provider and the JWKS cache."""

    def __init__(self, secrets: SecretProvider, egress: EgressPolicy) -> None:
        self.secrets = secrets
        self.keys = JwksCache(egress)
        self.cache: WebhookCache = {}

    @property
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/inbound/{webhookId}", self.receive, methods=METHODS),
            Route("/api/v1/inbound", self.listing, methods=["GET"]),
        ]

    async def listing(self, request: Request) -> Response:
        """The active webhooks (admin): where each leads and how it is guarded, never a secret."""
        require(request, "admin")
        found = await asyncio.to_thread(active_webhooks, hub(request).engine, cache=self.cache)
        return JSONResponse({"items": [w.summary() for w in found]})

    async def receive(self, request: Request) -> Response:
        webhook_id = str(request.path_params["webhookId"])
        engine = hub(request).engine
        elements = await asyncio.to_thread(active_webhooks, engine, webhook_id, cache=self.cache)
        shown = webhook_id[:80].replace("\r", "_").replace("\n", "_")
        if not elements:
            return _refusal(404, f"no active webhook has the id '{shown}'")
        raw = await read_body(request)
        webhook_request, readable = _request(request, raw)
        try:
            challenge = verification(elements, webhook_request) if readable else None
            if challenge is not None:
                log.info("webhook %s: %s answered a verification challenge", shown, request.method)
                return _answer(*challenge)
            admitted = await self._admitted(elements, webhook_request)
            if not readable:
                raise Refused(400, "the body is not what its Content-Type says (JSON unless declared otherwise)")
            if all(e.inbound_type == A2A_WEBHOOK_TYPE for e in admitted):  # Camunda's: request.body is an A2aTask
                webhook_request = replace(webhook_request, body=pushed_task(webhook_request.body))
            element = choose(admitted, webhook_request)
            if element is None:
                log.info("webhook %s: %s matched no activation condition; consumed", shown, request.method)
                return Response(status_code=200)
            values = variables_of(element, webhook_request)
            outcome = await asyncio.to_thread(correlate, engine, element, webhook_request, values)
            log.info("webhook %s: %s %s", shown, request.method, outcome.summary)
            status, headers, body = respond(element, webhook_request, outcome)
        except Refused as refused:
            # the checks' reasons are fixed texts; a 4xx from an expression may quote the request, so it is left out
            reason = refused.detail if refused.status in (401, 403, 405) else "see the answer"
            log.info("webhook %s: %s refused with %s: %s", shown, request.method, refused.status, reason)
            return _refusal(refused.status, refused.detail)
        except WebhookMisconfigured as exc:
            log.warning("webhook %s: its configuration cannot be used: %s", shown, exc)
            return _refusal(503, "this webhook is not configured correctly; the hub's log says why")
        return _answer(status, headers, body)

    async def _admitted(self, elements: list[WebhookElement], request: WebhookRequest) -> list[WebhookElement]:
        """The elements whose checks the request passes; the first refusal when it passes none."""
        passed: list[WebhookElement] = []
        first: Exception | None = None
        for element in elements:
            try:
                await check_request(element, request, self.secrets, self.keys)
            except (Refused, WebhookMisconfigured) as exc:
                first = first or exc
                continue
            passed.append(element)
        if not passed:
            assert first is not None
            raise first
        return passed
