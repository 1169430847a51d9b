"""The worker loop keeps its slots busy: one long job holds one slot, never the loop."""

from __future__ import annotations

import threading
import time
from typing import Any

from engine import Engine, Job, WorkerLoop, WorkerRegistry, WorkerSettings

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


def _wait(condition: Any, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_jobs_started_while_a_long_job_runs_complete_without_waiting_for_it(tmp_path: Any) -> None:
    engine = Engine.open(f"sqlite:///{tmp_path / 'loop.db'}", synchronous="NORMAL")
    release, running = threading.Event(), threading.Event()

    def slow(job: Job) -> dict[str, Any]:
        running.set()
        return {"slow": release.wait(30)}

    registry = WorkerRegistry()
    registry.register("slow", slow)
    registry.register("quick", lambda job: {"quick": True})
    engine.deploy([("one_job.bpmn", BPMN)])
    loop = WorkerLoop(engine, registry, settings=WorkerSettings(concurrency=2, lease_ms=900, poll_interval_s=0.05))
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        slow = engine.start("one_job", {"kind": "slow"})
        assert running.wait(20)
        quick = [engine.start("one_job", {"kind": "quick"}) for _ in range(5)]
        _wait(lambda: all(engine.instance(q.key).state == "completed" for q in quick))
        assert engine.instance(slow.key).state == "active"
        time.sleep(1.5)  # past the lease: the heartbeat keeps the slow job's lease, so it is not claimed again
        release.set()
        _wait(lambda: engine.instance(slow.key).state == "completed")
        assert loop.completed == 6 and loop.failed == 0
    finally:
        release.set()
        loop.stop()
        thread.join(timeout=30)
        engine.close()


def test_a_stopped_loop_reports_the_jobs_it_was_running(tmp_path: Any) -> None:
    engine = Engine.open(f"sqlite:///{tmp_path / 'loop.db'}", synchronous="NORMAL")
    started = threading.Event()

    def slowish(job: Job) -> dict[str, Any]:
        started.set()
        time.sleep(0.3)
        return {"done": True}

    registry = WorkerRegistry()
    registry.register("slowish", slowish)
    engine.deploy([("one_job.bpmn", BPMN)])
    view = engine.start("one_job", {"kind": "slowish"})
    loop = WorkerLoop(engine, registry, settings=WorkerSettings(concurrency=2, poll_interval_s=0.05))
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        assert started.wait(20)
        loop.stop()
        thread.join(timeout=30)
        assert engine.instance(view.key).state == "completed"
    finally:
        loop.stop()
        engine.close()


def test_a_job_that_asks_a_person_waits_on_a_user_task_and_runs_again_with_the_answer(tmp_path: Any) -> None:
    from engine import AskPerson, PersonAnswer
    from engine.scheduler.loop import run_until_idle

    engine = Engine.open(f"sqlite:///{tmp_path / 'loop.db'}", synchronous="NORMAL")
    attempts: list[dict[str, Any]] = []

    def handler(job: Job) -> dict[str, Any]:
        attempts.append({**job.variables, "_job": job.key})
        answer = PersonAnswer.of(job.variables, "userInput")
        if answer is None:
            raise AskPerson("Which size?", details={"kind": "question", "question": "S or M?"},
                            candidate_groups=("sales",))
        return {"size": answer.variables["size"]}

    registry = WorkerRegistry()
    registry.register("asks", handler)
    try:
        engine.deploy([("one_job.bpmn", BPMN)])
        view = engine.start("one_job", {"kind": "asks"})
        run_until_idle(engine, registry)
        [task] = engine.user_tasks(instance=view.key)
        assert (task.name, task.candidate_groups, task.details["question"]) == ("Which size?", ["sales"], "S or M?")
        assert engine.jobs(view.key) == []  # no job runs meanwhile
        engine.complete_user_task(task.key, {"size": "M"})
        run_until_idle(engine, registry)
        final = engine.instance(view.key)
        assert final.state == "completed" and final.variables["size"] == "M"
        assert attempts[1]["userInput"] == {"round": 1, "variables": {"size": "M"}, "job": attempts[0]["_job"]}
        answer = PersonAnswer.of(attempts[1], "userInput")
        assert answer == PersonAnswer(1, {"size": "M"}, attempts[0]["_job"]) and answer.after(0)
        assert not answer.after(1)  # passed on already: a handler that noted round 1 sends nothing again
        assert PersonAnswer.of({"userInput": {"round": True, "variables": {}}}, "userInput") is None
        types = [e["type"] for e in engine.journal(view.key)]
        assert types.count("job_parked") == 1 and types.count("job_created") == 2
    finally:
        engine.close()


TIMER_THEN_JOB = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="x">
  <bpmn:process id="timer_then_job" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>
      <bpmn:timeDuration>PT0.2S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="after-timer" />
    </bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="t" />
    <bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_timer_armed_by_another_thread_wakes_an_idle_loop_before_its_next_poll(tmp_path: Any) -> None:
    """The loop polls for timers other processes arm; one armed in this process tells it when it is due."""
    engine = Engine.open(f"sqlite:///{tmp_path / 'loop.db'}", synchronous="NORMAL")
    registry = WorkerRegistry()
    registry.register("after-timer", lambda job: {"fired": True})
    engine.deploy([("timer_then_job.bpmn", TIMER_THEN_JOB)])
    # it would look again at its next poll or heartbeat: a minute and 40 s away
    loop = WorkerLoop(engine, registry, settings=WorkerSettings(poll_interval_s=60, lease_ms=120_000))
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        time.sleep(0.3)  # the loop has looked for timers (none) and sleeps
        view = engine.start("timer_then_job")  # from this thread, as a REST caller's start would be
        _wait(lambda: engine.instance(view.key).state == "completed", timeout_s=30)
        assert engine.instance(view.key).variables == {"fired": True}
        assert loop.fired == 1
    finally:
        loop.stop()
        thread.join(timeout=30)
        engine.close()
