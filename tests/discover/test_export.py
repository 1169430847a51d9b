"""Event logs out: XES with the structure and attributes IEEE 1849 asks for, OCEL 2.0 JSON, both read back by
pm4py with the counts the ground truth says (tests/discover/claims.py)."""

from __future__ import annotations

import json
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from discover import DiscoverError, ExportFormat, LogFilter, UnknownProcess, export_to
from discover.export import epoch_millis
from discover.xes import XES_NAMESPACE
from engine import Engine
from engine.ports import ManualClock
from tests.discover.claims import Truth, run_claims

X = f"{{{XES_NAMESPACE}}}"
LIFECYCLE = {"schedule", "assign", "withdraw", "reassign", "start", "suspend", "resume", "pi_abort", "ate_abort",
             "complete", "autoskip", "manualskip", "unknown"}
SMALL = Truth(instances=6, reworked=(0,), rejected=(1,), failing=(2,))


def _attributes(node: etree._Element) -> dict[str, str]:
    return {str(a.get("key")): str(a.get("value")) for a in node if a.tag != f"{X}event"}


def _pm4py() -> Any:
    pm4py = pytest.importorskip("pm4py")
    return pm4py


def _quietly(fn: Any, *args: Any) -> Any:
    """pm4py warns about optional accelerators it would like installed: not our concern here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def test_the_xes_export_has_one_trace_per_instance_and_every_event_has_name_time_and_transition(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    keys = run_claims(engine, clock, SMALL)
    counts = export_to(engine, ExportFormat.XES, LogFilter(), tmp_path / "log.xes")
    root = etree.parse(str(tmp_path / "log.xes")).getroot()
    assert root.tag == f"{X}log" and root.get("xes.version") == "1849-2016"
    assert {e.get("prefix") for e in root.iter(f"{X}extension")} == {"concept", "time", "lifecycle", "org"}
    assert next(c.get("keys") for c in root.iter(f"{X}classifier")) == "concept:name"
    traces = root.findall(f"{X}trace")
    assert [_attributes(t)["concept:name"] for t in traces] == [str(k) for k in keys]
    assert counts.traces == len(keys) and counts.events == len(root.findall(f".//{X}event"))
    for event in root.iter(f"{X}event"):
        found = {a.get("key"): a for a in event}
        assert found["concept:name"].tag == f"{X}string" and found["concept:name"].get("value")
        assert found["time:timestamp"].tag == f"{X}date"
        assert datetime.fromisoformat(str(found["time:timestamp"].get("value"))).tzinfo is not None
        assert found["lifecycle:transition"].get("value") in LIFECYCLE


def test_an_xes_event_is_named_after_its_element_and_says_who_acted(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    [first, *_] = run_claims(engine, clock, SMALL)
    export_to(engine, ExportFormat.XES, LogFilter(), tmp_path / "log.xes")
    trace = etree.parse(str(tmp_path / "log.xes")).getroot().find(f"{X}trace")
    assert trace is not None and _attributes(trace)["concept:name"] == str(first)
    events = [_attributes(e) for e in trace.iter(f"{X}event")]
    steps = [(e["concept:name"], e["lifecycle:transition"], e.get("org:resource")) for e in events]
    assert steps[:2] == [("Claim received", "start", "intake"), ("Claim received", "complete", "intake")]
    assert ("Review the claim", "complete", "alice") in steps
    assert ("Check the claim", "complete", None) in steps  # the engine's own step: nobody acted
    assert steps[-1] == ("Claim paid", "complete", None)
    times = [datetime.fromisoformat(e["time:timestamp"]) for e in events]
    assert times == sorted(times)
    assert times[-1] - times[0] == SMALL.check * 2 + SMALL.review * 2 + SMALL.pay  # reworked once


def test_pm4py_reads_our_xes_back_with_the_traces_and_events_we_wrote(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    pm4py = _pm4py()
    keys = run_claims(engine, clock, SMALL)
    counts = export_to(engine, ExportFormat.XES, LogFilter(), tmp_path / "log.xes")
    frame = _quietly(pm4py.read_xes, str(tmp_path / "log.xes"))
    assert frame["case:concept:name"].nunique() == len(keys) == counts.traces
    assert len(frame) == counts.events
    assert set(frame["case:concept:name"]) == {str(k) for k in keys}
    reviews = frame[(frame["concept:name"] == "Review the claim") & (frame["lifecycle:transition"] == "complete")]
    assert len(reviews) == SMALL.decisions and set(reviews["org:resource"]) == {"alice"}


def test_pm4py_reads_our_ocel_back_with_its_events_objects_and_relations(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    pm4py = _pm4py()
    keys = run_claims(engine, clock, SMALL)
    counts = export_to(engine, ExportFormat.OCEL, LogFilter(), tmp_path / "log.json")
    document = json.loads((tmp_path / "log.json").read_text())
    assert {t["name"] for t in document["objectTypes"]} == {"instance", "task", "agent run", "tool call", "approval",
                                                            "principal"}
    ocel = _quietly(pm4py.read_ocel2_json, str(tmp_path / "log.json"))
    assert len(ocel.events) == counts.events == len(document["events"])
    types = ocel.objects.groupby("ocel:type").size().to_dict()
    assert types["instance"] == len(keys)
    assert types["principal"] == 2  # intake started them, alice reviewed and resolved
    # each pass of a task is one object: check, review and pay per instance, plus the reworked check and review
    assert types["task"] == 2 * SMALL.decisions + SMALL.approvals
    reviews = ocel.relations[(ocel.relations["ocel:activity"] == "Review the claim")]
    assert {"instance", "task", "resource"} <= set(reviews["ocel:qualifier"])


def test_an_export_holds_only_the_instances_of_its_process_version_and_start_time_range(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    keys = run_claims(engine, clock, SMALL)
    engine.deploy([("straight.bpmn", (Path(__file__).parents[1] / "data" / "hub" / "straight.bpmn").read_bytes())])
    engine.start("straight", {"amount": 1})
    everything = export_to(engine, ExportFormat.XES, LogFilter(), tmp_path / "all.xes")
    claims = export_to(engine, ExportFormat.XES, LogFilter(process_id="claim", version=1), tmp_path / "claim.xes")
    assert (everything.traces, claims.traces) == (len(keys) + 1, len(keys))
    later = next(r.created_at for r in engine.event_log.instances(LogFilter()) if r.key == keys[3])
    ranged = export_to(engine, ExportFormat.XES, LogFilter(process_id="claim", started_from=later),
                       tmp_path / "later.xes")
    assert ranged.traces == len(keys) - 3
    root = etree.parse(str(tmp_path / "later.xes")).getroot()
    assert [_attributes(t)["concept:name"] for t in root.iter(f"{X}trace")] == [str(k) for k in keys[3:]]


def test_exporting_a_process_that_is_not_deployed_is_an_error_and_writes_no_file(
    engine: Engine, tmp_path: Path
) -> None:
    with pytest.raises(UnknownProcess, match="'nope' is not deployed"):
        export_to(engine, ExportFormat.OCEL, LogFilter(process_id="nope"), tmp_path / "log.json")
    assert not (tmp_path / "log.json").exists()


def test_moments_are_read_as_iso_8601_in_utc_unless_they_say_otherwise() -> None:
    assert epoch_millis("1970-01-02", "--from") == 86_400_000
    assert epoch_millis("1970-01-01T01:00", "--from") == 3_600_000
    assert epoch_millis("1970-01-01T01:00+01:00", "--from") == 0
    assert epoch_millis("1970-01-01T00:00:01Z", "--from") == 1000
    with pytest.raises(DiscoverError, match="--to 'yesterday' is not an ISO 8601"):
        epoch_millis("yesterday", "--to")
