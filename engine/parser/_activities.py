"""Builders for activities: tasks, subprocesses and call activities, with multi-instance."""

from __future__ import annotations

from typing import Final

from engine.model import (
    Activity,
    AdHocSubProcess,
    BusinessRuleTask,
    CallActivity,
    FlowNode,
    JobDefinition,
    JobTask,
    LoopCharacteristics,
    ReceiveTask,
    ScriptTask,
    SubProcess,
    UserTask,
    UserTaskDefinition,
    Value,
)
from engine.parser._context import ActivityFields, NodeFields, ProcessContext
from engine.parser._events import message_definition
from engine.parser._extensions import headers, job_definition, zeebe_child
from engine.parser._forms import form_link
from engine.parser._names import bpmn
from engine.parser._tree import Element, elements, text_of

# Stands in for a missing task type in a process that is not executable (nothing is reported there).
_NO_JOB = JobDefinition(type=Value(text="", is_expression=False))


def _activity_fields(element: Element, fields: NodeFields, ctx: ProcessContext) -> ActivityFields:
    return ActivityFields(
        **fields,
        loop=_loop(element, ctx),
        default_flow=element.get("default"),
        is_for_compensation=ctx.flag(element, "isForCompensation", False),
    )


def _child(element: Element, local: str) -> Element | None:
    wanted = bpmn(local)
    return next((child for tag, child in elements(element) if tag == wanted), None)


def _optional_expression(element: Element | None, raw: str | None, ctx: ProcessContext, what: str) -> str | None:
    if element is None or raw is None or not raw.strip():
        return None
    return ctx.expression(raw, element, what)


def _loop(element: Element, ctx: ProcessContext) -> LoopCharacteristics | None:
    if _child(element, "standardLoopCharacteristics") is not None:
        ctx.sink.at(element, "standardLoopCharacteristics is not supported; use multiInstanceLoopCharacteristics")
    loop = _child(element, "multiInstanceLoopCharacteristics")
    if loop is None:
        return None
    zeebe = zeebe_child(loop, "loopCharacteristics")
    get = zeebe.get if zeebe is not None else (lambda _name: None)
    completion = _child(loop, "completionCondition")
    cardinality = _child(loop, "loopCardinality")
    characteristics = LoopCharacteristics(
        sequential=ctx.flag(loop, "isSequential", False),
        input_collection=_optional_expression(zeebe, get("inputCollection"), ctx, "multi-instance inputCollection"),
        input_element=(get("inputElement") or "").strip() or None,
        output_collection=(get("outputCollection") or "").strip() or None,
        output_element=_optional_expression(zeebe, get("outputElement"), ctx, "multi-instance outputElement"),
        completion_condition=_optional_expression(
            completion, text_of(completion) if completion is not None else None, ctx, "completionCondition"
        ),
        cardinality=_optional_expression(
            cardinality, text_of(cardinality) if cardinality is not None else None, ctx, "loopCardinality"
        ),
    )
    if characteristics.input_collection is None and characteristics.cardinality is None:
        ctx.sink.at(element, "multi-instance needs a zeebe:loopCharacteristics inputCollection or a loopCardinality")
    if characteristics.output_collection is not None and characteristics.output_element is None:
        ctx.sink.at(element, "multi-instance outputCollection needs an outputElement")
    return characteristics


def plain_activity(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    """``task`` and ``manualTask``: pass straight through."""
    return Activity(**_activity_fields(element, fields, ctx))


_BINDINGS: Final = ("latest", "deployment", "versionTag")


def job_task(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    """Service, send and business-rule tasks: a job of the ``zeebe:taskDefinition`` type, or a DMN decision."""
    decision = zeebe_child(element, "calledDecision")
    if decision is not None:
        return _called_decision(element, decision, fields, ctx)
    job = job_definition(element, ctx, required=True) or _NO_JOB
    return JobTask(**_activity_fields(element, fields, ctx), job=job, headers=headers(element))


def _called_decision(element: Element, decision: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    """``zeebe:calledDecision decisionId resultVariable [bindingType versionTag]``: evaluated by the engine."""
    raw_id = (decision.get("decisionId") or "").strip()
    result_variable = (decision.get("resultVariable") or "").strip()
    binding = (decision.get("bindingType") or "latest").strip()
    version_tag = (decision.get("versionTag") or "").strip() or None
    if not raw_id:
        ctx.sink.at(element, "zeebe:calledDecision has no decisionId")
    if not result_variable:
        ctx.sink.at(element, "zeebe:calledDecision has no resultVariable")
    if binding not in _BINDINGS:
        ctx.sink.at(element, f"zeebe:calledDecision bindingType {binding!r} is not one of {', '.join(_BINDINGS)}")
    if binding == "versionTag" and version_tag is None:
        ctx.sink.at(element, "zeebe:calledDecision bindingType 'versionTag' needs a versionTag")
    if zeebe_child(element, "taskDefinition") is not None:
        ctx.sink.at(element, "a business rule task has either a zeebe:calledDecision or a zeebe:taskDefinition")
    decision_id = ctx.value(raw_id, decision, "zeebe:calledDecision decisionId") if raw_id else Value(
        text="", is_expression=False)
    return BusinessRuleTask(**_activity_fields(element, fields, ctx), decision_id=decision_id,
                            result_variable=result_variable, binding=binding, version_tag=version_tag)


def script_task(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    """A FEEL ``zeebe:script`` evaluated by the engine, or a job when it has a task definition."""
    script = zeebe_child(element, "script")
    if script is not None:
        expression = ctx.expression(script.get("expression") or "", script, "zeebe:script expression")
        result_variable = (script.get("resultVariable") or "").strip() or None
        if result_variable is None:
            ctx.sink.at(element, "zeebe:script has no resultVariable")
        return ScriptTask(
            **_activity_fields(element, fields, ctx), expression=expression, result_variable=result_variable
        )
    job = job_definition(element, ctx, required=False)
    if job is None:
        inline = _child(element, "script")
        language = element.get("scriptFormat") or "unknown"
        detail = f"; its bpmn:script in {language!r} is never run" if inline is not None else ""
        ctx.sink.at(element, f"script task needs a zeebe:script FEEL expression or a zeebe:taskDefinition{detail}")
    return JobTask(**_activity_fields(element, fields, ctx), job=job or _NO_JOB, headers=headers(element))


def receive_task(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    ref = element.get("messageRef")
    if ref is None:
        ctx.sink.at(element, "receive task has no messageRef")
    message = message_definition(ref, element, ctx) if ref is not None else None
    return ReceiveTask(**_activity_fields(element, fields, ctx), message=message)


def user_task(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    def read(local: str, attribute: str) -> Value | None:
        child = zeebe_child(element, local)
        raw = child.get(attribute) if child is not None else None
        if child is None or raw is None or not raw.strip():
            return None
        return ctx.value(raw, child, f"zeebe:{local} {attribute}")

    form = zeebe_child(element, "formDefinition")
    link = form_link(element, ctx)
    definition = UserTaskDefinition(
        assignee=read("assignmentDefinition", "assignee"),
        candidate_groups=read("assignmentDefinition", "candidateGroups"),
        candidate_users=read("assignmentDefinition", "candidateUsers"),
        due_date=read("taskSchedule", "dueDate"),
        follow_up_date=read("taskSchedule", "followUpDate"),
        form_key=form.get("formKey") if form is not None else None,
        form_id=form.get("formId") if form is not None else None,
        priority=read("priorityDefinition", "priority"),
        form=link,
    )
    return UserTask(**_activity_fields(element, fields, ctx), user_task=definition)


def call_activity(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    called = zeebe_child(element, "calledElement")
    raw = (called.get("processId") or "").strip() if called is not None else ""
    if called is None or not raw:
        ctx.sink.at(element, "call activity has no zeebe:calledElement processId")
        process = Value(text="", is_expression=False)
    else:
        process = ctx.value(raw, called, "zeebe:calledElement processId")
    child_variables = parent_variables = True
    if called is not None:
        child_variables = ctx.flag(called, "propagateAllChildVariables", True)
        parent_variables = ctx.flag(called, "propagateAllParentVariables", True)
    return CallActivity(
        **_activity_fields(element, fields, ctx),
        called_process=process,
        propagate_all_child_variables=child_variables,
        propagate_all_parent_variables=parent_variables,
    )


def sub_process(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    """An embedded or event subprocess; its children are walked and filled in by ``_scopes``."""
    triggered = ctx.flag(element, "triggeredByEvent", False)
    return SubProcess(**_activity_fields(element, fields, ctx), triggered_by_event=triggered)


def ad_hoc_sub_process(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    ad_hoc = zeebe_child(element, "adHoc")
    get = ad_hoc.get if ad_hoc is not None else (lambda _name: None)
    completion = _child(element, "completionCondition")
    return AdHocSubProcess(
        **_activity_fields(element, fields, ctx),
        triggered_by_event=False,
        active_elements=_optional_expression(ad_hoc, get("activeElementsCollection"), ctx, "activeElementsCollection"),
        completion_condition=_optional_expression(
            completion, text_of(completion) if completion is not None else None, ctx, "completionCondition"
        ),
        cancel_remaining_instances=ctx.flag(element, "cancelRemainingInstances", True),
        output_collection=(get("outputCollection") or "").strip() or None,
        output_element=_optional_expression(ad_hoc, get("outputElement"), ctx, "ad-hoc outputElement"),
        job=job_definition(element, ctx, required=False),
        headers=headers(element),
    )
