"""The parser's table: which BPMN tag becomes which flow node, and which tags are left alone.

One map from tag to (kind, builder), as SpiffWorkflow's ``PARSER_CLASSES``.
Supporting a new element is one line here plus its builder. A tag of the BPMN
namespace that is in none of these tables is unsupported and reported by
name, never skipped silently.
"""

from __future__ import annotations

from typing import Final

from engine.model import ElementKind, FlowNode, Gateway
from engine.parser import _activities, _events
from engine.parser._context import Builder, NodeFields, ProcessContext
from engine.parser._names import bpmn
from engine.parser._tree import Element

K = ElementKind


def _gateway(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    return Gateway(**fields, default_flow=element.get("default"))


FLOW_NODES: Final[dict[str, tuple[ElementKind, Builder]]] = {
    bpmn("startEvent"): (K.START_EVENT, _events.start_event),
    bpmn("endEvent"): (K.END_EVENT, _events.end_event),
    bpmn("intermediateCatchEvent"): (K.INTERMEDIATE_CATCH_EVENT, _events.intermediate_catch_event),
    bpmn("intermediateThrowEvent"): (K.INTERMEDIATE_THROW_EVENT, _events.intermediate_throw_event),
    bpmn("boundaryEvent"): (K.BOUNDARY_EVENT, _events.boundary_event),
    bpmn("task"): (K.TASK, _activities.plain_activity),
    bpmn("manualTask"): (K.MANUAL_TASK, _activities.plain_activity),
    bpmn("scriptTask"): (K.SCRIPT_TASK, _activities.script_task),
    bpmn("serviceTask"): (K.SERVICE_TASK, _activities.job_task),
    bpmn("sendTask"): (K.SEND_TASK, _activities.job_task),
    bpmn("businessRuleTask"): (K.BUSINESS_RULE_TASK, _activities.job_task),
    bpmn("receiveTask"): (K.RECEIVE_TASK, _activities.receive_task),
    bpmn("userTask"): (K.USER_TASK, _activities.user_task),
    bpmn("exclusiveGateway"): (K.EXCLUSIVE_GATEWAY, _gateway),
    bpmn("parallelGateway"): (K.PARALLEL_GATEWAY, _gateway),
    bpmn("inclusiveGateway"): (K.INCLUSIVE_GATEWAY, _gateway),
    bpmn("eventBasedGateway"): (K.EVENT_BASED_GATEWAY, _gateway),
    bpmn("subProcess"): (K.SUB_PROCESS, _activities.sub_process),
    bpmn("adHocSubProcess"): (K.AD_HOC_SUB_PROCESS, _activities.ad_hoc_sub_process),
    bpmn("callActivity"): (K.CALL_ACTIVITY, _activities.call_activity),
}

SEQUENCE_FLOW: Final = bpmn("sequenceFlow")

# Inside a process or subprocess: artefacts that do not change how it runs.
IGNORED_IN_SCOPE: Final = frozenset(
    bpmn(local)
    for local in (
        "documentation",
        "extensionElements",
        "textAnnotation",
        "association",
        "group",
        "category",
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        "dataInput",
        "dataOutput",
        "ioSpecification",
        "ioBinding",
        "property",
        "laneSet",
        "auditing",
        "monitoring",
        "correlationSubscription",
        "resourceRole",
        "performer",
        "humanPerformer",
        "potentialOwner",
        "supports",
        # children of a subprocess element that are its own attributes, not flow elements
        "incoming",
        "outgoing",
        "dataInputAssociation",
        "dataOutputAssociation",
        "multiInstanceLoopCharacteristics",
        "standardLoopCharacteristics",
        "completionCondition",
    )
)

# At the top of a file, beside processes: definitions that processes refer to or nothing runs.
IGNORED_AT_ROOT: Final = frozenset(
    bpmn(local)
    for local in (
        "documentation",
        "extensionElements",
        "import",
        "itemDefinition",
        "dataStore",
        "interface",
        "category",
        "correlationProperty",
        "resource",
        "partnerEntity",
        "partnerRole",
        "extension",
        "endPoint",
        "collaboration",
        "relationship",
        "globalTask",
        "globalUserTask",
        "globalScriptTask",
        "globalManualTask",
        "globalBusinessRuleTask",
        "globalConversation",
        "conversation",
        # event definitions declared globally, only reachable through eventDefinitionRef (reported there)
        "timerEventDefinition",
        "messageEventDefinition",
        "signalEventDefinition",
        "errorEventDefinition",
        "escalationEventDefinition",
        "compensateEventDefinition",
        "conditionalEventDefinition",
        "linkEventDefinition",
        "terminateEventDefinition",
        "cancelEventDefinition",
    )
)
