"""SSE resumability for Streamable HTTP: the recent events of each stream, so a client can reconnect.

With an event store the SDK opens every SSE stream with a priming event (an
id and empty data, plus ``retry``: how many milliseconds a client waits
before it reconnects), and a client that lost the stream sends
``Last-Event-ID`` on a ``GET`` to hear what it missed. This store keeps the
last ``MAX_EVENTS`` events, and at most ``MAX_BYTES`` of them, of all
streams in this hub process (the oldest go first), so a reconnect after a long gap, or to another hub process,
replays nothing and the client sees the gap rather than wrong data.

Event ids are random (128 bits): a stream's ids are only ever sent to that
stream's session, and another session cannot guess one to replay it.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCMessage

MAX_EVENTS = 10_000
MAX_BYTES = 32 << 20
RETRY_MS = 1000
"""The ``retry`` the priming event suggests."""


class RecentEvents(EventStore):
    def __init__(self, max_events: int = MAX_EVENTS, max_bytes: int = MAX_BYTES) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._bytes = 0
        self._events: OrderedDict[EventId, tuple[StreamId, JSONRPCMessage | None, int]] = OrderedDict()

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = secrets.token_urlsafe(16)
        size = len(message.model_dump_json(by_alias=True, exclude_none=True)) if message is not None else 0
        self._events[event_id] = (stream_id, message, size)
        self._bytes += size
        while len(self._events) > self.max_events or self._bytes > self.max_bytes:
            self._bytes -= self._events.popitem(last=False)[1][2]
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        found = self._events.get(last_event_id)
        if found is None:
            return None
        stream_id = found[0]
        after = False
        for event_id, (stream, message, _size) in list(self._events.items()):
            if after and stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
            after = after or event_id == last_event_id
        return stream_id
