"""The worker loop runs async handlers as tasks on its one event loop, and sync handlers on its threads."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import BpmnError, Engine, Job, WorkerLoop, WorkerRegistry, WorkerSettings

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="x">
  <bpmn:process id="one_job" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="=kind" />
    </bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    opened = Engine.open(f"sqlite:///{tmp_path / 'loop.db'}", synchronous="NORMAL")
    opened.deploy([("one_job.bpmn", BPMN)])
    yield opened
    opened.close()


def _wait(condition: Any, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_two_hundred_sleeping_async_handlers_run_at_once_on_one_thread(engine: Engine) -> None:
    keys = [engine.start("one_job", {"kind": "sleepy"}).key for _ in range(200)]
    running = most = 0
    handler_threads: set[int] = set()
    thread_counts: list[int] = []

    async def sleepy(job: Job) -> dict[str, Any]:
        nonlocal running, most
        handler_threads.add(threading.get_ident())
        running += 1
        most = max(most, running)
        thread_counts.append(threading.active_count())
        await asyncio.sleep(0.5)
        running -= 1
        return {"slept": True}

    registry = WorkerRegistry()
    registry.register("sleepy", sleepy)
    before = threading.active_count()
    loop = WorkerLoop(engine, registry, settings=WorkerSettings(concurrency=200, poll_interval_s=0.05))
    loop.run(until_idle=True)
    assert loop.completed == 200 and loop.failed == 0
    assert all(engine.instance(key).state == "completed" for key in keys)
    assert handler_threads == {threading.get_ident()}  # the loop's own thread: run() ran it on this one
    assert most == 200, f"at most {most} handlers were waiting at once"
    assert max(thread_counts) - before <= 3  # the engine's thread, nothing per job


def test_sync_handlers_run_on_the_loops_threads_and_async_ones_on_its_event_loop(engine: Engine) -> None:
    seen: dict[str, set[str]] = {"sync": set(), "async": set()}
    guard = threading.Lock()

    def blocking(job: Job) -> dict[str, Any]:
        with guard:
            seen["sync"].add(threading.current_thread().name)
        time.sleep(0.05)  # blocks its thread, not the loop
        return {}

    async def waiting(job: Job) -> dict[str, Any]:
        seen["async"].add(threading.current_thread().name)
        await asyncio.sleep(0.05)
        return {}

    registry = WorkerRegistry()
    registry.register("blocking", blocking)
    registry.register("waiting", waiting)
    for i in range(20):
        engine.start("one_job", {"kind": "blocking" if i % 2 else "waiting"})
    loop = WorkerLoop(engine, registry, settings=WorkerSettings(concurrency=20, threads=2, poll_interval_s=0.05))
    loop.run(until_idle=True)
    assert loop.completed == 20
    assert seen["async"] == {threading.current_thread().name}
    assert 1 <= len(seen["sync"]) <= 2 and all(name.startswith("job") for name in seen["sync"])


def test_a_slow_async_handler_does_not_keep_other_jobs_from_being_claimed_and_completed(engine: Engine) -> None:
    started = threading.Event()
    gate: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def slow(job: Job) -> dict[str, Any]:
        release = asyncio.Event()
        gate.append((asyncio.get_running_loop(), release))
        started.set()
        await release.wait()  # a remote task that takes long
        return {"slow": True}

    def release() -> None:
        for loop, event in gate:
            loop.call_soon_threadsafe(event.set)

    async def quick(job: Job) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"quick": True}

    registry = WorkerRegistry()
    registry.register("slow", slow)
    registry.register("quick", quick)
    loop = WorkerLoop(engine, registry, settings=WorkerSettings(concurrency=2, lease_ms=900, poll_interval_s=0.05))
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        slow_key = engine.start("one_job", {"kind": "slow"}).key
        assert started.wait(20)
        quick_keys = [engine.start("one_job", {"kind": "quick"}).key for _ in range(10)]
        _wait(lambda: all(engine.instance(key).state == "completed" for key in quick_keys))
        time.sleep(1.2)  # past the lease: the heartbeat keeps the slow job's lease, so it is not claimed again
        assert engine.instance(slow_key).state == "active" and len(gate) == 1
        release()
        _wait(lambda: engine.instance(slow_key).state == "completed")
        assert loop.completed == 11 and loop.failed == 0
    finally:
        release()
        loop.stop()
        thread.join(timeout=30)


def test_a_stop_waits_for_the_running_async_handlers_and_reports_them(engine: Engine) -> None:
    started = threading.Event()

    async def slowish(job: Job) -> dict[str, Any]:
        started.set()
        await asyncio.sleep(0.3)
        return {"done": True}

    registry = WorkerRegistry()
    registry.register("slowish", slowish)
    key = engine.start("one_job", {"kind": "slowish"}).key
    loop = WorkerLoop(engine, registry, settings=WorkerSettings(poll_interval_s=0.05))
    thread = threading.Thread(target=loop.run)
    thread.start()
    assert started.wait(20)
    loop.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert engine.instance(key).state == "completed"


def test_an_async_handlers_bpmn_error_and_failure_are_reported_as_a_sync_handlers_are(engine: Engine) -> None:
    async def throws(job: Job) -> dict[str, Any]:
        raise BpmnError("NOPE", "no such thing")

    async def breaks(job: Job) -> dict[str, Any]:
        raise RuntimeError("broken")

    registry = WorkerRegistry()
    registry.register("throws", throws)
    registry.register("breaks", breaks)
    thrown = engine.start("one_job", {"kind": "throws"}).key
    broken = engine.start("one_job", {"kind": "breaks"}).key
    loop = WorkerLoop(engine, registry, settings=WorkerSettings(backoff_base_ms=1, poll_interval_s=0.05))
    loop.run(until_idle=True)
    assert engine.instance(thrown).state != "completed"  # no boundary event catches it: an incident
    [incident] = engine.incidents(instance=broken)
    assert "RuntimeError: broken" in incident.message
    assert loop.failed >= 1


def test_run_called_from_a_coroutine_runs_the_loop_on_a_thread_of_its_own(engine: Engine) -> None:
    async def handler(job: Job) -> dict[str, Any]:
        return {"thread": threading.current_thread().name}

    registry = WorkerRegistry()
    registry.register("inside", handler)
    key = engine.start("one_job", {"kind": "inside"}).key

    async def caller() -> None:
        WorkerLoop(engine, registry, settings=WorkerSettings(poll_interval_s=0.05)).run(until_idle=True)

    asyncio.run(caller())
    assert engine.instance(key).variables["thread"].startswith("worker-loop")
