"""``protocols.instances.follow``: what a tool call or an A2A message answers with when an instance waits.

With ``until_outside`` it returns once the instance waits only on the outside world (a person here). The check
reads the jobs and user tasks after the view it judges was read; a job that completes in between moves the
instance on to its user task, and the answer must be the instance as it stands there, with the job's variables,
not the view from before the job (an MCP test failed this way under load).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine import Engine
from protocols.instances import follow

REVIEW = Path(__file__).resolve().parents[1] / "data" / "hub" / "review.bpmn"


def test_the_answer_at_a_person_is_read_after_the_job_that_led_there_completed(tmp_path: Path) -> None:
    engine = Engine.open(f"sqlite:///{tmp_path / 'hub.db'}", synchronous="NORMAL")
    try:
        engine.deploy([("review.bpmn", REVIEW.read_bytes())])
        started = engine.start("review", {"text": "refund", "orderId": "o-1"})
        before = engine.instance(started.key)  # at the echo job
        assert [e["elementId"] for e in before.active_elements] == ["echo"]
        [job] = engine.activate_jobs(None, "w1", lease_ms=60_000)
        engine.complete_job(job.key, {"echoed": "refund"}, worker="w1", lock_version=job.lock_version)  # then: checked

        answer = asyncio.run(follow(engine, started.key, 5, first=before, until_outside=True))

        assert [e["elementId"] for e in answer.active_elements] == ["approve"]
        assert answer.variables["echoed"] == "refund"
    finally:
        engine.close()
