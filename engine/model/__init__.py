"""The BPMN model as frozen data.

Owns: the dataclasses that describe a parsed BPMN file (definitions,
processes, flow nodes, sequence flows, event definitions, Camunda 8 extension
data, BPMN DI) and the indexes built once per process.

Does not know: XML (that is ``engine.parser``), FEEL evaluation, or anything
about running instances (``engine.runtime``).
"""

from engine.model.definitions import Bounds, Definitions, Diagram, Edge, Process, Shape
from engine.model.elements import (
    EMBEDDED_FORM_PREFIX,
    Activity,
    AdHocSubProcess,
    BoundaryEvent,
    BusinessRuleTask,
    CallActivity,
    ElementKind,
    Event,
    EventDefinition,
    EventDefinitionKind,
    ExtensionElement,
    FlowNode,
    FormBinding,
    FormLink,
    Gateway,
    JobDefinition,
    JobTask,
    LoopCharacteristics,
    Mapping,
    ReceiveTask,
    ScriptTask,
    SequenceFlow,
    StartEvent,
    SubProcess,
    UserTask,
    UserTaskDefinition,
    Value,
)

__all__ = [
    "EMBEDDED_FORM_PREFIX",
    "Activity",
    "AdHocSubProcess",
    "BoundaryEvent",
    "Bounds",
    "BusinessRuleTask",
    "CallActivity",
    "Definitions",
    "Diagram",
    "Edge",
    "ElementKind",
    "Event",
    "EventDefinition",
    "EventDefinitionKind",
    "ExtensionElement",
    "FlowNode",
    "FormBinding",
    "FormLink",
    "Gateway",
    "JobDefinition",
    "JobTask",
    "LoopCharacteristics",
    "Mapping",
    "Process",
    "ReceiveTask",
    "ScriptTask",
    "SequenceFlow",
    "Shape",
    "StartEvent",
    "SubProcess",
    "UserTask",
    "UserTaskDefinition",
    "Value",
]
