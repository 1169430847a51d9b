"""MCP logging and progress from a process tool call: the instance's journal, read as it grows.

While a process tool call follows its instance, ``JournalFeed`` reads the
journal entries committed since its last read and sends, on the call's own
stream:

- ``notifications/message`` for each entry at or above the level the client
  asked for: ``logging/setLevel`` for its session on 2025-11-25 and older,
  the request's ``_meta`` log level on 2026-07-28 (where setLevel is gone and
  a request without that key gets no log at all). A session that never set
  a level hears nothing: the journal is detail a client opts into.
  ``LEVELS`` maps entry types to levels: incidents and limits are errors,
  thrown errors and parked jobs warnings, the instance's and people's
  milestones ``info`` or ``notice``, the rest (elements, flows) ``debug``.
  The data is ``{"instance", "position", "type", "elementId", "data"}``,
  the logger ``agenthub.instance.{key}``.
- ``notifications/progress`` for each completed element, when the client
  sent a progress token (the SDK drops it otherwise).

Entries are read in pages of ``PAGE`` up to ``MAX_ENTRIES`` per call, so a
long loop in a process cannot flood a client.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, get_args

from mcp.server.connection import allowed_log_levels
from mcp_types import (
    EmptyResult,
    LoggingLevel,
    LoggingMessageNotification,
    LoggingMessageNotificationParams,
    SetLevelRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from engine import Engine
from engine.runtime.journal import EventType
from protocols.mcp._context import Context, in_thread, session_key

ORDER: tuple[LoggingLevel, ...] = get_args(LoggingLevel)
PAGE = 200
MAX_ENTRIES = 2000
MAX_SESSIONS = 4096
"""Sessions whose level is remembered; the least recently set is forgotten first."""

LEVELS: dict[str, LoggingLevel] = {
    EventType.INCIDENT_CREATED: "error",
    EventType.AGENT_LIMIT_REACHED: "error",
    EventType.ERROR_THROWN: "warning",
    EventType.ESCALATION_THROWN: "warning",
    EventType.JOB_PARKED: "warning",
    EventType.INSTANCE_TERMINATED: "warning",
    EventType.INSTANCE_STARTED: "info",
    EventType.INSTANCE_COMPLETED: "info",
    EventType.INCIDENT_RESOLVED: "notice",
    EventType.USER_TASK_CREATED: "notice",
    EventType.USER_TASK_COMPLETED: "info",
    EventType.AGENT_APPROVAL_REQUESTED: "notice",
    EventType.AGENT_APPROVAL_DECIDED: "info",
    EventType.AGENT_FINISHED: "info",
    EventType.ERROR_CAUGHT: "info",
}


def level_of(entry_type: str) -> LoggingLevel:
    return LEVELS.get(entry_type, "debug")


class LogLevels:
    """The level each 2025-era session asked for with ``logging/setLevel``."""

    def __init__(self) -> None:
        self._levels: OrderedDict[str, LoggingLevel] = OrderedDict()

    async def set_level(self, ctx: Context, params: SetLevelRequestParams) -> EmptyResult:
        key = session_key(ctx)
        self._levels.pop(key, None)
        self._levels[key] = params.level
        while len(self._levels) > MAX_SESSIONS:
            self._levels.popitem(last=False)
        return EmptyResult()

    def allowed(self, ctx: Context) -> frozenset[LoggingLevel]:
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return allowed_log_levels(ctx.protocol_version, ctx.meta)
        level = self._levels.get(session_key(ctx))
        return frozenset(ORDER[ORDER.index(level) :]) if level is not None else frozenset()


class JournalFeed:
    """One tool call's reader of its instance's journal; ``flush`` sends what was committed since."""

    def __init__(self, ctx: Context, engine: Engine, instance: int, levels: frozenset[LoggingLevel]) -> None:
        self.ctx = ctx
        self.engine = engine
        self.instance = instance
        self.levels = levels
        self.position = 0
        self.sent = 0
        self.step = 1  # the call's first progress is the started instance

    async def flush(self) -> None:
        meta: dict[str, Any] = dict(self.ctx.meta or {})
        if not self.levels and meta.get("progress_token", meta.get("progressToken")) is None:
            return  # nobody listens: spare the journal reads
        while self.sent < MAX_ENTRIES:
            entries = await in_thread(lambda: self.engine.journal(self.instance, after=self.position, limit=PAGE))
            for entry in entries:
                await self._send(entry)
            if len(entries) < PAGE:
                return

    async def _send(self, entry: dict[str, Any]) -> None:
        self.position = max(self.position, int(entry["position"]))
        self.sent += 1
        level = level_of(entry["type"])
        if level in self.levels:
            data = {
                "instance": self.instance,
                "position": entry["position"],
                "type": entry["type"],
                "elementId": entry["elementId"],
                "data": entry["data"],
            }
            notification = LoggingMessageNotification(
                params=LoggingMessageNotificationParams(
                    level=level, data=data, logger=f"agenthub.instance.{self.instance}"
                )
            )
            await self.ctx.session.send_notification(notification, related_request_id=self.ctx.request_id)
        if entry["type"] == EventType.ELEMENT_COMPLETED:
            self.step += 1
            await self.ctx.session.report_progress(self.step, None, f"{entry['elementId']} completed")
