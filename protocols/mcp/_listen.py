"""``subscriptions/listen`` (2026-07-28, SEP-2575): a client's stream of the changes it asked to hear about.

On 2026-07-28 there is no ``resources/subscribe`` and no standing ``GET`` stream: a client sends
``subscriptions/listen`` with the notifications it wants, and the request's response stream carries them until
the client goes away. The hub honours:

- ``resourceSubscriptions``: instance URIs (``agenthub://instances/{key}``) and the resources processes declare
  (fixed text: honoured, and quiet), with the ``read`` scope; a URI ``resources/read`` would not answer is left out
  of the acknowledgement. A changed instance is ``notifications/resources/updated``, as on older sessions
  (``_subscriptions`` watches both).
- ``taskIds`` (the Tasks extension, which the request must declare: ``-32021`` otherwise): tasks the caller may
  read (``tasks/get``'s rule); each is sent at once as it stands, then whenever its status, message or questions
  change, as ``notifications/tasks`` carrying what ``tasks/get`` would answer, until it ends. An unknown or someone
  else's task is left out of the acknowledgement.

List changes (tools, prompts, resources) are not honoured: the hub does not announce them, and its capabilities
say so (``listChanged`` false). The acknowledgement (``notifications/subscriptions/acknowledged``) is the stream's
first frame and names what was honoured; every frame carries the listen request's id as
``io.modelcontextprotocol/subscriptionId``. A stream holds at most ``_subscriptions.PER_SESSION`` watched
instances; a stream whose client stops reading is ended once ``BACKLOG`` frames wait; a caller holds at most
``PER_PRINCIPAL`` streams open at once, the server ``TOTAL_STREAMS``.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import anyio
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import SUBSCRIPTION_ID_META_KEY
from mcp_types import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    Notification,
    NotificationParams,
    ResourceUpdatedNotification,
    ResourceUpdatedNotificationParams,
    SubscriptionFilter,
    SubscriptionsAcknowledgedNotification,
    SubscriptionsAcknowledgedNotificationParams,
    SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
)
from pydantic import ConfigDict

from engine import EngineError
from protocols.mcp._context import Context, principal_of, require
from protocols.mcp._process_tools import needs_tasks_extension
from protocols.mcp._resources import Resources
from protocols.mcp._subscriptions import Subscriptions
from protocols.mcp._tasks import ENDED
from protocols.mcp._tasks_ext import TasksExtension, declares_tasks, modern

log = logging.getLogger("agenthub.mcp")

BACKLOG = 256
"""Frames a stream may have waiting for its client; past it the stream is ended (the client listens again)."""
PER_PRINCIPAL = 16
"""Listen streams one principal may hold open at once; past it a further one is refused (``-32600``)."""
TOTAL_STREAMS = 1024
"""Listen streams the server holds open at once, everyone's."""


class _TaskParams(NotificationParams):
    model_config = ConfigDict(extra="allow")


class TaskNotification(Notification[_TaskParams, Literal["notifications/tasks"]]):
    """``notifications/tasks`` (the Tasks extension): a task as ``tasks/get`` would answer it now."""

    method: Literal["notifications/tasks"] = "notifications/tasks"


class Listen:
    """The ``subscriptions/listen`` handler (one call, one stream)."""

    def __init__(self, subscriptions: Subscriptions, resources: Resources, tasks: TasksExtension) -> None:
        self.subscriptions = subscriptions
        self.resources = resources
        self.tasks = tasks
        self._open: dict[str, int] = {}  # principal -> listen streams open now

    def _take(self, principal: str) -> None:
        """Count a stream of ``principal``'s, or refuse it past ``PER_PRINCIPAL`` or ``TOTAL_STREAMS``."""
        if self._open.get(principal, 0) >= PER_PRINCIPAL or sum(self._open.values()) >= TOTAL_STREAMS:
            raise MCPError(INVALID_REQUEST, f"too many listen streams: a caller may hold {PER_PRINCIPAL} open at once "
                                            f"(the server {TOTAL_STREAMS}); close one, or listen to more in one")
        self._open[principal] = self._open.get(principal, 0) + 1

    def _release(self, principal: str) -> None:
        left = self._open.get(principal, 1) - 1
        if left > 0:
            self._open[principal] = left
        else:
            self._open.pop(principal, None)

    async def __call__(self, ctx: Context, params: SubscriptionsListenRequestParams) -> SubscriptionsListenResult:
        if not modern(ctx):
            raise MCPError(METHOD_NOT_FOUND, "subscriptions/listen belongs to 2026-07-28: on this protocol version "
                                             "use resources/subscribe")
        if ctx.request_id is None:
            raise MCPError(INVALID_REQUEST, "subscriptions/listen needs a request id")
        principal = principal_of(ctx)
        wanted = params.notifications
        raw = (wanted.model_extra or {}).get("taskIds")
        if raw is not None and not (isinstance(raw, list) and all(isinstance(t, str) for t in raw)):
            raise MCPError(INVALID_PARAMS, "notifications.taskIds must be a list of task ids (strings)")
        task_ids: list[str] = raw or []
        if task_ids and not declares_tasks(ctx):
            raise needs_tasks_extension("listening to task notifications")
        uris = [str(u) for u in wanted.resource_subscriptions or []]
        if uris:
            require(principal, "read", "subscribing to resources")
        uris = [u for u in dict.fromkeys(uris) if await self.resources.exists(u)]
        tasks: dict[str, str] = {}  # task id -> its instance's URI
        for task_id in dict.fromkeys(task_ids):
            try:
                view = await self.tasks.tasks.readable(ctx, task_id)
            except MCPError:
                continue  # unknown, or not the caller's: not honoured
            tasks[task_id] = f"agenthub://instances/{view.key}"
        meta: dict[str, Any] = {SUBSCRIPTION_ID_META_KEY: ctx.request_id}
        honored = SubscriptionFilter.model_validate(
            {"resourceSubscriptions": uris or None, **({"taskIds": list(tasks)} if tasks else {})})

        self._take(principal.name)
        send, receive = anyio.create_memory_object_stream[tuple[str, str]](BACKLOG)
        key = f"listen\x00{principal.name}\x00{id(send)}"

        async def changed(uri: str) -> None:
            for what in ([("resource", uri)] if uri in uris else []) + [("task", t) for t, u in tasks.items()
                                                                       if u == uri]:
                try:
                    send.send_nowait(what)
                except anyio.WouldBlock:
                    log.warning("listen stream %r: its client stopped reading; ending it", ctx.request_id)
                    send.close()
                    return

        try:
            await self.subscriptions.watch(key, list(dict.fromkeys([*uris, *tasks.values()])), changed)
        except BaseException:
            self._release(principal.name)
            send.close()
            receive.close()
            raise
        last: dict[str, tuple[Any, ...]] = {}
        try:
            await ctx.session.send_notification(SubscriptionsAcknowledgedNotification(
                params=SubscriptionsAcknowledgedNotificationParams(notifications=honored, _meta=meta)),
                related_request_id=ctx.request_id)
            for task_id in list(tasks):  # as each stands now: a change before this stream began is not missed
                await self._task(ctx, task_id, meta, last)
            async for kind, name in receive:
                if kind == "resource":
                    await ctx.session.send_notification(ResourceUpdatedNotification(
                        params=ResourceUpdatedNotificationParams(uri=name, _meta=meta)),
                        related_request_id=ctx.request_id)
                elif name not in last or last[name][0] not in ENDED:
                    await self._task(ctx, name, meta, last)
        finally:
            self.subscriptions.forget(key)
            self._release(principal.name)
            send.close()
            receive.close()
        return SubscriptionsListenResult(_meta=meta)

    async def _task(self, ctx: Context, task_id: str, meta: dict[str, Any], last: dict[str, tuple[Any, ...]]
                    ) -> None:
        """Send the task as it stands, unless its status, message and questions are what was sent last."""
        try:
            view = await self.tasks.tasks.readable(ctx, task_id)
            detailed = await self.tasks.detailed(view, principal_of(ctx).name)
        except (MCPError, EngineError) as exc:
            log.info("listen stream %r: task %s could not be read: %s", ctx.request_id, task_id, exc)
            return
        seen = (detailed.get("status"), detailed.get("statusMessage"), tuple(detailed.get("inputRequests") or ()))
        if last.get(task_id) == seen:
            return
        last[task_id] = seen
        notification = TaskNotification(params=_TaskParams.model_validate({**detailed, "_meta": meta}))
        await ctx.session.send_notification(notification, related_request_id=ctx.request_id)  # type: ignore[arg-type]
