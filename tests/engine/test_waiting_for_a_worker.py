"""An active element whose job no worker holds says so: ``waitingFor`` with the job type, since when, the job."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from engine import Engine
from engine.ports import ManualClock

EXTERNAL = Path(__file__).resolve().parents[1] / "data" / "hub" / "external.bpmn"


def _deploy(engine: Engine) -> None:
    engine.deploy([("external.bpmn", EXTERNAL.read_bytes())])


def test_an_instance_waiting_on_a_job_no_worker_has_claimed_names_its_type_and_since_when(
    engine: Engine, clock: ManualClock
) -> None:
    _deploy(engine)
    started = engine.start("external", {"n": 1})
    [element] = started.active_elements
    job = engine.jobs(started.key)[0]["key"]
    expected = {"jobType": "remote-work", "since": "2026-01-01T00:00:00Z", "job": job, "retries": 2, "claims": 0}
    assert element["waitingFor"] == expected
    clock.advance(timedelta(minutes=5))
    assert engine.instance(started.key).active_elements[0]["waitingFor"] == expected
    [listed] = engine.instances(state="active")
    assert listed.active_elements[0]["waitingFor"] == expected


def test_a_claimed_job_is_not_waiting_and_a_failed_attempt_waits_again_with_its_error(
    engine: Engine, clock: ManualClock
) -> None:
    _deploy(engine)
    key = engine.start("external").key
    [job] = engine.activate_jobs(["remote-work"], "w1", lease_ms=60_000)
    assert "waitingFor" not in engine.instance(key).active_elements[0]
    clock.advance(timedelta(seconds=30))
    engine.fail_job(job.key, "disk full", backoff_ms=10_000, worker="w1", lock_version=job.lock_version)
    waiting = engine.instance(key).active_elements[0]["waitingFor"]
    assert waiting == {
        "jobType": "remote-work",
        "since": "2026-01-01T00:00:40Z",  # due again after the backoff
        "job": job.key,
        "retries": 1,
        "claims": 1,
        "lastError": "disk full",
    }


def test_a_finished_or_canceled_instance_waits_for_nothing(engine: Engine) -> None:
    _deploy(engine)
    done = engine.start("external").key
    [job] = engine.activate_jobs(["remote-work"], "w1")
    engine.complete_job(job.key, {}, worker="w1", lock_version=job.lock_version)
    canceled = engine.cancel(engine.start("external").key)
    assert engine.instance(done).active_elements == []
    assert canceled.active_elements == []
    assert all("waitingFor" not in e for v in engine.instances() for e in v.active_elements)


def test_a_page_of_instances_reads_the_waiting_jobs_of_all_of_them_at_once(engine: Engine) -> None:
    _deploy(engine)
    keys = [engine.start("external", {"n": i}).key for i in range(3)]
    [first] = engine.activate_jobs(["remote-work"], "w1", max_jobs=1)
    views = {v.key: v for v in engine.instances(process_id="external")}
    waiting = {k: "waitingFor" in views[k].active_elements[0] for k in keys}
    assert waiting == {k: k != first.instance for k in keys}
