"""zeebe:taskSchedule: due and follow-up dates evaluated at creation, stored, shown, and the order of a task list.

Runs on SQLite, PostgreSQL and the in-memory store: the two stores sort and page the same way
(``engine.store.task_order``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, InvalidInput
from engine.ports import ManualClock
from tests.engine.store.old_database import database_at

SCHEDULED = Path(__file__).resolve().parents[2] / "data" / "deadlines" / "scheduled_review.bpmn"
DUES = ["2030-01-03T00:00:00Z", None, "2030-01-01T10:00:00+02:00", "2030-01-02T00:00:00Z", None]


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def any_engine(request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "memory":
        engine = Engine.open("memory:", clock=clock)
    elif request.param == "postgresql":
        engine = Engine.open(str(request.getfixturevalue("postgres_url")), clock=clock)
    else:
        engine = Engine.open(f"sqlite:///{tmp_path / 'tasks.db'}", clock=clock, synchronous="NORMAL")
    yield engine
    engine.close()


def _start(engine: Engine, due: Any, priority: int = 50) -> int:
    return engine.start("scheduled_review", {"due": due, "priority": priority}).key


def _dues(engine: Engine, **query: Any) -> list[str | None]:
    return [t.due_date for t in engine.user_tasks(**query)]


def test_a_user_tasks_due_date_from_feel_and_static_follow_up_date_are_shown_as_given(any_engine: Engine) -> None:
    any_engine.deploy([("scheduled.bpmn", SCHEDULED.read_bytes())])
    key = _start(any_engine, "2030-01-01T10:00:00+02:00")
    [task] = any_engine.user_tasks(instance=key)
    shown = task.to_json()
    assert shown["dueDate"] == "2030-01-01T10:00:00+02:00" and shown["followUpDate"] == "2030-02-01T09:00:00Z"
    assert shown["escalated"] is False


def test_a_due_date_that_is_no_date_time_is_an_incident_that_says_which_task_and_field(any_engine: Engine) -> None:
    any_engine.deploy([("scheduled.bpmn", SCHEDULED.read_bytes())])
    for wrong in ("next tuesday", 42):
        key = _start(any_engine, wrong)
        [incident] = any_engine.incidents(instance=key)
        assert "the due date of 'review' (zeebe:taskSchedule dueDate)" in incident.message
        assert "ISO 8601 date-time" in incident.message and repr(wrong) in incident.message
        assert any_engine.user_tasks(instance=key) == []


def test_tasks_sort_by_due_date_with_the_undated_last_either_way(any_engine: Engine) -> None:
    any_engine.deploy([("scheduled.bpmn", SCHEDULED.read_bytes())])
    for due in DUES:
        _start(any_engine, due)
    earliest = ["2030-01-01T10:00:00+02:00", "2030-01-02T00:00:00Z", "2030-01-03T00:00:00Z", None, None]
    assert _dues(any_engine, sort="dueDate") == earliest
    assert _dues(any_engine, sort="-dueDate") == [*earliest[2::-1], None, None]
    assert _dues(any_engine) == DUES  # by default: as created


@pytest.mark.parametrize("sort", ["dueDate", "-dueDate", "followUpDate", "priority", "-priority", "created",
                                  "-created"])
def test_a_sorted_task_list_pages_after_a_task_id_without_losing_or_repeating_one(any_engine: Engine,
                                                                                  sort: str) -> None:
    any_engine.deploy([("scheduled.bpmn", SCHEDULED.read_bytes())])
    for index, due in enumerate(DUES * 2):
        _start(any_engine, due, priority=index % 3)
    whole = [t.key for t in any_engine.user_tasks(sort=sort)]
    paged: list[int] = []
    after = None
    while True:
        page = any_engine.user_tasks(sort=sort, limit=3, after=after)
        paged.extend(t.key for t in page)
        if len(page) < 3:
            break
        after = page[-1].key
    assert paged == whole and len(whole) == 10


def test_priority_sorts_highest_first_descending_and_ties_keep_creation_order(any_engine: Engine) -> None:
    any_engine.deploy([("scheduled.bpmn", SCHEDULED.read_bytes())])
    keys = [_start(any_engine, None, priority) for priority in (10, 80, 10, 80)]
    assert [t.instance for t in any_engine.user_tasks(sort="-priority")] == [keys[3], keys[1], keys[2], keys[0]]
    assert [t.instance for t in any_engine.user_tasks(sort="priority")] == [keys[0], keys[2], keys[1], keys[3]]


def test_an_unknown_sort_names_the_choices(any_engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="dueDate"):
        any_engine.user_tasks(sort="due")


def test_a_database_from_before_the_sortable_dates_gets_them_on_open(tmp_path: Path) -> None:
    url = database_at(tmp_path / "old.db", "0009",
        "INSERT INTO user_tasks (key, instance_key, element_instance, element_id, process_id, name, state, "
        "candidate_groups, candidate_users, due_date, priority, created_at) VALUES "
        "(41, 1, 2, 'check', 'review', 'Check', 'created', '[]', '[]', '2030-01-02T00:00:00+02:00', 50, 0), "
        "(42, 3, 4, 'check', 'review', 'Check', 'created', '[]', '[]', NULL, 50, 0), "
        "(43, 5, 6, 'check', 'review', 'Check', 'created', '[]', '[]', '2030-01-01T00:00:00Z', 50, 0)")
    engine = Engine.open(url, synchronous="NORMAL")
    try:
        assert [t.key for t in engine.user_tasks(sort="dueDate")] == [43, 41, 42]
    finally:
        engine.close()
