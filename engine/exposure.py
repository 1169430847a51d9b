"""A process offered as a tool: ``<agenthub:tool>`` on the process and the inputs it declares.

    <bpmn:process id="refund" isExecutable="true">
      <bpmn:documentation>Refund an order.</bpmn:documentation>
      <bpmn:extensionElements>
        <agenthub:tool>
          <agenthub:input name="order" type="string" required="true" description="Order number"/>
          <agenthub:input name="amount" type="number"/>
        </agenthub:tool>
      </bpmn:extensionElements>

The engine reads and checks the declaration; the protocol layers turn it
into an MCP input schema or an A2A skill. Without declared inputs the tool
takes any object of variables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.model import Process
from engine.model.elements import ExtensionElement
from engine.parser import Problem

INPUT_TYPES = ("string", "number", "integer", "boolean", "object", "array")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class ToolInput:
    name: str
    type: str = "string"
    required: bool = False
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ToolSpec:
    process_id: str
    title: str | None
    description: str
    inputs: tuple[ToolInput, ...]
    declared: bool  # False: exposed at deployment without an <agenthub:tool> declaration

    def input_schema(self) -> dict[str, Any]:
        """JSON Schema of the tool's arguments (the instance's start variables)."""
        if not self.inputs:
            return {"type": "object", "additionalProperties": True}
        properties: dict[str, Any] = {}
        for item in self.inputs:
            prop: dict[str, Any] = {"type": item.type}
            if item.description:
                prop["description"] = item.description
            properties[item.name] = prop
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        required = [i.name for i in self.inputs if i.required]
        if required:
            schema["required"] = required
        return schema


def declaration(process: Process) -> ExtensionElement | None:
    return next((e for e in process.extension_elements if e.name == "tool"), None)


def tool_spec(process: Process, *, exposed: bool = False) -> ToolSpec | None:
    """The tool a process offers: declared with ``<agenthub:tool>``, or exposed at deployment; else None."""
    element = declaration(process)
    if element is None and not exposed:
        return None
    inputs: list[ToolInput] = []
    for child in element.children if element is not None else ():
        if child.name != "input":
            continue
        attrs = dict(child.attributes)
        inputs.append(
            ToolInput(
                name=attrs.get("name", ""),
                type=attrs.get("type", "string"),
                required=attrs.get("required", "false").strip().lower() == "true",
                description=attrs.get("description"),
            )
        )
    attrs = dict(element.attributes) if element is not None else {}
    description = attrs.get("description") or process.documentation or process.name or f"Run process {process.id}"
    return ToolSpec(
        process_id=process.id,
        title=process.name,
        description=description.strip(),
        inputs=tuple(inputs),
        declared=element is not None,
    )


def tool_problems(process: Process, source: str) -> list[Problem]:
    """What is wrong with a process's ``<agenthub:tool>`` declaration, element by element."""
    element = declaration(process)
    if element is None:
        return []
    problems: list[Problem] = []

    def problem(message: str, line: int | None) -> None:
        problems.append(Problem(source_name=source, line=line, element_id=process.id, message=message))

    seen: set[str] = set()
    for child in element.children:
        if child.name != "input":
            problem(f"agenthub:tool may only hold agenthub:input elements, not '{child.name}'", child.line)
            continue
        attrs = dict(child.attributes)
        name = attrs.get("name", "")
        if not _NAME.match(name):
            problem(f"agenthub:input needs a name that is a variable name, not '{name}'", child.line)
        elif name in seen:
            problem(f"agenthub:input '{name}' is declared twice", child.line)
        seen.add(name)
        kind = attrs.get("type", "string")
        if kind not in INPUT_TYPES:
            problem(f"agenthub:input '{name}' has type '{kind}': use one of {', '.join(INPUT_TYPES)}", child.line)
        if attrs.get("required", "false").strip().lower() not in ("true", "false"):
            problem(f"agenthub:input '{name}': required must be true or false", child.line)
    return problems
