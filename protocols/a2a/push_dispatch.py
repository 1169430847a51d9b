"""The push dispatcher: watches tasks, and sends the outbox's notifications at least once, with backoff.

One round (``run_once``) scans the tasks that have configs (``PushWatcher``
queues a notification per change), claims the due deliveries with a lease
and attempts each (``PushSender``). A 2xx marks a delivery done; a failure
schedules the next attempt after ``backoff_s`` doubled per attempt (capped
at ``max_backoff_s``); after ``max_attempts`` attempts, or at once when the
destination is refused, the delivery ends ``failed`` or ``refused``.

Durability: deliveries are rows, so a restarted hub resumes the pending
ones; a dispatcher that dies holding a lease loses it after
``timeout_s + 30`` s and another (or the restarted one) sends the row again.
A receiver may therefore see a notification twice: A2A receivers are to
process them idempotently.

Time comes from ``clock`` (milliseconds): tests drive ``run_once`` on a
manual clock and never sleep. ``PushThread`` runs the rounds for the hub on
a thread of its own, woken by the engine's commits and by a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine import Engine
from protocols.a2a.push_send import MAX_TIMEOUT_S, DeliveryFailed, DeliveryRefused, PushSender
from protocols.a2a.push_watch import PushWatcher
from protocols.http import EgressPolicy
from registry import PushDelivery, PushStore
from registry.push import FAILED, REFUSED
from registry.store import now_ms

__all__ = ["PushDispatcher", "PushSettings", "PushThread"]

log = logging.getLogger("agenthub.a2a.push")


@dataclass(frozen=True, slots=True)
class PushSettings:
    """How hard the dispatcher tries; ``from_env`` reads the ``AGENTHUB_PUSH_*`` variables."""

    max_attempts: int = 8
    timeout_s: float = 10.0  # per attempt, name resolution included; at most 30 s
    backoff_s: float = 1.0  # before the second attempt; doubled for each further one
    max_backoff_s: float = 300.0
    poll_s: float = 1.0  # how often to look for commits of other processes and for due retries
    batch: int = 16  # deliveries attempted at once
    retention_s: float = 7 * 86400.0  # how long finished deliveries are kept

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("AGENTHUB_PUSH_MAX_ATTEMPTS must be at least 1")
        if not 0 < self.timeout_s <= MAX_TIMEOUT_S:
            raise ValueError(f"AGENTHUB_PUSH_TIMEOUT_S must be more than 0 and at most {MAX_TIMEOUT_S:g}")
        if self.backoff_s < 0 or self.max_backoff_s < self.backoff_s or self.poll_s <= 0 or self.batch < 1:
            raise ValueError("push backoff, poll interval and batch size must be positive (backoff <= max backoff)")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PushSettings:
        """Settings from ``AGENTHUB_PUSH_MAX_ATTEMPTS``, ``_TIMEOUT_S``, ``_BACKOFF_S`` and ``_MAX_BACKOFF_S``."""

        def number(name: str, default: float) -> float:
            text = env.get(f"AGENTHUB_PUSH_{name}", "").strip()
            try:
                return float(text) if text else default
            except ValueError:
                raise ValueError(f"AGENTHUB_PUSH_{name}='{text}' is not a number") from None

        default = cls()
        return cls(
            max_attempts=int(number("MAX_ATTEMPTS", default.max_attempts)),
            timeout_s=number("TIMEOUT_S", default.timeout_s),
            backoff_s=number("BACKOFF_S", default.backoff_s),
            max_backoff_s=number("MAX_BACKOFF_S", default.max_backoff_s),
        )

    @property
    def lease_ms(self) -> int:
        return int((self.timeout_s + 30) * 1000)

    def backoff_ms(self, attempts: int) -> int:
        """The wait after the ``attempts``-th failed attempt."""
        return int(min(self.backoff_s * 2 ** max(0, attempts - 1), self.max_backoff_s) * 1000)


class PushDispatcher:
    """Scans, claims and sends; ``run_once`` is one round, ``run`` repeats it until stopped."""

    def __init__(
        self,
        engine: Engine,
        store: PushStore,
        sender: PushSender,
        settings: PushSettings | None = None,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.sender = sender
        self.settings = settings or PushSettings()
        self.clock = clock
        self.watcher = PushWatcher(engine, store)
        self._pruned_at = 0

    async def run_once(self) -> int:
        """Queue what changed, then attempt every due delivery once; returns how many were attempted."""
        now = self.clock()
        await asyncio.to_thread(self.watcher.scan, now)
        due = await asyncio.to_thread(
            self.store.claim_due, now, lease_ms=self.settings.lease_ms, limit=self.settings.batch
        )
        if due:
            await asyncio.gather(*(self._attempt(delivery) for delivery in due))
        if now - self._pruned_at > 3_600_000:
            self._pruned_at = now
            await asyncio.to_thread(self.store.prune, now - int(self.settings.retention_s * 1000))
        return len(due)

    async def _attempt(self, delivery: PushDelivery) -> None:
        assert delivery.config is not None  # claimed deliveries carry their config
        where = f"push notification {delivery.id} (task {delivery.task_id}, config '{delivery.config_id}')"
        try:
            status = await self.sender.send(delivery.config, delivery.payload)
        except DeliveryRefused as exc:
            log.warning("%s refused: %s", where, exc)
            await asyncio.to_thread(
                self.store.give_up, delivery, self.clock(), state=REFUSED, status=None, error=str(exc)
            )
            return
        except DeliveryFailed as exc:
            await self._failed(delivery, where, str(exc), exc.status)
            return
        except Exception as exc:  # a bug must not stop the dispatcher: count it as a failed attempt
            log.exception("%s: unexpected error", where)
            await self._failed(delivery, where, f"{type(exc).__name__}: {exc}", None)
            return
        await asyncio.to_thread(self.store.delivered, delivery, self.clock(), status)

    async def _failed(self, delivery: PushDelivery, where: str, error: str, status: int | None) -> None:
        attempts = delivery.attempts + 1
        now = self.clock()
        if attempts >= self.settings.max_attempts:
            log.warning("%s failed %d times, giving up: %s", where, attempts, error)
            await asyncio.to_thread(self.store.give_up, delivery, now, state=FAILED, status=status, error=error)
            return
        next_at = now + self.settings.backoff_ms(attempts)
        log.info("%s attempt %d failed (%s); next in %d ms", where, attempts, error, next_at - now)
        await asyncio.to_thread(self.store.retry, delivery, now, next_at=next_at, status=status, error=error)

    async def run(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Rounds until ``stop`` is set; between rounds wait for ``wake`` (a commit, or a stop) or ``poll_s``."""
        while not stop.is_set():
            try:
                busy = await self.run_once() >= self.settings.batch
            except Exception:  # the database may be briefly unavailable: try again next round
                log.exception("push dispatch round failed")
                busy = False
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.settings.poll_s)
            wake.clear()
            if not stop.is_set():
                await asyncio.sleep(0.05)  # let a burst of commits settle into one scan


class PushThread:
    """The dispatcher on a thread of its own with its own event loop, for the hub's lifespan."""

    def __init__(self, engine: Engine, dispatcher: PushDispatcher) -> None:
        self.engine = engine
        self.dispatcher = dispatcher
        self.thread = threading.Thread(target=self._run, name="agenthub-push", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()

    @classmethod
    def for_hub(cls, engine: Engine, store: PushStore, egress: EgressPolicy, env: Mapping[str, str]) -> PushThread:
        """The hub's dispatcher: settings from ``AGENTHUB_PUSH_*``, destinations under the hub's egress policy."""
        settings = PushSettings.from_env(env)
        sender = PushSender(egress, timeout_s=settings.timeout_s)
        return cls(engine, PushDispatcher(engine, store, sender, settings))

    def start(self) -> None:
        self.thread.start()
        self._ready.wait(timeout=10)
        self.engine.commit_listeners.add(self._on_commit)

    def stop(self) -> None:
        self.engine.commit_listeners.discard(self._on_commit)
        loop, stop, wake = self._loop, self._stop, self._wake
        if loop is not None and stop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
                loop.call_soon_threadsafe(wake.set)  # end the wait between rounds now
        self.thread.join(timeout=2)
        main = self._task
        if self.thread.is_alive() and loop is not None and main is not None:
            # Deliveries still in flight: give up on them. Their rows stay claimed until the lease runs out and are
            # sent again then (at least once), so stopping the hub waits for no slow receiver.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(main.cancel)
            self.thread.join(timeout=10)

    def _on_commit(self) -> None:  # on the committing thread
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop, self._wake = asyncio.Event(), asyncio.Event()
        self._task = asyncio.current_task()
        self._ready.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self.dispatcher.run(self._stop, self._wake)
