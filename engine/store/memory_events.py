"""The in-memory store's timers, subscriptions and buffered messages, as ``engine.store.tx_events`` keeps them."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from engine.store.memory_tables import Tables
from engine.store.rows import MessageRow, SubscriptionRow, TimerRow


class MemoryTimers:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def insert(self, row: TimerRow) -> None:
        self._t.timers[row.key] = row

    def delete(self, key: int) -> None:
        self._t.timers.pop(key, None)

    def rearm(self, key: int, due_at: int, remaining: int | None) -> None:
        row = self._t.timers.get(key)
        if row is not None:
            self._t.timers[key] = dataclasses.replace(row, due_at=due_at, remaining=remaining)

    def due(self, now: int, limit: int) -> Sequence[TimerRow]:
        return [r for r in self.rows() if r.due_at <= now][:limit]

    def next_due(self) -> int | None:
        return min((r.due_at for r in self._t.timers.values()), default=None)

    def rows(self, instance_key: int | None = None) -> Sequence[TimerRow]:
        found = [r for r in self._t.timers.values() if instance_key is None or r.instance_key == instance_key]
        return sorted(found, key=lambda r: (r.due_at, r.key))

    def delete_starts(self, process_id: str) -> None:
        for key in [k for k, r in self._t.timers.items() if r.process_id == process_id and r.instance_key is None]:
            del self._t.timers[key]


class MemoryMessages:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def subscribe(self, row: SubscriptionRow) -> None:
        self._t.subscriptions[row.key] = row

    def unsubscribe(self, key: int) -> None:
        self._t.subscriptions.pop(key, None)

    def delete_starts(self, process_id: str) -> None:
        subscriptions = self._t.subscriptions
        for key in [k for k, r in subscriptions.items() if r.process_id == process_id and r.instance_key is None]:
            del subscriptions[key]

    def matching(self, kind: str, name: str, correlation_key: str | None) -> Sequence[SubscriptionRow]:
        def matches(r: SubscriptionRow) -> bool:
            if r.kind != kind or r.name != name:
                return False
            # as in SQL, a None correlation key equals nothing
            return kind != "message" or r.instance_key is None or (
                correlation_key is not None and r.correlation_key == correlation_key
            )

        return sorted(filter(matches, self._t.subscriptions.values()), key=lambda r: r.key)

    def subscriptions(self, instance_key: int | None = None) -> Sequence[SubscriptionRow]:
        found = [r for r in self._t.subscriptions.values() if instance_key is None or r.instance_key == instance_key]
        return sorted(found, key=lambda r: r.key)

    def note(self, key: int, note: str | None, failures: int, next_check_at: int | None) -> bool:
        row = self._t.subscriptions.get(key)
        if row is None:
            return False
        self._t.subscriptions[key] = dataclasses.replace(row, wait_note=note, wait_failures=failures,
                                                         next_check_at=next_check_at)
        return True

    def with_id(self, name: str, correlation_key: str, message_id: str, now: int) -> MessageRow | None:
        return next(
            (r for r in self._t.messages.values()
             if r.name == name and r.correlation_key == correlation_key and r.message_id == message_id
             and r.expires_at > now),
            None,
        )

    def buffer(self, row: MessageRow) -> None:
        self._t.messages[row.key] = row

    def buffered_for(
        self, name: str, correlation_key: str | None, instance_key: int, process_id: str, now: int
    ) -> MessageRow | None:
        if correlation_key is None:
            return None

        def reached(message: int) -> bool:
            for m_key, i_key in self._t.correlations:
                if m_key != message:
                    continue
                other = self._t.instances.get(i_key)
                if i_key == instance_key or (other is not None and other.process_id == process_id):
                    return True
            return False

        live = sorted((r for r in self._t.messages.values()
                       if r.name == name and r.correlation_key == correlation_key and r.expires_at > now),
                      key=lambda r: r.key)
        return next((r for r in live if not reached(r.key)), None)

    def record_correlation(self, message_key: int, instance_key: int) -> None:
        self._t.correlations[(message_key, instance_key)] = None

    def delete_expired(self, now: int, limit: int = 1000) -> int:
        keys = [r.key for r in self._t.messages.values() if r.expires_at <= now][:limit]
        for key in keys:
            del self._t.messages[key]
        for pair in [p for p in self._t.correlations if p[0] in keys]:
            del self._t.correlations[pair]
        return len(keys)
