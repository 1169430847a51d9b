"""Decision tables evaluated by engine.dmn: every hit policy and aggregation, input values, defaults, the DRG."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.dmn import DecisionEvaluationError, DecisionGraph, DecisionNotFound, evaluate_decision
from engine.parser import DmnParseError, parse_dmn

DATA = Path(__file__).resolve().parents[2] / "data" / "dmn"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
LOW = {"level": "low", "points": Decimal(1)}
MID = {"level": "mid", "points": Decimal(5)}
HIGH = {"level": "high", "points": Decimal(10)}


@pytest.fixture(scope="module")
def tables() -> DecisionGraph:
    return parse_dmn((DATA / "hit_policies.dmn").read_bytes(), source_name="hit_policies.dmn")


def _value(graph: DecisionGraph, decision: str, **variables: Any) -> Any:
    return evaluate_decision(graph, decision, variables, NOW).value


@pytest.mark.parametrize(
    ("decision", "score", "expected"),
    [
        ("unique", 60, MID),
        ("first", 90, LOW),
        ("priority", 90, HIGH),
        ("priority", 60, MID),
        ("any", 90, True),
        ("any", 10, False),
        ("collect", 60, [LOW, MID]),
        ("ruleOrder", 90, [LOW, MID, HIGH]),
        ("outputOrder", 90, [HIGH, MID, LOW]),
        ("collectSum", 90, Decimal(16)),
        ("collectMin", 90, Decimal(1)),
        ("collectMax", 60, Decimal(5)),
        ("collectCount", 90, Decimal(3)),
    ],
)
def test_each_hit_policy_gives_the_result_the_dmn_specification_gives(
    tables: DecisionGraph, decision: str, score: int, expected: Any
) -> None:
    assert _value(tables, decision, score=score) == expected


def test_the_matched_rules_are_reported_with_their_ids_and_indexes_in_hit_order(tables: DecisionGraph) -> None:
    outcome = evaluate_decision(tables, "outputOrder", {"score": 60}, NOW)
    assert [(r.rule_id, r.index) for r in outcome.matched_rules] == [("outputOrderR2", 2), ("outputOrderR1", 1)]
    assert outcome.evaluated[-1].hit_policy == "OUTPUT ORDER"


def test_a_unique_table_with_two_matching_rules_is_an_error_naming_them(tables: DecisionGraph) -> None:
    with pytest.raises(DecisionEvaluationError, match="hit policy UNIQUE but rules 1, 2 all match"):
        _value(tables, "uniqueOverlap", score=70)


def test_an_any_table_whose_matches_disagree_is_an_error(tables: DecisionGraph) -> None:
    with pytest.raises(DecisionEvaluationError, match="hit policy ANY"):
        _value(tables, "any", score=55)


def test_no_match_gives_null_for_a_single_hit_an_empty_list_for_collect_and_zero_for_count(
    tables: DecisionGraph,
) -> None:
    assert _value(tables, "unique", score=None) is None
    assert _value(tables, "collect", score=-1) == []
    assert _value(tables, "collectCount", score=-1) == Decimal(0)
    assert _value(tables, "collectSum", score=-1) is None


def test_a_default_output_entry_answers_when_no_rule_matches(tables: DecisionGraph) -> None:
    assert _value(tables, "withDefault", score=10) == "none"
    assert _value(tables, "withDefault", score=95) == "top"


def test_an_input_outside_its_input_values_is_an_error(tables: DecisionGraph) -> None:
    with pytest.raises(DecisionEvaluationError, match="not one of its allowed values"):
        _value(tables, "withDefault", score=150)


def test_a_decision_evaluates_its_required_decisions_and_invokes_knowledge_models() -> None:
    graph = parse_dmn((DATA / "discount.dmn").read_bytes())
    outcome = evaluate_decision(graph, "discount", {"customer": {"orders": 12}, "total": 250}, NOW)
    assert outcome.value == {"rate": Decimal("0.15"), "amount": Decimal("37.50")}
    assert [d.decision_id for d in outcome.evaluated] == ["customerLevel", "discount"]
    assert [r.rule_id for r in outcome.matched_rules] == ["goldBig"]
    assert graph.version_tag == "v1"


def test_a_decision_is_found_by_its_name_too_and_an_unknown_one_is_reported_with_the_known_ones() -> None:
    graph = parse_dmn((DATA / "discount.dmn").read_bytes())
    assert _value(graph, "Customer level", customer={"orders": 1}) == "standard"
    with pytest.raises(DecisionNotFound, match=r"has no decision 'nope' \(it has customerLevel, discount\)"):
        _value(graph, "nope")


def test_a_document_that_is_not_dmn_or_has_bad_tables_is_refused_with_lines() -> None:
    with pytest.raises(DmnParseError, match="not a DMN document"):
        parse_dmn('<definitions xmlns="urn:other"/>', source_name="x.dmn")
    broken = (DATA / "hit_policies.dmn").read_text().replace('hitPolicy="FIRST"', 'hitPolicy="SOMETIMES"', 1)
    with pytest.raises(DmnParseError, match=r"x\.dmn:\d+: .*unknown hit policy 'SOMETIMES'"):
        parse_dmn(broken, source_name="x.dmn")
