"""A client-side gRPC proxy for the A2A TCK, whose gRPC client sends neither a bearer token nor a tenant.

It stands where an A2A 1.0 client holding a token would: every call of ``lf.a2a.v1.A2AService`` is forwarded to
the hub's gRPC endpoint with the ``authorization`` metadata added and, where the request names no tenant, the
tenant that the agent's card gives (``AgentInterface.tenant``, which a client is to send and the TCK's does not).
Everything else passes as is: the other metadata, the responses (streams included), and errors with their status,
details and trailing metadata (A2A's ``ErrorInfo``), so the TCK judges the hub's answers, not the proxy's.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc  # type: ignore[import-untyped]
import grpc.aio  # type: ignore[import-untyped]
from a2a.types import a2a_pb2
from google.protobuf import message_factory

_SERVICE = a2a_pb2.DESCRIPTOR.services_by_name["A2AService"]


class _Forward(grpc.GenericRpcHandler):  # type: ignore[misc]
    def __init__(self, channel: grpc.aio.Channel, token: str, tenant: str) -> None:
        self.handlers: dict[str, Any] = {}
        for method in _SERVICE.methods:
            path = f"/{_SERVICE.full_name}/{method.name}"
            request = message_factory.GetMessageClass(method.input_type)
            response = message_factory.GetMessageClass(method.output_type)
            streams = method.server_streaming
            make = grpc.unary_stream_rpc_method_handler if streams else grpc.unary_unary_rpc_method_handler
            upstream = (channel.unary_stream if method.server_streaming else channel.unary_unary)(
                path, request_serializer=request.SerializeToString, response_deserializer=response.FromString)
            behaviour = self._stream(upstream) if method.server_streaming else self._unary(upstream)
            self.handlers[path] = make(behaviour, request_deserializer=request.FromString,
                                       response_serializer=response.SerializeToString)
        self.token, self.tenant = token, tenant

    def service(self, details: grpc.HandlerCallDetails) -> Any:
        return self.handlers.get(details.method)

    def _prepared(self, request: Any, context: grpc.aio.ServicerContext) -> tuple[Any, list[tuple[str, Any]]]:
        if "tenant" in request.DESCRIPTOR.fields_by_name and not request.tenant:
            request.tenant = self.tenant
        metadata = [(k, v) for k, v in (context.invocation_metadata() or ()) if k.lower() != "authorization"]
        return request, [*metadata, ("authorization", f"Bearer {self.token}")]

    def _unary(self, upstream: Any) -> Callable[..., Any]:
        async def forward(request: Any, context: grpc.aio.ServicerContext) -> Any:
            request, metadata = self._prepared(request, context)
            try:
                return await upstream(request, metadata=metadata)
            except grpc.aio.AioRpcError as exc:
                await context.abort(exc.code(), exc.details() or "", tuple(exc.trailing_metadata() or ()))
        return forward

    def _stream(self, upstream: Any) -> Callable[..., AsyncIterator[Any]]:
        async def forward(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            request, metadata = self._prepared(request, context)
            try:
                async for item in upstream(request, metadata=metadata):
                    yield item
            except grpc.aio.AioRpcError as exc:
                await context.abort(exc.code(), exc.details() or "", tuple(exc.trailing_metadata() or ()))
        return forward


@contextmanager
def serve_grpc_proxy(target: str, token: str, tenant: str, port: int) -> Iterator[str]:
    """The proxy on ``127.0.0.1:port`` (its own thread and event loop) until the block ends; its address."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def run() -> None:
        channel = grpc.aio.insecure_channel(target)
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        server.add_generic_rpc_handlers((_Forward(channel, token, tenant),))
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        holder["stop"] = asyncio.Event()
        started.set()
        await holder["stop"].wait()
        await server.stop(1)
        await channel.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), name="a2a-grpc-proxy", daemon=True)
    thread.start()
    if not started.wait(30):
        raise RuntimeError("the gRPC proxy did not start")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(timeout=30)
        loop.close()
