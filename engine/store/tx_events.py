"""The rows behind catching events: timers, message and signal subscriptions, buffered messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from engine.store.rawsql import Result
from engine.store.schema import conversations, message_correlations, messages, subscriptions, timers

_TIMER_COLUMNS = (
    "key",
    "instance_key",
    "element_instance",
    "definition_key",
    "process_id",
    "element_id",
    "due_at",
    "remaining",
    "interval",
    "cron",
    "created_at",
)
_SUBSCRIPTION_COLUMNS = (
    "key",
    "kind",
    "name",
    "correlation_key",
    "instance_key",
    "element_instance",
    "definition_key",
    "process_id",
    "element_id",
    "created_at",
)


def _insert(table: str, columns: tuple[str, ...]) -> str:
    quoted = ", ".join(f'"{c}"' for c in columns)  # "interval" is a keyword in PostgreSQL
    return f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(':' + c for c in columns)})"


class EventRows:
    conn: Connection
    _for_update: bool

    def _x(self, text: str, params: Any = None) -> Result:
        raise NotImplementedError

    # --- timers ------------------------------------------------------------------------

    def insert_timer(self, **values: Any) -> None:
        self._x(_insert("timers", _TIMER_COLUMNS), values)

    def delete_timer(self, key: int) -> None:
        self._x("DELETE FROM timers WHERE key = :k", {"k": key})

    def rearm_timer(self, key: int, due_at: int, remaining: int | None) -> None:
        self.conn.execute(update(timers).where(timers.c.key == key).values(due_at=due_at, remaining=remaining))

    def due_timers(self, now: int, limit: int) -> Sequence[Any]:
        query = select(timers).where(timers.c.due_at <= now).order_by(timers.c.due_at).limit(limit)  # ix_timers_due
        if self._for_update:
            query = query.with_for_update(skip_locked=True)
        return self.conn.execute(query).all()

    def next_timer_due(self) -> int | None:
        value = self._x("SELECT MIN(due_at) FROM timers").scalar()
        return int(value) if value is not None else None

    def timer_rows(self, instance_key: int | None = None) -> Sequence[Any]:
        query = select(timers).order_by(timers.c.due_at)
        if instance_key is not None:
            query = query.where(timers.c.instance_key == instance_key)
        return self.conn.execute(query).all()

    def delete_definition_starts(self, process_id: str) -> None:
        """Drop the start timers and start subscriptions of every deployed version of a process."""
        self._x("DELETE FROM timers WHERE process_id = :p AND instance_key IS NULL", {"p": process_id})
        self._x("DELETE FROM subscriptions WHERE process_id = :p AND instance_key IS NULL", {"p": process_id})

    # --- subscriptions ----------------------------------------------------------------------

    def insert_subscription(self, **values: Any) -> None:
        self._x(_insert("subscriptions", _SUBSCRIPTION_COLUMNS), values)

    def delete_subscription(self, key: int) -> None:
        self._x("DELETE FROM subscriptions WHERE key = :k", {"k": key})

    def matching_subscriptions(self, kind: str, name: str, correlation_key: str | None) -> Sequence[Any]:
        query = select(subscriptions).where(subscriptions.c.kind == kind, subscriptions.c.name == name)
        if kind == "message":
            query = query.where(
                (subscriptions.c.correlation_key == correlation_key) | subscriptions.c.instance_key.is_(None)
            )
        return self.conn.execute(query.order_by(subscriptions.c.key)).all()

    def subscription_rows(self, instance_key: int | None = None) -> Sequence[Any]:
        query = select(subscriptions).order_by(subscriptions.c.key)
        if instance_key is not None:
            query = query.where(subscriptions.c.instance_key == instance_key)
        return self.conn.execute(query).all()

    # --- messages -------------------------------------------------------------------------------

    def buffered_message_with_id(self, name: str, correlation_key: str, message_id: str, now: int) -> Any:
        return self.conn.execute(
            select(messages.c.key).where(
                messages.c.name == name,
                messages.c.correlation_key == correlation_key,
                messages.c.message_id == message_id,
                messages.c.expires_at > now,
            )
        ).first()

    def insert_message(
        self,
        key: int,
        name: str,
        correlation_key: str,
        message_id: str | None,
        variables: dict[str, Any],
        expires_at: int,
        now: int,
    ) -> None:
        self.conn.execute(
            insert(messages).values(
                key=key,
                name=name,
                correlation_key=correlation_key,
                message_id=message_id,
                variables=json.dumps(variables, separators=(",", ":")),
                expires_at=expires_at,
                created_at=now,
            )
        )

    def buffered_message_for(self, name: str, correlation_key: str | None, instance_key: int, process_id: str,
                             now: int) -> Any:
        """The oldest live buffered message with this name and key not yet correlated to this process
        (to this instance, which may not be saved yet, or to another instance of the same process)."""
        if correlation_key is None:
            return None
        return self._x(
            "SELECT * FROM messages m WHERE m.name = :name AND m.correlation_key = :key AND m.expires_at > :now"
            " AND NOT EXISTS (SELECT 1 FROM message_correlations c LEFT JOIN instances i ON i.key = c.instance_key"
            " WHERE c.message_key = m.key AND (c.instance_key = :instance OR i.process_id = :process))"
            " ORDER BY m.key LIMIT 1",
            {"name": name, "key": correlation_key, "now": now, "instance": instance_key, "process": process_id},
        ).first()

    def record_correlation(self, message_key: int, instance_key: int) -> None:
        self.conn.execute(insert(message_correlations).values(message_key=message_key, instance_key=instance_key))

    def delete_expired_messages(self, now: int, limit: int = 1000) -> int:
        keys = [
            r.key
            for r in self.conn.execute(select(messages.c.key).where(messages.c.expires_at <= now).limit(limit)).all()
        ]
        if keys:
            self.conn.execute(delete(message_correlations).where(message_correlations.c.message_key.in_(keys)))
            self.conn.execute(delete(messages).where(messages.c.key.in_(keys)))
        return len(keys)

    # --- agents' conversations -------------------------------------------------------------

    def append_conversation(self, owner: int, instance_key: int, first: int, items: Sequence[Any], at: int) -> None:
        if items:
            self.conn.execute(insert(conversations), [
                {"owner": owner, "seq": first + i, "instance_key": instance_key,
                 "message": json.dumps(item, separators=(",", ":")), "at": at}
                for i, item in enumerate(items)
            ])

    def conversation(self, owner: int, *, after: int = -1, limit: int | None = None) -> list[Any]:
        query = select(conversations.c.seq, conversations.c.message).where(
            conversations.c.owner == owner, conversations.c.seq > after).order_by(conversations.c.seq)
        if limit is not None:
            query = query.limit(limit)
        return [json.loads(row.message) for row in self.conn.execute(query)]
