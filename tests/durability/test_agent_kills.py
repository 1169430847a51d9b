"""Kill tests inside the agent loop: SIGKILL at each crash point, restart, and the run ends as a clean run does.

A committed model answer is never asked for again (its turn is journaled
once), every tool call the agent made runs (at least once, with the same
job as idempotency key), and the approval given before a kill still holds.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Engine

DRIVER = Path(__file__).with_name("agent_driver.py")


def _run(db: Path, ledger: Path, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HUB_CRASH_AT"}
    if crash:
        env["HUB_CRASH_AT"] = crash
    return subprocess.run([sys.executable, str(DRIVER), str(db), str(ledger)], env=env, capture_output=True,
                          text=True, timeout=120)


def _outcome(db: Path, ledger: Path) -> tuple[str, list[int], set[tuple[str, str]], int]:
    engine = Engine.open(f"sqlite:///{db}")
    try:
        [view] = engine.instances()
        turns = [e["data"]["call"] for e in engine.journal(view.key, limit=10_000)
                 if e["type"] == "agent_model_called"]
        state = engine.instance(view.key).state
    finally:
        engine.close()
    with sqlite3.connect(ledger) as conn:
        effects = {(tool, args) for _, tool, args in conn.execute("SELECT job, tool, args FROM effects")}
        jobs = len({job for (job,) in conn.execute("SELECT DISTINCT job FROM effects")})
    return state, turns, effects, jobs


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[int], set[tuple[str, str]], int]:
    root = tmp_path_factory.mktemp("golden")
    assert _run(root / "clean.db", root / "clean-ledger.db").returncode == 0
    outcome = _outcome(root / "clean.db", root / "clean-ledger.db")
    assert outcome[0] == "completed" and outcome[1] == [1, 2, 3, 4]
    return outcome


@pytest.mark.slow
@pytest.mark.parametrize("crash", [
    "after_handler:1", "before_commit:6", "after_commit:5", "after_commit:12",
])
def test_a_kill_anywhere_in_the_loop_repeats_no_committed_model_call_and_loses_no_tool_call(
    tmp_path: Path, crash: str, golden: tuple[str, list[int], set[tuple[str, str]], int]
) -> None:
    db, ledger = tmp_path / "agent.db", tmp_path / "ledger.db"
    killed = _run(db, ledger, crash)
    assert killed.returncode == -9, f"the driver was not killed at {crash}: {killed.stderr[-2000:]}"
    recovered = _run(db, ledger)
    assert recovered.returncode == 0, recovered.stderr[-2000:]
    state, turns, effects, jobs = _outcome(db, ledger)
    assert state == "completed"
    assert turns == [1, 2, 3, 4]  # each model answer journaled once: none asked again after its commit
    assert effects == golden[2]  # the same tool calls, with the same arguments
    assert jobs == golden[3]  # and no tool call ran under a second job
