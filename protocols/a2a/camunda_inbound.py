"""Camunda's A2A inbound connectors as elements of a model: which elements they are, and what they are waiting for.

Camunda's A2A client (``io.camunda.agenticai:a2aclient:0``) answers at once
in its ``polling`` and ``notification`` modes, and an inbound connector brings
the remote task's end: an intermediate catch event or receive task with the
``zeebe:property`` ``inbound.type``

- ``io.camunda.agenticai:a2aclient:polling:0``: polled by the hub
  (``protocols.a2a.camunda_polling``) until the task leaves ``submitted`` and
  ``working``;
- ``io.camunda.agenticai:a2aclient:webhook:0``: the agent's push
  notification, received at ``/inbound/{inbound.context}`` (``hub.inbound``),
  by a catch event and a receive task alike.

Both wait on the element's message subscription (its correlation key comes
from the sender's ``clientResponse``), so the wait is the engine's: durable,
and holding no worker. Owns: recognising the elements, and reading the
``clientResponse`` a waiting element was given (its ``internal_clientResponse``
input mapping, evaluated over the instance's variables). Does not know HTTP
or the registry.
"""

from __future__ import annotations

from typing import Any, Final

from engine.feel import FeelError, compile_expression, strip_marker, to_json
from engine.model import Event, FlowNode, Process, ReceiveTask

__all__ = ["CLIENT_RESPONSE", "POLLING_TYPE", "WEBHOOK_TYPE", "catching", "client_response", "inbound_type",
           "property_of"]

POLLING_TYPE: Final = "io.camunda.agenticai:a2aclient:polling:0"
WEBHOOK_TYPE: Final = "io.camunda.agenticai:a2aclient:webhook:0"
CLIENT_RESPONSE: Final = "internal_clientResponse"  # the input both element templates map the sender's answer to


def property_of(node: FlowNode, name: str) -> str | None:
    """The ``zeebe:property`` ``name`` of ``node``, None when absent or blank."""
    value = next((v for k, v in node.properties if k == name), None)
    return value if value is not None and value.strip() else None


def inbound_type(node: FlowNode) -> str | None:
    """``POLLING_TYPE`` or ``WEBHOOK_TYPE`` for an element that waits as Camunda's A2A inbound connector, else None."""
    if not isinstance(node, Event | ReceiveTask):
        return None
    kind = (property_of(node, "inbound.type") or "").strip()
    return kind if kind in (POLLING_TYPE, WEBHOOK_TYPE) else None


def catching(process: Process, kind: str) -> list[FlowNode]:
    """The elements of ``process`` that wait as Camunda's A2A inbound connector of ``kind``."""
    return [node for node in process.nodes.values() if inbound_type(node) == kind]


def client_response(node: FlowNode, variables: dict[str, Any]) -> Any:
    """The ``clientResponse`` the waiting ``node`` was given: its ``internal_clientResponse`` input mapping over
    ``variables`` (the instance's), None when it has none or it cannot be evaluated there."""
    mapping = next((m for m in node.inputs if m.target == CLIENT_RESPONSE), None)
    if mapping is None:
        return None
    if not mapping.is_expression:
        return mapping.source
    try:
        return to_json(compile_expression(strip_marker(mapping.source)).evaluate(variables))
    except FeelError:
        return None
