"""``agenthub worker`` stops gracefully on SIGTERM and Ctrl-C (D22): running jobs finish, nothing stalls.

The worker runs as a real process (``python -m hub.cli worker``) with a
handler module that marks when a job has started and then takes a while; the
test signals it mid-job and reads the database afterwards.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import Engine
from tests.engine.scheduler.test_worker_loop import BPMN

REPO = Path(__file__).resolve().parents[2]

HANDLERS = '''
import time
from pathlib import Path
from engine import worker

MARKS = Path({marks!r})


@worker("slow")
def slow(job):
    (MARKS / f"started-{{job.key}}").touch()
    time.sleep(1.5)
    (MARKS / f"finished-{{job.key}}").touch()
    return {{"slow": "done"}}
'''


def _wait(condition: object, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_lets_the_running_job_finish_and_the_worker_exit_cleanly(
    tmp_path: Path, sig: signal.Signals
) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    marks = tmp_path / "marks"
    marks.mkdir()
    handlers = tmp_path / "handlers.py"
    handlers.write_text(HANDLERS.format(marks=str(marks)))
    engine = Engine.open(url, synchronous="NORMAL")
    engine.deploy([("one_job.bpmn", BPMN)])
    first = engine.start("one_job", {"kind": "slow"})
    second = engine.start("one_job", {"kind": "slow"})  # waits for the one slot: not started when the signal comes
    engine.close()

    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "worker", "--workers", str(handlers), "--concurrency", "1", "--db", url],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait(lambda: any(marks.glob("started-*")), "the job to start")
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert f"{sig.name}: stopping; finishing the running jobs" in err
    assert "1 jobs completed, 0 failed attempts" in err
    assert [p.name for p in marks.glob("finished-*")] == [p.name.replace("started", "finished")
                                                          for p in marks.glob("started-*")]

    engine = Engine.open(url, synchronous="NORMAL")
    try:
        assert engine.instance(first.key).state == "completed"
        assert engine.instance(first.key).variables["slow"] == "done"
        [job] = engine.activate_jobs(["slow"], "next-worker")  # nothing was left locked: claimed at once
        assert (job.instance, job.stalls, job.retries) == (second.key, 0, 3)
    finally:
        engine.close()
