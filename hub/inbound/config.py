"""A webhook's configuration as Camunda's webhook connector (``io.camunda:webhook:1``) reads it from a BPMN element.

Camunda's A2A webhook (``io.camunda.agenticai:a2aclient:webhook:0``, on an
intermediate catch event, a boundary event or a receive task, as its element
templates place it) is one too, with the same properties: the body it is given
is the pushed A2A task (``hub.inbound.endpoint``). A receive task with a
message waits and is reached as an intermediate catch event is.

The element carries ``zeebe:properties``; the names are the element templates'
(``inbound.context``, ``inbound.method``, ``inbound.shouldValidateHmac``,
``inbound.hmacSecret``, ``inbound.hmacHeader``, ``inbound.hmacAlgorithm``,
``inbound.hmacScopes``, ``inbound.auth.*``, ``activationCondition``,
``consumeUnmatchedEvents``, ``correlationKeyExpression``,
``messageIdExpression``, ``messageTtl``, ``resultVariable``,
``resultExpression``, ``inbound.responseExpression``), with the older names
older templates wrote (``inbound.activationCondition``,
``inbound.variableMapping``, ``inbound.responseBodyExpression``) read where the
new one is absent. Values are kept as written: secrets and FEEL are resolved
when a request arrives (``hub.inbound.checks``), so a rotated secret needs no
redeploy and nothing secret is held here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from engine.model import BoundaryEvent, Event, EventDefinitionKind, FlowNode, Process, ReceiveTask, StartEvent
from protocols.a2a.camunda_inbound import WEBHOOK_TYPE as A2A_WEBHOOK_TYPE

__all__ = ["A2A_WEBHOOK_TYPE", "CATCHING", "WEBHOOK_TYPE", "WebhookElement", "WebhookKind", "webhooks_of"]

WEBHOOK_TYPE: Final = "io.camunda:webhook:1"
_OLDER_NAMES: Final = {
    "activationCondition": "inbound.activationCondition",
    "resultExpression": "inbound.variableMapping",
}


class WebhookKind(StrEnum):
    """Where the webhook sits, which decides what a request does."""

    START = "start"  # a start event without definition: the request starts an instance
    MESSAGE_START = "messageStart"  # a message start event: the request publishes its message
    INTERMEDIATE = "intermediate"  # an intermediate catch event: the request publishes its message
    BOUNDARY = "boundary"  # a message boundary event: the request publishes its message
    RECEIVE = "receiveTask"  # a receive task with a message: the request publishes its message


CATCHING: Final = frozenset({WebhookKind.INTERMEDIATE, WebhookKind.BOUNDARY, WebhookKind.RECEIVE})
"""The kinds that wait in an instance (a message subscription of an element instance)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookElement:
    """One element that a webhook id reaches: its process version, kind, message and properties as written."""

    webhook_id: str
    process_id: str
    version: int
    element_id: str
    kind: WebhookKind
    message_name: str | None
    properties: tuple[tuple[str, str], ...]
    inbound_type: str = WEBHOOK_TYPE  # or Camunda's A2A webhook, whose body is an A2A task (A2A_WEBHOOK_TYPE)

    def get(self, name: str) -> str | None:
        """The property ``name`` (or its older name), None when absent or blank."""
        for key in (name, _OLDER_NAMES.get(name)):
            if key is None:
                continue
            value = next((v for k, v in self.properties if k == key), None)
            if value is not None and value.strip():
                return value
        return None

    @property
    def method(self) -> str:
        return (self.get("inbound.method") or "any").upper()

    @property
    def auth_type(self) -> str:
        return (self.get("inbound.auth.type") or "NONE").upper()

    @property
    def hmac_enabled(self) -> bool:
        return (self.get("inbound.shouldValidateHmac") or "disabled").lower() == "enabled"

    @property
    def publishes_message(self) -> bool:
        return self.kind is not WebhookKind.START

    def summary(self) -> dict[str, object]:
        """What an admin sees in ``GET /api/v1/inbound``: where it leads and how it is guarded, never a secret."""
        return {
            "webhookId": self.webhook_id,
            "path": f"/inbound/{self.webhook_id}",
            "method": self.method,
            "processId": self.process_id,
            "version": self.version,
            "elementId": self.element_id,
            "kind": str(self.kind),
            "messageName": self.message_name,
            "hmac": self.hmac_enabled,
            "auth": self.auth_type,
            "activationCondition": self.get("activationCondition") is not None,
        }


def _kind(node: FlowNode) -> WebhookKind | None:
    if isinstance(node, ReceiveTask):
        return WebhookKind.RECEIVE if node.message is not None else None
    if not isinstance(node, Event):
        return None
    kinds = {d.kind for d in node.definitions}
    if isinstance(node, StartEvent):
        if not kinds:
            return WebhookKind.START
        return WebhookKind.MESSAGE_START if EventDefinitionKind.MESSAGE in kinds else None
    if EventDefinitionKind.MESSAGE not in kinds:
        return None
    return WebhookKind.BOUNDARY if isinstance(node, BoundaryEvent) else WebhookKind.INTERMEDIATE


def webhooks_of(process: Process, version: int, *, catching_only: bool = False) -> list[WebhookElement]:
    """The webhook elements of one process version (``catching_only``: catch and boundary events, receive tasks).

    Start events count at the process level only (an event subprocess's start is not reachable from outside);
    an element with ``inbound.type`` ``io.camunda:webhook:1`` and no ``inbound.context`` is left out.
    """
    found: list[WebhookElement] = []
    for node in process.nodes.values():
        if not isinstance(node, Event | ReceiveTask):
            continue
        props = dict(node.properties)
        webhook_id = props.get("inbound.context", "").strip()
        inbound = props.get("inbound.type", "").strip()
        if inbound not in (WEBHOOK_TYPE, A2A_WEBHOOK_TYPE) or not webhook_id:
            continue
        kind = _kind(node)
        if inbound == A2A_WEBHOOK_TYPE and kind not in CATCHING:
            continue  # Camunda's A2A webhook waits for one task's end: a catch event or receive task only
        if kind is None or (kind in (WebhookKind.START, WebhookKind.MESSAGE_START) and
                            (catching_only or node.parent != process.id)):
            continue
        definitions = node.definitions if isinstance(node, Event) else (node.message,)
        definition = next((d for d in definitions if d is not None and d.kind == EventDefinitionKind.MESSAGE), None)
        found.append(WebhookElement(
            webhook_id=webhook_id, process_id=process.id, version=version, element_id=node.id, kind=kind,
            message_name=definition.ref if definition is not None else None, properties=node.properties,
            inbound_type=inbound,
        ))
    return found
