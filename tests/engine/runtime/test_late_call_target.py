"""A call activity whose process is deployed after it resolves when it runs, as in Camunda.

Deploying ``late_caller`` (it calls ``late_billing``) before ``late_billing`` is not
refused: it warns, per call activity. An instance that reaches the call while the
process is still missing stops there in an incident that names it; once it is
deployed, resolving the incident runs the call.
"""

from __future__ import annotations

from pathlib import Path

from engine import Engine

DATA = Path(__file__).resolve().parents[2] / "data" / "deploy"
CALLER, BILLING = DATA / "late_caller.bpmn", DATA / "late_billing.bpmn"


def deploy(engine: Engine, path: Path) -> None:
    engine.deploy([(path.name, path.read_bytes())])


def test_deploying_a_caller_before_its_target_warns_instead_of_refusing(engine: Engine) -> None:
    [deployed] = engine.deploy([(CALLER.name, CALLER.read_bytes())])
    [warning] = deployed.warnings
    assert warning.element_id == "CallBilling" and warning.line is not None
    assert "calls process 'late_billing', which is not deployed yet" in warning.message
    assert "incident" in warning.message


def test_no_warning_when_the_target_comes_in_the_same_deployment_or_is_deployed(engine: Engine) -> None:
    both = engine.deploy([(CALLER.name, CALLER.read_bytes()), (BILLING.name, BILLING.read_bytes())])
    assert [w for d in both for w in d.warnings] == []


def test_a_target_deployed_after_the_caller_is_called_at_run_time(engine: Engine) -> None:
    deploy(engine, CALLER)
    deploy(engine, BILLING)
    view = engine.start("late_caller", {})
    view = engine.instance(view.key)
    assert view.state == "completed"
    assert view.variables["billing"] == "billed"


def test_a_target_still_missing_at_run_time_is_an_incident_that_names_it_and_deploying_it_lets_it_go_on(
    engine: Engine,
) -> None:
    deploy(engine, CALLER)
    key = engine.start("late_caller", {}).key
    assert engine.instance(key).state == "incident"
    [incident] = engine.incidents(instance=key)
    assert incident.element_id == "CallBilling"
    assert "calls process 'late_billing', which is not deployed" in incident.message
    deploy(engine, BILLING)
    engine.resolve_incident(incident.key)
    view = engine.instance(key)
    assert view.state == "completed" and view.variables["billing"] == "billed"
