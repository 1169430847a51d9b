"""Messages and signals: ``/v2/messages/publication``, ``/v2/messages/correlation``, ``/v2/signals/broadcast``.

Publication buffers the message for ``timeToLive`` ms when nothing waits for
it yet; correlation delivers it now or answers 404 (nothing waits for it, no
message start event takes it), as Camunda's does. Both answer the message's
key; correlation also the instance it reached (the first, when it reached
instances of several processes).
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine import Channel, Engine
from hub.api.common import ApiError, field, hub, json_body, require
from hub.camunda_api.wire import TENANT
from protocols.actors import actor_of

__all__ = ["broadcast", "correlate", "publish"]

MAX_TTL_MS = 365 * 24 * 3600 * 1000


def _tenant(body: dict[str, object]) -> None:
    tenant = field(body, "tenantId", str, default=TENANT)
    if tenant != TENANT:
        raise ApiError(400, f"tenant '{tenant}' does not exist: agenthub has one tenant, '{TENANT}'")


async def publish(request: Request) -> Response:
    who = require(request, "start")
    body = await json_body(request)
    name = field(body, "name", str, required=True)
    ttl = field(body, "timeToLive", int, default=0)
    if not name:
        raise ApiError(400, "'name' must not be empty")
    if not 0 <= ttl <= MAX_TTL_MS:
        raise ApiError(400, "'timeToLive' is in milliseconds, from 0 to one year")
    _tenant(body)
    engine: Engine = hub(request).engine
    result = await asyncio.to_thread(
        engine.publish_message,
        name,
        field(body, "correlationKey", str, default=""),
        field(body, "variables", dict, default={}),
        ttl_ms=ttl,
        message_id=field(body, "messageId", str),
        by=actor_of(who, Channel.REST),
    )
    return JSONResponse({"tenantId": TENANT, "messageKey": str(result["key"])})


async def correlate(request: Request) -> Response:
    who = require(request, "start")
    body = await json_body(request)
    name = field(body, "name", str, required=True)
    correlation_key = field(body, "correlationKey", str, default="")
    _tenant(body)
    engine: Engine = hub(request).engine
    result = await asyncio.to_thread(
        engine.publish_message,
        name,
        correlation_key,
        field(body, "variables", dict, default={}),
        by=actor_of(who, Channel.REST),
    )
    reached = result["correlatedInstances"]
    if not reached:
        raise ApiError(
            404,
            f"no process instance waits for message '{name}' with correlation key "
            f"'{correlation_key}' and no message start event takes it; nothing was done",
        )
    return JSONResponse({"tenantId": TENANT, "messageKey": str(result["key"]), "processInstanceKey": str(reached[0])})


async def broadcast(request: Request) -> Response:
    who = require(request, "start")
    body = await json_body(request)
    name = field(body, "signalName", str, required=True)
    _tenant(body)
    engine: Engine = hub(request).engine
    await asyncio.to_thread(
        engine.broadcast_signal, name, field(body, "variables", dict, default={}), by=actor_of(who, Channel.REST)
    )
    # agenthub keeps no record of a signal: the key (the broadcast's time in microseconds) is looked up nowhere
    return JSONResponse({"tenantId": TENANT, "signalKey": str(time.time_ns() // 1000)})
