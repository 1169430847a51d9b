"""The event log's reads (``engine.event_log``): traces come whole and in order whatever the page sizes, on
every store, and a filter picks instances by process, version and start time."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.event_log import EventLogQueries, LogFilter, Trace
from engine.ports import ManualClock
from engine.store.memory import MemoryStore

REVIEW = Path(__file__).resolve().parents[1] / "data" / "hub" / "review.bpmn"
STRAIGHT = Path(__file__).resolve().parents[1] / "data" / "hub" / "straight.bpmn"


def _run(engine: Engine) -> list[int]:
    engine.deploy([("review.bpmn", REVIEW.read_bytes()), ("straight.bpmn", STRAIGHT.read_bytes())])
    keys = []
    for n in range(5):
        keys.append(engine.start("straight", {"amount": n}).key)
        keys.append(engine.start("review", {"orderId": f"o{n}"}).key)
    return keys


def _flat(traces: list[Trace]) -> list[tuple[int, int]]:
    return [(t.instance.key, e.position) for t in traces for e in t.events]


def _paged(engine: Engine, instance_page: int, event_page: int) -> EventLogQueries:
    return EventLogQueries(engine.store, instance_page=instance_page, event_page=event_page)


@pytest.mark.parametrize(("instance_page", "event_page"), [(1, 1), (2, 3), (3, 7), (500, 5000)])
def test_traces_come_whole_and_in_journal_order_whatever_the_page_sizes(
    engine: Engine, instance_page: int, event_page: int
) -> None:
    keys = _run(engine)
    expected = [(k, row["position"]) for k in keys for row in engine.journal(k, limit=1000)]
    traces = list(_paged(engine, instance_page, event_page).traces(LogFilter()))
    assert [t.instance.key for t in traces] == keys
    assert _flat(traces) == expected


def test_the_memory_store_pages_the_event_log_as_the_database_does() -> None:
    engine = Engine(MemoryStore(), ManualClock())
    keys = _run(engine)
    expected = [(k, row["position"]) for k in keys for row in engine.journal(k, limit=1000)]
    assert _flat(list(_paged(engine, 2, 3).traces(LogFilter()))) == expected


@pytest.mark.parametrize("store", ["database", "memory"])
def test_journal_heads_are_each_instances_last_position_on_every_store(engine: Engine, store: str) -> None:
    on = engine if store == "database" else Engine(MemoryStore(), ManualClock())
    keys = _run(on)
    heads = on.journal_heads([*keys, 10**12])  # one never started: left out
    assert heads == {k: on.journal(k, limit=1000)[-1]["position"] for k in keys}
    assert on.journal_heads([]) == {}


def test_a_log_filter_picks_instances_by_process_version_and_start_time(engine: Engine, clock: ManualClock) -> None:
    keys = _run(engine)
    straight = keys[0::2]
    assert [i.key for i in engine.event_log.instances(LogFilter(process_id="straight"))] == straight
    assert list(engine.event_log.instances(LogFilter(process_id="straight", version=2))) == []
    started = {i.key: i.created_at for i in engine.event_log.instances(LogFilter())}
    assert all(started[k] == started[keys[0]] for k in keys)  # a manual clock that never moved
    assert [t.instance.key for t in engine.event_log.traces(LogFilter(started_from=started[keys[0]] + 1))] == []
    assert len(list(engine.event_log.traces(LogFilter(started_to=started[keys[0]] + 1)))) == len(keys)
