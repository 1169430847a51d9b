"""The harness's invariant checks catch what they claim to: each is shown a database broken its way.

Without this, a check that can never fail would make every crash test pass.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from tests.durability.harness import MODELS, Sandbox


def _one_waiting_instance(box: Sandbox) -> int:
    with box.engine() as engine:
        engine.deploy([("d_straight.bpmn", (MODELS / "d_straight.bpmn").read_bytes())])
        key = engine.start("d_straight", {"case": "check", "amount": 1}).key
    box.assert_invariants()
    return key


def _write(box: Sandbox, statement: str, params: tuple[object, ...] = ()) -> None:
    with closing(sqlite3.connect(box.db_path)) as conn, conn:
        conn.execute(statement, params)


def test_a_token_without_its_job_row_is_caught_as_half_a_step_and_an_orphan(sandbox: Sandbox) -> None:
    instance = _one_waiting_instance(sandbox)
    _write(sandbox, "DELETE FROM jobs WHERE instance_key = ?", (instance,))
    with pytest.raises(AssertionError, match="tokens wait for jobs"):
        sandbox.assert_state_matches_rows()
    with pytest.raises(AssertionError, match="nothing to wait for"):
        sandbox.assert_no_orphans()


def test_a_step_recorded_twice_is_caught(sandbox: Sandbox) -> None:
    instance = _one_waiting_instance(sandbox)
    _write(
        sandbox,
        "INSERT INTO journal (instance_key, type, element_id, element_instance, data, at) "
        "SELECT instance_key, type, element_id, element_instance, data, at FROM journal "
        "WHERE instance_key = ? AND type = 'element_completed' LIMIT 1",
        (instance,),
    )
    with pytest.raises(AssertionError, match="more than once"):
        sandbox.assert_no_step_repeated()


def test_a_key_given_to_two_things_is_caught(sandbox: Sandbox) -> None:
    instance = _one_waiting_instance(sandbox)
    _write(sandbox, "UPDATE jobs SET key = ? WHERE instance_key = ?", (instance, instance))
    with pytest.raises(AssertionError, match="more than one thing"):
        sandbox.assert_keys_unique()


def test_a_job_left_locked_is_caught(sandbox: Sandbox) -> None:
    _one_waiting_instance(sandbox)
    _write(sandbox, "UPDATE jobs SET state = 'locked', lock_owner = 'dead', lock_expires_at = 0")
    with pytest.raises(AssertionError, match="still locked"):
        sandbox.assert_storage_healthy()
