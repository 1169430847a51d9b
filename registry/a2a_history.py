"""The messages exchanged on each of the hub's A2A tasks, in order: what a task's ``history`` shows.

A task is a process instance; its history is kept here, beside the message
ids (``a2a_messages``): the message that started it, and for each message
that continued it (an answer to ``input-required``) the agent's question it
answered and the answer itself. The current status message is not history
until the next message arrives, as A2A's own servers keep it.

A message is kept as its A2A 1.0 JSON, with its id and, for a caller's
message, a digest of its parts (``digests``): the A2A handler tells a message
sent again (same id, same parts: deduplicated) from a new message that reuses
an id (the A2A TCK sends every follow-up of a task with its first message's id). One over ``MAX_MESSAGE_CHARS`` of
JSON is kept as its id, role and a text part saying how large it was: the
history is a record of the conversation, not a store of large payloads.
Rows live as long as the registry (instances are not deleted either).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from registry.a2a_messages import MAX_ID_CHARS
from registry.schema import a2a_task_messages as rows
from registry.store import RegistryStore, now_ms

__all__ = ["MAX_MESSAGE_CHARS", "TaskHistory"]

MAX_MESSAGE_CHARS = 256 * 1024
_TRIES = 3


class TaskHistory:
    """Append and read the messages of tasks (their ids: the hub's task ids)."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    def append(self, task_id: str, messages: Sequence[tuple[dict[str, Any], str | None]], *,
               now: int | None = None) -> None:
        """Add ``messages`` (each A2A 1.0 JSON and its digest, or None) after the task's last, in one
        transaction."""
        if not messages:
            return
        at = now_ms() if now is None else now
        kept = [(str(message.get("messageId", ""))[:MAX_ID_CHARS], digest, _kept(message))
                for message, digest in messages]
        for attempt in range(_TRIES):
            try:
                with self.store.begin() as conn:
                    last = conn.execute(select(func.max(rows.c.position)).where(rows.c.task_id == task_id)).scalar()
                    first = 0 if last is None else int(last) + 1
                    conn.execute(insert(rows), [
                        {"task_id": task_id, "position": first + i, "message_id": message_id, "digest": digest,
                         "message": text, "recorded_at": at}
                        for i, (message_id, digest, text) in enumerate(kept)
                    ])
                return
            except IntegrityError:  # another message to the same task took those positions meanwhile
                if attempt == _TRIES - 1:
                    raise

    def last(self, task_id: str, count: int) -> list[dict[str, Any]]:
        """The task's last ``count`` messages, oldest first."""
        if count <= 0:
            return []
        query = (select(rows.c.message).where(rows.c.task_id == task_id)
                 .order_by(rows.c.position.desc()).limit(count))
        with self.store.read() as conn:
            found = [json.loads(text) for text in conn.execute(query).scalars()]
        found.reverse()
        return found


    def digests(self, task_id: str, message_id: str) -> list[str | None]:
        """The digests of the task's messages with id ``message_id``, in order (empty: none has that id)."""
        query = (select(rows.c.digest).where(rows.c.task_id == task_id, rows.c.message_id == message_id[:MAX_ID_CHARS])
                 .order_by(rows.c.position))
        with self.store.read() as conn:
            return list(conn.execute(query).scalars())


def _kept(message: dict[str, Any]) -> str:
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    note: dict[str, Any] = {k: message[k] for k in ("messageId", "role", "taskId", "contextId") if k in message}
    note["parts"] = [{"text": f"[a message of {len(text)} characters of JSON, not kept in the task's history]"}]
    return json.dumps(note, separators=(",", ":"), ensure_ascii=False)
