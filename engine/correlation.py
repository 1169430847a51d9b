"""Messages, signals and timers from outside: publishing, broadcasting and firing due timers; and what something
outside that brings a waiting element's message (a poller) says about that wait: a note, or an incident."""

from __future__ import annotations

import json
from typing import Any

from engine.actor import Actor
from engine.core import EngineCore
from engine.exceptions import Conflict, InvalidInput
from engine.runtime import messages as m
from engine.scheduler.timers import TimerSchedule, from_millis, next_after, to_millis
from engine.store.protocol import StoreTx
from engine.store.rows import MessageRow
from engine.unit import present
from engine.validation import check_variables


class EventCommands:
    """The message, signal and timer commands of ``engine.Engine``."""

    def __init__(self, kernel: EngineCore) -> None:
        self._k = kernel

    # --- messages, signals, timers ----------------------------------------------------------------

    def publish_message(
        self,
        name: str,
        correlation_key: str = "",
        variables: dict[str, Any] | None = None,
        *,
        ttl_ms: int = 0,
        message_id: str | None = None,
        by: Actor | None = None,
    ) -> dict[str, Any]:
        """Publish a message: it reaches one waiting element per instance with that name and correlation key
        (and starts instances at message start events); with a time to live it is buffered for subscriptions
        that open later. Publishing again with a message id that is still buffered is refused."""
        values = check_variables(variables)
        if not name:
            raise InvalidInput("a message needs a name")
        if ttl_ms < 0:
            raise InvalidInput("the time to live must not be negative")

        def work(tx: StoreTx) -> dict[str, Any]:
            unit = self._k.unit(tx)
            if message_id and tx.messages.with_id(name, correlation_key, message_id, unit.at) is not None:
                raise Conflict(
                    f"a message named '{name}' with correlation key '{correlation_key}' and id "
                    f"'{message_id}' was already published and is still buffered"
                )
            key = tx.next_key()
            if ttl_ms > 0:
                tx.messages.buffer(MessageRow(key, name, correlation_key, message_id,
                                              json.dumps(values, separators=(",", ":")), unit.at + ttl_ms, unit.at))
            reached = unit.correlate(key, name, correlation_key, values, by)
            unit.run()
            return {"key": key, "correlatedInstances": reached, "buffered": ttl_ms > 0}

        return self._k.atomic(work)

    def broadcast_signal(self, name: str, variables: dict[str, Any] | None = None, *, by: Actor | None = None) -> int:
        """Broadcast a signal to every waiting catch event, signal start event and event subprocess."""
        values = check_variables(variables)
        if not name:
            raise InvalidInput("a signal needs a name")

        def work(tx: StoreTx) -> int:
            unit = self._k.unit(tx)
            count = unit.broadcast(name, values, by)
            unit.run()
            return count

        return self._k.atomic(work)

    def fire_due_timers(self, *, limit: int = 100) -> int:
        """Fire every timer that is due now (at most ``limit``); returns how many fired."""

        def work(tx: StoreTx) -> int:
            now = self._k.clock.now()
            unit = self._k.unit(tx, now)
            rows = tx.timers.due(unit.at, limit)
            for row in rows:
                plan = TimerSchedule(
                    due=from_millis(int(row.due_at)), remaining=row.remaining, interval=row.interval, cron=row.cron
                )
                following = next_after(plan, now)
                if following is None:
                    tx.timers.delete(int(row.key))
                else:
                    tx.timers.rearm(int(row.key), to_millis(following.due), following.remaining)
                if row.instance_key is None:
                    unit.new_instance(present(row.definition_key), {}, start_element=row.element_id)
                else:
                    unit.send(
                        int(row.instance_key),
                        m.Trigger(
                            int(row.key), present(row.element_instance), row.element_id, repeats=following is not None
                        ),
                        tolerant=True,
                    )
            tx.messages.delete_expired(unit.at)
            unit.run()
            return len(rows)

        return self._k.atomic(work)

    # --- waits kept going from outside (a poller that brings the message) ----------------------------

    def note_wait(self, subscription: int, note: str | None, *, failures: int = 0,
                  next_check_ms: int | None = None) -> bool:
        """Note why the check that brings a waiting subscription's message failed (``failures`` in a row, checked
        next at ``next_check_ms``), shown as the element's ``waitingFor``; None clears it. False: it is gone."""
        return self._k.atomic(lambda tx: tx.messages.note(subscription, note, failures, next_check_ms))

    def raise_wait_incident(self, instance: int, element_instance: int, kind: str, message: str, *,
                            by: Actor | None = None) -> None:
        """Put a waiting element in an incident that says why its wait cannot go on; resolving it changes nothing
        but the incident (the element still waits, and its poller tries again)."""

        def work(tx: StoreTx) -> None:
            self._k.run(tx, instance, m.RaiseIncident(element_instance, kind, message, by=by))

        self._k.atomic(work)
