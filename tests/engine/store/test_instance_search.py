"""The console's instance queries answer the same on every store: filters, newest first, keyset pages, tallies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.store import instance_search
from engine.store.instance_search import InstanceFilter

MODEL = Path(__file__).resolve().parents[2] / "data" / "web" / "order.bpmn"


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine[Any]]:
    url = {"memory": "memory:", "sqlite": f"sqlite:///{tmp_path / 'e.db'}"}.get(request.param)
    opened = Engine.open(url or str(request.getfixturevalue("postgres_url")))
    opened.deploy([("order.bpmn", MODEL.read_bytes())])
    yield opened
    opened.close()


def _keys(views: list[Any]) -> list[int]:
    return [v.key for v in views]


def _move(engine: Engine[Any], key: int, *, fail: bool = False) -> None:
    [task] = engine.user_tasks(instance=key)
    engine.complete_user_task(task.key, {})
    [job] = engine.activate_jobs(["web-ship"], "test", max_jobs=1)
    if fail:
        engine.fail_job(job.key, "no", retries=0, worker="test", lock_version=job.lock_version)
    else:
        engine.complete_job(job.key, {}, worker="test", lock_version=job.lock_version)


def test_filters_and_pages_agree_on_both_stores(engine: Engine[Any]) -> None:
    keys = [engine.start("order", {"order": f"A-{i}", "amount": i}).key for i in range(6)]
    _move(engine, keys[1])
    _move(engine, keys[2], fail=True)
    search = engine.console.search

    assert _keys(search(InstanceFilter(), limit=10)) == keys[::-1]
    assert _keys(search(InstanceFilter(), limit=2, before=keys[3])) == [keys[2], keys[1]]
    assert _keys(search(InstanceFilter(status="completed"), limit=10)) == [keys[1]]
    assert _keys(search(InstanceFilter(incidents_only=True), limit=10)) == [keys[2]]
    assert _keys(search(InstanceFilter(process_id="order", version=1, status="active"), limit=10)) == [
        k for k in keys[::-1] if k != keys[1]]
    assert _keys(search(InstanceFilter(variable=("amount", 4)), limit=10)) == [keys[4]]
    assert _keys(search(InstanceFilter(variable=("order", "A-0")), limit=10)) == [keys[0]]
    assert _keys(search(InstanceFilter(variable=("amount", "4")), limit=10)) == []
    assert _keys(search(InstanceFilter(ended_from=0), limit=10)) == [keys[1]]
    assert _keys(search(InstanceFilter(created_to=0), limit=10)) == []
    assert _keys(search(InstanceFilter(parent=keys[0]), limit=10)) == []


def test_who_started_an_instance_filters_and_counts_on_every_store(engine: Engine[Any]) -> None:
    ann = [engine.start("order", {"order": f"A-{i}"}, owner="ann").key for i in range(3)]
    bob = engine.start("order", {"order": "B"}, owner="bob").key
    engine.start("order", {"order": "nobody"})  # the engine's own start: started by no principal
    search, count = engine.console.search, engine.console.count

    assert _keys(search(InstanceFilter(started_by="ann"), limit=10)) == ann[::-1]
    assert _keys(search(InstanceFilter(started_by="ann"), limit=1, before=ann[2])) == [ann[1]]
    assert _keys(search(InstanceFilter(started_by="bob", process_id="order"), limit=10)) == [bob]
    assert search(InstanceFilter(started_by="ann", process_id="other"), limit=10) == []
    assert (count(InstanceFilter(started_by="ann")), count(InstanceFilter(started_by="cy"))) == (3, 0)
    assert count(InstanceFilter()) == 5 and count(InstanceFilter(status="completed")) == 0
    with pytest.raises(ValueError, match="variable"):
        count(InstanceFilter(variable=("order", "B")))


def test_a_variable_search_says_where_it_stopped(engine: Engine[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instance_search, "SCAN", 2)
    keys = [engine.start("order", {"order": f"A-{i}"}).key for i in range(4)]
    where = InstanceFilter(variable=("order", "A-0"))

    assert engine.console.search(where, limit=10) == []
    assert engine.console.scanned_to(where) == keys[2]
    assert _keys(engine.console.search(where, limit=10, before=keys[2])) == [keys[0]]
    assert engine.console.scanned_to(where, before=keys[2]) is None


def test_counts_and_the_element_tally_agree_on_both_stores(engine: Engine[Any]) -> None:
    keys = [engine.start("order", {"order": f"A-{i}"}).key for i in range(3)]
    _move(engine, keys[0])
    _move(engine, keys[1], fail=True)

    counts = {(c.status): c.count for c in engine.console.counts()}
    assert counts == {"active": 2, "completed": 1, "incident": 1}
    tally = engine.console.element_tally("order", 1)
    passed = {(e, t): n for e, t, n in tally.passed}
    assert passed[("review", "element_completed")] == 2 and passed[("review", "element_activated")] == 3
    assert passed[("ship", "element_activated")] == 2 and dict(tally.incidents) == {"ship": 1}
    engine.start("order", {"order": "A-9"})
    later = engine.console.element_tally("order", 1, after=tally.last)
    assert {(e, t): n for e, t, n in later.passed} == {("start", "element_activated"): 1,
                                                       ("start", "element_completed"): 1,
                                                       ("review", "element_activated"): 1}
    assert later.last > tally.last
