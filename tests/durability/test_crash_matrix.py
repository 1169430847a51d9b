"""D1, the crash-point matrix: SIGKILL an engine process at every crash point, at moments spread over a run.

A golden run drives every case of ``tests/data/durability/golden.json``
(straight service tasks, XOR both ways, parallel split and join, a user task,
a subprocess, multi-instance x5, a call activity, a job that fails once) to
its end without faults, and counts how often each crash point is reached.
Then, for each crash point and each moment (the 1st, 3rd, ... time it is
reached, or a share of the golden count), a driver process is killed there,
the invariants are checked on what it left, and a new driver on the same
files runs everything to its end. The end must equal the golden run's:
same states, same variables, same elements completed, and the same jobs
behind the side effects, counting duplicate effects of one job once (at
least once, RELIABILITY.md H3).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.durability.harness import GOLDEN, KILLED, Identity, Sandbox

CRASH_POINTS = ("before_commit", "after_commit", "after_job_claim", "after_handler")
# The 1st and 3rd time a point is reached (deployment and the first starts, or the first jobs), then moments
# spread over the rest of the run, as shares of how often the golden run reached it (which varies by one or two).
MOMENTS = ("1", "3", "35%", "65%", "90%")


@dataclass(frozen=True)
class Golden:
    outcome: dict[Identity, dict[str, Any]]
    crashpoints: dict[str, int]
    template: Path


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory, migrated_db: Path) -> Golden:
    box = Sandbox(tmp_path_factory.mktemp("golden"), template=migrated_db)
    counts = box.root / "crashpoints.json"
    status, _ = box.finish(box.driver("drive", "--count-crashpoints", str(counts)))
    assert status == 0, box.stderr()
    box.assert_invariants()
    box.assert_effects_match_jobs()
    assert box.duplicates() == 0
    return Golden(box.outcome(), json.loads(counts.read_text()), migrated_db)


def _nth(moment: str, reached: int) -> int:
    if moment.endswith("%"):
        return max(1, round(reached * int(moment[:-1]) / 100))
    return int(moment)


def _crash_and_recover(root: Path, point: str, nth: int, golden: Golden) -> int:
    """Kill a driver at ``point:nth``, check what it left, recover, compare with the golden run; returns duplicates."""
    box = Sandbox(root, template=golden.template)
    try:
        status, _ = box.finish(box.driver("drive", crash=f"{point}:{nth}"))
        assert status == KILLED, f"the driver was not killed at {point}:{nth} (exit status {status}): {box.stderr()}"
        # what a kill leaves must already be consistent, before any recovery (I1, I3, I7, I12)
        assert box.sql("PRAGMA integrity_check") == [("ok",)]
        box.assert_state_matches_rows()
        box.assert_no_orphans()
        box.assert_keys_unique()
        box.assert_no_step_repeated()
        status, _ = box.finish(box.driver("drive"))
        assert status == 0, f"recovery after {point}:{nth} failed: {box.stderr()}"
        box.assert_invariants()
        box.assert_effects_match_jobs()
        outcome = box.outcome()
        assert set(outcome) == set(golden.outcome), f"instances differ: {set(outcome) ^ set(golden.outcome)}"
        for identity, expected in golden.outcome.items():
            assert outcome[identity] == expected, f"{identity}: {outcome[identity]} != golden {expected}"
        return box.duplicates()
    finally:
        box.stop_all()


def test_the_golden_run_reaches_the_expected_end(golden: Golden) -> None:
    for case in GOLDEN["cases"]:
        end = golden.outcome[(case["case"], case["process"])]
        assert end["state"] == "completed", case["case"]
        for name, value in case["expect"]["variables"].items():
            assert end["variables"].get(name) == value, f"{case['case']}: {name} = {end['variables'].get(name)!r}"
        assert end["jobs"] == case["expect"]["jobs"], case["case"]
        for process, child in case.get("children", {}).items():
            assert golden.outcome[(case["case"], process)]["state"] == "completed"
            assert golden.outcome[(case["case"], process)]["jobs"] == child["jobs"]
    assert len(golden.outcome) == len(GOLDEN["cases"]) + sum(len(c.get("children", {})) for c in GOLDEN["cases"])
    assert all(golden.crashpoints[point] >= 20 for point in CRASH_POINTS), golden.crashpoints


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_kill_at_a_crash_point_loses_nothing_committed_and_repeats_nothing(
    point: str, golden: Golden, tmp_path: Path
) -> None:
    # The moments of one point run side by side: each is a separate pair of processes on files of its own.
    nths = sorted({_nth(moment, golden.crashpoints[point]) for moment in MOMENTS})
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = {nth: pool.submit(_crash_and_recover, tmp_path / f"nth-{nth}", point, nth, golden) for nth in nths}
    failures = {nth: run.exception() for nth, run in runs.items() if run.exception() is not None}
    assert not failures, "\n".join(f"{point}:{nth}: {error}" for nth, error in failures.items())
    if point == "after_handler":  # a handler that ran and was never reported runs again (at least once)
        assert any(run.result() > 0 for run in runs.values())
