"""An instance's ``started_by``: the principal ``Engine.start`` was given, kept as metadata no variable reaches."""

from __future__ import annotations

from pathlib import Path

from engine import Engine
from engine.ports import ManualClock
from engine.runtime.state import InstanceState

CONFIRM = Path(__file__).resolve().parents[1] / "data" / "a2a" / "confirm.bpmn"  # a user task for "=caller"


def _deploy(engine: Engine) -> None:
    engine.deploy([("confirm.bpmn", CONFIRM.read_bytes())])


def test_the_owner_given_at_start_is_kept_across_a_restart_and_variables_do_not_change_it(
    engine: Engine, db_url: str, clock: ManualClock
) -> None:
    _deploy(engine)
    started = engine.start("confirm", {"order": "o-1", "caller": "mallory", "startedBy": "mallory"}, owner="alice")
    assert started.started_by == "alice"
    engine.set_variables(started.key, {"caller": "bob", "startedBy": "bob"})
    assert engine.instance(started.key).started_by == "alice"
    engine.close()
    reopened = Engine.open(db_url, clock=clock, synchronous="NORMAL")
    try:
        assert reopened.instance(started.key).started_by == "alice"
        [listed] = reopened.instances()
        assert listed.started_by == "alice"
        [task] = reopened.user_tasks(instance=started.key)
        assert task.assignee == "mallory"  # the variable stays the process's to use
        reopened.cancel(started.key)
        assert reopened.instance(started.key).started_by == "alice"
    finally:
        reopened.close()


def test_an_instance_started_without_an_owner_has_none(engine: Engine) -> None:
    _deploy(engine)
    assert engine.start("confirm", {"order": "o-2", "caller": "alice"}).started_by is None


def test_a_stored_state_without_the_field_reads_back_with_no_owner() -> None:
    state = InstanceState(key=1, process_id="p", definition_key=2, version=1, started_by="alice")
    stored = state.to_dict()
    assert stored["startedBy"] == "alice"
    del stored["startedBy"]  # as instances started before the field was kept
    assert InstanceState.from_dict(stored).started_by is None
