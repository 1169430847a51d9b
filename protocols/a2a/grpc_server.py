"""The hub's A2A gRPC binding: the same agents as ``/a2a``, over A2A 1.0's ``lf.a2a.v1.A2AService``.

One gRPC server on a port of its own (``agenthub serve --a2a-grpc-port``) serves every agent; a request's
``tenant`` names the agent, as each card's ``GRPC`` interface says: a process id, a virtual A2A server's name,
or ``""`` for the hub's own agent (``/a2a``). The SDK's ``GrpcHandler`` maps the wire to the same
``ProcessTaskHandler`` the HTTP bindings use, so tasks, push configs and errors are the same, with A2A's gRPC
status codes and ``ErrorInfo`` details.

Before a call reaches it, the same checks as the HTTP endpoint's gate, in its order: the API token (or sign-in
token) in the ``authorization`` metadata (``Bearer <token>``; none or a wrong one: ``UNAUTHENTICATED``), the
agent (a virtual server that does not admit the principal: ``PERMISSION_DENIED``, audited; an agent that is not
exposed: ``NOT_FOUND``), the scope (sending, canceling and setting a push config need ``start``:
``PERMISSION_DENIED``). The server speaks plain (insecure) HTTP/2, as the hub's HTTP endpoint speaks plain HTTP:
put TLS in front of both, or keep them on 127.0.0.1.

    server = A2AGrpcServer(endpoint, BearerAuth(tokens).principal, host="127.0.0.1", port=8601)
    await server.start()   # in the hub's event loop, beside uvicorn
    ...
    await server.stop()
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import grpc  # type: ignore[import-untyped]
import grpc.aio  # type: ignore[import-untyped]
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.grpc_handler import DefaultGrpcServerCallContextBuilder, GrpcHandler
from a2a.types import a2a_pb2, a2a_pb2_grpc
from a2a.utils.constants import VERSION_HEADER
from a2a.utils.errors import (
    A2A_ERROR_REASONS,
    A2AError,
    PushNotificationNotSupportedError,
    UnsupportedOperationError,
    VersionNotSupportedError,
)
from a2a.utils.grpc_status import status_to_grpc
from google.protobuf import any_pb2  # type: ignore[import-untyped]
from google.protobuf import message as protobuf_message
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]

from protocols.a2a._handler import AGENT, PRINCIPAL, PrincipalUser
from protocols.a2a._virtual import VIRTUAL
from registry import Principal, VirtualServer

__all__ = ["A2AGrpcServer", "Authenticate"]

Authenticate = Callable[[str], Awaitable[Principal | str]]
"""``authenticate(authorization)`` -> the principal, or why there is none."""

T = TypeVar("T")

# the requests that need the ``start`` scope (as the HTTP gate's): they start, change or cancel work
_STARTS = (a2a_pb2.SendMessageRequest, a2a_pb2.CancelTaskRequest, a2a_pb2.TaskPushNotificationConfig)
_STATUS = {401: grpc.StatusCode.UNAUTHENTICATED, 403: grpc.StatusCode.PERMISSION_DENIED,
           404: grpc.StatusCode.NOT_FOUND}
# who is calling which agent: set by the gate, read by the context builder in the same call
_CALL: contextvars.ContextVar[tuple[Principal, str, VirtualServer | None]] = contextvars.ContextVar("a2a_grpc_call")


class _ContextBuilder(DefaultGrpcServerCallContextBuilder):
    """The SDK's call context plus the principal and the agent the gate admitted."""

    def build(self, context: grpc.aio.ServicerContext) -> ServerCallContext:
        built = super().build(context)
        built.state["headers"] = {str(k).lower(): v for k, v in (context.invocation_metadata() or ())
                                  if str(k).lower() != "authorization"}  # as HTTP's context has them, token aside
        principal, tenant, virtual = _CALL.get()
        built.state[PRINCIPAL] = principal
        built.user = PrincipalUser(principal)
        if virtual is not None:
            built.state[VIRTUAL] = virtual
            built.state["began"] = time.monotonic()
        elif tenant:
            built.state[AGENT] = tenant
        return built


# A2A 1.0's mapping (specification section 5.4) where the SDK's differs (it answers FAILED_PRECONDITION for these)
_SPEC_CODES = {
    VersionNotSupportedError: grpc.StatusCode.UNIMPLEMENTED,
    PushNotificationNotSupportedError: grpc.StatusCode.UNIMPLEMENTED,
    UnsupportedOperationError: grpc.StatusCode.UNIMPLEMENTED,
}


class _GatedHandler(GrpcHandler):
    """The SDK's handler behind the hub's gate: token, agent, scope (the module's docstring)."""

    def __init__(self, endpoint: Any, authenticate: Authenticate) -> None:
        super().__init__(endpoint.handler, context_builder=_ContextBuilder())
        self.endpoint = endpoint
        self.authenticate = authenticate

    async def _handle_unary(self, request: protobuf_message.Message, context: grpc.aio.ServicerContext,
                            handler_func: Callable[[ServerCallContext], Awaitable[T]], default_response: T) -> T:
        await self._gate(request, context)
        return await super()._handle_unary(request, context, handler_func, default_response)

    async def _handle_stream(self, request: protobuf_message.Message, context: grpc.aio.ServicerContext,
                             handler_func: Callable[[ServerCallContext], AsyncIterable[T]]) -> AsyncIterable[T]:
        await self._gate(request, context)
        async for item in super()._handle_stream(request, context, handler_func):
            yield item

    async def abort_context(self, error: A2AError, context: grpc.aio.ServicerContext) -> None:
        """The SDK's answer for an A2A error (status, message, ``ErrorInfo`` in ``grpc-status-details-bin``), with
        the specification's status code where the SDK's differs."""
        code = _SPEC_CODES.get(type(error))
        if code is None:
            await super().abort_context(error, context)
            return
        info = any_pb2.Any()
        info.Pack(error_details_pb2.ErrorInfo(reason=A2A_ERROR_REASONS.get(type(error), "UNKNOWN_ERROR"),
                                              domain="a2a-protocol.org"))
        said = str(getattr(error, "message", "") or error)
        rich = status_to_grpc(status_pb2.Status(code=code.value[0], message=said, details=[info]))
        context.set_trailing_metadata(tuple((str(k), v) for k, v in rich.trailing_metadata))
        await context.abort(rich.code, rich.details)

    async def _gate(self, request: protobuf_message.Message, context: grpc.aio.ServicerContext) -> None:
        """Admit the call (the principal and agent kept for the context builder) or abort it with the status."""
        metadata = {str(k).lower(): v for k, v in (context.invocation_metadata() or ())}
        version = str(metadata.get(VERSION_HEADER.lower(), "") or "")
        if version and version.split(".", 1)[0] != "1":  # this service is A2A 1.0's (lf.a2a.v1)
            await self.abort_context(VersionNotSupportedError(
                message=f"A2A version '{version}' is not supported on gRPC: this endpoint speaks 1.0"), context)
            raise AssertionError("the call was aborted")
        authorization = metadata.get("authorization", "")
        principal = await self.authenticate(authorization if isinstance(authorization, str) else "")
        if isinstance(principal, str):
            await _abort(context, grpc.StatusCode.UNAUTHENTICATED, principal)
        tenant = str(getattr(request, "tenant", "") or "")
        addressed = await self.endpoint.addressed(principal, tenant or None)
        if isinstance(addressed, tuple):
            status, detail = addressed
            await _abort(context, _STATUS.get(status, grpc.StatusCode.PERMISSION_DENIED), detail)
        if isinstance(request, _STARTS) and not principal.has("start"):
            await _abort(context, grpc.StatusCode.PERMISSION_DENIED, "permission denied: this method needs the "
                                                                     "'start' scope")
        _CALL.set((principal, tenant, addressed))


async def _abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, detail: str) -> NoReturn:
    """End the call with ``code`` (grpc.aio's abort raises; so does this, whatever it does)."""
    await context.abort(code, detail)
    raise AssertionError("the call was aborted")


class A2AGrpcServer:
    """The gRPC endpoint over an ``A2AEndpoint``'s agents (``endpoint.handler``, ``endpoint.addressed``)."""

    def __init__(self, endpoint: Any, authenticate: Authenticate, *, host: str, port: int,
                 max_message_bytes: int = 10 * 1024 * 1024) -> None:
        self.host = host
        self.port = port
        self._handler = _GatedHandler(endpoint, authenticate)
        self._options = [("grpc.max_receive_message_length", max_message_bytes),
                         ("grpc.max_send_message_length", max_message_bytes),
                         ("grpc.so_reuseport", 0)]  # a port another server holds is an error, not shared
        self._server: grpc.aio.Server | None = None

    async def start(self) -> int:
        """Listen (in the running event loop) and serve; the port bound (``port`` 0 picks a free one). Raises
        RuntimeError when the address cannot be bound."""
        server = grpc.aio.server(options=self._options)
        a2a_pb2_grpc.add_A2AServiceServicer_to_server(self._handler, server)  # type: ignore[no-untyped-call]
        address = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        try:
            bound = server.add_insecure_port(address)
        except RuntimeError as exc:
            raise RuntimeError(f"cannot listen for A2A gRPC on {address}: {exc}") from None
        if not bound:
            raise RuntimeError(f"cannot listen for A2A gRPC on {address}")
        await server.start()
        self._server, self.port = server, bound
        return int(bound)

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop taking calls; calls in progress get ``grace_s`` to end (streams are cut then)."""
        if self._server is not None:
            await self._server.stop(grace_s)
            self._server = None
