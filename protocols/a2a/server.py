"""The hub's A2A server: every exposed process is an agent at ``/a2a/{processId}``, and the hub one at ``/a2a``.

Owns the routes: the public agent cards (A2A 1.0 at ``agent-card.json``, 0.3
at ``agent.json`` or when asked with ``A2A-Version: 0.3``; readable from any
origin, CORS), and for each agent the JSON-RPC
endpoint (``POST /a2a/{processId}``, with or without a trailing ``/``) and
the HTTP+JSON routes under it (``/message:send``, ``/tasks/{id}``, ...),
A2A 1.0 with the 0.3 names accepted too. The SDK's dispatchers parse and
answer the wire formats; ``ProcessTaskHandler`` answers the methods.

Does not know tokens, Host or Origin: the hub's guard verifies them and
puts a ``registry.Principal`` in ``scope["state"]["principal"]``. This layer
still fails closed (401 without a principal) and refuses a method whose
scope the principal lacks with 403 before anything runs.

    endpoint = A2AEndpoint(engine, base_url=lambda: "http://127.0.0.1:8600")
    app = Starlette(routes=[*endpoint.routes, ...])

Push notifications are offered when ``push`` (a ``PushConfigs`` over the
registry's push store) is given: the cards say so and the push-config
methods work. Sending them is the dispatcher's (``push_dispatch``), which the
hub runs beside the endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import importlib.metadata
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import format_datetime
from typing import Any

# a2a.server.routes before the 0.3 adapter: importing the adapter first runs into a circular import in the SDK
from a2a.server.routes.common import DefaultServerCallContextBuilder  # isort: skip
from a2a.compat.v0_3.rest_adapter import REST03Adapter
from a2a.server.context import ServerCallContext
from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
from a2a.server.routes.rest_dispatcher import RestDispatcher
from a2a.types import AgentCard, ExtendedAgentCardNotConfiguredError
from a2a.utils.constants import A2A_JSON_MEDIA_TYPE
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine import Engine, NotFound, strict_json
from engine.exposure import ToolSpec
from engine.strict_json import JsonProblem
from protocols.a2a._cards import (
    CACHE_CONTROL,
    CARD_PATH,
    CARD_PATH_03,
    HUB_PATH,
    card_json,
    card_json_03,
    hub_card,
    process_card,
    with_grpc,
)
from protocols.a2a._handler import AGENT, PRINCIPAL, PrincipalUser, ProcessTaskHandler, agent_of
from protocols.a2a._virtual import VIRTUAL, VirtualAgents, virtual_card, virtual_of
from protocols.a2a.push_configs import PushConfigs
from protocols.a2a.refusals import rest_refusal
from protocols.a2a.signing import JWKS_PATH, CardSigner
from registry import MessageIds, Principal, Registry, TaskHistory, VirtualServer

Endpoint = Callable[[Request], Awaitable[Response]]

_NEEDS_START = frozenset(
    {
        "SendMessage",
        "SendStreamingMessage",
        "CancelTask",
        "CreateTaskPushNotificationConfig",
        "message/send",
        "message/stream",
        "tasks/cancel",
        "tasks/pushNotificationConfig/set",
    }
)
"""JSON-RPC methods (1.0 and 0.3 names) that need the ``start`` scope; the others show only the caller's own tasks.

Setting a push config needs it too: it makes the hub send requests."""

_CHALLENGE = 'Bearer realm="agenthub"'
_CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"}
"""A card is a public document: any page may read it, never with credentials (so no Allow-Credentials)."""
_PREFLIGHT = {
    **_CORS,
    "Access-Control-Allow-Methods": "GET",
    "Access-Control-Allow-Headers": "A2A-Version, If-None-Match",
    "Access-Control-Max-Age": "600",
}


class _ContextBuilder(DefaultServerCallContextBuilder):
    """The SDK's call context plus the principal and the agent addressed; the bearer token is left out."""

    def build(self, request: Request) -> ServerCallContext:
        context = super().build(request)
        context.state.get("headers", {}).pop("authorization", None)
        principal = request.scope.get("state", {}).get("principal")
        if isinstance(principal, Principal):
            context.state[PRINCIPAL] = principal
            context.user = PrincipalUser(principal)
        virtual = request.scope.get("state", {}).get(VIRTUAL)
        process_id = request.path_params.get("processId")
        if isinstance(virtual, VirtualServer):  # a virtual agent (_virtual): the hub's endpoint narrowed to its set
            context.state[VIRTUAL] = virtual
            context.state["began"] = time.monotonic()
        elif isinstance(process_id, str):
            context.state[AGENT] = process_id
        return context


class A2AEndpoint:
    """The A2A routes over one engine; ``base_url()`` is the hub's public URL, used in the cards.

    With ``registry``, the virtual servers it defines with ``a2a`` are agents at ``/a2a/{name}`` (``_virtual``);
    with ``signer``, the cards are signed (``signing``).

    ``messages`` remembers the message ids each caller sent, so that a message sent again returns its first task
    (default: the registry store of ``push``; with neither, messages are not deduplicated). ``history`` keeps the
    messages of each task, its ``history`` (default: ``registry``'s, else in the store of ``push``).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        base_url: Callable[[], str],
        call_timeout_s: float = 30.0,
        stream_timeout_s: float = 300.0,
        push: PushConfigs | None = None,
        messages: MessageIds | None = None,
        history: TaskHistory | None = None,
        registry: Registry | None = None,
        signer: CardSigner | None = None,
        grpc_target: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.base_url = base_url
        self.grpc_target = grpc_target  # where clients reach the hub's gRPC endpoint (grpc_server), None: not served
        self.push = push
        self.virtual = VirtualAgents(registry) if registry is not None else None  # virtual agents at /a2a/{name}
        self.signer = signer  # signs every 1.0 card; its key at /.well-known/jwks.json (signing)
        if messages is None and push is not None:
            # The message ids live in the registry beside the push configs; the hub hands over only the latter.
            messages = MessageIds(push.store.store)
        if history is None:  # the tasks' messages, in the registry too (with neither: tasks show no history)
            history = registry.a2a_history if registry is not None else (
                TaskHistory(push.store.store) if push is not None else None)
        self.handler = ProcessTaskHandler(
            engine,
            call_timeout_s=call_timeout_s,
            stream_timeout_s=stream_timeout_s,
            extended_card=self._extended_card,
            push=push,
            messages=messages,
            history=history,
        )
        self.handler.virtual = self.virtual
        builder = _ContextBuilder()
        self._jsonrpc = JsonRpcDispatcher(self.handler, context_builder=builder, enable_v0_3_compat=True)
        self._rest = RestDispatcher(self.handler, context_builder=builder)
        self._rest03 = REST03Adapter(self.handler, context_builder=builder)
        self.routes: list[BaseRoute] = self._routes()

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Nothing to start or stop: streams end with their requests, tasks live in the engine."""
        yield

    # --- routes -------------------------------------------------------------------------------

    def _routes(self) -> list[BaseRoute]:
        hub, agent = HUB_PATH, HUB_PATH + "/{processId}"
        routes: list[BaseRoute] = [
            Route(base + path, target, methods=["GET", "OPTIONS"])
            for base, target in (("", self._hub_card), (agent, self._process_card))
            for path in (CARD_PATH, CARD_PATH_03)
        ]
        routes.append(Route(JWKS_PATH, self._jwks, methods=["GET", "OPTIONS"]))
        # The hub endpoint's routes go first: /a2a/message:send must not be taken for an agent named "message:send"
        # (BPMN ids are NCNames, so no process id has a colon).
        for base in (hub, agent):
            jsonrpc = self._gate(self._jsonrpc.handle_requests, jsonrpc=True)
            routes += [Route(base, jsonrpc, methods=["POST"]), Route(base + "/", jsonrpc, methods=["POST"])]
            routes += [
                Route(base + path, self._gate(target, needs=needs), methods=[method])
                for path, method, target, needs in self._rest_table()
            ]
        # The 0.3 HTTP+JSON routes (/v1/...), for the process agents only.
        routes += [
            Route(agent + path, self._gate(target, needs=_start_03(path, method)), methods=[method])
            for (path, method), target in self._rest03.routes().items()
        ]
        return routes

    def _rest_table(self) -> list[tuple[str, str, Endpoint, str | None]]:
        rest = self._rest
        # Order as the SDK has it: ":subscribe" and ":cancel" before the plain "/tasks/{id}".
        return [
            ("/message:send", "POST", rest.on_message_send, "start"),
            ("/message:stream", "POST", rest.on_message_send_stream, "start"),
            ("/tasks/{id}:cancel", "POST", rest.on_cancel_task, "start"),
            ("/tasks/{id}:subscribe", "GET", rest.on_subscribe_to_task, None),
            ("/tasks/{id}:subscribe", "POST", rest.on_subscribe_to_task, None),
            ("/tasks/{id}", "GET", rest.on_get_task, None),
            ("/tasks/{id}/pushNotificationConfigs/{push_id}", "GET", rest.get_push_notification, None),
            ("/tasks/{id}/pushNotificationConfigs/{push_id}", "DELETE", rest.delete_push_notification, None),
            ("/tasks/{id}/pushNotificationConfigs", "POST", rest.set_push_notification, "start"),
            ("/tasks/{id}/pushNotificationConfigs", "GET", rest.list_push_notifications, None),
            ("/tasks", "GET", rest.list_tasks, None),
            ("/extendedAgentCard", "GET", rest.handle_authenticated_agent_card, None),
        ]

    def _gate(self, target: Endpoint, *, needs: str | None = None, jsonrpc: bool = False) -> Endpoint:
        """401 without a principal, 404 for an unexposed agent, 403 without the scope, 415 for a body not JSON."""

        async def endpoint(request: Request) -> Response:
            principal = request.scope.get("state", {}).get("principal")
            if not isinstance(principal, Principal):
                return _refusal(401, "this endpoint needs an API token: Authorization: Bearer <token>", jsonrpc)
            process_id = request.path_params.get("processId")
            addressed = await self.addressed(principal, process_id if isinstance(process_id, str) else None)
            if isinstance(addressed, tuple):
                return _refusal(*addressed, jsonrpc)
            if addressed is not None:
                request.scope.setdefault("state", {})[VIRTUAL] = addressed
            body, problem = await _strict_body(request)
            needed, request_id = _jsonrpc_scope(body) if jsonrpc else (needs, None)
            if needed is not None and not principal.has(needed):
                return _refusal(403, f"permission denied: this method needs the '{needed}' scope", jsonrpc, request_id)
            media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if request.method == "POST" and media not in ("", "application/json", A2A_JSON_MEDIA_TYPE):
                what = "a JSON-RPC request" if jsonrpc else "the request body"
                return _refusal(
                    415, f"{what} is JSON (Content-Type: application/json), not '{media}'", jsonrpc, request_id
                )
            if problem is not None:
                return _refusal(400, f"Parse error: {problem}", jsonrpc, request_id, field=problem.path)
            response = await target(request)
            return response if jsonrpc else _as_specified(response)

        return endpoint

    async def addressed(self, principal: Principal, agent: str | None) -> VirtualServer | tuple[int, str] | None:
        """Whether ``principal`` may address ``agent`` (a process id or a virtual agent's name; None: the hub's
        agent): the virtual server it names, None for a process or the hub, or the refusal (status, detail): 403 for
        a principal a virtual server does not admit (audited), 404 for an agent that is not exposed."""
        if agent is None:
            return None
        virtual = await self._virtual(agent)
        if virtual is not None and self.virtual is not None:
            if not virtual.admits(principal):
                return 403, await asyncio.to_thread(self.virtual.refuse, principal, virtual)
            return virtual
        if await self._spec(agent) is None:
            return 404, f"no agent '{agent}': the process is not deployed or not exposed"
        return None

    async def _virtual(self, name: str) -> VirtualServer | None:
        return None if self.virtual is None else await asyncio.to_thread(self.virtual.find, name)

    # --- cards --------------------------------------------------------------------------------

    async def _spec(self, process_id: str) -> ToolSpec | None:
        try:
            return await asyncio.to_thread(self.engine.tool, process_id)
        except NotFound:
            return None

    async def _process_version(self, process_id: str) -> str:
        rows = await asyncio.to_thread(self.engine.definitions, process_id)
        return str(max((int(r["version"]) for r in rows), default=1))

    async def _card(self, process_id: str | None, *, extended: bool) -> AgentCard | None:
        push = self.push is not None
        if process_id is None:
            specs = await asyncio.to_thread(self.engine.tools)
            return self._signed(hub_card(specs, self.base_url(), _hub_version(), extended=extended, push=push), "")
        spec = await self._spec(process_id)
        if spec is None:
            return None
        version = await self._process_version(process_id)
        return self._signed(process_card(spec, self.base_url(), version, extended=extended, push=push), process_id)

    def _signed(self, card: AgentCard, tenant: str) -> AgentCard:
        """The card as served: with the gRPC interface (``tenant`` names its agent there) when the hub serves
        gRPC, then signed when the hub signs."""
        target = self.grpc_target()
        if target:
            card = with_grpc(card, target, tenant)
        return card if self.signer is None else self.signer.sign(card)

    async def _jwks(self, request: Request) -> Response:
        """The public keys the cards are signed with (A2A 1.0 signed cards: the ``jku`` of each signature)."""
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_PREFLIGHT)
        if self.signer is None:
            return JSONResponse({"error": "this hub does not sign its agent cards (AGENTHUB_A2A_SIGNING_KEY)"}, 404,
                                _CORS)
        return JSONResponse(self.signer.jwks(), headers={**_CORS, "Cache-Control": CACHE_CONTROL})

    async def _virtual_card(self, server: VirtualServer, *, extended: bool) -> AgentCard:
        specs = await asyncio.to_thread(self.engine.tools)
        return self._signed(virtual_card(server, specs, self.base_url(), _hub_version(), extended=extended,
                                         push=self.push is not None), server.name)

    async def _extended_card(self, context: ServerCallContext) -> AgentCard:
        server = virtual_of(context)
        if server is not None:
            return await self._virtual_card(server, extended=True)
        card = await self._card(agent_of(context), extended=True)
        if card is None:  # undeployed since the gate looked
            raise ExtendedAgentCardNotConfiguredError(message=f"no agent '{agent_of(context)}'")
        return card

    async def _deployed_at(self, process_id: str | None) -> int:
        """When the card last changed: the latest deployment of the process (of any process, for the hub's card)."""
        rows = await asyncio.to_thread(self.engine.definitions, process_id)
        return max((int(r["deployedAt"]) for r in rows), default=0)

    async def _hub_card(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_PREFLIGHT)
        card = await self._card(None, extended=False)
        assert card is not None
        return _card_response(request, card, await self._deployed_at(None))

    async def _process_card(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_PREFLIGHT)
        process_id = request.path_params["processId"]
        server = await self._virtual(process_id)
        if server is not None:
            modified = max(server.updated_at, await self._deployed_at(None))  # its set, or what it offers, changed
            return _card_response(request, await self._virtual_card(server, extended=False), modified)
        card = await self._card(process_id, extended=False)
        if card is None:
            missing = f"no agent '{process_id}': the process is not deployed or not exposed"
            return JSONResponse({"error": missing}, 404, _CORS)
        return _card_response(request, card, await self._deployed_at(process_id))


def _card_response(request: Request, card: AgentCard, modified_ms: int) -> Response:
    """The card in the shape the client reads: 0.3 at ``agent.json`` or for ``A2A-Version: 0.x``, else 1.0.

    A request with no ``A2A-Version`` gets the 1.0 card: card discovery comes
    before any version is agreed, and 1.0 clients (and the TCK) fetch the card
    without the header, while 0.3 clients that want their shape can look at
    ``agent.json``, where clients before 1.0 looked.
    """
    legacy = request.url.path.endswith(CARD_PATH_03) or request.headers.get("a2a-version", "").strip().startswith("0.")
    data, etag = (card_json_03 if legacy else card_json)(card)
    modified = datetime.datetime.fromtimestamp(modified_ms / 1000, tz=datetime.UTC)
    headers = {
        **_CORS,
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Vary": "A2A-Version",
    }
    wanted = [tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")]
    if etag.removeprefix("W/") in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    return JSONResponse(data, headers=headers)


def _as_specified(response: Response) -> Response:
    """An HTTP+JSON answer of the SDK's, put right where A2A 1.0 says otherwise.

    Section 11.1: the binding answers with ``application/json`` (the SDK says
    ``application/a2a+json``). Section 5.4: ContentTypeNotSupportedError is
    ``415 Unsupported Media Type`` (the SDK answers 400).
    """
    if response.headers.get("content-type", "").startswith(A2A_JSON_MEDIA_TYPE):
        response.headers["content-type"] = "application/json"
    body = bytes(getattr(response, "body", b""))  # a streamed answer has none
    if response.status_code == 400 and b"CONTENT_TYPE_NOT_SUPPORTED" in body:
        try:
            data = json.loads(body)
            data["error"]["code"] = 415
        except (ValueError, KeyError, TypeError):
            return response
        return JSONResponse(data, 415)
    return response


async def _strict_body(request: Request) -> tuple[Any, JsonProblem | None]:
    """A POST body read by the strict parser (``engine.strict_json``): its value, or what makes it unacceptable.

    The SDK's parsers would take ``1e999`` as Infinity (a 500 when it is
    written back) and fail on a lone surrogate without naming the field; this
    refuses both first, by path. Starlette keeps the body on the request, so
    the dispatcher reads it again without touching the stream. An empty body
    is left to the dispatcher (some HTTP+JSON routes take none).
    """
    if request.method != "POST":
        return None, None
    raw = await request.body()
    if not raw.strip():
        return None, None
    try:
        return strict_json.loads(raw), None
    except JsonProblem as exc:
        return None, exc


def _jsonrpc_scope(body: Any) -> tuple[str | None, str | int | None]:
    """The scope a JSON-RPC request's method needs, and its id; a body that does not parse is left to the dispatcher."""
    if not isinstance(body, dict):
        return None, None
    found = body.get("id")
    request_id = found if isinstance(found, str | int) and not isinstance(found, bool) else None
    return ("start" if body.get("method") in _NEEDS_START else None), request_id


def _start_03(path: str, method: str) -> str | None:
    """The scope a 0.3 HTTP+JSON route needs: ``start`` to send, cancel or set a push config."""
    starts = ("/v1/message:", "/v1/tasks/{id}:cancel", "/v1/tasks/{id}/pushNotificationConfigs")
    return "start" if method == "POST" and path.startswith(starts) else None


def _refusal(
    status: int, detail: str, jsonrpc: bool, request_id: str | int | None = None, *, field: str | None = None
) -> Response:
    """A refusal in the binding's shape: a JSON-RPC error, or the HTTP+JSON ``{"error": {...}}``."""
    headers = {"WWW-Authenticate": _CHALLENGE} if status == 401 else None
    if jsonrpc:
        # 400: a parse error; 404: no such agent (so no such method); 415: ContentTypeNotSupportedError, as the TCK
        # reads it. 401 and 403: the HTTP status says it, and -32600, as the hub's guard answers: A2A has no code
        # for them, and its -32001 and -32003 mean TaskNotFound and PushNotificationNotSupported (docs/A2A.md).
        code = {400: -32700, 401: -32600, 403: -32600, 404: -32601, 415: -32005}[status]
        error: dict[str, Any] = {"code": code, "message": detail}
        if field is not None:
            error["data"] = {"field": field}
        return JSONResponse({"jsonrpc": "2.0", "id": request_id, "error": error}, status, headers)
    return JSONResponse(rest_refusal(status, detail), status, headers)


def _hub_version() -> str:
    try:
        return importlib.metadata.version("agenthub")
    except importlib.metadata.PackageNotFoundError:
        return "0"
