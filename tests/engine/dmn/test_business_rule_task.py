"""Business rule tasks (``zeebe:calledDecision``) evaluate deployed DMN decisions in the step, on every store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine import DeploymentError, Engine, NotFound

DATA = Path(__file__).resolve().parents[2] / "data" / "dmn"
BPMN = (DATA / "discount.bpmn").read_text()
DMN = (DATA / "discount.dmn").read_text()
GOLD = {"customer": {"orders": 12}, "total": 250}


def _with_binding(attributes: str) -> str:
    return BPMN.replace('resultVariable="discount" />', f'resultVariable="discount" {attributes} />')


def _decision_events(engine: Engine, instance: int) -> list[dict[str, Any]]:
    return [e["data"] for e in engine.journal(instance) if e["type"] == "decision_evaluated"]


def test_a_business_rule_task_writes_the_decision_result_and_journals_the_matched_rules(engine: Engine) -> None:
    _, decisions = engine.deploy_all([("discount.bpmn", BPMN), ("discount.dmn", DMN)])
    assert [(d.decision_id, d.version, d.is_new) for d in decisions] == [("customerLevel", 1, True),
                                                                          ("discount", 1, True)]
    instance = engine.start("pricing", GOLD)
    assert instance.state == "completed"
    assert instance.variables["discount"] == {"rate": 0.15, "amount": 37.5}
    [event] = _decision_events(engine, instance.key)
    assert (event["decision"], event["version"]) == ("discount", 1)
    assert event["evaluated"][-1] == {"decision": "discount", "hitPolicy": "UNIQUE",
                                      "matchedRules": [{"ruleId": "goldBig", "ruleIndex": 1}]}


def test_a_decision_not_deployed_is_an_incident_that_a_retry_resolves_once_it_is(engine: Engine) -> None:
    engine.deploy([("discount.bpmn", BPMN)])
    instance = engine.start("pricing", GOLD)
    [incident] = engine.incidents(instance=instance.key)
    assert incident.type == "decision"
    assert "calls decision 'discount', which is not deployed" in incident.message
    engine.deploy([("discount.dmn", DMN)])
    engine.resolve_incident(incident.key)
    assert engine.instance(instance.key).variables["discount"] == {"rate": 0.15, "amount": 37.5}


def test_a_failed_evaluation_is_an_incident_and_a_new_version_fixes_it_on_retry(engine: Engine) -> None:
    overlapping = DMN.replace('<inputEntry><text>"standard"</text></inputEntry>', "<inputEntry><text>-</text>"
                              "</inputEntry>")
    engine.deploy_all([("discount.bpmn", BPMN), ("discount.dmn", overlapping)])
    instance = engine.start("pricing", GOLD)
    [incident] = engine.incidents(instance=instance.key)
    assert incident.type == "decision"
    assert "decision 'discount' version 1" in incident.message and "UNIQUE but rules 1, 3 all match" in incident.message
    _, decisions = engine.deploy_all([("discount.dmn", DMN)])
    assert {d.decision_id: d.version for d in decisions}["discount"] == 2
    engine.resolve_incident(incident.key)
    fixed = engine.instance(instance.key)
    assert fixed.state == "completed"
    assert _decision_events(engine, instance.key)[0]["version"] == 2


def test_binding_types_choose_the_latest_the_deployments_or_the_tagged_version(engine: Engine) -> None:
    _check_bindings(engine)


def test_the_memory_store_keeps_decision_versions_and_bindings_as_sql_does() -> None:
    engine = Engine.open("memory:")
    try:
        _check_bindings(engine)
        assert [d["version"] for d in engine.decisions("discount")] == [1, 2]
    finally:
        engine.close()


def _check_bindings(engine: Engine) -> None:
    engine.deploy([("pinned.bpmn", _with_binding('bindingType="deployment"').replace('"pricing"', '"pinned"')),
                   ("tagged.bpmn", _with_binding('bindingType="versionTag" versionTag="v1"').replace(
                       '"pricing"', '"tagged"')),
                   ("discount.bpmn", BPMN), ("discount.dmn", DMN)])
    newer = DMN.replace("<text>0.15</text>", "<text>0.2</text>").replace('camunda:versionTag="v1"',
                                                                          'camunda:versionTag="v2"')
    engine.deploy([("discount.dmn", newer)])
    assert engine.start("pricing", GOLD).variables["discount"]["rate"] == 0.2
    assert engine.start("pinned", GOLD).variables["discount"]["rate"] == 0.15
    assert engine.start("tagged", GOLD).variables["discount"]["rate"] == 0.15


def test_the_same_dmn_text_reuses_the_version_and_decisions_are_listed(engine: Engine) -> None:
    engine.deploy([("discount.dmn", DMN)])
    _, again = engine.deploy_all([("discount.dmn", DMN)])
    assert [(d.version, d.is_new) for d in again] == [(1, False), (1, False)]
    listed = engine.decisions("discount")
    assert [(d["decisionId"], d["version"], d["versionTag"]) for d in listed] == [("discount", 1, "v1")]


def test_a_decision_evaluated_on_its_own_answers_its_result_and_matched_rules(engine: Engine) -> None:
    engine.deploy([("discount.dmn", DMN)])
    result = engine.evaluate_decision("discount", {"customer": {"orders": 12}, "total": 50})
    assert (result.version, result.result) == (1, {"rate": 0.05, "amount": 2.5})
    assert result.matched_rules == [{"ruleId": "goldSmall", "ruleIndex": 2, "outputs": {"rate": 0.05, "amount": 2.5}}]
    with pytest.raises(NotFound, match="decision 'nope' is not deployed"):
        engine.evaluate_decision("nope")


def test_a_business_rule_task_without_a_result_variable_and_a_broken_dmn_are_refused_together(engine: Engine) -> None:
    with pytest.raises(DeploymentError) as raised:
        engine.deploy([("discount.bpmn", BPMN.replace(' resultVariable="discount"', "")),
                       ("broken.dmn", "<definitions")])
    text = str(raised.value)
    assert "zeebe:calledDecision has no resultVariable" in text
    assert "broken.dmn" in text


def test_feel_that_does_not_compile_in_a_dmn_file_is_a_deployment_problem_naming_the_decision(engine: Engine) -> None:
    broken = DMN.replace("<text>round to(amount: total * 0.05)</text>", "<text>round to(amount: total * )</text>")
    with pytest.raises(DeploymentError, match=r"discount\.dmn:\d+: element 'discount': FEEL 'round to\(amount: "):
        engine.deploy([("discount.dmn", broken)])
    assert engine.decisions() == []


def test_a_multi_instance_business_rule_task_with_io_mappings_decides_once_per_item(engine: Engine) -> None:
    task = BPMN.replace(
        '<zeebe:calledDecision decisionId="discount" resultVariable="discount" />',
        '<zeebe:calledDecision decisionId="discount" resultVariable="discount" /><zeebe:ioMapping>'
        '<zeebe:input source="=order.total" target="total"/><zeebe:output source="=discount.amount" target="saved"/>'
        "</zeebe:ioMapping>",
    ).replace(
        '<bpmn:businessRuleTask id="Decide" name="Decide the discount">',
        '<bpmn:businessRuleTask id="Decide" name="Decide the discount"><bpmn:multiInstanceLoopCharacteristics>'
        '<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=orders" inputElement="order" '
        'outputCollection="savings" outputElement="=saved"/></bpmn:extensionElements>'
        "</bpmn:multiInstanceLoopCharacteristics>",
    )
    engine.deploy([("each.bpmn", task), ("discount.dmn", DMN)])
    instance = engine.start("pricing", {"customer": {"orders": 12}, "orders": [{"total": 250}, {"total": 50}]})
    assert instance.variables["savings"] == [37.5, 2.5]
    assert len(_decision_events(engine, instance.key)) == 2
