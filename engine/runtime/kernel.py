"""The step's contract with element behaviours: the ``Kernel`` they act through and the ``Behavior`` table.

The runtime twin of the parser's element table (``engine.parser._table``):
one row per ``ElementKind``, each a behaviour that says what activating an
element of that kind does and how tokens arrive at and leave it. The step
dispatches through the table and names no element kind itself; adding a kind
touches one row and one module.

This module imports no behaviour. Behaviours receive the step typed as
``Kernel``; the table is assembled where every behaviour is visible
(``engine.runtime.behaviors`` for the runtime's own, ``engine.kernel`` with
the agent plugged in) and handed to the step. Multi-instance bodies and
compensation are not element kinds but apply around any activity, so the
table carries them as two more collaborators with a few methods each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from engine.actor import Actor
from engine.model import ElementKind, FlowNode, Process, SequenceFlow
from engine.ports import IdSource, ProcessLookup
from engine.runtime import messages as m
from engine.runtime.flows import conditional_flows
from engine.runtime.journal import EventType
from engine.runtime.limits import RuntimeLimits
from engine.runtime.state import ElementInstance, IncidentAction, InstanceState, Phase
from engine.runtime.variables import ScopeView

__all__ = [
    "Behavior",
    "BehaviorTable",
    "CommandRejected",
    "Compensation",
    "ElementBehavior",
    "Kernel",
    "MultiInstance",
    "UnknownElementKind",
]


class CommandRejected(Exception):
    """The command does not apply to the instance as it is now (already completed, wrong state...)."""


class UnknownElementKind(LookupError):
    """The behaviour table has no row for an element's kind: the runtime cannot run it."""


class Kernel(Protocol):
    """What a behaviour may do to the instance: the step, as behaviours see it."""

    process: Process
    state: InstanceState
    now: datetime
    ids: IdSource
    processes: ProcessLookup
    limits: RuntimeLimits
    policies: tuple[Any, ...]  # hub-wide agent policies, read by the agent behaviour
    behaviors: BehaviorTable

    def schedule(self, action: Phase, element: ElementInstance, payload: Any = None) -> None: ...
    def record(self, type_: EventType, element: ElementInstance | None = None, **data: Any) -> None: ...
    def effect(self, effect: m.Effect) -> None: ...
    def node(self, element: ElementInstance) -> FlowNode: ...
    def scope(self, key: int | None) -> ScopeView: ...
    def create_element(self, element_id: str, parent: int, **fields: Any) -> ElementInstance: ...
    def enter(self, element_id: str, parent: int) -> ElementInstance: ...
    def set_variables(self, key: int | None, values: dict[str, Any], *, local: bool) -> None: ...
    def remove(self, element: ElementInstance) -> None: ...
    def incident(self, element: ElementInstance, action: IncidentAction, kind: str, message: str,
                 job: int | None = None) -> None: ...
    def leave(self, element: ElementInstance) -> None: ...
    def settle(self, scope_key: int) -> None: ...
    def settle_flow_scope(self, scope: ElementInstance) -> None: ...
    def terminate(self, element: ElementInstance, *, listeners: bool = False) -> bool: ...
    def terminated(self, element: ElementInstance) -> None: ...


class Behavior(Protocol):
    """What one kind of element does. ``ElementBehavior`` implements the common case of every hook."""

    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        """Do the element's own work (its input mappings are applied); raise ExpressionFailure for an incident."""

    def outgoing(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> list[SequenceFlow]:
        """The flows a completed element takes."""

    def arrive(self, kernel: Kernel, scope: ElementInstance, node: FlowNode, flow: SequenceFlow) -> None:
        """A token arrives at ``node`` in ``scope`` along ``flow``."""

    def token_left(self, kernel: Kernel, scope: ElementInstance, node: FlowNode) -> None:
        """Something left ``scope`` while tokens wait at ``node`` (a join): it may fire now."""

    def settle(self, kernel: Kernel, scope: ElementInstance) -> None:
        """Something left ``scope``, an instance of this element: complete it when it is done."""

    def job_completed(self, kernel: Kernel, element: ElementInstance, job: int, variables: dict[str, Any]) -> bool:
        """The element's job completed; True when the behaviour took the result (else the element completes)."""

    def user_task_completed(self, kernel: Kernel, element: ElementInstance, variables: dict[str, Any],
                            by: Actor | None) -> bool:
        """A person completed the element's task; True when the behaviour took it (else the element completes)."""

    def resume(self, kernel: Kernel, element: ElementInstance, action: IncidentAction) -> None:
        """An incident on the element was resolved whose action only this behaviour knows."""

    def timer_fired(self, kernel: Kernel, element: ElementInstance, wait: int) -> bool:
        """A timer the element armed for itself (not for an event of the model) fired; True when the behaviour
        took it. An agent's time limit and an approval's due date arrive here."""

    def event_subprocess_done(self, kernel: Kernel, scope: ElementInstance, event: ElementInstance) -> None:
        """An event subprocess inside ``scope``, an instance of this element, completed; its variables are still
        there (an agent hears of an event this way: Camunda's ``data.events``)."""


class ElementBehavior:
    """The common case of every hook: tokens enter directly, leave by conditions, and nothing waits."""

    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not say how to activate '{node.id}'")

    def outgoing(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> list[SequenceFlow]:
        return conditional_flows(kernel.process, kernel.scope(element.parent), kernel.now, node)

    def arrive(self, kernel: Kernel, scope: ElementInstance, node: FlowNode, flow: SequenceFlow) -> None:
        kernel.enter(node.id, scope.key)

    def token_left(self, kernel: Kernel, scope: ElementInstance, node: FlowNode) -> None:
        return None

    def settle(self, kernel: Kernel, scope: ElementInstance) -> None:
        kernel.settle_flow_scope(scope)

    def job_completed(self, kernel: Kernel, element: ElementInstance, job: int, variables: dict[str, Any]) -> bool:
        return False

    def user_task_completed(self, kernel: Kernel, element: ElementInstance, variables: dict[str, Any],
                            by: Actor | None) -> bool:
        return False

    def resume(self, kernel: Kernel, element: ElementInstance, action: IncidentAction) -> None:
        return None

    def timer_fired(self, kernel: Kernel, element: ElementInstance, wait: int) -> bool:
        return False

    def event_subprocess_done(self, kernel: Kernel, scope: ElementInstance, event: ElementInstance) -> None:
        return None


class MultiInstance(Protocol):
    """The body of a multi-instance activity: it holds one inner instance per item."""

    def activate_body(self, kernel: Kernel, body: ElementInstance, node: FlowNode) -> None: ...
    def complete_body(self, kernel: Kernel, body: ElementInstance, node: FlowNode) -> None: ...
    def inner_left(self, kernel: Kernel, body: ElementInstance, inner: ElementInstance) -> None: ...


class Compensation(Protocol):
    """Completed activities remembered for compensation, and handlers that finished."""

    def record_completion(self, kernel: Kernel, element: ElementInstance, node: FlowNode,
                          scope: ElementInstance) -> None: ...
    def handler_done(self, kernel: Kernel, handler: ElementInstance) -> None: ...


@dataclass(frozen=True, slots=True)
class BehaviorTable:
    """One behaviour per element kind, and the two rules that wrap activities of any kind."""

    kinds: Mapping[ElementKind, Behavior]
    multi_instance: MultiInstance
    compensation: Compensation

    def of(self, node: FlowNode) -> Behavior:
        """The behaviour of ``node``'s kind; UnknownElementKind when the table has none."""
        behavior = self.kinds.get(node.kind)
        if behavior is None:
            raise UnknownElementKind(
                f"element '{node.id}' is a {node.kind}, which the runtime has no behaviour for (the table has "
                f"{', '.join(sorted(self.kinds)) or 'none'}); add a row for it to the behaviour table"
            )
        return behavior

    def missing(self, kinds: set[ElementKind] | frozenset[ElementKind]) -> set[ElementKind]:
        """Which of ``kinds`` have no behaviour."""
        return {kind for kind in kinds if kind not in self.kinds}
