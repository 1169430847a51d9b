"""What evaluating a decision produces: its value and, for each decision evaluated, the rules that matched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchedRule:
    """One rule of a decision table that matched, with its 1-based index and its outputs (FEEL values)."""

    rule_id: str | None
    index: int
    outputs: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluatedDecision:
    """One decision evaluated: its value and, for a decision table, its hit policy and matched rules."""

    decision_id: str
    decision_name: str
    value: Any
    hit_policy: str | None = None
    matched_rules: tuple[MatchedRule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionOutcome:
    """The decision asked for (``value``) and every decision evaluated for it, required ones first."""

    decision_id: str
    value: Any
    evaluated: tuple[EvaluatedDecision, ...]

    @property
    def matched_rules(self) -> tuple[MatchedRule, ...]:
        """The matched rules of the decision asked for."""
        return self.evaluated[-1].matched_rules if self.evaluated else ()
