"""Timers, messages and compensation across kills and restarts (RELIABILITY.md D10-D14, invariants I8-I10).

Every test runs on SQLite and on PostgreSQL (``db_url``'s two parameters,
RELIABILITY.md H7); a PostgreSQL database comes from the suite's throwaway
cluster. Two kinds of test:

- in-process, with ``engine.ports.ManualClock`` (H2): the engine is "stopped"
  by closing it and "started" by opening a new one on the same database,
  with the clock moved in between (D10, D11, D13);
- with real processes (H1): a driver, the ``agenthub`` CLI or an ``agenthub
  worker`` is SIGKILLed (by the test, by ``$HUB_CRASH_AT``, or by a handler
  that kills its own process), then a new process carries on (D10, D12, D14).

The models and handlers are in ``tests/data/durability/events/``; every
handler writes its effect, keyed by job key, to the side-effect ledger (H3).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine import Conflict, Engine, WorkerLoop, WorkerSettings
from engine.ports import ManualClock
from engine.scheduler.registry import WorkerRegistry
from tests.durability.harness import DATA, KILLED, DbSandbox, db_sandbox

EVENTS = DATA / "events"
EV_DRIVER = EVENTS / "driver.py"
EV_WORKERS = EVENTS / "workers.py"
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
LEASE = ("--lease", "1", "--concurrency", "1")


@pytest.fixture
def box(db_url: str, tmp_path: Path, migrated_db: Path) -> Iterator[DbSandbox]:
    sandbox = db_sandbox(db_url, tmp_path / "box", migrated_db, workers=EV_WORKERS)
    yield sandbox
    sandbox.stop_all()


def _deploy(engine: Engine, *names: str) -> None:
    engine.deploy([(f"{name}.bpmn", (EVENTS / f"{name}.bpmn").read_bytes()) for name in names])


def _driver(box: DbSandbox, mode: str, *args: str, crash: str | None = None) -> Any:
    return box.spawn([sys.executable, str(EV_DRIVER), mode, "--db", box.url, *args], crash=crash)


def _fire(engine: Engine) -> int:
    """Start the engine's timer duty once: a worker loop with no job types, until nothing is due; timers fired."""
    loop = WorkerLoop(engine, WorkerRegistry(), name="timers", settings=WorkerSettings(poll_interval_s=0.02))
    loop.run(until_idle=True)
    return loop.fired


def _status(box: DbSandbox, instance: int) -> str:
    return str(box.sql("SELECT status FROM instances WHERE key = ?", (instance,))[0][0])


def _ledger_keys(box: DbSandbox, job_type: str) -> list[int]:
    return [int(k) for (k,) in box.ledger("SELECT job_key FROM effects WHERE job_type = ? ORDER BY id", (job_type,))]


# --- D10: timer catch-up after downtime ---------------------------------------------------------------------


def test_d10_a_timer_due_while_stopped_fires_once_and_a_cycle_does_not_burst(box: DbSandbox) -> None:
    """The engine stops at T; the clock moves to T+1h; it starts: the PT10M catch fires once, the R5/PT1M cycle
    fires once (not the five repetitions it missed) and, however long the engine then runs, never more than 5
    times in all (I8; catch-up policy of engine/scheduler/timers.py: missed repetitions are skipped)."""
    clock = ManualClock(T0)
    with box.engine(clock) as engine:
        _deploy(engine, "e_timers")
        instance = engine.start("e_timers").key
        assert {t["element"] for t in engine.timers(instance)} == {"Wait10", "Reminder"}
    clock.set(T0 + timedelta(hours=1))  # while nothing ran
    with box.engine(clock) as engine:
        assert _fire(engine) == 2
        assert _fire(engine) == 0, "a restart fired again what it had just fired"
    done = box.completions(instance)
    assert done["Wait10"] == 1 and done["WaitedEnd"] == 1
    assert done["Reminder"] == 1, f"the cycle fired {done['Reminder']} times at once after the downtime"
    box.assert_state_matches_rows()
    box.assert_no_orphans()
    for _ in range(60):  # the engine runs on, minute by minute, for another hour
        clock.advance(timedelta(minutes=1))
        with box.engine(clock) as engine:
            _fire(engine)
    done = box.completions(instance)
    assert done["Wait10"] == 1
    assert 1 <= done["Reminder"] <= 5, f"an R5 cycle fired {done['Reminder']} times"
    with box.engine(clock) as engine:
        assert engine.timers(instance) == []
        engine.complete_user_task(engine.user_tasks(instance=instance)[0].key)
        assert engine.instance(instance).state == "completed"
    box.assert_invariants()


def test_d10_a_cycle_fires_once_for_its_missed_repetitions_then_resumes_its_schedule(box: DbSandbox) -> None:
    """Down from T to T+3m30s: the repetitions due at T+1m, T+2m and T+3m fire as one, then the cycle resumes at
    T+4m and T+5m, and ends there (R5: at most 5 fires; here 3)."""
    clock = ManualClock(T0)
    with box.engine(clock) as engine:
        _deploy(engine, "e_timers")
        instance = engine.start("e_timers").key
    fires: list[int] = []
    for moment in (
        timedelta(minutes=3, seconds=30),
        timedelta(minutes=4),
        timedelta(minutes=5),
        timedelta(minutes=6),
        timedelta(minutes=9),
    ):
        clock.set(T0 + moment)
        with box.engine(clock) as engine:  # a restart at every moment
            _fire(engine)
        fires.append(box.completions(instance)["Reminder"])
    assert fires == [1, 2, 3, 3, 3]
    with box.engine(clock) as engine:
        assert [t["element"] for t in engine.timers(instance)] == ["Wait10"]
    box.assert_invariants()


def test_d10_a_cycle_whose_whole_schedule_passed_while_stopped_fires_once_and_ends(box: DbSandbox) -> None:
    clock = ManualClock(T0)
    with box.engine(clock) as engine:
        _deploy(engine, "e_timers")
        instance = engine.start("e_timers").key
    clock.set(T0 + timedelta(hours=1))
    with box.engine(clock) as engine:
        _fire(engine)
    clock.set(T0 + timedelta(hours=2))
    with box.engine(clock) as engine:
        _fire(engine)
        assert engine.timers(instance) == []
    assert box.completions(instance)["Reminder"] == 1


@pytest.mark.parametrize(
    "kill",
    [
        "driver-before-fire",  # the only process is killed after the due time passed, before anything fired
        "worker-before-commit",  # and then the worker that fires it is killed inside fire_due_timers, uncommitted
        "worker-after-commit",  # ... or right after the firing committed, before its job ran
    ],
)
def test_d10_a_timer_due_while_the_process_was_dead_fires_exactly_once(box: DbSandbox, kill: str) -> None:
    """Real processes and the system clock: a PT1S timer comes due while its process is dead (SIGKILL); a new
    worker fires it, once, never before its due time, and the element after it runs once (I8)."""
    driver = _driver(box, "timer")
    lines = box.read_lines(driver)
    _, instance, due_ms = lines.wait_for("started ").split()
    lines.wait_for("due-passed")
    driver.kill()
    assert driver.wait(30) == KILLED
    assert box.completions(int(instance))["Wait"] == 0, "the driver fired the timer: the test proves nothing"
    if kill != "driver-before-fire":
        point = "before_commit:1" if kill == "worker-before-commit" else "after_commit:1"
        status, _ = box.finish(box.worker(*LEASE, crash=point))  # its first transaction fires the due timer
        assert status == KILLED, f"the worker was not killed at {point}: {box.stderr()}"
        fired = box.completions(int(instance))["Wait"]
        assert fired == (0 if kill == "worker-before-commit" else 1), "a kill left half a firing"
        box.assert_state_matches_rows()
        box.assert_no_orphans()
    box.run_to_quiescence(*LEASE)
    box.run_to_quiescence(*LEASE)  # and once more: nothing fires again
    assert _status(box, int(instance)) == "completed"
    done = box.completions(int(instance))
    assert (done["Wait"], done["AfterWait"], done["End"]) == (1, 1, 1)
    (at,) = box.sql(
        "SELECT at FROM journal WHERE instance_key = ? AND type = 'element_completed' AND element_id = 'Wait'",
        (int(instance),),
    )
    assert int(at[0]) >= int(due_ms), "the timer fired before its due time"
    assert len(set(_ledger_keys(box, "ev_after_wait"))) == 1
    assert box.sql("SELECT count(*) FROM timers")[0][0] == 0
    box.assert_invariants()
    box.assert_effects_match_jobs()


# --- D11: the clock moves backward -------------------------------------------------------------------------


def test_d11_a_backward_clock_refires_nothing_and_does_not_spin(box: DbSandbox) -> None:
    """Timers fired up to T+10m; the engine restarts with the clock at T+10m-1h: nothing fires again, due dates
    stay as they were, and the worker loop neither spins nor sleeps a negative time (I8, zeebe-chaos "time
    travel")."""
    clock = ManualClock(T0)
    with box.engine(clock) as engine:
        _deploy(engine, "e_timers")
        first = engine.start("e_timers").key
    for minute in range(1, 11):  # the engine runs: the cycle fires 5 times, the PT10M catch at T+10m
        clock.set(T0 + timedelta(minutes=minute))
        with box.engine(clock) as engine:
            _fire(engine)
    with box.engine(clock) as engine:
        second = engine.start("e_timers").key  # timers due at T+11m (cycle) and T+20m (catch)
    fired = box.completions()
    assert (fired["Reminder"], fired["Wait10"]) == (5, 1)
    timers_before = box.sql("SELECT key, due_at, remaining FROM timers ORDER BY key")

    clock.set(T0 + timedelta(minutes=10) - timedelta(hours=1))
    with box.engine(clock) as engine:
        started = time.monotonic()
        assert _fire(engine) == 0
        assert time.monotonic() - started < 20, "an idle worker loop did not return (it would wait for the timers)"
        # a worker loop that runs on, with timers due an hour ahead of its clock: it waits, it does not spin
        calls = 0
        original = engine.next_timer_due

        def counted() -> int | None:
            nonlocal calls
            calls += 1
            return original()

        engine.next_timer_due = counted  # type: ignore[method-assign]
        loop = WorkerLoop(engine, WorkerRegistry(), name="timers", settings=WorkerSettings(poll_interval_s=0.25))
        runner = threading.Thread(target=loop.run)
        cpu = time.process_time()
        runner.start()
        time.sleep(1.5)
        loop.stop()
        runner.join(10)
        cpu = time.process_time() - cpu
        assert not runner.is_alive()
        assert loop.fired == 0
        assert calls <= 20, f"the loop polled the timers {calls} times in 1.5 s: a busy loop"
        assert cpu < 0.75, f"the loop used {cpu:.2f} s of CPU in 1.5 s"
    assert box.completions() == fired
    assert box.sql("SELECT key, due_at, remaining FROM timers ORDER BY key") == timers_before

    clock.set(T0 + timedelta(minutes=10))  # back to where it was: still nothing to fire again
    with box.engine(clock) as engine:
        assert _fire(engine) == 0
    clock.set(T0 + timedelta(minutes=11))  # the second instance's cycle comes due: it fires, once
    with box.engine(clock) as engine:
        assert _fire(engine) == 1
    assert box.completions(first)["Reminder"] == 5 and box.completions(first)["Wait10"] == 1
    assert box.completions(second)["Reminder"] == 1 and box.completions(second)["Wait10"] == 0
    box.assert_invariants()


# --- D12: a message published just before the publisher died ----------------------------------------------


def _waiting_instance(box: DbSandbox, order: str) -> int:
    with box.engine() as engine:
        _deploy(engine, "e_message")
        view = engine.start("e_message", {"orderId": order, "case": order})
        assert [s["name"] for s in engine.subscriptions(view.key)] == ["paid"]
        return view.key


def _correlations(box: DbSandbox, instance: int) -> int:
    return int(box.sql("SELECT count(*) FROM message_correlations WHERE instance_key = ?", (instance,))[0][0])


@pytest.mark.parametrize("kill", ["after-ack", "after-commit-before-ack", "before-commit"])
def test_d12_a_message_acknowledged_before_a_kill_correlates_once_and_its_id_stays_taken(
    box: DbSandbox, kill: str
) -> None:
    """An instance waits for ``paid`` with key K. A process publishes (paid, K, messageId m1, TTL 1 min) and is
    SIGKILLed: right after it printed the acknowledgement, or after the commit but before the acknowledgement
    (``after_commit:1``), or before the commit (``before_commit:1``). After the restart the instance has
    correlated exactly once; publishing m1 again, as a client that is not sure would, is refused with a
    conflict (CLI exit status 2) while m1 is buffered, or, when the first publish never committed, goes through
    and correlates: once either way (I2, I9; zeebe-chaos "message correlation after failover")."""
    instance = _waiting_instance(box, "K-1")
    message = ("paid", "--key", "K-1", "--vars", json.dumps({"amount": 42}), "--ttl", "PT1M", "--id", "m1")
    if kill == "after-ack":
        publisher = _driver(
            box,
            "publish",
            "--name",
            "paid",
            "--key",
            "K-1",
            "--vars",
            json.dumps({"amount": 42}),
            "--ttl-ms",
            "60000",
            "--id",
            "m1",
        )
        ack = json.loads(box.read_lines(publisher).wait_for("acknowledged ").removeprefix("acknowledged "))
        publisher.kill()
        assert publisher.wait(30) == KILLED
        assert ack["correlatedInstances"] == [instance] and ack["buffered"] is True
    else:
        point = "after_commit:1" if kill == "after-commit-before-ack" else "before_commit:1"
        status, out = box.finish(box.cli("publish", *message, crash=point))
        assert status == KILLED and out == "", f"the publisher was not killed at {point}: {box.stderr()}"
    committed = kill != "before-commit"
    assert _correlations(box, instance) == (1 if committed else 0)
    box.assert_state_matches_rows()
    box.assert_no_orphans()
    box.assert_keys_unique()

    # the client does not know whether its publish went through: it publishes m1 again
    status, out = box.finish(box.cli("publish", *message))
    if committed:
        assert status == 2, f"republishing m1 while it is buffered was not refused: {out}"
        assert "already published" in box.stderr()
    else:
        assert status == 0 and f"correlated to 1 instance(s) {instance}" in out, out
    with box.engine() as engine, pytest.raises(Conflict):
        engine.publish_message("paid", "K-1", {"amount": 42}, ttl_ms=60_000, message_id="m1")

    box.run_to_quiescence(*LEASE)
    assert _status(box, instance) == "completed"
    assert _correlations(box, instance) == 1
    done = box.completions(instance)
    assert (done["WaitPaid"], done["AfterPaid"]) == (1, 1)
    assert len(set(_ledger_keys(box, "ev_after_paid"))) == 1
    with box.engine() as engine:
        assert engine.instance(instance).variables["receipt"] == "K-1:42"
    assert box.sql("SELECT count(*) FROM messages WHERE message_id = 'm1'")[0][0] == 1
    with box.engine() as engine:  # buffered m1 went to this process once: a second instance does not get it
        second = engine.start("e_message", {"orderId": "K-1", "case": "K-1b"})
        assert [e["elementId"] for e in second.active_elements] == ["WaitPaid"]
    assert _correlations(box, second.key) == 0
    box.assert_invariants()
    box.assert_effects_match_jobs()


# --- D13: a message published before its subscription opens, across a restart -----------------------------


def test_d13_a_buffered_message_survives_a_restart_and_correlates_to_an_instance_started_later(
    box: DbSandbox,
) -> None:
    """TTL 60 s: publish, stop the engine, start it 10 s later (clock) and start the instance: it correlates at
    once, from the buffer. After its TTL a buffered message is gone: an instance started 61 s after the
    publish waits (I9; the hub follows Zeebe: a message without a subscription lives for its TTL)."""
    clock = ManualClock(T0)
    with box.engine(clock) as engine:
        _deploy(engine, "e_message")
        published = engine.publish_message("paid", "K-2", {"amount": 7}, ttl_ms=60_000, message_id="m2")
        assert published["correlatedInstances"] == [] and published["buffered"] is True
        engine.publish_message("paid", "K-4", {"amount": 9}, ttl_ms=60_000, message_id="m4")
    clock.advance(timedelta(seconds=10))
    with box.engine(clock) as engine:
        view = engine.start("e_message", {"orderId": "K-2"})
        assert engine.subscriptions(view.key) == []
        assert view.variables["amount"] == 7
        assert [e["elementId"] for e in view.active_elements] == ["AfterPaid"]
        with pytest.raises(Conflict):  # m2 is still buffered: its id stays taken
            engine.publish_message("paid", "K-2", {"amount": 7}, ttl_ms=60_000, message_id="m2")
    assert _correlations(box, view.key) == 1
    assert box.completions(view.key)["WaitPaid"] == 1

    clock.advance(timedelta(seconds=51))  # 61 s after m4 was published
    with box.engine(clock) as engine:
        late = engine.start("e_message", {"orderId": "K-4"})
        assert [s["correlationKey"] for s in engine.subscriptions(late.key)] == ["K-4"]
        assert "amount" not in late.variables
    assert _correlations(box, late.key) == 0
    box.assert_state_matches_rows()
    box.assert_no_orphans()
    box.assert_keys_unique()


def test_d13_a_message_with_ttl_0_and_no_subscription_is_discarded_and_the_instance_waits(box: DbSandbox) -> None:
    """TTL 0: nothing waits, so the message is dropped (Zeebe semantics, the hub's choice). Across a restart
    and 10 s later the instance started for it waits at its catch event; a new publish reaches it."""
    clock = ManualClock(T0)
    with box.engine(clock) as engine:
        _deploy(engine, "e_message")
        published = engine.publish_message("paid", "K-3", {"amount": 5}, message_id="m3")
        assert published["correlatedInstances"] == [] and published["buffered"] is False
    assert box.sql("SELECT count(*) FROM messages")[0][0] == 0
    clock.advance(timedelta(seconds=10))
    with box.engine(clock) as engine:
        view = engine.start("e_message", {"orderId": "K-3"})
        assert [s["correlationKey"] for s in engine.subscriptions(view.key)] == ["K-3"]
        assert [e["elementId"] for e in view.active_elements] == ["WaitPaid"]
    box.assert_no_orphans()
    clock.advance(timedelta(seconds=10))
    with box.engine(clock) as engine:
        again = engine.publish_message("paid", "K-3", {"amount": 6}, message_id="m3")  # m3 was never kept
        assert again["correlatedInstances"] == [view.key]
        assert engine.instance(view.key).variables["amount"] == 6
    assert _correlations(box, view.key) == 1
    box.assert_state_matches_rows()
    box.assert_keys_unique()


# --- D14: a crash during compensation ----------------------------------------------------------------------


@pytest.mark.parametrize("kill", ["handler-kills-itself", "after_handler:4"])
def test_d14_a_kill_during_compensation_resumes_it_each_handler_once_in_reverse_order(
    box: DbSandbox, kill: str
) -> None:
    """A1 and A2 complete, A3's worker throws A3_FAILED, and compensation runs C2 then C1 (never C3: A3 did not
    complete). The worker is SIGKILLed in C2, after C2's side effect and before the engine heard of it: by the
    handler itself (a marker file makes it the first attempt only), or by ``HUB_CRASH_AT=after_handler:4`` (one
    job at a time: A1, A2, A3, then C2). After the restart C2 runs again under the same job key (at least
    once), then C1, once; C3 never (I10)."""
    with box.engine() as engine:
        _deploy(engine, "e_compensation")
        instance = engine.start("e_compensation", {"case": "comp-1"}).key
    marker = box.root / "killed-in-c2"
    extra: dict[str, Any] = {"DURABILITY_KILL_MARKER": str(marker)} if kill == "handler-kills-itself" else {}
    crash = None if kill == "handler-kills-itself" else kill
    status, _ = box.finish(box.worker(*LEASE, crash=crash, **extra))
    assert status == KILLED, f"the worker was not killed during C2: {box.stderr()}"
    c2_keys = _ledger_keys(box, "ev_c2")
    assert len(c2_keys) == 1, f"the kill did not land in C2: {c2_keys}"
    assert _ledger_keys(box, "ev_c1") == []
    # what the kill left: C2's job still locked by the dead worker, nothing else half done (I1, I3)
    assert box.sql("SELECT state, element_id FROM jobs WHERE key = ?", (c2_keys[0],)) == [("locked", "C2")]
    box.assert_state_matches_rows()
    box.assert_no_orphans()
    box.assert_keys_unique()
    box.assert_no_step_repeated()

    box.run_to_quiescence(*LEASE, **extra)
    assert _status(box, instance) == "completed"
    rows = box.ledger("SELECT job_type, job_key FROM effects ORDER BY id")
    runs: list[tuple[str, int]] = []
    for job_type, job_key in rows:  # repeated rows of one job in a row are one run (at least once)
        if not runs or runs[-1] != (job_type, int(job_key)):
            runs.append((job_type, int(job_key)))
    assert [t for t, _ in runs] == ["ev_a1", "ev_a2", "ev_c2", "ev_c1"], rows
    assert set(_ledger_keys(box, "ev_c2")) == {c2_keys[0]}, "C2 ran under two job keys: compensated twice"
    assert len(_ledger_keys(box, "ev_c2")) == 2, "C2 was not run again after the kill"
    assert len(_ledger_keys(box, "ev_c1")) == 1
    assert _ledger_keys(box, "ev_c3") == [] and _ledger_keys(box, "ev_a3") == []
    journal = [(kind, data) for i, kind, _, _, data in box.journal() if i == instance]
    started = [data["activity"] for kind, data in journal if kind == "compensation_handler_started"]
    assert started == ["A2", "A1"]
    done = box.completions(instance)
    assert (done["A1"], done["A2"], done["A3"]) == (1, 1, 0)
    assert (done["C2"], done["C1"], done["C3"]) == (1, 1, 0)
    assert (done["A3Failed"], done["UndoAll"], done["Sub"], done["End"]) == (1, 1, 1, 1)
    box.assert_invariants()
    box.assert_effects_match_jobs()
