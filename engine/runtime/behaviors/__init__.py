"""Element behaviours: what activating an element of each kind does, and how tokens arrive at and leave it.

Activation applies input mappings (the step) and then the element's own work
(create a job, evaluate a script, enter a subprocess...); completion applies
output mappings and leaves along the outgoing flows. Failures in expressions
become incidents that a person can resolve, after which the failed part runs
again.

``runtime_table`` is the runtime's row per ``ElementKind``; the ad-hoc
subprocess row is a parameter, because the agent plugs in there
(``engine.kernel`` assembles the engine's table with it). Behaviours import
the kernel's protocol, never the step.
"""

from __future__ import annotations

from typing import Final

from engine.model import ElementKind
from engine.runtime.behaviors.activation import PassThrough
from engine.runtime.behaviors.activities import (
    CallActivityBehavior,
    CatchEventBehavior,
    EventBasedGatewayBehavior,
    JobTaskBehavior,
    ScriptTaskBehavior,
    SubProcessBehavior,
    ThrowEventBehavior,
    UserTaskBehavior,
)
from engine.runtime.behaviors.ad_hoc import AdHocSubProcessBehavior
from engine.runtime.behaviors.compensation import CompensationRules
from engine.runtime.behaviors.decisions import BusinessRuleTaskBehavior
from engine.runtime.behaviors.gateways import ExclusiveGateway, InclusiveGateway, ParallelGateway
from engine.runtime.behaviors.multi_instance import MultiInstanceBody
from engine.runtime.kernel import Behavior, BehaviorTable

__all__ = ["RUNTIME_ROWS", "runtime_table"]

K = ElementKind
_PASS = PassThrough()
_JOB = JobTaskBehavior()
_THROW = ThrowEventBehavior()
_CATCH = CatchEventBehavior()

RUNTIME_ROWS: Final[dict[ElementKind, Behavior]] = {
    K.START_EVENT: _PASS,
    K.END_EVENT: _THROW,
    K.INTERMEDIATE_CATCH_EVENT: _CATCH,
    K.INTERMEDIATE_THROW_EVENT: _THROW,
    K.BOUNDARY_EVENT: _PASS,  # created active by the event that triggers it, and completed at once
    K.TASK: _PASS,
    K.MANUAL_TASK: _PASS,
    K.SCRIPT_TASK: ScriptTaskBehavior(),
    K.SERVICE_TASK: _JOB,
    K.SEND_TASK: _JOB,
    K.BUSINESS_RULE_TASK: BusinessRuleTaskBehavior(),
    K.RECEIVE_TASK: _CATCH,
    K.USER_TASK: UserTaskBehavior(),
    K.EXCLUSIVE_GATEWAY: ExclusiveGateway(),
    K.PARALLEL_GATEWAY: ParallelGateway(),
    K.INCLUSIVE_GATEWAY: InclusiveGateway(),
    K.EVENT_BASED_GATEWAY: EventBasedGatewayBehavior(),
    K.SUB_PROCESS: SubProcessBehavior(),
    K.AD_HOC_SUB_PROCESS: AdHocSubProcessBehavior(),
    K.CALL_ACTIVITY: CallActivityBehavior(),
}


def runtime_table(*, ad_hoc: AdHocSubProcessBehavior | None = None) -> BehaviorTable:
    """The runtime's behaviours, with ``ad_hoc`` (the agent's) for ad-hoc subprocesses when given."""
    rows = dict(RUNTIME_ROWS)
    if ad_hoc is not None:
        rows[K.AD_HOC_SUB_PROCESS] = ad_hoc
    return BehaviorTable(kinds=rows, multi_instance=MultiInstanceBody(), compensation=CompensationRules())
