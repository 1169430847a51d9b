"""The A2A message ids each caller sent, so that a message sent again is recognised (deduplication).

An A2A client that crashed after sending a message, not knowing whether it
arrived, sends it again with the same ``messageId``: the hub answers with the
task the first one started or continued, instead of starting the work again.
The key is (caller, message id): two callers choosing the same id are
independent, as the spec intends message ids to be unique per sender.

Each id is kept for ``RETENTION_MS`` (24 hours) after it was accepted, so the
table stays bounded: a client retries within seconds or minutes, and an id
sent again after a day is taken as new work. Expired rows are deleted as new
ones are recorded (the ``expires_at`` index keeps that cheap).

Two sends of one id that arrive together (a client retrying on a short
timeout) are taken one after the other by the A2A handler of a hub process,
so the second finds the first's task. Not covered: the same two sends reaching
two hub processes at the same moment both start work (``record`` keeps the
first to be recorded).
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from registry.schema import a2a_message_ids as messages
from registry.store import RegistryStore, now_ms

__all__ = ["RETENTION_MS", "MessageIds"]

RETENTION_MS = 24 * 60 * 60 * 1000
MAX_ID_CHARS = 255


class MessageIds:
    """Which task each caller's message id went to, for ``RETENTION_MS``."""

    def __init__(self, store: RegistryStore, *, retention_ms: int = RETENTION_MS) -> None:
        self.store = store
        self.retention_ms = retention_ms

    def task_of(self, caller: str, message_id: str, *, now: int | None = None) -> str | None:
        """The task id the caller's message went to, or None if it is new (or was accepted too long ago)."""
        if not message_id or len(message_id) > MAX_ID_CHARS:
            return None
        at = now_ms() if now is None else now
        query = select(messages.c.task_id).where(
            messages.c.caller == caller, messages.c.message_id == message_id, messages.c.expires_at > at
        )
        with self.store.read() as conn:
            found = conn.execute(query).scalar_one_or_none()
        return str(found) if found is not None else None

    def record(self, caller: str, message_id: str, task_id: str, *, now: int | None = None) -> str:
        """Remember that the caller's message went to ``task_id`` (replacing an earlier task the id went to, which
        the handler no longer deduplicates to); of two concurrent sends, the one recorded first wins and is returned.
        """
        if not message_id or len(message_id) > MAX_ID_CHARS:
            return task_id  # an id too long to keep is not deduplicated (the SDK requires one, of any length)
        at = now_ms() if now is None else now
        mine = (messages.c.caller == caller) & (messages.c.message_id == message_id)
        try:
            with self.store.begin() as conn:
                stale = (messages.c.expires_at <= at) | (mine & (messages.c.task_id != task_id))
                conn.execute(delete(messages).where(stale))
                conn.execute(
                    insert(messages).values(
                        caller=caller,
                        message_id=message_id,
                        task_id=task_id,
                        accepted_at=at,
                        expires_at=at + self.retention_ms,
                    )
                )
        except IntegrityError:  # recorded meanwhile by a concurrent send of the same id
            with self.store.read() as conn:
                found = conn.execute(select(messages.c.task_id).where(mine)).scalar_one_or_none()
            return str(found) if found is not None else task_id
        return task_id
