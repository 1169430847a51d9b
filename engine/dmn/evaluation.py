"""Evaluating a decision of a ``DecisionGraph``: its requirements first, then its boxed expression.

The scope a decision sees is, first to last: the results of the decisions
evaluated so far (by name), the business knowledge models and decision
services (as FEEL functions, by name), then the caller's variables. Letting
every variable through (rather than only the declared input data) is what
Camunda does for a decision called from a process, where the process
variables are the inputs. A decision's result is coerced to its ``typeRef``
as DMN says (a singleton list to its item, a value of the wrong type to null).
Everything is deterministic: ``now`` is passed in and nothing reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterator as _Iter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.dmn.coercion import coerce
from engine.dmn.exceptions import DecisionEvaluationError, DecisionNotFound
from engine.dmn.model import (
    Boxed,
    Conditional,
    Context,
    Decision,
    DecisionGraph,
    DecisionService,
    DecisionTable,
    Filter,
    FunctionDefinition,
    Invocation,
    Iterator,
    ListOf,
    Literal,
    Relation,
)
from engine.dmn.results import DecisionOutcome, EvaluatedDecision, MatchedRule
from engine.dmn.tables import evaluate_table
from engine.feel import FeelError, FeelFunction, compile_expression

__all__ = ["evaluate_decision", "evaluate_service"]

_MAX_DEPTH = 64


def evaluate_service(graph: DecisionGraph, name: str, variables: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Invoke the decision service ``name`` (or id): input data and input decisions come from ``variables``;
    answers each output decision's value by name."""
    service = graph.services.get(name) or next((s for s in graph.services.values() if s.name == name), None)
    if service is None:
        raise DecisionNotFound(f"the DMN model has no decision service '{name}'", name)
    given = {d.name: variables.get(d.name) for i in service.input_decisions if (d := graph.decisions.get(i))}
    run = _Run(graph, variables, now, given)
    return {d.name: run.decision(d) for i in service.outputs if (d := graph.decisions.get(i)) is not None}


class _Layers(Mapping[str, Any]):
    """Read-only layers of names, the first that has a name wins (a context's entries over its scope)."""

    def __init__(self, *layers: Mapping[str, Any]) -> None:
        self._layers = layers

    def __getitem__(self, key: str) -> Any:
        for layer in self._layers:
            if key in layer:
                return layer[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(key in layer for layer in self._layers)

    def __iter__(self) -> _Iter[str]:
        return iter({k: None for layer in self._layers for k in layer})

    def __len__(self) -> int:
        return len({k for layer in self._layers for k in layer})


def evaluate_decision(graph: DecisionGraph, decision_id: str, variables: Mapping[str, Any],
                      now: datetime) -> DecisionOutcome:
    """Evaluate the decision ``decision_id`` (an id, or else a name) of ``graph`` with ``variables`` as inputs."""
    decision = graph.decisions.get(decision_id) or graph.decision_named(decision_id)
    if decision is None:
        known = ", ".join(sorted(graph.decisions)) or "none"
        raise DecisionNotFound(f"the DMN model has no decision '{decision_id}' (it has {known})", decision_id)
    run = _Run(graph, variables, now)
    value = run.decision(decision)
    return DecisionOutcome(decision_id=decision.id, value=value, evaluated=tuple(run.trace))


class _Run:
    def __init__(self, graph: DecisionGraph, variables: Mapping[str, Any], now: datetime,
                 given: Mapping[str, Any] | None = None) -> None:
        self.graph = graph
        self.now = now
        self.results: dict[str, Any] = dict(given or {})  # by decision name
        self.active: list[str] = []
        self.trace: list[EvaluatedDecision] = []
        self.functions: dict[str, Any] = {}
        for bkm in graph.knowledge.values():
            self.functions[bkm.name] = self.function(bkm.logic, bkm.name, None)
        for service in graph.services.values():
            self.functions[service.name] = self.service(service)
        self.scope: Mapping[str, Any] = _Layers(self.results, self.functions, dict(variables))

    def fail(self, decision: Decision | None, message: str) -> DecisionEvaluationError:
        ident = decision.id if decision is not None else ""
        where = f"decision '{ident}'" if decision is not None else "DMN model"
        return DecisionEvaluationError(f"{where}: {message}", ident)

    def decision(self, decision: Decision) -> Any:
        if decision.name in self.results:
            return self.results[decision.name]
        if decision.id in self.active or len(self.active) > _MAX_DEPTH:
            raise self.fail(decision, f"requirements form a cycle: {' -> '.join([*self.active, decision.id])}")
        self.active.append(decision.id)
        try:
            for required in decision.required_decisions:
                target = self.graph.decisions.get(required)
                if target is None:
                    raise self.fail(decision, f"requires decision '{required}', which the model does not have")
                self.decision(target)
            policy: str | None = None
            matched: tuple[MatchedRule, ...] = ()
            if isinstance(decision.logic, DecisionTable):
                table = evaluate_table(decision.logic, self.scope, self.graph.names, self.now, decision.id)
                value, matched, policy = table.value, table.matched, str(decision.logic.hit_policy)
            else:
                value = self.boxed(decision.logic, self.scope, decision)
        finally:
            self.active.pop()
        value = coerce(value, decision.type_ref, self.graph.items)
        self.results[decision.name] = value
        self.trace.append(EvaluatedDecision(decision_id=decision.id, decision_name=decision.name, value=value,
                                            hit_policy=policy, matched_rules=matched))
        return value

    def feel(self, text: str, scope: Mapping[str, Any], decision: Decision | None) -> Any:
        try:
            return compile_expression(text.strip() or "null", self.graph.names).evaluate(scope, self.now)
        except FeelError as exc:
            raise self.fail(decision, f"{text.strip()[:120]!r}: {exc.message}") from exc

    def boxed(self, logic: Boxed | None, scope: Mapping[str, Any], decision: Decision | None) -> Any:
        if logic is None:
            return None
        if isinstance(logic, Literal):
            return self.feel(logic.text, scope, decision)
        if isinstance(logic, Context):
            result: dict[str, Any] = {}
            inner = _Layers(result, scope)
            for entry in logic.entries:
                value = self.boxed(entry.value, inner, decision)
                if entry.name is None:
                    return value
                result[entry.name] = value
            return result
        if isinstance(logic, ListOf):
            return [self.boxed(item, scope, decision) for item in logic.items]
        if isinstance(logic, Relation):
            return [{c: self.boxed(cell, scope, decision) for c, cell in zip(logic.columns, row, strict=False)}
                    for row in logic.rows]
        if isinstance(logic, FunctionDefinition):
            return self.function(logic, "anonymous", scope)
        if isinstance(logic, Invocation):
            return self.invocation(logic, scope, decision)
        if isinstance(logic, DecisionTable):
            ident = decision.id if decision is not None else ""
            return evaluate_table(logic, scope, self.graph.names, self.now, ident).value
        return self.boxed_1_5(logic, scope, decision)

    def boxed_1_5(self, logic: Conditional | Filter | Iterator, scope: Mapping[str, Any],
                  decision: Decision | None) -> Any:
        """The DMN 1.5 boxed forms; as in FEEL, a condition that is not a boolean gives null."""
        if isinstance(logic, Conditional):
            condition = self.boxed(logic.condition, scope, decision)
            if condition is not None and not isinstance(condition, bool):
                return None
            return self.boxed(logic.then if condition is True else logic.otherwise, scope, decision)
        source = self.boxed(logic.source, scope, decision)
        if not isinstance(source, list):
            return None
        if isinstance(logic, Filter):
            kept = []
            for item in source:
                inner = _Layers({"item": item, **(item if isinstance(item, dict) else {})}, scope)
                verdict = self.boxed(logic.match, inner, decision)
                if verdict is not None and not isinstance(verdict, bool):
                    return None
                if verdict is True:
                    kept.append(item)
            return kept
        results = [self.boxed(logic.body, _Layers({logic.variable: item}, scope), decision) for item in source]
        if logic.kind == "for":
            return results
        if any(r is not None and not isinstance(r, bool) for r in results):
            return None
        if logic.kind == "some":
            return True if any(r is True for r in results) else (None if None in results else False)
        return False if any(r is False for r in results) else (None if None in results else True)

    def function(self, logic: FunctionDefinition, name: str, scope: Mapping[str, Any] | None) -> FeelFunction:
        params = logic.params

        def impl(*args: Any) -> Any:
            if logic.kind.upper() != "FEEL":
                raise self.fail(None, f"function '{name}' is of kind {logic.kind}, which is not run")
            bound = dict(zip(params, args, strict=False))
            return self.boxed(logic.body, _Layers(bound, scope if scope is not None else self.scope), None)

        return FeelFunction(name, params, impl, required=0)

    def service(self, service: DecisionService) -> FeelFunction:
        decisions = [self.graph.decisions[i] for i in service.input_decisions if i in self.graph.decisions]
        inputs = [self.graph.inputs[i] for i in service.input_data if i in self.graph.inputs]
        params = tuple(i.name for i in inputs) + tuple(d.name for d in decisions)  # the order the TCK calls them in

        def impl(*args: Any) -> Any:
            given = dict(zip(params, args, strict=False))
            run = _Run(self.graph, given, self.now, {d.name: given.get(d.name) for d in decisions})
            outputs = [self.graph.decisions[i] for i in service.outputs if i in self.graph.decisions]
            values = {d.name: run.decision(d) for d in outputs}
            return next(iter(values.values())) if len(values) == 1 else values

        return FeelFunction(service.name, params, impl, required=0)

    def invocation(self, logic: Invocation, scope: Mapping[str, Any], decision: Decision | None) -> Any:
        target = self.boxed(logic.target, scope, decision)
        if not isinstance(target, FeelFunction):
            return None
        named = {name: self.boxed(value, scope, decision) for name, value in logic.bindings}
        if set(named) - set(target.params):
            return None
        args = [named.get(p) for p in target.params]
        if target.needs_clock:
            args.insert(0, self.now)
        return target.impl(*args)
