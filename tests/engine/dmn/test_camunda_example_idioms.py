"""The DMN idioms of Camunda's public examples and tutorials, on our own models (``lending.dmn``/``.bpmn``).

The sweep over Camunda's own models (``tests/hub/test_camunda_platform_examples.py``) runs only where they
are fetched; these keep what it relies on in CI: input entries computed from other variables, half-open
ranges, output entries that are expressions, COLLECT with two outputs and no aggregation (a list of
contexts), input values refusing a missing input, and a gateway reading a business rule task's result
after an END execution listener on the start event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import Engine

DATA = Path(__file__).resolve().parents[2] / "data" / "dmn"
DMN = (DATA / "lending.dmn").read_text()
BPMN = (DATA / "lending.bpmn").read_text()
STRONG = {
    "applicant": {"score": 750, "income": 60000, "late": 0},
    "request": {"sum": 12000, "months": 24},
    "plan": "basic",
}


def _decide(engine: Engine, decision: str, variables: dict[str, Any]) -> Any:
    engine.deploy_all([("lending.dmn", DMN)])
    return engine.evaluate_decision(decision, variables).result


def _run(engine: Engine, variables: dict[str, Any]) -> int:
    """Start ``lending``, answer the start event's END listener, and give back the instance."""
    engine.deploy_all([("lending.bpmn", BPMN), ("lending.dmn", DMN)])
    instance = engine.start("lending", variables)
    [job] = engine.activate_jobs(["record-metadata"], "test")
    engine.complete_job(job.key, {}, worker=job.worker, lock_version=job.lock_version)
    return instance.key


def test_input_entries_compute_on_other_variables_and_output_entries_are_expressions(engine: Engine) -> None:
    assert _decide(engine, "offer", STRONG) == {"eligible": True, "fee": 3000}


def test_a_half_open_range_excludes_its_end(engine: Engine) -> None:
    middle = {**STRONG, "applicant": {"score": 650, "income": 100000}, "plan": "plus"}
    assert _decide(engine, "offer", middle) == {"eligible": True, "fee": 6000}
    at_the_end = {**middle, "applicant": {"score": 700, "income": 100000}}  # 700 is the first rule's, not [500..700)
    assert _decide(engine, "offer", at_the_end) == {"eligible": True, "fee": 3000}


def test_collect_with_two_outputs_and_no_aggregation_gives_a_context_per_matched_rule(engine: Engine) -> None:
    assert _decide(engine, "riskSignals", STRONG) == [{"points": -2, "weight": 5}, {"points": 3, "weight": -1}]


def test_a_gateway_reads_the_decision_result_after_the_start_events_end_listener(engine: Engine) -> None:
    granted = engine.instance(_run(engine, STRONG))
    assert granted.state == "completed"
    assert granted.variables["offer"] == {"eligible": True, "fee": 3000}
    declined = engine.instance(_run(engine, {**STRONG, "request": {"sum": 50000, "months": 24}}))
    assert declined.state == "completed"
    assert declined.variables["offer"] == {"eligible": False, "fee": 0}


def test_a_missing_input_outside_its_input_values_is_a_decision_incident_naming_it(engine: Engine) -> None:
    key = _run(engine, {key: value for key, value in STRONG.items() if key != "plan"})
    [incident] = engine.incidents(instance=key)
    assert incident.type == "decision"
    assert "'Plan' is None" in incident.message and '"basic","plus"' in incident.message
