"""Mining with pm4py (the optional extra): a model discovered from the claims' log, laid out so it opens in the
Modeler and the console, and conformance of the log to the deployed version with its deviating instances."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree

from discover import DiscoverError, LogFilter, UnknownProcess
from discover.mining import conformance, discover_model
from engine import Engine
from engine.parser import parse_bpmn
from engine.ports import ManualClock
from tests.discover.claims import STARTER, Truth, run_claims

pytest.importorskip("pm4py")

SMALL = Truth(instances=6, reworked=(0,), rejected=(1,), failing=(2,))
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"


def test_the_inductive_miner_finds_the_claims_activities_and_the_model_has_a_diagram_for_every_element(
    engine: Engine, clock: ManualClock
) -> None:
    run_claims(engine, clock, SMALL)
    xml = discover_model(engine, LogFilter(process_id="claim"))
    root = etree.fromstring(xml)
    process = root.find(f"{BPMN}process")
    assert process is not None and process.get("id") == "discovered-claim"
    tasks = {t.get("name") for t in process.iter(f"{BPMN}task")}
    assert tasks == {"Check the claim", "Review the claim", "Pay the claim"}
    nodes = {n.get("id") for n in process if n.tag != f"{BPMN}sequenceFlow" and n.get("id")}
    flows = {f.get("id") for f in process.iter(f"{BPMN}sequenceFlow")}
    shapes = {s.get("bpmnElement") for s in root.iter(f"{DI}BPMNShape")}
    edges = {e.get("bpmnElement") for e in root.iter(f"{DI}BPMNEdge")}
    assert nodes <= shapes and flows <= edges
    parsed = parse_bpmn(xml).processes["discovered-claim"]  # our own parser reads it, as the console will
    assert {n.name for n in parsed.nodes.values()} >= tasks


def test_the_claims_fit_their_deployed_model_and_a_canceled_one_deviates_with_what_it_skipped(
    engine: Engine, clock: ManualClock
) -> None:
    keys = run_claims(engine, clock, SMALL)
    fitting = conformance(engine, "claim")
    assert (fitting["version"], fitting["instances"], fitting["fitness"], fitting["deviations"]) == (
        1, len(keys), 1.0, [])
    assert 0 < fitting["precision"] <= 1
    stray = engine.start("claim", {"claim": 99}, by=STARTER).key
    clock.advance(timedelta(minutes=1))
    [job] = engine.activate_jobs(["check-claim"], "w", max_jobs=1)
    engine.complete_job(job.key, {}, worker="w", lock_version=job.lock_version)
    engine.cancel(stray)
    checked = conformance(engine, "claim", 1)
    assert checked["instances"] == len(keys) + 1 and checked["fitness"] < 1
    [deviation] = checked["deviations"]
    assert (deviation["instance"], deviation["activities"], deviation["skipped"]) == (
        stray, ["Check the claim"], ["Review the claim"])
    assert checked["fittingInstances"] == round(len(keys) / (len(keys) + 1), 4)


def test_mining_a_process_that_is_not_deployed_or_has_not_run_says_so(engine: Engine, clock: ManualClock) -> None:
    with pytest.raises(UnknownProcess, match="process 'claim' is not deployed"):
        conformance(engine, "claim")
    run_claims(engine, clock, Truth(instances=0, reworked=(), rejected=(), failing=()))
    with pytest.raises(DiscoverError, match="nothing to mine"):
        discover_model(engine, LogFilter(process_id="claim"))
