"""Migration 0016: fewer index pages per commit, and every read still answered from an index.

One journal index ``(instance_key, id, type, element_id)`` replaces the two
(the ordered read of an instance's journal, the console's heat map), and the
indexes of rare values hold only those (``ix_instances_start_key``,
``ix_instances_ended``, ``ix_jobs_lock`` are partial). Checked: a database
left at 0015 upgrades with its journal readable in order; the statements the
store sends for those reads are answered from the new indexes (SQLite's plan
names the index and no scan of the table); a row of a common value writes
no entry in a partial index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.pool import Pool

from engine import Engine
from engine.ports import ManualClock
from engine.store.instance_search import InstanceFilter
from tests.engine.store.old_database import database_at
from tests.models import one_service_task

_PROCESS = one_service_task("pages")


def _indexes(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return {
            name: sql
            for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
            if sql is not None
        }


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    db = tmp_path_factory.mktemp("pages") / "engine.db"
    engine = Engine.open(f"sqlite:///{db}", clock=ManualClock(), synchronous="NORMAL")
    engine.deploy([("pages.bpmn", _PROCESS)])
    try:
        yield engine, db
    finally:
        engine.close()


def _plans(engine: Engine, db: Path, reads: Callable[[], Any]) -> list[tuple[str, str]]:
    """Each statement ``reads`` sent to SQLite (values inlined), with SQLite's plan for it."""
    sent: list[str] = []
    traced: list[Any] = []

    def trace(dbapi_connection: Any, *_args: Any) -> None:
        dbapi_connection.set_trace_callback(sent.append)
        traced.append(dbapi_connection)

    def trace_writer(conn: Any) -> None:
        trace(conn.connection.dbapi_connection)

    event.listen(Pool, "checkout", trace)  # every pool: the store reads on a pool of its own
    event.listen(engine.store.engine, "begin", trace_writer)  # the writer's connection stays checked out
    try:
        reads()
    finally:
        event.remove(Pool, "checkout", trace)
        event.remove(engine.store.engine, "begin", trace_writer)
        for dbapi_connection in traced:
            dbapi_connection.set_trace_callback(None)
    with sqlite3.connect(db) as conn:
        return [
            (sql, " / ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")))
            for sql in sent
            if sql.lstrip().upper().startswith("SELECT")
        ]


def test_a_database_at_0015_upgrades_to_one_journal_index_and_reads_its_journal_in_order(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    rows = "INSERT INTO journal (instance_key, type, element_id, element_instance, data, at) VALUES " + ", ".join(
        f"({instance}, '{kind}', {element}, NULL, NULL, {at})"
        for at, (instance, kind, element) in enumerate(
            [
                (7, "instance_started", "NULL"),
                (8, "instance_started", "NULL"),
                (7, "element_activated", "'start'"),
                (8, "element_activated", "'start'"),
                (7, "element_completed", "'start'"),
            ]
        )
    )
    url = database_at(db, "0015", rows)
    assert "ix_journal_element" in _indexes(db)
    engine = Engine.open(url)
    try:
        journal = engine.journal(7)
        assert [(e["type"], e["elementId"]) for e in journal] == [
            ("instance_started", None),
            ("element_activated", "start"),
            ("element_completed", "start"),
        ]
        assert [e["type"] for e in engine.journal(7, after=journal[0]["position"])] == [
            "element_activated",
            "element_completed",
        ]
    finally:
        engine.close()
    indexes = _indexes(db)
    assert "ix_journal_element" not in indexes
    assert "(instance_key, id, type, element_id)" in indexes["ix_journal_instance"]
    assert "WHERE start_key IS NOT NULL" in indexes["ix_instances_start_key"]
    assert "WHERE ended_at IS NOT NULL" in indexes["ix_instances_ended"]
    assert "WHERE state = 'locked'" in indexes["ix_jobs_lock"]


def test_the_journal_reads_and_the_heat_map_are_answered_from_the_one_journal_index(
    engine: tuple[Engine, Path],
) -> None:
    eng, db = engine
    key = eng.start("pages").key
    version = eng.instance(key).version

    def reads() -> None:
        eng.journal(key, after=0)
        eng.console.element_tally("pages", version)
        with eng.store.reader() as tx:
            tx.instances.journal_of([key], after=None, limit=10)

    plans = _plans(eng, db, reads)
    on_journal = [(sql, plan) for sql, plan in plans if "journal" in sql and "max(" not in sql.lower()]
    assert len(on_journal) == 3, plans
    for sql, plan in on_journal:
        assert "ix_journal_instance" in plan, (sql, plan)
        assert "SCAN journal" not in plan, (sql, plan)
    tally = next(plan for sql, plan in on_journal if "GROUP BY" in sql.upper())
    assert "COVERING INDEX ix_journal_instance" in tally, "the heat map reads the index alone"


def test_the_journal_heads_of_many_instances_are_one_query_on_the_journal_index(
    engine: tuple[Engine, Path],
) -> None:
    """What a watcher of many instances reads (MCP subscriptions and task notifications): each instance's last
    position, from the index alone; an instance without a journal is left out."""
    eng, db = engine
    keys = [eng.start("pages").key for _ in range(3)]
    heads: dict[int, int] = {}
    plans = _plans(eng, db, lambda: heads.update(eng.journal_heads([*keys, 987654])))
    assert heads == {key: eng.journal(key)[-1]["position"] for key in keys}
    [(sql, plan)] = [(sql, plan) for sql, plan in plans if "journal" in sql]
    assert "max(" in sql.lower() and "COVERING INDEX ix_journal_instance" in plan, (sql, plan)


def test_the_partial_indexes_answer_their_queries_and_hold_no_row_of_a_common_value(
    engine: tuple[Engine, Path],
) -> None:
    eng, db = engine
    eng.start("pages")  # active, with a ready job, started by no message: in none of the three indexes
    with sqlite3.connect(db) as conn:
        active = conn.execute("SELECT count(*) FROM instances WHERE ended_at IS NULL AND start_key IS NULL").fetchone()
        ready = conn.execute("SELECT count(*) FROM jobs WHERE state = 'ready'").fetchone()
        assert active[0] >= 1 and ready[0] >= 1
        for index in ("ix_instances_ended", "ix_instances_start_key", "ix_jobs_lock"):
            entries = conn.execute(
                "SELECT coalesce(sum(ncell), 0) FROM dbstat WHERE name = ? AND pagetype = 'leaf'", (index,)
            ).fetchone()
            assert entries == (0,), index

    def reads() -> None:
        with eng.store.reader() as tx:
            tx.instances.has_active_started_by("pages", "order-1")
            tx.instances.search(InstanceFilter(ended_from=0, ended_to=2**40), limit=5)
        eng.activate_jobs(["work"], "pages-worker", max_jobs=1)  # the claim looks for expired leases first

    plans = _plans(eng, db, reads)
    expected = {
        "start_key =": "ix_instances_start_key",
        "ended_at >=": "ix_instances_ended",
        "state = 'locked' AND lock_expires_at": "ix_jobs_lock",
    }
    for fragment, index in expected.items():
        found = [plan for sql, plan in plans if fragment in sql]
        assert found, (fragment, [sql for sql, _ in plans])
        assert all(index in plan for plan in found), (fragment, found)


def test_a_database_at_0017_gets_who_started_each_instance_from_its_state(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    state = '{"startedBy": "ann", "x": 1}'
    rows = ("INSERT INTO instances (key, process_id, definition_key, version, status, incidents, created_at, rev,"
            f" state) VALUES (7, 'p', 1, 1, 'completed', 0, 1, 1, '{state}'),"
            " (8, 'p', 1, 1, 'active', 0, 2, 1, '{}')")
    url = database_at(db, "0017", rows)
    engine = Engine.open(url)
    engine.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT key, started_by FROM instances ORDER BY key").fetchall() == [(7, "ann"), (8, None)]
    assert "WHERE started_by IS NOT NULL" in _indexes(db)["ix_instances_started_by"]


def test_a_callers_instances_are_read_from_their_index(engine: tuple[Engine, Path]) -> None:
    eng, db = engine
    eng.start("pages", owner="ann")

    def reads() -> None:
        eng.console.search(InstanceFilter(started_by="ann"), limit=5)
        eng.console.search(InstanceFilter(started_by="ann", process_id="pages"), limit=5)
        eng.console.count(InstanceFilter(started_by="ann"))

    plans = [(sql, plan) for sql, plan in _plans(eng, db, reads) if "started_by =" in sql]
    assert len(plans) == 3, plans
    for sql, plan in plans:
        assert "SEARCH instances USING" in plan and "ix_instances_started_by" in plan, (sql, plan)
