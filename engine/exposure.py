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
takes any object of variables. An input may list the values it takes
(``enum="low,high"``); ``<agenthub:schema>`` holds an explicit JSON Schema
(Draft 2020-12) for the arguments instead of the inputs. What the tool
returns is declared with ``<agenthub:output name=".." type=".."/>`` (its
output schema), and how it behaves with the MCP hints as attributes of
``<agenthub:tool>``: ``readOnlyHint``, ``destructiveHint``, ``idempotentHint``
and ``openWorldHint`` (``true`` or ``false``); ``taskSupport`` (``forbidden``,
``optional``, the default, or ``required``) says whether an MCP client may, or
must, run a call as a task (MCP Tasks); ``clientCapabilities`` (``sampling``,
``elicitation``, ``roots``, comma-separated) names what an MCP client must
offer for a call to make sense (an ``mcp:sampling`` agent, a question for the
caller, the client's roots, which the hub then asks for before the instance
starts, as its variable ``clientRoots``): a client without it is refused
before anything starts. A ``<agenthub:schema>``
on the start event is the tool's start form: what the caller's user is asked
(MCP elicitation, the start event's documentation as the question) before an
instance starts, its answer added to the arguments. Prompts and resources declared
beside it (``engine.declarations``) travel with the spec.

Camunda's way is understood too (the "MCP start event" element template of
Camunda 8.10's Processes MCP Server): a message start event of the process
that carries the ``zeebe:property`` ``io.camunda.tool:name`` makes the process
a tool under that name, with no ``<agenthub:tool>`` and no ``--expose``. Its
description is composed as Camunda composes it: ``io.camunda.tool:purpose``,
then ``## Inputs``, ``## When to use``, ``## When not to use`` and ``## Results``
from ``inputs``, ``when_to_use``, ``when_not_to_use`` and ``results``, each
given. A call starts the instance at that start event (``start_element``).
The inputs are prose there, so the tool takes any object of variables, unless
an ``<agenthub:tool>`` beside it declares them (it then gives the inputs and
the description; the name and the start event stay Camunda's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine import strict_json
from engine.declarations import PromptSpec, ResourceSpec, declaration_problems, prompts_of, resources_of
from engine.model import Process
from engine.model.elements import EventDefinitionKind, ExtensionElement, StartEvent
from engine.parser import Problem

INPUT_TYPES = ("string", "number", "integer", "boolean", "object", "array")
HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
TASK_SUPPORT = ("forbidden", "optional", "required")
CLIENT_CAPABILITIES = ("sampling", "elicitation", "roots")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CAMUNDA_TOOL_NAME = "io.camunda.tool:name"
_CAMUNDA_TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")  # the template's constraint
_CAMUNDA_PARTS = (("io.camunda.tool:purpose", None), ("io.camunda.tool:inputs", "## Inputs"),
                  ("io.camunda.tool:when_to_use", "## When to use"),
                  ("io.camunda.tool:when_not_to_use", "## When not to use"), ("io.camunda.tool:results", "## Results"))


@dataclass(frozen=True, slots=True)
class ToolInput:
    name: str
    type: str = "string"
    required: bool = False
    description: str | None = None
    values: tuple[str, ...] = ()  # ``enum="a,b"``: the only values it takes

    def schema(self) -> dict[str, Any]:
        prop: dict[str, Any] = {"type": self.type}
        if self.description:
            prop["description"] = self.description
        if self.values:
            prop["enum"] = list(self.values)
        return prop


@dataclass(frozen=True, slots=True)
class StartForm:
    """What a tool's caller is asked before an instance starts: the start event, the question and its JSON
    Schema (an object of the answer's fields)."""

    element_id: str
    message: str
    schema: str  # JSON text, checked at deployment

    def json_schema(self) -> dict[str, Any]:
        found: dict[str, Any] = strict_json.loads(self.schema)
        return found


@dataclass(frozen=True, slots=True)
class ToolSpec:
    process_id: str
    title: str | None
    description: str
    inputs: tuple[ToolInput, ...]
    declared: bool  # False: exposed at deployment without an <agenthub:tool> declaration
    tool_name: str | None = None  # Camunda's MCP start event names the tool; else it is the process id
    start_element: str | None = None  # the start event a call starts at (Camunda's MCP start event), else none
    outputs: tuple[ToolInput, ...] = ()  # <agenthub:output>: the variables a completed instance answers with
    hints: tuple[tuple[str, bool], ...] = ()  # the MCP tool annotations declared on <agenthub:tool>
    schema: str | None = None  # <agenthub:schema>: an explicit JSON Schema of the arguments (its text)
    task_support: str = "optional"  # taskSupport on <agenthub:tool>: forbidden, optional or required (MCP Tasks)
    client_capabilities: tuple[str, ...] = ()  # clientCapabilities on <agenthub:tool>: what an MCP client must offer
    start_form: StartForm | None = None  # <agenthub:schema> on the start event: asked of the caller's user first
    prompts: tuple[PromptSpec, ...] = ()
    resources: tuple[ResourceSpec, ...] = ()

    @property
    def name(self) -> str:
        """The tool's name: Camunda's ``io.camunda.tool:name``, else the process id."""
        return self.tool_name or self.process_id

    def input_schema(self) -> dict[str, Any]:
        """JSON Schema of the tool's arguments (the instance's start variables)."""
        if self.schema is not None:
            explicit: dict[str, Any] = strict_json.loads(self.schema)  # checked at deployment
            return explicit
        if not self.inputs:
            return {"type": "object", "additionalProperties": True}
        properties = {item.name: item.schema() for item in self.inputs}
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        required = [i.name for i in self.inputs if i.required]
        if required:
            schema["required"] = required
        return schema


    def output_schema(self) -> dict[str, Any] | None:
        """JSON Schema of a completed call's structured result, where outputs are declared.

        Nothing is listed as required: a call that returns while the instance waits answers with its id and
        state instead, and that answer must fit the schema too.
        """
        if not self.outputs:
            return None
        return {"type": "object", "properties": {item.name: item.schema() for item in self.outputs}}


def _inputs(element: ExtensionElement | None, kind: str) -> tuple[ToolInput, ...]:
    found = []
    for child in element.children if element is not None else ():
        if child.name != kind:
            continue
        attrs = dict(child.attributes)
        found.append(ToolInput(
            name=attrs.get("name", ""),
            type=attrs.get("type", "string"),
            required=attrs.get("required", "false").strip().lower() == "true",
            description=attrs.get("description"),
            values=tuple(v.strip() for v in attrs.get("enum", "").split(",") if v.strip()),
        ))
    return tuple(found)


def declaration(process: Process) -> ExtensionElement | None:
    return next((e for e in process.extension_elements if e.name == "tool"), None)


def camunda_tool_events(process: Process) -> list[StartEvent]:
    """The process's message start events that carry Camunda's MCP start event template (a tool name)."""
    return [node for node in process.nodes.values()
            if isinstance(node, StartEvent) and node.parent == process.id and node.definition is not None
            and node.definition.kind == EventDefinitionKind.MESSAGE
            and any(key == CAMUNDA_TOOL_NAME for key, _ in node.properties)]


def offers_tool(process: Process) -> bool:
    """Whether the process makes itself a tool: ``<agenthub:tool>``, or Camunda's MCP start event."""
    return declaration(process) is not None or bool(camunda_tool_events(process))


def _camunda_description(properties: dict[str, str]) -> str:
    parts = []
    for key, label in _CAMUNDA_PARTS:
        value = (properties.get(key) or "").strip()
        if value:
            parts.append(value if label is None else f"{label}\n{value}")
    return "\n\n".join(parts)


def tool_spec(process: Process, *, exposed: bool = False) -> ToolSpec | None:
    """The tool a process offers: declared with ``<agenthub:tool>``, Camunda's MCP start event, or exposed at
    deployment; else None."""
    element = declaration(process)
    events = camunda_tool_events(process)
    if element is None and not events and not exposed:
        return None
    camunda = dict(events[0].properties) if events else {}
    schema = next((c.text or "" for c in element.children if c.name == "schema"), None) if element else None
    attrs = dict(element.attributes) if element is not None else {}
    description = attrs.get("description") or (_camunda_description(camunda) if element is None else "") or \
        process.documentation or process.name or f"Run process {process.id}"
    return ToolSpec(
        process_id=process.id,
        title=process.name,
        description=description.strip(),
        inputs=_inputs(element, "input"),
        declared=element is not None or bool(events),
        tool_name=camunda[CAMUNDA_TOOL_NAME].strip() if events else None,
        start_element=events[0].id if events else None,
        outputs=_inputs(element, "output"),
        hints=tuple((h, attrs[h].strip().lower() == "true") for h in HINTS if h in attrs),
        schema=schema,
        task_support=attrs.get("taskSupport", "optional").strip(),
        client_capabilities=_names(attrs.get("clientCapabilities", "")),
        start_form=_start_form(process, events[0].id if events else None),
        prompts=prompts_of(process),
        resources=resources_of(process),
    )


def _start_form(process: Process, start_element: str | None) -> StartForm | None:
    """The start form of the start event a call starts at (``start_element``, else the process's none start)."""
    for node in process.nodes.values():
        if not isinstance(node, StartEvent) or node.parent != process.id:
            continue
        if (node.id != start_element) if start_element is not None else (node.definition is not None):
            continue
        schema = next((e for e in node.extensions if e.name == "schema"), None)
        if schema is not None:
            message = (node.documentation or node.name or f"Start {process.name or process.id}").strip()
            return StartForm(node.id, message, schema.text or "")
    return None


def _names(listed: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in listed.split(",") if name.strip())


_HEADER_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an RFC 9110 field-name token
_HEADER_TYPES = ("string", "integer", "boolean")
_DATA = ("x-mcp-header", "enum", "const", "default", "examples")  # keywords whose values are data, not schemas


def header_problems(schema: dict[str, Any]) -> list[str]:
    """What is wrong with the schema's ``x-mcp-header`` annotations (MCP SEP-2243: a property's value mirrored
    as the HTTP header ``Mcp-Param-<token>``, which clients must send and the hub checks). Clients leave a tool
    with a wrong one out, so it is refused here: only on a property reached from the root through
    ``properties`` alone, a token, on a string, integer or boolean property, unique whatever the case."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    stack: list[tuple[tuple[str, ...] | None, Any]] = [((), schema)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, list):
            stack.extend((None, item) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                stack.extend(((*path, name) if path is not None else None, sub) for name, sub in value.items())
            elif key not in _DATA:
                stack.append((None, value))  # any other keyword leaves the chain of pure properties
        if "x-mcp-header" not in node:
            continue
        token, where = node["x-mcp-header"], ".".join(path or ())
        if not path:
            problems.append("x-mcp-header may only annotate a property reached through 'properties' alone")
        elif not isinstance(token, str) or not _HEADER_TOKEN.fullmatch(token):
            problems.append(f"property '{where}': x-mcp-header must be a header name token (letters, digits, "
                            f"-_.!#$%&'*+^`|~), not {token!r}")
        elif node.get("type") not in _HEADER_TYPES:
            problems.append(f"property '{where}': x-mcp-header is only allowed on a string, integer or boolean "
                            f"property, not {node.get('type')!r}")
        elif token.lower() in seen:
            problems.append(f"property '{where}': x-mcp-header '{token}' is property '{seen[token.lower()]}''s "
                            "too (header names ignore case)")
        else:
            seen[token.lower()] = where
    return problems


def tool_problems(process: Process, source: str) -> list[Problem]:
    """What is wrong with a process's ``<agenthub:tool>`` declaration or Camunda MCP start event, element by
    element."""
    problems: list[Problem] = []

    def problem(message: str, line: int | None, element_id: str = process.id) -> None:
        problems.append(Problem(source_name=source, line=line, element_id=element_id, message=message))

    events = camunda_tool_events(process)
    for event in events:
        name = dict(event.properties)[CAMUNDA_TOOL_NAME].strip()
        if not _CAMUNDA_TOOL_NAME.match(name):
            problem(f"the MCP start event's tool name ({CAMUNDA_TOOL_NAME}) '{name}' must be 1 to 100 letters, "
                    "digits, hyphens, underscores or dots", event.line, event.id)
    if len(events) > 1:
        problem(f"the MCP start events {', '.join(e.id for e in events)} each name a tool: a process is one tool "
                "here, so keep one of them", events[1].line, events[1].id)
    problems.extend(declaration_problems(process, source))
    element = declaration(process)
    if element is None:
        return problems
    attrs = dict(element.attributes)
    for hint in HINTS:
        if hint in attrs and attrs[hint].strip().lower() not in ("true", "false"):
            problem(f"agenthub:tool {hint} must be true or false", element.line)
    form = _start_form(process, events[0].id if events else None)
    if form is not None:
        try:
            if strict_json.loads(form.schema).get("type") != "object":
                raise ValueError('it needs "type": "object"')
        except (ValueError, AttributeError) as exc:
            problem(f"the start form (agenthub:schema) must be a JSON Schema object: {exc}", None, form.element_id)
    unknown = [c for c in _names(attrs.get("clientCapabilities", "")) if c not in CLIENT_CAPABILITIES]
    if unknown:
        problem(f"agenthub:tool clientCapabilities may name {', '.join(CLIENT_CAPABILITIES)}, not "
                f"{', '.join(repr(c) for c in unknown)}", element.line)
    if attrs.get("taskSupport", "optional").strip() not in TASK_SUPPORT:
        problem(f"agenthub:tool taskSupport must be {', '.join(TASK_SUPPORT)}, not '{attrs['taskSupport']}'",
                element.line)
    seen: dict[str, set[str]] = {"input": set(), "output": set()}
    for child in element.children:
        if child.name == "schema":
            try:
                explicit = strict_json.loads(child.text or "")
                if not isinstance(explicit, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                problem(f"agenthub:schema must hold a JSON Schema object: {exc}", child.line)
            else:
                for said in header_problems(explicit):
                    problem(f"agenthub:schema: {said}", child.line)
            continue
        if child.name not in seen:
            problem(f"agenthub:tool may only hold agenthub:input, agenthub:output and agenthub:schema elements, "
                    f"not '{child.name}'", child.line)
            continue
        attrs = dict(child.attributes)
        name, tag = attrs.get("name", ""), f"agenthub:{child.name}"
        if not _NAME.match(name):
            problem(f"{tag} needs a name that is a variable name, not '{name}'", child.line)
        elif name in seen[child.name]:
            problem(f"{tag} '{name}' is declared twice", child.line)
        seen[child.name].add(name)
        kind = attrs.get("type", "string")
        if kind not in INPUT_TYPES:
            problem(f"{tag} '{name}' has type '{kind}': use one of {', '.join(INPUT_TYPES)}", child.line)
        if attrs.get("required", "false").strip().lower() not in ("true", "false"):
            problem(f"{tag} '{name}': required must be true or false", child.line)
    return problems
