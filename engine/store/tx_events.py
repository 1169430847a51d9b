"""The SQL rows behind catching events: timers, message and signal subscriptions, buffered messages."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update

from engine.store.rawsql import Session
from engine.store.rows import MessageRow, SubscriptionRow, TimerRow
from engine.store.schema import message_correlations, messages, subscriptions, timers


def _insert(table: str, columns: tuple[str, ...]) -> str:
    quoted = ", ".join(f'"{c}"' for c in columns)  # "interval" is a keyword in PostgreSQL
    return f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(':' + c for c in columns)})"


_INSERT_TIMER = _insert("timers", tuple(f.name for f in dataclasses.fields(TimerRow)))
_INSERT_SUBSCRIPTION = _insert("subscriptions", tuple(f.name for f in dataclasses.fields(SubscriptionRow)))


class SqlTimers:
    def __init__(self, session: Session) -> None:
        self._s = session

    def insert(self, row: TimerRow) -> None:
        self._s.run(_INSERT_TIMER, dataclasses.asdict(row))

    def delete(self, key: int) -> None:
        self._s.run("DELETE FROM timers WHERE key = :k", {"k": key})

    def rearm(self, key: int, due_at: int, remaining: int | None) -> None:
        self._s.conn.execute(update(timers).where(timers.c.key == key).values(due_at=due_at, remaining=remaining))

    def due(self, now: int, limit: int) -> Sequence[Any]:
        query = select(timers).where(timers.c.due_at <= now).order_by(timers.c.due_at).limit(limit)  # ix_timers_due
        if self._s.for_update:
            query = query.with_for_update(skip_locked=True)
        return self._s.conn.execute(query).all()

    def next_due(self) -> int | None:
        value = self._s.run("SELECT MIN(due_at) FROM timers").scalar()
        return int(value) if value is not None else None

    def rows(self, instance_key: int | None = None) -> Sequence[Any]:
        query = select(timers).order_by(timers.c.due_at)
        if instance_key is not None:
            query = query.where(timers.c.instance_key == instance_key)
        return self._s.conn.execute(query).all()

    def delete_starts(self, process_id: str) -> None:
        self._s.run("DELETE FROM timers WHERE process_id = :p AND instance_key IS NULL", {"p": process_id})


class SqlMessages:
    def __init__(self, session: Session) -> None:
        self._s = session

    def subscribe(self, row: SubscriptionRow) -> None:
        self._s.run(_INSERT_SUBSCRIPTION, dataclasses.asdict(row))

    def unsubscribe(self, key: int) -> None:
        self._s.run("DELETE FROM subscriptions WHERE key = :k", {"k": key})

    def delete_starts(self, process_id: str) -> None:
        self._s.run("DELETE FROM subscriptions WHERE process_id = :p AND instance_key IS NULL", {"p": process_id})

    def matching(self, kind: str, name: str, correlation_key: str | None) -> Sequence[Any]:
        query = select(subscriptions).where(subscriptions.c.kind == kind, subscriptions.c.name == name)
        if kind == "message":
            query = query.where(
                (subscriptions.c.correlation_key == correlation_key) | subscriptions.c.instance_key.is_(None)
            )
        return self._s.conn.execute(query.order_by(subscriptions.c.key)).all()

    def subscriptions(self, instance_key: int | None = None) -> Sequence[Any]:
        query = select(subscriptions).order_by(subscriptions.c.key)
        if instance_key is not None:
            query = query.where(subscriptions.c.instance_key == instance_key)
        return self._s.conn.execute(query).all()

    def note(self, key: int, note: str | None, failures: int, next_check_at: int | None) -> bool:
        done = self._s.conn.execute(update(subscriptions).where(subscriptions.c.key == key).values(
            wait_note=note, wait_failures=failures, next_check_at=next_check_at))
        return bool(done.rowcount)

    def with_id(self, name: str, correlation_key: str, message_id: str, now: int) -> Any:
        return self._s.conn.execute(
            select(messages).where(
                messages.c.name == name,
                messages.c.correlation_key == correlation_key,
                messages.c.message_id == message_id,
                messages.c.expires_at > now,
            )
        ).first()

    def buffer(self, row: MessageRow) -> None:
        self._s.conn.execute(insert(messages).values(**dataclasses.asdict(row)))

    def buffered_for(self, name: str, correlation_key: str | None, instance_key: int, process_id: str,
                     now: int) -> Any:
        """Not yet correlated to this process: to this instance, which may not be saved yet, or to another
        instance of the same process."""
        if correlation_key is None:
            return None
        return self._s.run(
            "SELECT * FROM messages m WHERE m.name = :name AND m.correlation_key = :key AND m.expires_at > :now"
            " AND NOT EXISTS (SELECT 1 FROM message_correlations c LEFT JOIN instances i ON i.key = c.instance_key"
            " WHERE c.message_key = m.key AND (c.instance_key = :instance OR i.process_id = :process))"
            " ORDER BY m.key LIMIT 1",
            {"name": name, "key": correlation_key, "now": now, "instance": instance_key, "process": process_id},
        ).first()

    def record_correlation(self, message_key: int, instance_key: int) -> None:
        self._s.conn.execute(insert(message_correlations).values(message_key=message_key, instance_key=instance_key))

    def delete_expired(self, now: int, limit: int = 1000) -> int:
        keys = [
            r.key
            for r in self._s.conn.execute(select(messages.c.key).where(messages.c.expires_at <= now).limit(limit))
        ]
        if keys:
            self._s.conn.execute(delete(message_correlations).where(message_correlations.c.message_key.in_(keys)))
            self._s.conn.execute(delete(messages).where(messages.c.key.in_(keys)))
        return len(keys)
