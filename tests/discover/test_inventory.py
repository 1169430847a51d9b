"""The process inventory and the improvement brief, checked against logs whose truth is known: claims that wait
two hours for a person (tests/discover/claims.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from discover import UnknownProcess, brief, inventory
from engine import Engine
from engine.ports import ManualClock
from tests.discover.claims import CLAIM, Truth, run_claims

TRUTH = Truth()
HOUR = 3_600_000


def test_the_inventory_counts_instances_completions_and_incidents_of_a_known_run(
    engine: Engine, clock: ManualClock
) -> None:
    run_claims(engine, clock, TRUTH)
    engine.deploy([("claim.bpmn", CLAIM.read_bytes().replace(b'name="Claim"', b'name="Claim, second"'))])
    stray = engine.start("claim", {"claim": 99}).key
    engine.cancel(stray)
    [claim] = [s.to_json() for s in inventory(engine)]
    assert claim["processId"] == "claim" and claim["versions"] == [1, 2]
    assert (claim["instances"], claim["completed"], claim["terminated"], claim["active"]) == (21, 20, 1, 0)
    assert claim["incidents"] == len(TRUTH.failing) and claim["openIncidents"] == 0
    assert claim["incidentRate"] == round(2 / 21, 4) and claim["failureRate"] == round(1 / 21, 4)
    # cycle times: check + review + pay; the reworked one twice check and review, the failing ones wait 30 min more
    plain = (TRUTH.check + TRUTH.review + TRUTH.pay) // timedelta(milliseconds=1)
    assert claim["cycleTimeMs"]["p50"] == plain
    assert claim["cycleTimeMs"]["max"] == plain + (TRUTH.check + TRUTH.review) // timedelta(milliseconds=1)


def test_the_brief_names_the_person_step_as_the_bottleneck_and_its_repetitive_decision_first(
    engine: Engine, clock: ManualClock
) -> None:
    run_claims(engine, clock, TRUTH)
    found = brief(engine, "claim")
    [top, *_] = found["bottlenecks"]
    assert (top["elementId"], top["type"], top["passes"]) == ("review", "userTask", TRUTH.decisions)
    assert top["waitMs"]["p50"] == 2 * HOUR and top["share"] > 0.9
    assert found["reworkLoops"][0]["elementId"] in ("check", "review")
    assert {r["elementId"] for r in found["reworkLoops"]} == {"check", "review"}  # gateways are no rework
    [hot] = found["exceptionHotSpots"]
    assert (hot["elementId"], hot["incidents"], hot["suspendedMs"]) == ("pay", 2, 2 * 30 * 60_000)
    first = found["opportunities"][0]
    assert (first["rank"], first["kind"], first["elementId"]) == (1, "repetitive-decision", "review")
    assert "90% of the time (19 of 21)" in first["evidence"]
    assert first["impactMs"] == round(TRUTH.decisions * 2 * HOUR * 19 / 21)
    kinds = [o["kind"] for o in found["opportunities"]]
    assert "incident-hot-spot" in kinds and "rework" in kinds


def test_a_brief_of_a_process_that_is_not_deployed_says_so(engine: Engine) -> None:
    with pytest.raises(UnknownProcess, match="'claims' is not deployed"):
        brief(engine, "claims")
