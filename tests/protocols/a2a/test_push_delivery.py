"""Push delivery: one notification per change, at least once, with backoff, only to admitted addresses.

The dispatcher runs on a manual clock (``run_once`` per round, no sleeping).
Receivers are HTTP servers on 127.0.0.1, the only address any test sends
to; a canary is a bare listening socket that counts the connections it
gets, which must stay 0 wherever the SSRF rules apply (RELIABILITY.md A3,
A4, A6).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import insert

from engine import Engine
from protocols.a2a._convert import load_snapshot
from protocols.a2a.push_dispatch import PushDispatcher, PushSettings, PushThread
from protocols.a2a.push_send import MAX_TIMEOUT_S, PushSender
from protocols.a2a.push_watch import PushWatcher, task_signature
from protocols.http import EgressPolicy
from registry import PushConfig, PushStore, RegistryStore
from registry.schema import a2a_push_configs
from tests.protocols.a2a.harness import A2AHub, message, send

pytestmark = pytest.mark.anyio

LOOPBACK = EgressPolicy.from_env("127.0.0.1")  # the test allow-list: 127.0.0.1 and nothing else
DEFAULT = EgressPolicy.from_env(None)  # public addresses only


# --- peers on loopback ------------------------------------------------------------------------------


@dataclass
class Receiver:
    """A webhook on 127.0.0.1 answering with ``statuses`` in turn (then 200); ``hang`` holds each answer back."""

    statuses: list[int] = field(default_factory=list)
    hang: threading.Event | None = None
    location: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook?k=1"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                receiver.arrived.set()
                if receiver.hang is not None:
                    receiver.hang.wait(60)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.hang is not None:
            self.hang.set()
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


class Canary:
    """A listening socket on 127.0.0.1 that counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def canary() -> Iterator[Canary]:
    listening = Canary()
    yield listening
    listening.close()


@pytest.fixture
def store(a2a_engine: Engine) -> Iterator[PushStore]:
    opened = PushStore(RegistryStore(str(a2a_engine.store.engine.url)))
    yield opened
    opened.store.close()


@dataclass
class Rig:
    engine: Engine
    store: PushStore
    clock: Clock

    def dispatcher(
        self, policy: EgressPolicy = LOOPBACK, *, resolve: Any = None, store: PushStore | None = None, **settings: Any
    ) -> PushDispatcher:
        sender_options: dict[str, Any] = {"timeout_s": settings.get("timeout_s", 5.0)}
        if resolve is not None:
            sender_options["resolve"] = resolve
        return PushDispatcher(
            self.engine,
            store or self.store,
            PushSender(policy, **sender_options),
            PushSettings(**settings),
            clock=self.clock,
        )

    def waiting_task(self) -> int:
        """An instance of ``confirm`` waiting on the caller's user task: an input-required task."""
        return self.engine.start("confirm", {"order": "o-1", "caller": "agent"}).key

    def answer(self, task: int) -> None:
        [user_task] = self.engine.user_tasks(instance=task)
        self.engine.complete_user_task(user_task.key, {"confirmed": True})

    def watch(self, task: int, url: str, **extra: Any) -> None:
        """A config on ``task`` that has heard of its current state (as CreateTaskPushNotificationConfig leaves it)."""
        current = task_signature(load_snapshot(self.engine, task))
        self.store.put(PushConfig(task_id=str(task), config_id="c", owner="agent", url=url, notified=current, **extra))


@pytest.fixture
def rig(a2a_engine: Engine, store: PushStore) -> Rig:
    return Rig(a2a_engine, store, Clock())


def _states(store: PushStore, task: int) -> list[tuple[str, int]]:
    return [(d.state, d.attempts) for d in store.deliveries(str(task))]


# --- delivery ----------------------------------------------------------------------------------------


async def test_a_change_is_delivered_with_the_task_and_the_configured_authentication(
    rig: Rig, receiver: Receiver
) -> None:
    task = rig.waiting_task()
    rig.watch(task, receiver.url, token="tok-1", auth_scheme="Bearer", auth_credentials="cred-2")
    dispatcher = rig.dispatcher()
    assert await dispatcher.run_once() == 0  # nothing changed yet
    rig.answer(task)
    assert await dispatcher.run_once() == 1
    [request] = receiver.requests
    assert request["path"] == "/hook?k=1"
    assert request["headers"]["X-A2A-Notification-Token"] == "tok-1"
    assert request["headers"]["Authorization"] == "Bearer cred-2"
    assert request["headers"]["Content-Type"] == "application/json"
    body = json.loads(request["body"])
    assert body["task"]["id"] == str(task)
    assert body["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
    assert _states(rig.store, task) == [("delivered", 1)]
    assert await dispatcher.run_once() == 0  # delivered once; the final state ends the watch
    assert rig.store.watched() == []


async def test_each_change_is_queued_once_even_with_two_hub_processes_watching(
    rig: Rig, receiver: Receiver, a2a_engine: Engine
) -> None:
    task = rig.waiting_task()
    rig.watch(task, receiver.url)
    rig.answer(task)
    other = PushStore(RegistryStore(str(a2a_engine.store.engine.url)))
    try:
        queued = PushWatcher(a2a_engine, rig.store).scan(rig.clock()) + PushWatcher(a2a_engine, other).scan(rig.clock())
    finally:
        other.store.close()
    assert queued == 1
    assert _states(rig.store, task) == [("pending", 0)]


async def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(rig: Rig, receiver: Receiver) -> None:
    receiver.statuses = [500, 500]
    task = rig.waiting_task()
    rig.watch(task, receiver.url)
    rig.answer(task)
    dispatcher = rig.dispatcher(backoff_s=1.0)
    assert await dispatcher.run_once() == 1  # 500
    assert await dispatcher.run_once() == 0  # not before its time
    rig.clock.now += 999
    assert await dispatcher.run_once() == 0
    rig.clock.now += 1
    assert await dispatcher.run_once() == 1  # 500 again: the wait doubles
    rig.clock.now += 1999
    assert await dispatcher.run_once() == 0
    rig.clock.now += 1
    assert await dispatcher.run_once() == 1  # 200
    assert len(receiver.requests) == 3
    [delivery] = rig.store.deliveries(str(task))
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 3, 200)


async def test_delivery_stops_after_the_configured_number_of_attempts(rig: Rig, receiver: Receiver) -> None:
    receiver.statuses = [503] * 10
    task = rig.waiting_task()
    rig.watch(task, receiver.url.replace("/hook", "/hook/s3cr3t"))
    rig.answer(task)
    dispatcher = rig.dispatcher(max_attempts=3, backoff_s=1.0)
    for _ in range(10):
        await dispatcher.run_once()
        rig.clock.now += 60_000
    assert len(receiver.requests) == 3
    [delivery] = rig.store.deliveries(str(task))
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("failed", 3, 503)
    assert "503" in (delivery.last_error or "")
    assert "s3cr3t" not in (delivery.last_error or "")  # webhook paths often hold a secret: never in messages


async def test_a_receiver_that_does_not_answer_costs_one_timeout_per_attempt(rig: Rig) -> None:
    silent = Receiver(hang=threading.Event()).start()
    try:
        task = rig.waiting_task()
        rig.watch(task, silent.url)
        rig.answer(task)
        dispatcher = rig.dispatcher(timeout_s=0.5)
        started = time.monotonic()
        assert await dispatcher.run_once() == 1
        assert time.monotonic() - started < 5
    finally:
        silent.stop()
    [delivery] = rig.store.deliveries(str(task))
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert "no answer within 0.5 s" in (delivery.last_error or "")


def test_a_timeout_over_30_seconds_is_refused() -> None:
    assert MAX_TIMEOUT_S == 30
    with pytest.raises(ValueError, match="at most 30"):
        PushSender(LOOPBACK, timeout_s=60)
    with pytest.raises(ValueError, match="at most 30"):
        PushSettings(timeout_s=31)
    with pytest.raises(ValueError, match="at most 30"):
        PushSettings.from_env({"AGENTHUB_PUSH_TIMEOUT_S": "45"})
    assert PushSettings.from_env({"AGENTHUB_PUSH_MAX_ATTEMPTS": "3"}).max_attempts == 3


# --- at least once, across restarts ---------------------------------------------------------------------


async def test_pending_deliveries_resume_after_a_restart(rig: Rig, receiver: Receiver, a2a_engine: Engine) -> None:
    task = rig.waiting_task()
    rig.watch(task, receiver.url)
    rig.answer(task)
    PushWatcher(a2a_engine, rig.store).scan(rig.clock())  # queued; then the hub stops before sending
    rig.store.store.close()
    reopened = PushStore(RegistryStore(str(a2a_engine.store.engine.url)))
    try:
        assert await rig.dispatcher(store=reopened).run_once() == 1
        assert _states(reopened, task) == [("delivered", 1)]
    finally:
        reopened.store.close()
    assert len(receiver.requests) == 1


async def test_a_delivery_claimed_by_a_dispatcher_that_died_is_sent_again_once_its_lease_runs_out(
    rig: Rig, receiver: Receiver, a2a_engine: Engine
) -> None:
    task = rig.waiting_task()
    rig.watch(task, receiver.url)
    rig.answer(task)
    dead = rig.dispatcher(timeout_s=5.0)
    PushWatcher(a2a_engine, rig.store).scan(rig.clock())
    [claimed] = rig.store.claim_due(rig.clock(), lease_ms=dead.settings.lease_ms)  # ... and it dies sending
    restarted = rig.dispatcher(timeout_s=5.0)
    assert await restarted.run_once() == 0  # the lease still holds
    rig.clock.now += dead.settings.lease_ms + 1
    assert await restarted.run_once() == 1
    assert _states(rig.store, task) == [("delivered", 1)]
    assert not rig.store.delivered(claimed, rig.clock(), 200)  # the dead one's late word changes nothing
    assert len(receiver.requests) == 1


async def test_the_hub_thread_delivers_a_change_committed_in_its_process(rig: Rig, receiver: Receiver) -> None:
    task = rig.waiting_task()
    rig.watch(task, receiver.url)
    dispatcher = PushDispatcher(rig.engine, rig.store, PushSender(LOOPBACK), PushSettings(poll_s=30))
    thread = PushThread(rig.engine, dispatcher)
    thread.start()
    try:
        rig.answer(task)  # the commit wakes the thread long before its 30 s poll
        await asyncio.to_thread(receiver.arrived.wait, 10)
    finally:
        thread.stop()
    assert len(receiver.requests) == 1
    assert not thread.thread.is_alive()


async def test_stopping_the_hub_does_not_wait_for_a_slow_receiver_and_the_delivery_is_sent_again(rig: Rig) -> None:
    slow = Receiver(hang=threading.Event()).start()
    try:
        task = rig.waiting_task()
        rig.watch(task, slow.url)
        dispatcher = PushDispatcher(rig.engine, rig.store, PushSender(LOOPBACK, timeout_s=20), clock=rig.clock)
        thread = PushThread(rig.engine, dispatcher)
        thread.start()
        rig.answer(task)
        assert await asyncio.to_thread(slow.arrived.wait, 10)
        started = time.monotonic()
        thread.stop()
        assert time.monotonic() - started < 5 and not thread.thread.is_alive()
        assert _states(rig.store, task) == [("pending", 0)]  # claimed, never settled
        slow.hang.set()  # type: ignore[union-attr]  # the receiver answers from now on
        rig.clock.now += dispatcher.settings.lease_ms + 1
        assert await rig.dispatcher().run_once() == 1
    finally:
        slow.stop()
    assert _states(rig.store, task) == [("delivered", 1)]
    assert len(slow.requests) == 2  # at least once: the receiver saw it twice


async def test_deleting_a_config_drops_its_pending_deliveries(rig: Rig, receiver: Receiver) -> None:
    receiver.statuses = [500]
    task = rig.waiting_task()
    rig.watch(task, receiver.url)
    rig.answer(task)
    dispatcher = rig.dispatcher()
    await dispatcher.run_once()
    assert rig.store.delete(str(task), "c", "agent")
    rig.clock.now += 60_000
    assert await dispatcher.run_once() == 0
    assert _states(rig.store, task) == [("dropped", 1)]


# --- SSRF at dispatch ----------------------------------------------------------------------------------


def _inject(store: PushStore, task: int, config_id: str, url: str) -> None:
    """A config that never went through the create-time checks: straight into the table."""
    with store.store.begin() as conn:
        conn.execute(
            insert(a2a_push_configs).values(
                task_id=str(task), config_id=config_id, owner="agent", url=url, created_at=0, done=0
            )
        )


def _refused_anyway(port: int) -> list[str]:
    """Refused even where 127.0.0.1 is allow-listed: odd spellings, user info, fragments, other schemes, ::1."""
    return [
        f"http://127.1:{port}/hook",
        f"http://2130706433:{port}/hook",
        f"http://0x7f000001:{port}/hook",
        f"http://017700000001:{port}/hook",
        f"http://allowed@127.0.0.1:{port}/hook",
        f"http://127.0.0.1:{port}#@allowed",
        f"gopher://127.0.0.1:{port}/",
        f"http://[::1]:{port}/hook",
    ]


async def test_with_127_0_0_1_allowed_its_odd_spellings_are_still_refused_at_dispatch(rig: Rig, canary: Canary) -> None:
    urls = _refused_anyway(canary.port)
    task = rig.waiting_task()
    for n, url in enumerate(urls):
        _inject(rig.store, task, f"c{n}", url)
    rig.answer(task)
    assert await rig.dispatcher(LOOPBACK).run_once() == len(urls)
    assert _states(rig.store, task) == [("refused", 1)] * len(urls)
    assert canary.connections == 0


async def test_configs_injected_into_the_database_are_refused_at_dispatch(rig: Rig, canary: Canary) -> None:
    port = canary.port
    urls = [
        f"http://127.0.0.1:{port}/hook/s3cr3t",
        f"http://localhost:{port}/hook",
        f"http://[::ffff:127.0.0.1]:{port}/hook",
        f"http://127.1:{port}/hook",
        f"http://2130706433:{port}/hook",
        f"http://0x7f000001:{port}/hook",
        f"http://017700000001:{port}/hook",
        f"http://0.0.0.0:{port}/hook",
        f"http://allowed@127.0.0.1:{port}/hook",
        f"http://127.0.0.1:{port}#@allowed",
        f"gopher://127.0.0.1:{port}/",
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
    ]
    task = rig.waiting_task()
    for n, url in enumerate(urls):
        _inject(rig.store, task, f"c{n}", url)
    dispatcher = rig.dispatcher(DEFAULT)
    rig.answer(task)
    assert await dispatcher.run_once() == len(urls)
    rig.clock.now += 3_600_000
    assert await dispatcher.run_once() == 0  # refused is final: no retry
    assert _states(rig.store, task) == [("refused", 1)] * len(urls)
    assert canary.connections == 0
    assert not any("s3cr3t" in (d.last_error or "") for d in rig.store.deliveries(str(task)))


async def test_a_name_that_resolves_to_loopback_when_sending_is_refused(rig: Rig, canary: Canary) -> None:
    """A4: the check is on the address connected to, whatever the name looked like when the config was set."""
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        assert host == "hook.test"
        return next(answers)

    task = rig.waiting_task()
    url = f"http://hook.test:{canary.port}/hook"
    from protocols.a2a.push_url import check_push_url

    check_push_url(url, DEFAULT)  # a name passes when set: it is not resolved then
    assert await rebinding("hook.test", 80) == ["93.184.216.34"]  # what a create-time lookup would have seen
    _inject(rig.store, task, "c", url)
    rig.answer(task)
    assert await rig.dispatcher(DEFAULT, resolve=rebinding).run_once() == 1
    [delivery] = rig.store.deliveries(str(task))
    assert delivery.state == "refused" and "127.0.0.1" in (delivery.last_error or "")
    assert canary.connections == 0


async def test_a_redirect_is_not_followed(rig: Rig, canary: Canary) -> None:
    redirecting = Receiver(statuses=[302], location=f"http://127.0.0.1:{canary.port}/").start()
    try:
        task = rig.waiting_task()
        rig.watch(task, redirecting.url)
        rig.answer(task)
        assert await rig.dispatcher().run_once() == 1
    finally:
        redirecting.stop()
    [delivery] = rig.store.deliveries(str(task))
    assert (delivery.state, delivery.last_status) == ("pending", 302)
    assert "not followed" in (delivery.last_error or "")
    assert canary.connections == 0


# --- through the A2A endpoint ----------------------------------------------------------------------


async def test_a_config_sent_with_the_message_hears_the_task_from_its_current_state(
    serve_a2a: Callable[..., A2AHub], rig: Rig, receiver: Receiver
) -> None:
    from a2a.types import SendMessageRequest, TaskPushNotificationConfig

    from protocols.a2a.push_configs import PushConfigs

    hub = serve_a2a(call_timeout_s=5.0, push=PushConfigs(rig.store, LOOPBACK))
    request = SendMessageRequest(message=message(data={"order": "o-1"}))
    request.configuration.task_push_notification_config.CopyFrom(
        TaskPushNotificationConfig(url=receiver.url, token="t-1")
    )
    async with hub.client("confirm") as client:
        [response] = [r async for r in client.send_message(request)]
        task = response.task
        dispatcher = rig.dispatcher()
        assert await dispatcher.run_once() == 1  # input-required, as it is now
        follow_up = message(data={"confirmed": True}, task_id=task.id)
        assert (await send(client, follow_up)).id == task.id
    assert await dispatcher.run_once() == 1  # completed
    states = [json.loads(r["body"])["task"]["status"]["state"] for r in receiver.requests]
    assert states == ["TASK_STATE_INPUT_REQUIRED", "TASK_STATE_COMPLETED"]
    assert {r["headers"]["X-A2A-Notification-Token"] for r in receiver.requests} == {"t-1"}


# --- the outbox on both databases (RELIABILITY.md H7) ---------------------------------------------------


def test_the_outbox_queues_a_change_once_and_sends_a_configs_rows_in_order(db_url: str) -> None:
    outbox = PushStore(RegistryStore(db_url))
    try:
        config = outbox.put(PushConfig(task_id="7", config_id="c", owner="agent", url="https://hooks.example.com/"))
        assert outbox.enqueue(config, signature="WORKING", done=False, payload='{"n": 1}', now=1000)
        assert not outbox.enqueue(config, signature="WORKING", done=False, payload='{"n": 1}', now=1000)  # stale view
        moved = outbox.get("7", "c", "agent")
        assert moved is not None and moved.notified == "WORKING"
        assert outbox.enqueue(moved, signature="COMPLETED", done=True, payload='{"n": 2}', now=1001)
        assert outbox.watched() == []  # the final state is queued: nothing more to watch
        [first] = outbox.claim_due(2000, lease_ms=500)
        assert first.payload == '{"n": 1}' and first.config is not None and first.config.url.startswith("https://")
        assert outbox.claim_due(2000, lease_ms=500) == []  # leased, and the second waits for the first
        assert outbox.retry(first, 2000, next_at=5000, status=500, error="answered 500")
        assert outbox.claim_due(3000, lease_ms=500) == []  # in order: the second waits while the first is pending
        [again] = outbox.claim_due(5000, lease_ms=500)
        assert again.id == first.id and again.attempts == 1
        assert outbox.delivered(again, 5001, 200)
        [second] = outbox.claim_due(5002, lease_ms=500)
        assert second.payload == '{"n": 2}'
        assert outbox.claim_due(5400, lease_ms=500) == []
        [retaken] = outbox.claim_due(5503, lease_ms=500)  # its lease ran out: taken again
        assert retaken.id == second.id and not outbox.delivered(second, 5504, 200)  # the old claim is void
        assert outbox.give_up(retaken, 5505, state="failed", status=None, error="gave up")
        assert [(d.state, d.attempts) for d in outbox.deliveries("7")] == [("delivered", 2), ("failed", 1)]
        assert outbox.prune(before=6000) == 2
    finally:
        outbox.store.close()
