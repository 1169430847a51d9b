"""A group's task list is read with SQL: one indexed query with a LIMIT, a page after a key, on both stores.

Candidate groups live in ``user_task_groups`` (migration 0009) as well as in
the task's JSON column; a database made before 0009 gets its open tasks'
groups copied in when it is opened.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from engine import Engine
from tests.engine.store.old_database import database_at

REVIEW = Path(__file__).resolve().parents[2] / "data" / "store" / "review_groups.bpmn"


def _start(engine: Engine, *groups: str) -> int:
    return engine.start("review", {"groups": list(groups)}).key


def test_a_groups_open_tasks_come_in_key_order_a_page_at_a_time(engine: Engine) -> None:
    engine.deploy([("review.bpmn", REVIEW.read_bytes())])
    sales = [_start(engine, "sales", "support") for _ in range(5)]
    _start(engine, "finance")
    done = _start(engine, "sales")
    [task] = engine.user_tasks(instance=done)
    engine.complete_user_task(task.key, {})

    first = engine.user_tasks(candidate_group="sales", limit=2)
    assert [t.instance for t in first] == sales[:2]
    rest = engine.user_tasks(candidate_group="sales", limit=10, after=first[-1].key)
    assert [t.instance for t in rest] == sales[2:]
    assert [t.instance for t in engine.user_tasks(candidate_group="support")] == sales
    assert engine.user_tasks(candidate_group="nobody") == []
    assert [t.instance for t in engine.user_tasks(candidate_group="sales", state="completed")] == [done]
    assert len(engine.user_tasks(limit=3)) == 3  # without a group: the LIMIT is SQL's too


def test_a_database_from_before_the_group_rows_gets_its_tasks_groups_on_open(tmp_path: Path) -> None:
    url = database_at(tmp_path / "old.db", "0008",
        "INSERT INTO user_tasks (key, instance_key, element_instance, element_id, process_id, name, state, "
        "candidate_groups, candidate_users, priority, created_at) VALUES "
        "(41, 1, 2, 'check', 'review', 'Check', 'created', '[\"sales\", \"support\"]', '[]', 50, 0), "
        "(42, 3, 4, 'check', 'review', 'Check', 'created', '[]', '[]', 50, 0)")
    engine = Engine.open(url, synchronous="NORMAL")
    try:
        assert [t.key for t in engine.user_tasks(candidate_group="support")] == [41]
        assert [t.key for t in engine.user_tasks()] == [41, 42]
    finally:
        engine.close()


@pytest.mark.parametrize("group", ["sales"])
def test_the_group_query_uses_the_group_index(tmp_path: Path, group: str) -> None:
    engine = Engine.open(f"sqlite:///{tmp_path / 'plan.db'}", synchronous="NORMAL")
    try:
        store = engine.store
        with store.engine.connect() as conn:
            plan = conn.execute(sa.text(
                "EXPLAIN QUERY PLAN SELECT user_tasks.* FROM user_tasks JOIN user_task_groups "
                "ON user_task_groups.task_key = user_tasks.key WHERE user_task_groups.group_name = :g "
                "AND user_tasks.state = 'created' AND user_tasks.key > 0 ORDER BY user_tasks.key LIMIT 100"
            ), {"g": group}).all()
        text = " ".join(str(row[-1]) for row in plan)
        assert "sqlite_autoindex_user_task_groups" in text, text  # each task probes the group's primary key
        assert "TEMP B-TREE" not in text, text  # no sort: the LIMIT stops the walk
    finally:
        engine.close()
