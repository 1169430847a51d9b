"""An agent's tools: the inner activities of its ad-hoc subprocess that have no incoming flow.

A tool's name is its element id, its description the element's
documentation (else its name), and its parameters come from the
``fromAi(toolCall.x, "description", "type", schema, options)`` calls in its
input mappings, as Camunda 8 models them, or from an explicit JSON Schema in
``<agenthub:schema>`` on the element. Arguments are checked against that
schema (no properties beyond it) before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine import strict_json
from engine.agent.turn import ToolDefinition
from engine.arguments import ArgumentError
from engine.arguments import check_arguments as arguments_checked
from engine.canonical import canonical_hash, canonical_json
from engine.feel import FeelError, to_json
from engine.feel import nodes as n
from engine.feel.compiler import compile_node
from engine.feel.compiler_forms import walk
from engine.feel.parser import parse_expression
from engine.feel.runtime import Env, State
from engine.model import AdHocSubProcess, FlowNode, Process, ScriptTask

__all__ = ["ToolProblem", "arguments_hash", "canonical_json", "check_arguments", "tool_definitions"]

_TYPES = ("string", "number", "integer", "boolean", "object", "array")
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_PARAMS = ("value", "description", "type", "schema", "options")


class ToolProblem(ValueError):
    """A tool's declaration is wrong (at deployment), or a call's arguments do not fit its schema."""


@dataclass(frozen=True, slots=True)
class _Param:
    name: str
    description: str | None
    type: str
    schema: dict[str, Any] | None
    required: bool


def _constant(node: n.Node, what: str) -> Any:
    try:
        value = compile_node(node)(Env({}, None, State(_EPOCH)))
    except FeelError as exc:
        raise ToolProblem(f"fromAi {what} must be a constant: {exc}") from None
    return to_json(value)


def _from_ai(call: n.Call) -> _Param:
    args: dict[str, n.Node] = {}
    if call.named is not None:
        args = dict(zip(call.named, call.args, strict=True))
        unknown = sorted(set(args) - set(_PARAMS))
        if unknown:
            raise ToolProblem(f"fromAi has no parameter(s) {', '.join(unknown)}")
    else:
        if len(call.args) > len(_PARAMS):
            raise ToolProblem(f"fromAi takes at most {len(_PARAMS)} arguments")
        args = dict(zip(_PARAMS, call.args, strict=False))
    value = args.get("value")
    if not (isinstance(value, n.Path) and isinstance(value.target, n.Name) and value.target.name == "toolCall"):
        raise ToolProblem("the first argument of fromAi must be toolCall.<parameter name>")
    description = _constant(args["description"], "description") if "description" in args else None
    kind = _constant(args["type"], "type") if "type" in args else "string"
    schema = _constant(args["schema"], "schema") if "schema" in args else None
    options = _constant(args["options"], "options") if "options" in args else None
    if description is not None and not isinstance(description, str):
        raise ToolProblem(f"fromAi description of '{value.name}' must be a string")
    if kind not in _TYPES:
        raise ToolProblem(f"fromAi type of '{value.name}' must be one of {', '.join(_TYPES)}, not {kind!r}")
    if schema is not None and not isinstance(schema, dict):
        raise ToolProblem(f"fromAi schema of '{value.name}' must be a context")
    if options is not None and not isinstance(options, dict):
        raise ToolProblem(f"fromAi options of '{value.name}' must be a context")
    required = not (isinstance(options, dict) and options.get("required") is False)
    return _Param(value.name, description, kind, schema, required)


def _expressions(node: FlowNode) -> list[tuple[str, str]]:
    """The FEEL of a tool element that may hold fromAi calls: input mappings and a script's expression."""
    found = [(f"input mapping '{m.target}'", m.source) for m in node.inputs if m.is_expression]
    if isinstance(node, ScriptTask):
        found.append(("script expression", node.expression))
    return found


def _params(node: FlowNode) -> list[_Param]:
    found: dict[str, _Param] = {}
    for where, source in _expressions(node):
        if "fromAi" not in source:
            continue
        try:
            tree = parse_expression(source)
        except FeelError as exc:
            raise ToolProblem(f"{where} is not valid FEEL: {exc}") from None
        for item in walk(tree):
            if isinstance(item, n.Call) and isinstance(item.target, n.Name) and item.target.name == "fromAi":
                param = _from_ai(item)
                found.setdefault(param.name, param)
    return list(found.values())


def _explicit_schema(node: FlowNode) -> dict[str, Any] | None:
    element = next((e for e in node.extensions if e.name == "schema"), None)
    if element is None:
        return None
    try:
        schema = strict_json.loads(element.text or "")
    except strict_json.JsonProblem as exc:
        raise ToolProblem(f"agenthub:schema of '{node.id}' is not JSON: {exc}") from None
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise ToolProblem(f'agenthub:schema of \'{node.id}\' must be a JSON Schema with "type": "object"')
    import jsonschema  # loaded with the first schema, not with every CLI command

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ToolProblem(f"agenthub:schema of '{node.id}' is not a valid JSON Schema: {exc.message}") from None
    schema.setdefault("additionalProperties", False)
    return schema


def _schema(node: FlowNode) -> dict[str, Any]:
    explicit = _explicit_schema(node)
    if explicit is not None:
        return explicit
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in _params(node):
        prop: dict[str, Any] = dict(param.schema or {})
        prop["type"] = param.type
        if param.description:
            prop["description"] = param.description
        properties[param.name] = prop
        if param.required:
            required.append(param.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def tool_nodes(process: Process, ad_hoc: AdHocSubProcess) -> list[FlowNode]:
    """The inner elements an agent may activate: activities with no incoming flow, in document order."""
    return list(process.activatable(ad_hoc))


def tool_definitions(process: Process, ad_hoc: AdHocSubProcess) -> list[ToolDefinition]:
    """The agent's tools, as the model sees them. Raises ToolProblem for a wrong declaration."""
    tools = []
    for node in tool_nodes(process, ad_hoc):
        description = (node.documentation or node.name or node.id).strip()
        tools.append(ToolDefinition(name=node.id, description=description, input_schema=_schema(node)))
    return tools


def check_arguments(tool: ToolDefinition, arguments: Any) -> dict[str, Any]:
    """The arguments as a dict if they fit the tool's schema; ToolProblem says what does not.

    The checking itself is ``engine.arguments``', the one validator MCP and A2A calls go through too.
    """
    try:
        return arguments_checked(tool.input_schema, arguments)
    except ArgumentError as exc:
        raise ToolProblem(f"the arguments for '{tool.name}' do not fit its schema and limits: {exc}") from None


def arguments_hash(tool: str, arguments: dict[str, Any]) -> str:
    """The digest a tool call is recorded and approved under: ``engine.canonical`` of the tool and its arguments."""
    return canonical_hash({"tool": tool, "arguments": arguments})
