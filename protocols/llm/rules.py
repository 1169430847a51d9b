"""``rules:PATH``: an offline model that answers by the first matching rule of a JSON file.

    {"rules": [
      {"when": "calls.lookup_order = 0",
       "call": [{"name": "lookup_order", "arguments": {"orderId": "=input.orderId"}, "confidence": 0.9}],
       "content": "I need the order first."},
      {"when": "refused.refund != null", "final": "=\"Refund refused: \" + refused.refund.error"},
      {"final": "=results.lookup_order"}
    ]}

The first rule whose ``when`` (FEEL, with or without the leading ``=``) is
true applies; a rule without ``when`` always applies. A rule either calls
tools (``call``) or gives the final answer (``final``). Argument values,
``final``, ``confidence`` and ``content`` are FEEL when they are strings that
start with ``=``, literal JSON otherwise. The FEEL context is the
conversation's facts: ``input``, ``results``, ``calls``, ``refused``, ``turn``
and ``tools`` (see ``protocols.llm`` and ``docs/MODELS.md``).

Every expression is compiled when the file is read, so a syntax error is
reported with its place before the first step. No rule matching raises
``NoRuleMatched``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.agent.turn import AgentTurn
from engine.feel import Expression, FeelError, compile_expression, is_expression, strip_marker, to_json
from protocols.llm._conversation import Conversation, Timer, call_id, offline_reply
from protocols.llm._model_file import Problems, is_number, load_json, parse_json
from protocols.llm.exceptions import NoRuleMatched, RuleFailed
from protocols.llm.reply import ModelReply, final_answer, tool_calls_answer

__all__ = ["Rule", "RuleCall", "RuleModel", "RuleValue", "parse_rules"]


@dataclass(frozen=True, slots=True)
class RuleValue:
    """A literal JSON value, or a FEEL expression evaluated against the conversation."""

    literal: Any = None
    expression: Expression | None = None

    def value(self, variables: Mapping[str, Any]) -> Any:
        if self.expression is None:
            return copy.deepcopy(self.literal)  # the answer is the caller's to keep; the rule stays as read
        return to_json(self.expression.evaluate(variables))


@dataclass(frozen=True, slots=True)
class RuleCall:
    name: str
    arguments: tuple[tuple[str, RuleValue], ...]
    confidence: RuleValue | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    where: str  # e.g. "rules[2]", for messages
    when: RuleValue | None  # a FEEL condition; the rule applies when it gives true
    calls: tuple[RuleCall, ...] = ()
    final: RuleValue | None = None
    content: RuleValue | None = None


class RuleModel:
    """Answers by ``rules``; build it from a file with ``RuleModel.from_file(path)``."""

    def __init__(self, rules: Sequence[Rule], *, name: str = "rules", timer: Timer = time.perf_counter) -> None:
        self.rules = tuple(rules)
        self.name = name
        self._timer = timer

    @classmethod
    def from_file(cls, path: Path, *, name: str | None = None, timer: Timer = time.perf_counter) -> RuleModel:
        """Read the rules and compile their FEEL; raises ModelFileInvalid listing every problem."""
        return cls(parse_rules(load_json(path), path), name=name or f"rules:{path}", timer=timer)

    @classmethod
    def from_text(cls, text: str, label: Path, *, name: str, timer: Timer = time.perf_counter) -> RuleModel:
        """The same from a file's text (one deployed with the process); ``label`` names it in problems."""
        return cls(parse_rules(parse_json(text, label), label), name=name, timer=timer)

    def complete(self, turn: AgentTurn) -> ModelReply:
        started = self._timer()
        facts = Conversation.of(turn)
        variables = facts.variables()
        for rule in self.rules:
            if rule.when is not None and self._get(rule, "when", rule.when, variables) is not True:
                continue
            content = None if rule.content is None else self._get(rule, "content", rule.content, variables)
            text = None if content is None else content if isinstance(content, str) else str(content)
            if rule.final is not None:
                answer = final_answer(self._get(rule, "final", rule.final, variables), text)
            else:
                calls = [self._call(rule, call, index, facts.turn, variables) for index, call in enumerate(rule.calls)]
                answer = tool_calls_answer(calls, text)
            return offline_reply(self.name, turn, answer, started, self._timer)
        raise NoRuleMatched(
            f"{self.name}: no rule applies at turn {facts.turn} (calls so far: {_nonzero(facts.calls)}, "
            f'refused: {sorted(facts.refused)}); add a last rule without "when" to catch the rest'
        )

    def _call(self, rule: Rule, call: RuleCall, index: int, turn: int, variables: Mapping[str, Any]) -> dict[str, Any]:
        at = f"call[{index}]"
        arguments = {key: self._get(rule, f"{at}.arguments.{key}", value, variables) for key, value in call.arguments}
        confidence = None
        if call.confidence is not None:
            number = self._get(rule, f"{at}.confidence", call.confidence, variables)
            confidence = float(number) if is_number(number) else None
        return {"id": call_id(turn, index), "name": call.name, "arguments": arguments, "confidence": confidence}

    def _get(self, rule: Rule, field: str, value: RuleValue, variables: Mapping[str, Any]) -> Any:
        try:
            return value.value(variables)
        except FeelError as exc:
            raise RuleFailed(f"{self.name}: {rule.where}.{field}: {exc}") from exc


def _nonzero(calls: Mapping[str, int]) -> dict[str, int]:
    return {name: count for name, count in calls.items() if count}


def parse_rules(data: Any, path: Path) -> list[Rule]:
    """Check a rules file's JSON and compile its FEEL; every problem is reported, with where it is."""
    problems = Problems(path)
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list) or not data["rules"]:
        problems.fail("file", 'must be an object {"rules": [...]} with at least one rule')
    rules: list[Rule] = []
    for index, item in enumerate(data["rules"]):
        where = f"rules[{index}]"
        if not isinstance(item, dict):
            problems.add(where, 'a rule must be an object with "call" or "final"')
            continue
        unknown = set(item) - {"when", "call", "final", "content"}
        if unknown:
            problems.add(where, f"unknown key(s) {sorted(unknown)}")
        when = None
        if "when" in item:
            if isinstance(item["when"], str) and item["when"].strip():
                condition = _compile(strip_marker(item["when"]), f"{where}.when", problems)
                when = RuleValue(expression=condition) if condition is not None else None
            else:
                problems.add(f"{where}.when", "must be a FEEL condition (a non-empty string)")
        content = None
        if item.get("content") is not None:
            if isinstance(item["content"], str):
                content = _value(item["content"], f"{where}.content", problems)
            else:
                problems.add(f"{where}.content", "must be a string")
        if ("final" in item) == ("call" in item):
            problems.add(where, 'needs exactly one of "call" and "final"')
        elif "final" in item:
            rules.append(Rule(where, when, final=_value(item["final"], f"{where}.final", problems), content=content))
        else:
            rules.append(Rule(where, when, calls=_calls(item["call"], f"{where}.call", problems), content=content))
    problems.raise_if_any()
    return rules


def _calls(value: Any, where: str, problems: Problems) -> tuple[RuleCall, ...]:
    if not isinstance(value, list) or not value:
        problems.add(where, "must be a non-empty list of calls")
        return ()
    calls: list[RuleCall] = []
    for index, call in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(call, dict):
            problems.add(at, 'a call must be an object with "name" and "arguments"')
            continue
        unknown = set(call) - {"name", "arguments", "confidence"}
        if unknown:
            problems.add(at, f"unknown key(s) {sorted(unknown)}")
        name, arguments, confidence = call.get("name"), call.get("arguments", {}), call.get("confidence")
        if not isinstance(name, str) or not name:
            problems.add(f"{at}.name", "must be a non-empty string")
            continue
        if not isinstance(arguments, dict):
            problems.add(f"{at}.arguments", 'must be an object: {"key": "=FEEL" or a literal}')
            continue
        compiled = tuple((str(key), _value(v, f"{at}.arguments.{key}", problems)) for key, v in arguments.items())
        rule_confidence = None
        if confidence is not None:
            if isinstance(confidence, str) and is_expression(confidence):
                rule_confidence = _value(confidence, f"{at}.confidence", problems)
            elif is_number(confidence) and math.isfinite(confidence):
                rule_confidence = RuleValue(literal=confidence)
            else:
                problems.add(f"{at}.confidence", 'must be a number or "=FEEL"')
        calls.append(RuleCall(name, compiled, rule_confidence))
    return tuple(calls)


def _value(raw: Any, where: str, problems: Problems) -> RuleValue:
    if isinstance(raw, str) and is_expression(raw):
        expression = _compile(strip_marker(raw), where, problems)
        return RuleValue(expression=expression) if expression is not None else RuleValue()
    return RuleValue(literal=raw)


def _compile(source: str, where: str, problems: Problems) -> Expression | None:
    try:
        return compile_expression(source)
    except FeelError as exc:
        problems.add(where, f"FEEL: {exc}")
        return None
