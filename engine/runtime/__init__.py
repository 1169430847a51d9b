"""Token semantics: the pure, deterministic step that advances one process instance.

Owns: the instance state (a tree of live element instances with variable
scopes), the commands that enter a step, the journal events and effects that
come out, and the element behaviours.

Does not know: storage, transactions, clocks or threads. Time and keys are
passed in; what must happen outside (jobs, user tasks, child instances,
incidents) is returned as effects for the caller to carry out in the same
transaction as the state change.

The step dispatches on element kind through a behaviour table
(``kernel.BehaviorTable``, one ``Behavior`` per ``ElementKind``); behaviours
see the step as ``kernel.Kernel`` and never import it. Does not know agents:
the agent plugs in as the behaviour of an ad-hoc subprocess, and
``engine.kernel`` assembles the table with it. The state an agent run keeps
(``records``) is plain data the runtime stores like any other. Camunda's
execution and task listeners (``behaviors.listeners``) and conditional
events (``behaviors.conditions``) apply around elements of every kind: the
step and the commands call them directly, not through the table.
"""

from engine.runtime import messages
from engine.runtime.state import ElementInstance, ElementState, InstanceState, InstanceStatus, ParentLink
from engine.runtime.step import CommandRejected, Step, StepResult
from engine.runtime.variables import ScopeView

__all__ = [
    "CommandRejected",
    "ElementInstance",
    "ElementState",
    "InstanceState",
    "InstanceStatus",
    "ParentLink",
    "ScopeView",
    "Step",
    "StepResult",
    "messages",
]
