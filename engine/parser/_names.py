"""Namespaces and qualified tag names (Clark notation, ``{uri}local``) used by the parser."""

from __future__ import annotations

from typing import Final

BPMN: Final = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI: Final = "http://www.omg.org/spec/BPMN/20100524/DI"
DI: Final = "http://www.omg.org/spec/DD/20100524/DI"
DC: Final = "http://www.omg.org/spec/DD/20100524/DC"
ZEEBE: Final = "http://camunda.org/schema/zeebe/1.0"
AGENTHUB: Final = "urn:agenthub:bpmn:1"

# Namespaces whose elements carry document-wide unique ids.
ID_NAMESPACES: Final = frozenset({BPMN, BPMNDI, DI, DC})


def bpmn(local: str) -> str:
    return f"{{{BPMN}}}{local}"


def zeebe(local: str) -> str:
    return f"{{{ZEEBE}}}{local}"


def split(tag: str) -> tuple[str, str]:
    """``{uri}local`` -> ``(uri, local)``; a tag without namespace has the empty uri."""
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return uri, local
    return "", tag


def local_name(tag: str) -> str:
    return split(tag)[1]


def prefixed(tag: str) -> str:
    """A tag as an author would write it (``bpmn:task``, ``zeebe:script``), for messages."""
    uri, local = split(tag)
    prefix = {BPMN: "bpmn", BPMNDI: "bpmndi", DI: "di", DC: "dc", ZEEBE: "zeebe", AGENTHUB: "agenthub"}.get(uri)
    if prefix is None:
        return f"{{{uri}}}{local}" if uri else local
    return f"{prefix}:{local}"
