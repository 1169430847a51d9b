"""Prompt templates and resources a process declares beside its ``<agenthub:tool>``.

    <bpmn:extensionElements>
      <agenthub:tool/>
      <agenthub:prompt name="refund_request" description="Ask for a refund of an order">
        <agenthub:argument name="order" required="true" description="Order number"/>
        <agenthub:message role="user">Please refund order {{order}}.</agenthub:message>
        <agenthub:message role="user" type="image" mimeType="image/png">iVBORw0KGgo...</agenthub:message>
        <agenthub:message role="user" type="resource" uri="{{policy}}" mimeType="text/plain">...</agenthub:message>
      </agenthub:prompt>
      <agenthub:resource uri="refunds://policy" name="policy" mimeType="text/plain">Within 30 days.</agenthub:resource>
      <agenthub:resource uriTemplate="refunds://orders/{order}" name="order">Order {{order}}</agenthub:resource>
    </bpmn:extensionElements>

A prompt is a list of messages; each message is text (the default), an
image or audio clip (``type="image"``/``"audio"``, base64 text, a
``mimeType``) or an embedded resource (``type="resource"``, a ``uri``, a
``mimeType``, its text). ``{{name}}`` in a message's text or ``uri`` is
replaced by the prompt argument of that name (missing optional ones by
nothing). Substitution is plain text on purpose: a prompt is rendered for a
client before any instance exists, so there are no variables for FEEL to
read. A resource is fixed text, or base64 bytes with ``encoding="base64"``;
one with a ``uriTemplate`` (RFC 6570 level 1, ``{name}``) substitutes the
parts a read's URI matched into its text.

Owns: reading and checking these declarations. Does not know: MCP, which
turns them into prompts and resources (``protocols.mcp``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.model import Process
from engine.model.elements import ExtensionElement
from engine.parser import Problem

__all__ = [
    "MESSAGE_TYPES",
    "PromptArgument",
    "PromptMessage",
    "PromptSpec",
    "ResourceSpec",
    "declaration_problems",
    "prompts_of",
    "render",
    "resources_of",
]

MESSAGE_TYPES = ("text", "image", "audio", "resource")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_ARGUMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_TEMPLATE_PART = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class PromptArgument:
    name: str
    required: bool = False
    description: str | None = None
    values: tuple[str, ...] = ()  # ``enum="a,b"``: the values a completion offers


@dataclass(frozen=True, slots=True)
class PromptMessage:
    role: str  # "user" or "assistant"
    type: str  # one of MESSAGE_TYPES
    text: str  # the text; base64 data for an image or audio clip
    mime_type: str | None = None
    uri: str | None = None  # an embedded resource's URI (may hold placeholders)


@dataclass(frozen=True, slots=True)
class PromptSpec:
    name: str
    process_id: str
    description: str
    title: str | None
    arguments: tuple[PromptArgument, ...]
    messages: tuple[PromptMessage, ...]


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    uri: str  # a fixed URI, or a URI template where ``template`` is set
    name: str
    process_id: str
    mime_type: str
    text: str  # the text, or base64 bytes where ``base64``
    base64: bool = False
    description: str | None = None
    template: bool = False

    def match(self, uri: str) -> dict[str, str] | None:
        """The template's parts in ``uri`` (``{}`` for a fixed URI that is equal), or None when it does not match."""
        if not self.template:
            return {} if uri == self.uri else None
        pattern = "".join(
            f"(?P<{piece}>[^/?#]+)" if index % 2 else re.escape(piece)
            for index, piece in enumerate(_TEMPLATE_PART.split(self.uri))
        )
        found = re.fullmatch(pattern, uri)
        return found.groupdict() if found else None


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``{{name}}`` replaced by ``values[name]`` (nothing where it has none)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


def _attrs(element: ExtensionElement) -> dict[str, str]:
    return dict(element.attributes)


def _true(value: str | None) -> bool:
    return (value or "false").strip().lower() == "true"


def _values(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def prompts_of(process: Process) -> tuple[PromptSpec, ...]:
    found = []
    for element in process.extension_elements:
        if element.name != "prompt":
            continue
        attrs = _attrs(element)
        arguments, messages = [], []
        for child in element.children:
            a = _attrs(child)
            if child.name == "argument":
                arguments.append(
                    PromptArgument(
                        a.get("name", ""), _true(a.get("required")), a.get("description"), _values(a.get("enum"))
                    )
                )
            elif child.name == "message":
                messages.append(
                    PromptMessage(
                        a.get("role", "user"), a.get("type", "text"), child.text or "", a.get("mimeType"), a.get("uri")
                    )
                )
        name = attrs.get("name", "")
        found.append(
            PromptSpec(
                name,
                process.id,
                attrs.get("description") or name,
                attrs.get("title"),
                tuple(arguments),
                tuple(messages),
            )
        )
    return tuple(found)


def resources_of(process: Process) -> tuple[ResourceSpec, ...]:
    found = []
    for element in process.extension_elements:
        if element.name != "resource":
            continue
        a = _attrs(element)
        template = "uriTemplate" in a
        uri = a.get("uriTemplate", "") if template else a.get("uri", "")
        found.append(
            ResourceSpec(
                uri,
                a.get("name") or uri,
                process.id,
                a.get("mimeType", "text/plain"),
                element.text or "",
                a.get("encoding") == "base64",
                a.get("description"),
                template,
            )
        )
    return tuple(found)


def declaration_problems(process: Process, source: str) -> list[Problem]:
    """What is wrong with a process's ``<agenthub:prompt>`` and ``<agenthub:resource>`` declarations."""
    problems: list[Problem] = []

    def problem(message: str, line: int | None) -> None:
        problems.append(Problem(source_name=source, line=line, element_id=process.id, message=message))

    seen: set[str] = set()
    for element in process.extension_elements:
        attrs = _attrs(element)
        if element.name == "prompt":
            name = attrs.get("name", "")
            if not _NAME.match(name):
                problem(
                    f"agenthub:prompt needs a name of 1 to 128 letters, digits, '_', '-' or '.', not '{name}'",
                    element.line,
                )
            elif name in seen:
                problem(f"agenthub:prompt '{name}' is declared twice", element.line)
            seen.add(name)
            problems.extend(_prompt_problems(element, name, source, process.id))
        elif element.name == "resource":
            if bool(attrs.get("uri")) == bool(attrs.get("uriTemplate")):
                problem("agenthub:resource needs either a uri or a uriTemplate attribute", element.line)
            if attrs.get("encoding", "base64") != "base64":
                problem("agenthub:resource encoding may only be base64 (leave it out for text)", element.line)
    return problems


def _prompt_problems(element: ExtensionElement, name: str, source: str, process_id: str) -> list[Problem]:
    problems: list[Problem] = []
    arguments: set[str] = set()
    for child in element.children:
        a = _attrs(child)
        where = f"agenthub:prompt '{name}'"
        message = None
        if child.name == "argument":
            argument = a.get("name", "")
            if not _ARGUMENT.match(argument) or argument in arguments:
                message = f"{where}: argument '{argument}' needs a unique name that is a variable name"
            arguments.add(argument)
        elif child.name == "message":
            kind = a.get("type", "text")
            if a.get("role", "user") not in ("user", "assistant"):
                message = f"{where}: a message's role must be user or assistant"
            elif kind not in MESSAGE_TYPES:
                message = f"{where}: a message's type must be one of {', '.join(MESSAGE_TYPES)}, not '{kind}'"
            elif kind != "text" and not a.get("mimeType"):
                message = f"{where}: a message of type {kind} needs a mimeType"
            elif kind == "resource" and not a.get("uri"):
                message = f"{where}: a message of type resource needs a uri"
        else:
            message = f"{where} may only hold agenthub:argument and agenthub:message elements, not '{child.name}'"
        if message:
            problems.append(Problem(source_name=source, line=child.line, element_id=process_id, message=message))
    return problems
