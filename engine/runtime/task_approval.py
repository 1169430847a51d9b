"""A model's user task that is an approval (``<agenthub:approval/>``): four eyes for any process, not only agents.

An agent's tool call held for approval gets its rule from the policies
(``engine.agent.approvals``). A user task in a model can be an approval too,
by saying so among its extension elements::

    <bpmn:userTask id="approve" name="Approve the call">
      <bpmn:extensionElements>
        <zeebe:assignmentDefinition candidateGroups="=approvers"/>
        <agenthub:approval allowMachines="=allowMachines"/>
      </bpmn:extensionElements>
    </bpmn:userTask>

Its task then carries the same rule in its details as an agent's approval
(``kind: "approval"``, ``approvers``, ``approvedBy``, ``allowMachines``,
``excludedApprovers``), so the surfaces that verify principals
(``protocols.task_access``: REST, the CLI, MCP, the console) refuse alike and
before anything changes. The rule:

- four eyes: the principal that started the instance (the one asking for
  what is approved) may not complete the task; the engine checks that again
  when the completion arrives, so no surface can route around it;
- ``allowMachines`` (``true``, ``false`` or ``=FEEL``, default ``false``):
  whether a machine client may decide it (the surfaces' check: the engine
  does not know who is a person).

Rejected: a second, gateway-only rule keyed on the process id. The federated
call's approval (``protocols.gateway.approval``) is one model using this.
"""

from __future__ import annotations

from typing import Any

from engine.actor import Actor
from engine.feel.api import is_expression, strip_marker
from engine.model import FlowNode, Value
from engine.runtime.expressions import evaluate_value
from engine.runtime.kernel import Kernel
from engine.runtime.state import ElementInstance

__all__ = ["APPROVAL_EXTENSION", "approval_details", "is_approval_task", "refusal"]

APPROVAL_EXTENSION = "approval"


def is_approval_task(node: FlowNode) -> bool:
    return any(e.name == APPROVAL_EXTENSION for e in node.extensions)


def approval_details(step: Kernel, element: ElementInstance, node: FlowNode) -> dict[str, Any]:
    """The rule a new task of ``node`` carries in its details; empty when ``node`` is no approval."""
    found = next((e for e in node.extensions if e.name == APPROVAL_EXTENSION), None)
    if found is None:
        return {}
    raw = dict(found.attributes).get("allowMachines", "false")
    value = Value(text=strip_marker(raw), is_expression=is_expression(raw))
    allowed = evaluate_value(value, step.scope(element.key), step.now, what="agenthub:approval allowMachines")
    starter = step.state.started_by
    return {"kind": "approval", "approvers": 1, "approvedBy": [], "allowMachines": allowed in (True, "true"),
            "excludedApprovers": [starter] if starter else []}


def refusal(step: Kernel, node: FlowNode, by: Actor | None) -> str | None:
    """Why ``by`` may not complete the approval task of ``node`` (four eyes), or None when it may."""
    if by is None or not is_approval_task(node) or by.id != step.state.started_by:
        return None
    return (f"'{by.id}' started this instance, so it may not approve its own request ('{node.name or node.id}'): "
            "four eyes, another candidate must decide it")
