"""A DMN decision offered as a tool: ``<agenthub:tool/>`` on the decision, and the inputs it reads.

    <decision id="discount" name="Discount">
      <description>The discount rate for an order.</description>
      <extensionElements>
        <agenthub:tool name="discount" description="..."/>   <!-- xmlns:agenthub="urn:agenthub:bpmn:1" -->
      </extensionElements>
      <decisionTable> ... </decisionTable>
    </decision>

A process becomes a tool by ``<agenthub:tool>`` (or ``--expose``); a
decision by the same marker inside its ``extensionElements``. The marker is
part of the DMN text, so it is versioned with the decision: the newest
version decides whether the decision is a tool, and a call evaluates that
version. ``name`` (default: the decision id) and ``description`` (default:
the decision's ``<description>``, else its name) are optional.

The arguments are the variables the decision reads, found in the model,
not declared: its input data (``inputData``, typed by their variable's
``typeRef``) and the free names of its decision tables' input expressions
and of its literal expressions, through every required decision. A table
input that is a plain name takes the ``typeRef`` of its input expression;
a path (``customer.orders``) makes its first name an object. Names of
decisions and business knowledge models are computed, never arguments.
Other boxed expressions (contexts, invocations, ...) may read more, so the
schema allows other properties; nothing is required, since DMN reads a
missing input as null.

The protocol layer (``protocols.mcp``) lists and calls these; the engine
only says what a decision offers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.dmn import DecisionGraph, DecisionVersion
from engine.dmn.model import DecisionTable, Literal
from engine.feel import FeelError, compile_expression

__all__ = ["DecisionInput", "DecisionToolSpec", "decision_tool", "json_type"]

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "double": {"type": "number"},
    "integer": {"type": "integer"},
    "long": {"type": "integer"},
    "int": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "time": {"type": "string", "format": "time"},
    "dateTime": {"type": "string", "format": "date-time"},
    "date and time": {"type": "string", "format": "date-time"},
    "dayTimeDuration": {"type": "string", "format": "duration"},
    "days and time duration": {"type": "string", "format": "duration"},
    "yearMonthDuration": {"type": "string", "format": "duration"},
    "years and months duration": {"type": "string", "format": "duration"},
    "context": {"type": "object"},
    "list": {"type": "array"},
}


def json_type(type_ref: str | None) -> dict[str, Any]:
    """The JSON Schema of a DMN ``typeRef`` (FEEL's built-in types); an item definition or ``Any``: any value."""
    return dict(_TYPES.get(type_ref or "", {}))


@dataclass(frozen=True, slots=True)
class DecisionInput:
    name: str
    type_ref: str | None = None
    is_object: bool = False  # read as a path (``customer.orders``): an object whatever its typeRef

    def schema(self) -> dict[str, Any]:
        return {"type": "object"} if self.is_object else json_type(self.type_ref)


@dataclass(frozen=True, slots=True)
class DecisionToolSpec:
    """One decision version offered as a tool."""

    decision_id: str
    version: int
    name: str
    title: str | None
    description: str
    inputs: tuple[DecisionInput, ...]

    def input_schema(self) -> dict[str, Any]:
        properties = {item.name: item.schema() for item in self.inputs}
        return {"type": "object", "properties": properties, "additionalProperties": True}

    @staticmethod
    def output_schema() -> dict[str, Any]:
        """The shape of a call's structured result: the REST API's evaluation (``DecisionResult.to_dict``)."""
        rule = {
            "type": "object",
            "properties": {"ruleId": {"type": ["string", "null"]}, "ruleIndex": {"type": "integer"}, "outputs": {}},
        }
        return {
            "type": "object",
            "properties": {
                "decisionId": {"type": "string"},
                "decisionName": {"type": "string"},
                "version": {"type": "integer"},
                "decisionKey": {"type": "integer"},
                "result": {"description": "The decision's result: a value, an object of outputs or a list of them"},
                "matchedRules": {"type": "array", "items": rule},
                "evaluatedDecisions": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["decisionId", "version", "result", "matchedRules"],
        }


def decision_tool(version: DecisionVersion) -> DecisionToolSpec | None:
    """The tool a decision version offers, or None when it is not marked ``<agenthub:tool/>``."""
    decision = version.graph.decisions.get(version.decision_id)
    if decision is None or decision.tool is None:
        return None
    description = (
        decision.tool.description or decision.description or decision.name or f"Evaluate decision {decision.id}"
    )
    return DecisionToolSpec(
        decision_id=decision.id,
        version=version.version,
        name=decision.tool.name or decision.id,
        title=decision.name or None,
        description=description,
        inputs=inputs_of(version.graph, decision.id),
    )


def inputs_of(graph: DecisionGraph, decision_id: str) -> tuple[DecisionInput, ...]:
    """The variables a decision and its required decisions read (see the module docstring), by first appearance."""
    computed = (
        {d.name for d in graph.decisions.values()}
        | {k.name for k in graph.knowledge.values()}
        | {s.name for s in graph.services.values()}
    )
    found: dict[str, DecisionInput] = {}

    def add(item: DecisionInput) -> None:
        known = found.get(item.name)
        if item.name in computed or (known is not None and (known.type_ref or known.is_object)):
            return
        found[item.name] = item  # first seen, or the first that says what type it is (keeps its place)

    seen: set[str] = set()
    pending = [decision_id]
    while pending:
        ident = pending.pop(0)
        decision = graph.decisions.get(ident)
        if decision is None or ident in seen:
            continue
        seen.add(ident)
        for input_id in decision.required_inputs:
            data = graph.inputs.get(input_id)
            if data is not None:
                add(DecisionInput(data.name, data.type_ref))
        logic = decision.logic
        if isinstance(logic, DecisionTable):
            for column in logic.inputs:
                for item in _read(column.expression, column.type_ref, graph):
                    add(item)
        elif isinstance(logic, Literal):
            for item in _read(logic.text, None, graph):
                add(item)
        pending.extend(decision.required_decisions)
    return tuple(found.values())


def _read(text: str, type_ref: str | None, graph: DecisionGraph) -> list[DecisionInput]:
    source = text.strip()
    try:
        names = compile_expression(source or "null", graph.names).names
    except FeelError:  # reported at deployment; a tool lists what it can
        return []
    if names == {source}:
        return [DecisionInput(source, type_ref)]
    paths = {name for name in names if re.search(rf"(?<![\w.]){re.escape(name)}\s*\.\s*[^\W\d]", source)}
    return [DecisionInput(name, None, is_object=name in paths) for name in sorted(names)]
