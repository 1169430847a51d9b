"""Event logs in (issue 18, part 2): XES, OCEL 2.0 and CSV files of other systems read into discover's own tables
and measured by the same statistics as our own runs, on logs generated here with known ground truth."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from discover.exceptions import LogExists, LogFormatError, UnknownLog
from discover.export import ExportFormat, export_to
from discover.inventory import brief
from discover.log_analysis import log_brief, log_conformance, log_model, log_summary
from discover.log_import import CsvColumns, ImportFormat, LogReader
from discover.log_store import ImportedLog, ImportedLogs
from engine import Engine
from engine.event_log import LogFilter
from engine.ports import ManualClock
from registry.store import RegistryStore
from tests.discover.claims import Truth, run_claims

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = 3_600_000


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[ImportedLogs]:
    store = RegistryStore(f"sqlite:///{tmp_path / 'hub.db'}")
    yield ImportedLogs(store)
    store.close()


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def orders_csv(cases: int = 4, reworked: tuple[int, ...] = (0,)) -> str:
    """Each order: received, checked an hour later (again an hour after that when reworked), shipped 30 min on."""
    rows = ["order;step;when;who"]
    for n in range(cases):
        at = T0 + timedelta(days=n)
        rows.append(f"o{n};Receive;{_iso(at)};ann")
        at += timedelta(hours=1)
        rows.append(f"o{n};Check;{_iso(at)};bob")
        if n in reworked:
            at += timedelta(hours=1)
            rows.append(f"o{n};Check;{_iso(at)};bob")
        at += timedelta(minutes=30)
        rows.append(f"o{n};Ship;{_iso(at)};")
    return "\n".join(rows) + "\n"


def _add(logs: ImportedLogs, name: str, text: str | bytes, fmt: ImportFormat, source: str, *,
         columns: CsvColumns | None = None, case_type: str | None = None) -> ImportedLog:
    data = text.encode() if isinstance(text, str) else text
    return logs.add(name, LogReader(io.BytesIO(data), fmt, source=source, columns=columns, case_type=case_type))


def test_a_csv_log_measures_its_cycle_times_waiting_and_rework_from_the_file_alone(logs: ImportedLogs) -> None:
    columns = CsvColumns(case="order", activity="step", timestamp="when", resource="who")
    _add(logs, "orders", orders_csv(), ImportFormat.CSV, "orders.csv", columns=columns)
    [log] = logs.all()
    assert (log.cases, log.events, log.activities) == (4, 13, ("Check", "Receive", "Ship"))

    summary = log_summary(logs, "orders")
    assert summary["instances"] == summary["completed"] == 4
    assert summary["cycleTimeMs"]["max"] == int(2.5 * HOUR) and summary["cycleTimeMs"]["p50"] == int(1.5 * HOUR)
    b = log_brief(logs, "orders")
    assert b["log"] == "orders" and b["reworkLoops"] == [
        {"elementId": "Check", "name": "Check", "instances": 1, "extraPasses": 1, "rate": 0.25}]
    waiting = {w["elementId"]: w for w in b["waitingByElement"]}
    # a single timestamp per event: an activity waited from the case's previous event to its own
    assert waiting["Check"]["totalMs"] == 5 * HOUR and waiting["Ship"]["waitMs"]["p50"] == HOUR // 2
    assert b["bottlenecks"][0]["elementId"] == "Check"


def test_an_xes_log_pairs_start_and_complete_and_reads_gzip(logs: ImportedLogs) -> None:
    def event(name: str, at: datetime, transition: str) -> str:
        return (f'<event><string key="concept:name" value="{name}"/><date key="time:timestamp" value="{_iso(at)}"/>'
                f'<string key="lifecycle:transition" value="{transition}"/></event>')

    traces = "".join(
        f'<trace><string key="concept:name" value="case-{n}"/>'
        + event("Review", T0, "start") + event("Review", T0, "assign")
        + event("Review", T0 + timedelta(minutes=20 + n), "complete") + "</trace>"
        for n in range(3))
    xes = (f'<?xml version="1.0"?><log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">'
           f'<global scope="event"><string key="concept:name" value="x"/></global>{traces}</log>')
    _add(logs, "reviews", gzip.compress(xes.encode()), ImportFormat.XES, "reviews.xes.gz")
    log = logs.get("reviews")
    assert (log.cases, log.events) == (3, 6)  # the assign transitions are skipped
    [review] = log_brief(logs, "reviews")["waitingByElement"]
    assert review["waitMs"]["p50"] == 21 * 60_000 and review["passes"] == 3


def test_an_ocel_log_is_flattened_onto_the_most_frequent_object_type_or_the_one_chosen(logs: ImportedLogs) -> None:
    document = {
        "objectTypes": [{"name": "order"}, {"name": "item"}],
        "objects": [{"id": "o1", "type": "order"}, {"id": "i1", "type": "item"}, {"id": "i2", "type": "item"}],
        "events": [
            {"id": "e1", "type": "Place", "time": _iso(T0),
             "relationships": [{"objectId": "o1"}, {"objectId": "i1"}, {"objectId": "i2"}]},
            {"id": "e2", "type": "Pick", "time": _iso(T0 + timedelta(hours=1)), "relationships": [{"objectId": "i1"}]},
            {"id": "e3", "type": "Bill", "time": _iso(T0 + timedelta(hours=2)), "relationships": [{"objectId": "o1"}]},
        ],
    }
    text = json.dumps(document)
    by_item = _add(logs, "items", text, ImportFormat.OCEL, "shop.json")
    assert logs.get("items").case_type == "item" and logs.get("items").cases == 2
    assert by_item.skipped == 1  # Bill relates to no item
    _add(logs, "orders", text, ImportFormat.OCEL, "shop.json", case_type="order")
    assert (logs.get("orders").cases, logs.get("orders").activities) == (1, ("Bill", "Place"))


def test_a_bad_file_is_refused_with_every_problem_and_its_line_and_nothing_is_stored(logs: ImportedLogs) -> None:
    bad = "case,activity,timestamp\nc1,A,2026-01-01T10:00Z\nc1,B,yesterday\nc2,,2026-01-01\nc3,C\n"
    with pytest.raises(LogFormatError) as refused:
        _add(logs, "bad", bad, ImportFormat.CSV, "bad.csv")
    assert refused.value.problems == [
        "bad.csv:3: timestamp 'yesterday' of event 'B' is not ISO 8601 (2026-12-01T10:00:00Z)",
        "bad.csv:4: an event without an activity (concept:name)",
        "bad.csv:5: 2 fields where the header has 3",
    ]
    with pytest.raises(LogFormatError, match=r"bad.csv:1: no timestamp column: .*--timestamp-column"):
        _add(logs, "bad", "case,activity\nc1,A\n", ImportFormat.CSV, "bad.csv")
    with pytest.raises(LogFormatError, match=r"broken.xes:3: not well-formed XML"):
        _add(logs, "bad", b"<log>\n<trace>\n</log>", ImportFormat.XES, "broken.xes")
    with pytest.raises(LogFormatError, match=r"shop.json:2: not valid JSON"):
        _add(logs, "bad", '{"objects": []\n,,}', ImportFormat.OCEL, "shop.json")
    assert logs.all() == []


def test_a_name_is_taken_once_and_a_deleted_log_is_gone(logs: ImportedLogs) -> None:
    columns = CsvColumns(case="order", activity="step", timestamp="when")
    _add(logs, "orders", orders_csv(1), ImportFormat.CSV, "orders.csv", columns=columns)
    with pytest.raises(LogExists, match="delete it first"):
        _add(logs, "orders", orders_csv(1), ImportFormat.CSV, "orders.csv", columns=columns)
    logs.delete("orders")
    with pytest.raises(UnknownLog):
        logs.get("orders")
    assert logs.all() == []


def test_our_own_xes_export_imported_again_measures_the_same_cycle_times(logs: ImportedLogs, tmp_path: Path) -> None:
    clock = ManualClock(T0)
    engine = Engine.open("memory:", clock=clock)
    try:
        run_claims(engine, clock, Truth(instances=4, failing=()))
        export_to(engine, ExportFormat.XES, LogFilter(process_id="claim"), tmp_path / "claims.xes")
        ours = brief(engine, "claim")
    finally:
        engine.close()
    with (tmp_path / "claims.xes").open("rb") as f:
        logs.add("claims", LogReader(f, ImportFormat.XES, source="claims.xes"))
    theirs = log_brief(logs, "claims")
    assert theirs["instances"] == ours["instances"] == 4
    assert theirs["cycleTimeMs"] == ours["cycleTimeMs"]
    review = next(w for w in theirs["waitingByElement"] if w["elementId"] == "Review the claim")
    assert review["waitMs"]["p50"] == 2 * HOUR


ORDERS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="orders" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="receive"/>
    <bpmn:task id="receive" name="Receive"/>
    <bpmn:sequenceFlow id="f2" sourceRef="receive" targetRef="check"/>
    <bpmn:task id="check" name="Check"/>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="ship"/>
    <bpmn:task id="ship" name="Ship"/>
    <bpmn:sequenceFlow id="f4" sourceRef="ship" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_log_is_mined_and_checked_against_a_deployed_process_by_activity_names(logs: ImportedLogs) -> None:
    pytest.importorskip("pm4py")
    _add(logs, "orders", orders_csv(), ImportFormat.CSV, "orders.csv",
         columns=CsvColumns(case="order", activity="step", timestamp="when"))
    mined = log_model(logs, "orders").decode()
    assert 'id="discovered-orders"' in mined and 'name="Check"' in mined
    engine = Engine.open("memory:")
    try:
        engine.deploy([("orders.bpmn", ORDERS)])
        found = log_conformance(engine, logs, "orders", "orders")
    finally:
        engine.close()
    assert found["log"] == "orders" and found["instances"] == 4 and found["fittingInstances"] == 0.75
    [deviation] = found["deviations"]
    assert deviation["instance"] == "o0" and deviation["activities"] == ["Receive", "Check", "Check", "Ship"]
