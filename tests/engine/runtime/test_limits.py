"""X8, and the hardening issue's first finding: no model wedges the engine.

A loop of gateways with no wait state, a call activity that calls its own
process and a multi-instance activity over 10^9 items each end in an
incident of type ``limit`` on the element where the bound tripped, within
one short transaction; the database stays free for everyone else, and
resolving the incident goes on from there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.runtime.limits import RuntimeLimits

DATA = Path(__file__).resolve().parents[2] / "data" / "limits"


def _deploy(engine: Engine, name: str) -> None:
    engine.deploy([(name, (DATA / name).read_bytes())])


def test_a_loop_of_gateways_with_no_wait_state_ends_in_an_incident_not_a_spin(engine: Engine) -> None:
    engine.limits = RuntimeLimits(max_activations=500)
    _deploy(engine, "cycle.bpmn")
    view = engine.start("cycle", {"done": False})
    assert view.state == "incident"
    [incident] = engine.incidents(instance=view.key)
    assert incident.type == "limit"
    assert "activated 500 elements without reaching a wait state" in incident.message
    assert "AGENTHUB_MAX_STEPS" in incident.message
    # the transaction committed: the database is free, other instances start and finish
    other = engine.start("cycle", {"done": True})
    assert other.state == "completed"


def test_resolving_a_step_limit_incident_goes_on_with_a_fresh_budget(engine: Engine) -> None:
    engine.limits = RuntimeLimits(max_activations=200)
    _deploy(engine, "cycle.bpmn")
    view = engine.start("cycle", {"done": False})
    [first] = engine.incidents(instance=view.key)
    engine.resolve_incident(first.key)  # still looping: another budget, another incident
    [second] = engine.incidents(instance=view.key)
    assert second.key != first.key and second.type == "limit"
    engine.set_variables(view.key, {"done": True}, local=False)  # the cause fixed
    engine.resolve_incident(second.key)
    assert engine.instance(view.key).state == "completed"


def test_the_default_step_budget_stops_an_endless_loop(engine: Engine) -> None:
    _deploy(engine, "cycle.bpmn")
    view = engine.start("cycle", {"done": False})
    [incident] = engine.incidents(instance=view.key)
    assert f"activated {RuntimeLimits().max_activations} elements" in incident.message


def test_a_call_activity_calling_its_own_process_stops_at_the_call_depth_limit(engine: Engine) -> None:
    engine.limits = RuntimeLimits(max_call_depth=5)
    _deploy(engine, "recursion.bpmn")
    root = engine.start("recursion")
    instances = engine.instances(process_id="recursion", limit=100)
    assert len(instances) == 6  # the root and five nested calls
    deepest = [i for i in instances if i.state == "incident"]
    assert len(deepest) == 1 and deepest[0].key != root.key
    [incident] = engine.incidents(instance=deepest[0].key)
    assert incident.type == "limit" and incident.element_id == "CallMyself"
    assert "6 levels deep, more than the limit of 5" in incident.message


@pytest.mark.parametrize("count", [10**9, 100_001])
def test_a_multi_instance_over_the_cardinality_limit_is_an_incident(engine: Engine, count: int) -> None:
    _deploy(engine, "huge_multi_instance.bpmn")
    view = engine.start("huge_multi_instance", {"count": count})
    assert view.state == "incident"
    [incident] = engine.incidents(instance=view.key)
    assert incident.type == "limit" and incident.element_id == "Each"
    assert f"would run {count} instances" in incident.message and "AGENTHUB_MAX_CARDINALITY" in incident.message


def test_a_multi_instance_within_the_limit_runs(engine: Engine) -> None:
    engine.limits = RuntimeLimits(max_cardinality=50)
    _deploy(engine, "huge_multi_instance.bpmn")
    assert engine.start("huge_multi_instance", {"count": 50}).state == "completed"


def test_limits_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="max_call_depth must be a whole number of at least 1"):
        RuntimeLimits(max_call_depth=0)


def test_deploying_a_loop_with_no_wait_state_warns_naming_its_elements(engine: Engine) -> None:
    [deployed] = engine.deploy([("cycle.bpmn", (DATA / "cycle.bpmn").read_bytes())])
    [warning] = deployed.warnings
    assert warning.element_id == "Round" and warning.line == 5
    assert "'Round', 'Again' form a loop with no wait state" in warning.message


def test_deploying_a_process_that_calls_itself_warns(engine: Engine) -> None:
    [deployed] = engine.deploy([("recursion.bpmn", (DATA / "recursion.bpmn").read_bytes())])
    [warning] = deployed.warnings
    assert warning.element_id == "CallMyself" and "calls its own process 'recursion'" in warning.message


def test_a_loop_through_a_wait_state_and_a_plain_multi_instance_deploy_without_warnings(engine: Engine) -> None:
    deployed = engine.deploy([(name, (DATA / name).read_bytes()) for name in ("many_jobs.bpmn",
                                                                              "huge_multi_instance.bpmn")])
    assert [w for d in deployed for w in d.warnings] == []
