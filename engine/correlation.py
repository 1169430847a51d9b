"""Messages, signals and timers from outside: publishing, broadcasting and firing due timers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from engine.exceptions import Conflict, InvalidInput
from engine.ports import Clock
from engine.runtime import messages as m
from engine.scheduler.timers import TimerSchedule, from_millis, next_after, to_millis
from engine.store import Tx
from engine.unit import UnitOfWork
from engine.validation import check_variables

if TYPE_CHECKING:
    from engine.engine import Engine

T = TypeVar("T")


class EventCommands:
    """The message, signal and timer half of ``engine.Engine``'s commands."""

    clock: Clock

    def _atomic(self, work: Callable[[Tx], T]) -> T:
        raise NotImplementedError

    # --- messages, signals, timers ----------------------------------------------------------------

    def publish_message(
        self,
        name: str,
        correlation_key: str = "",
        variables: dict[str, Any] | None = None,
        *,
        ttl_ms: int = 0,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """Publish a message: it reaches one waiting element per instance with that name and correlation key
        (and starts instances at message start events); with a time to live it is buffered for subscriptions
        that open later. Publishing again with a message id that is still buffered is refused."""
        values = check_variables(variables)
        if not name:
            raise InvalidInput("a message needs a name")
        if ttl_ms < 0:
            raise InvalidInput("the time to live must not be negative")

        def work(tx: Tx) -> dict[str, Any]:
            unit = UnitOfWork(cast("Engine", self), tx, self.clock.now())
            if message_id and tx.buffered_message_with_id(name, correlation_key, message_id, unit.at) is not None:
                raise Conflict(
                    f"a message named '{name}' with correlation key '{correlation_key}' and id "
                    f"'{message_id}' was already published and is still buffered"
                )
            key = tx.next_key()
            if ttl_ms > 0:
                tx.insert_message(key, name, correlation_key, message_id, values, unit.at + ttl_ms, unit.at)
            reached = unit.correlate(key, name, correlation_key, values)
            unit.run()
            return {"key": key, "correlatedInstances": reached, "buffered": ttl_ms > 0}

        return self._atomic(work)

    def broadcast_signal(self, name: str, variables: dict[str, Any] | None = None) -> int:
        """Broadcast a signal to every waiting catch event, signal start event and event subprocess."""
        values = check_variables(variables)
        if not name:
            raise InvalidInput("a signal needs a name")

        def work(tx: Tx) -> int:
            unit = UnitOfWork(cast("Engine", self), tx, self.clock.now())
            count = unit.broadcast(name, values)
            unit.run()
            return count

        return self._atomic(work)

    def fire_due_timers(self, *, limit: int = 100) -> int:
        """Fire every timer that is due now (at most ``limit``); returns how many fired."""

        def work(tx: Tx) -> int:
            now = self.clock.now()
            unit = UnitOfWork(cast("Engine", self), tx, now)
            rows = tx.due_timers(unit.at, limit)
            for row in rows:
                plan = TimerSchedule(
                    due=from_millis(int(row.due_at)), remaining=row.remaining, interval=row.interval, cron=row.cron
                )
                following = next_after(plan, now)
                if following is None:
                    tx.delete_timer(int(row.key))
                else:
                    tx.rearm_timer(int(row.key), to_millis(following.due), following.remaining)
                if row.instance_key is None:
                    unit.new_instance(int(row.definition_key), {}, start_element=row.element_id)
                else:
                    unit.send(
                        int(row.instance_key),
                        m.Trigger(
                            int(row.key), int(row.element_instance), row.element_id, repeats=following is not None
                        ),
                        tolerant=True,
                    )
            tx.delete_expired_messages(unit.at)
            unit.run()
            return len(rows)

        return self._atomic(work)
