"""Decision tables: matching rules against the inputs and applying the hit policy and its aggregation.

Each input expression is evaluated once; a rule matches when every input
entry's unary tests hold for its input (``?`` is the input). Outputs are
evaluated only for matched rules. The result follows the DMN specification,
which is also what Camunda returns: one output column gives a value and
several give a context; a single-hit policy gives one result (or null when
nothing matched and no column has a default), a multiple-hit policy a list
(empty when nothing matched), and ``COLLECT`` with an aggregation a number.
A violated policy (``UNIQUE`` with several matches, ``ANY`` with differing
outputs) and an input outside its ``inputValues`` are errors, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.dmn.exceptions import DecisionEvaluationError
from engine.dmn.model import Aggregation, DecisionTable, HitPolicy, TableOutput
from engine.dmn.results import MatchedRule
from engine.feel import FeelError, compile_expression, compile_unary_tests
from engine.feel.operators import equal

__all__ = ["TableResult", "evaluate_table"]

_SINGLE = frozenset({HitPolicy.UNIQUE, HitPolicy.FIRST, HitPolicy.PRIORITY, HitPolicy.ANY})


@dataclass(frozen=True, slots=True)
class TableResult:
    value: Any
    matched: tuple[MatchedRule, ...]


@dataclass(frozen=True, slots=True)
class _TableRun:
    table: DecisionTable
    scope: Mapping[str, Any]
    names: frozenset[str]
    now: datetime
    decision_id: str

    def fail(self, message: str) -> DecisionEvaluationError:
        return DecisionEvaluationError(f"decision '{self.decision_id}': {message}", self.decision_id)

    def expression(self, text: str, what: str) -> Any:
        try:
            return compile_expression(text.strip() or "null", self.names).evaluate(self.scope, self.now)
        except FeelError as exc:
            raise self.fail(f"{what} {text.strip()!r}: {exc.message}") from exc

    def holds(self, tests: str, value: Any, what: str) -> bool:
        try:
            return compile_unary_tests(tests.strip() or "-", self.names).matches(value, self.scope, self.now)
        except FeelError as exc:
            raise self.fail(f"{what} {tests.strip()!r}: {exc.message}") from exc


def _shape(outputs: tuple[TableOutput, ...], values: list[Any]) -> Any:
    if len(outputs) == 1:
        return values[0]
    return {o.name or f"output{i}": v for i, (o, v) in enumerate(zip(outputs, values, strict=True), start=1)}


def evaluate_table(
    table: DecisionTable, scope: Mapping[str, Any], names: frozenset[str], now: datetime, decision_id: str
) -> TableResult:
    """Evaluate ``table`` against ``scope``; DecisionEvaluationError when it cannot give a result."""
    run = _TableRun(table, scope, names, now, decision_id)
    inputs = []
    for position, table_input in enumerate(table.inputs, start=1):
        label = table_input.label or str(position)
        value = run.expression(table_input.expression, f"input {label}")
        if table_input.allowed and not run.holds(table_input.allowed, value, f"input {label} values"):
            raise run.fail(f"input {table_input.label or table_input.expression.strip()!r} is {value!r}, "
                           f"not one of its allowed values {table_input.allowed.strip()}")
        inputs.append(value)
    matched: list[MatchedRule] = []
    rows: list[list[Any]] = []
    for rule in table.rules:
        where = f"rule {rule.index}" + (f" ({rule.id})" if rule.id else "")
        if not all(run.holds(test, value, f"{where} input entry")
                   for test, value in zip(rule.tests, inputs, strict=True)):
            continue
        values = [run.expression(text, f"{where} output entry") for text in rule.outputs]
        for column, value in zip(table.outputs, values, strict=True):
            if column.allowed and value is not None and not run.holds(column.allowed, value, "output values"):
                raise run.fail(f"{where} gives {value!r} for output {column.name or ''!r}, not one of its "
                               f"allowed values {column.allowed.strip()}")
        rows.append(values)
        matched.append(MatchedRule(rule_id=rule.id, index=rule.index, outputs=_named(table.outputs, values)))
        if table.hit_policy == HitPolicy.FIRST:
            break
    return _hit(run, rows, matched)


def _named(outputs: tuple[TableOutput, ...], values: list[Any]) -> dict[str, Any]:
    return {o.name or f"output{i}": v for i, (o, v) in enumerate(zip(outputs, values, strict=True), start=1)}


def _hit(run: _TableRun, rows: list[list[Any]], matched: list[MatchedRule]) -> TableResult:
    table, policy = run.table, run.table.hit_policy
    if not rows:
        if any(o.default is not None for o in table.outputs):
            defaults = [run.expression(o.default or "null", "default output") for o in table.outputs]
            value = _shape(table.outputs, defaults)
            return TableResult(value if policy in _SINGLE or table.aggregation else [value], ())
        if policy in _SINGLE:
            return TableResult(None, ())
        return TableResult(None if table.aggregation not in (None, Aggregation.COUNT) else
                           (Decimal(0) if table.aggregation == Aggregation.COUNT else []), ())
    if policy == HitPolicy.UNIQUE and len(rows) > 1:
        indexes = ", ".join(str(m.index) for m in matched)
        raise run.fail(f"hit policy UNIQUE but rules {indexes} all match")
    if policy == HitPolicy.ANY and any(not _same(row, rows[0]) for row in rows[1:]):
        indexes = ", ".join(str(m.index) for m in matched)
        raise run.fail(f"hit policy ANY but the matching rules {indexes} give different outputs")
    if policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER):
        order = sorted(range(len(rows)), key=lambda i: _priority(run, rows[i]))
        rows, matched = [rows[i] for i in order], [matched[i] for i in order]
        if policy == HitPolicy.PRIORITY:
            rows, matched = rows[:1], matched[:1]
    if policy in _SINGLE:
        return TableResult(_shape(table.outputs, rows[0]), (matched[0],))
    values = [_shape(table.outputs, row) for row in rows]
    if policy == HitPolicy.COLLECT and table.aggregation is not None:
        return TableResult(_aggregate(run, table.aggregation, values), tuple(matched))
    return TableResult(values, tuple(matched))


def _same(a: list[Any], b: list[Any]) -> bool:
    return all((x is None and y is None) or equal(x, y) is True for x, y in zip(a, b, strict=True))


def _priority(run: _TableRun, row: list[Any]) -> tuple[int, ...]:
    """Positions of the row's outputs in their columns' ``outputValues`` lists: smaller comes first."""
    ranks = []
    for column, value in zip(run.table.outputs, row, strict=True):
        listed = run.expression(f"[{column.allowed}]", "output values") if column.allowed else []
        listed = listed if isinstance(listed, list) else []
        ranks.append(next((i for i, v in enumerate(listed) if equal(v, value) is True), len(listed)))
    return tuple(ranks)


def _aggregate(run: _TableRun, aggregation: Aggregation, values: list[Any]) -> Any:
    if len(run.table.outputs) != 1:
        raise run.fail(f"aggregation {aggregation} needs exactly one output column")
    if aggregation == Aggregation.COUNT:
        return Decimal(len(values))
    present = [v for v in values if v is not None]
    if not present:
        return None
    if aggregation == Aggregation.SUM:
        if not all(isinstance(v, Decimal) and not isinstance(v, bool) for v in present):
            raise run.fail(f"aggregation SUM needs numbers, got {present!r}")
        return sum(present, Decimal(0))
    try:
        return min(present) if aggregation == Aggregation.MIN else max(present)
    except TypeError as exc:
        raise run.fail(f"aggregation {aggregation} needs comparable outputs, got {present!r}") from exc
