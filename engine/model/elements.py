"""Flow elements of a BPMN process as frozen data.

Every element knows its id, its kind, the scope that contains it (``parent``,
the id of a process or subprocess) and the line of the XML it came from, so a
runtime error can point back at the source. Expressions are kept as source
text (FEEL without the leading ``=``, or a static value); the runtime compiles
them once through a cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ElementKind(StrEnum):
    """The BPMN element types the engine executes."""

    START_EVENT = "startEvent"
    END_EVENT = "endEvent"
    INTERMEDIATE_CATCH_EVENT = "intermediateCatchEvent"
    INTERMEDIATE_THROW_EVENT = "intermediateThrowEvent"
    BOUNDARY_EVENT = "boundaryEvent"
    TASK = "task"
    MANUAL_TASK = "manualTask"
    SCRIPT_TASK = "scriptTask"
    SERVICE_TASK = "serviceTask"
    SEND_TASK = "sendTask"
    RECEIVE_TASK = "receiveTask"
    BUSINESS_RULE_TASK = "businessRuleTask"
    USER_TASK = "userTask"
    EXCLUSIVE_GATEWAY = "exclusiveGateway"
    PARALLEL_GATEWAY = "parallelGateway"
    INCLUSIVE_GATEWAY = "inclusiveGateway"
    EVENT_BASED_GATEWAY = "eventBasedGateway"
    SUB_PROCESS = "subProcess"
    AD_HOC_SUB_PROCESS = "adHocSubProcess"
    CALL_ACTIVITY = "callActivity"


class EventDefinitionKind(StrEnum):
    NONE = "none"
    TERMINATE = "terminate"
    TIMER = "timer"
    MESSAGE = "message"
    SIGNAL = "signal"
    ERROR = "error"
    ESCALATION = "escalation"
    COMPENSATE = "compensate"
    LINK = "link"
    CONDITIONAL = "conditional"


@dataclass(frozen=True, slots=True, kw_only=True)
class Mapping:
    """One ``zeebe:input`` or ``zeebe:output``: evaluate ``source`` and write ``target``.

    ``source`` is FEEL when ``is_expression`` else a static string value.
    ``target`` may be a dotted path (``a.b``) that writes into a nested context.
    """

    source: str
    target: str
    is_expression: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Value:
    """An attribute that is either a static string or a FEEL expression."""

    text: str
    is_expression: bool

    @staticmethod
    def of(raw: str) -> Value:
        stripped = raw.strip()
        if stripped.startswith("="):
            return Value(text=stripped[1:], is_expression=True)
        return Value(text=raw, is_expression=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDefinition:
    kind: EventDefinitionKind
    ref: str | None = None  # message/signal/error/escalation name or code, link name, compensated activity
    timer_type: str | None = None  # timeDuration | timeDate | timeCycle
    timer: Value | None = None
    correlation_key: Value | None = None
    wait_for_completion: bool = True
    condition: str | None = None  # FEEL of a conditional event, without the leading "="
    # a conditional event's zeebe:conditionalFilter: which variables' changes re-evaluate it (empty: any), and on
    # which kinds of change ("create", "update"; empty: both)
    variable_names: tuple[str, ...] = ()
    variable_events: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtensionElement:
    """An element of agenthub's namespace (``urn:agenthub:bpmn:1``) inside ``extensionElements``.

    Kept generically (local name, attributes, text, nested elements) so that
    the agent, tool and policy configuration can be interpreted by the layer
    that owns it without the parser knowing their schema.
    """

    name: str  # local name, e.g. "agent", "policy", "tool"
    attributes: tuple[tuple[str, str], ...] = ()
    line: int | None = None
    text: str | None = None
    children: tuple[ExtensionElement, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopCharacteristics:
    """``multiInstanceLoopCharacteristics`` with Camunda 8's ``zeebe:loopCharacteristics``."""

    sequential: bool
    input_collection: str | None = None  # FEEL
    input_element: str | None = None
    output_collection: str | None = None
    output_element: str | None = None  # FEEL
    completion_condition: str | None = None  # FEEL
    cardinality: str | None = None  # FEEL (loopCardinality)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobDefinition:
    type: Value
    retries: Value = field(default_factory=lambda: Value(text="3", is_expression=False))


class ListenerEvent(StrEnum):
    """When a listener runs: ``zeebe:executionListener`` (start, end) or ``zeebe:taskListener`` (the rest)."""

    START = "start"
    END = "end"
    CREATING = "creating"
    ASSIGNING = "assigning"
    UPDATING = "updating"
    COMPLETING = "completing"
    CANCELING = "canceling"


EXECUTION_LISTENER_EVENTS = frozenset({ListenerEvent.START, ListenerEvent.END})


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    """One ``zeebe:executionListener`` or ``zeebe:taskListener``: a job of ``job.type`` the element waits for."""

    event: ListenerEvent
    job: JobDefinition

    @property
    def execution(self) -> bool:
        return self.event in EXECUTION_LISTENER_EVENTS


EMBEDDED_FORM_PREFIX = "camunda-forms:bpmn:"  # a formKey naming a form embedded by zeebe:userTaskForm


class FormBinding(StrEnum):
    """Which version of a linked form a task shows (``zeebe:formDefinition bindingType``), as Camunda 8 binds."""

    LATEST = "latest"
    DEPLOYMENT = "deployment"
    VERSION_TAG = "versionTag"


@dataclass(frozen=True, slots=True, kw_only=True)
class FormLink:
    """A user task's or start event's ``zeebe:formDefinition``: one of a deployed form's id (bound as
    ``binding`` says), a ``formKey`` (``camunda-forms:bpmn:<id>`` for a form embedded in the process by
    ``zeebe:userTaskForm``, anything else for the application) or an ``externalReference`` (a URL)."""

    form_id: str | None = None
    form_key: str | None = None
    external_reference: str | None = None
    binding: FormBinding = FormBinding.LATEST
    version_tag: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserTaskDefinition:
    assignee: Value | None = None
    candidate_groups: Value | None = None
    candidate_users: Value | None = None
    due_date: Value | None = None
    follow_up_date: Value | None = None
    form_key: str | None = None
    form_id: str | None = None
    priority: Value | None = None
    form: FormLink | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowNode:
    """Common part of every executable element."""

    id: str
    kind: ElementKind
    name: str | None = None
    parent: str  # id of the containing process or subprocess
    incoming: tuple[str, ...] = ()  # sequence flow ids
    outgoing: tuple[str, ...] = ()
    documentation: str | None = None
    inputs: tuple[Mapping, ...] = ()
    outputs: tuple[Mapping, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()  # zeebe:properties
    line: int | None = None
    extensions: tuple[ExtensionElement, ...] = ()  # agenthub:* elements in extensionElements
    listeners: tuple[Listener, ...] = ()  # zeebe:executionListeners and zeebe:taskListeners, in document order

    @property
    def label(self) -> str:
        return self.name or self.id

    def listeners_of(self, event: ListenerEvent) -> tuple[Listener, ...]:
        return tuple(listener for listener in self.listeners if listener.event == event)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event(FlowNode):
    definitions: tuple[EventDefinition, ...] = ()
    job: JobDefinition | None = None  # message throw events implemented by a job (zeebe:taskDefinition)
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def definition(self) -> EventDefinition | None:
        return self.definitions[0] if self.definitions else None


@dataclass(frozen=True, slots=True, kw_only=True)
class StartEvent(Event):
    interrupting: bool = True
    form: FormLink | None = None  # what a person fills in to start the process (a none start event's)


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundaryEvent(Event):
    attached_to: str
    cancel_activity: bool = True
    compensation_handler: str | None = None  # a compensation boundary's handler activity (by association)


@dataclass(frozen=True, slots=True, kw_only=True)
class Activity(FlowNode):
    loop: LoopCharacteristics | None = None
    default_flow: str | None = None
    boundary_events: tuple[str, ...] = ()
    is_for_compensation: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class JobTask(Activity):
    """Service, send and business-rule tasks (and script tasks without an expression): work done by a job."""

    job: JobDefinition
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptTask(Activity):
    """A script task evaluated by the engine (``zeebe:script``)."""

    expression: str  # FEEL
    result_variable: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessRuleTask(Activity):
    """A business rule task that evaluates a deployed DMN decision in the step (``zeebe:calledDecision``)."""

    decision_id: Value
    result_variable: str
    binding: str = "latest"  # latest | deployment | versionTag (engine.dmn.DecisionBinding)
    version_tag: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserTask(Activity):
    user_task: UserTaskDefinition = field(default_factory=UserTaskDefinition)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveTask(Activity):
    message: EventDefinition | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallActivity(Activity):
    called_process: Value
    propagate_all_child_variables: bool = True
    propagate_all_parent_variables: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class SubProcess(Activity):
    """An embedded subprocess; with ``triggered_by_event`` an event subprocess."""

    triggered_by_event: bool = False
    children: tuple[str, ...] = ()  # ids of the flow nodes directly inside


@dataclass(frozen=True, slots=True, kw_only=True)
class AdHocSubProcess(SubProcess):
    active_elements: str | None = None  # FEEL list of element ids activated on entry
    completion_condition: str | None = None  # FEEL
    cancel_remaining_instances: bool = True
    output_collection: str | None = None
    output_element: str | None = None
    job: JobDefinition | None = None  # an ad-hoc subprocess implemented by a job worker (Camunda 8.8 AI agent)
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def has_agent(self) -> bool:
        """Whether an ``<agenthub:agent>`` runs it (``engine.agent.config`` reads what the agent is)."""
        return any(e.name == "agent" for e in self.extensions)


@dataclass(frozen=True, slots=True, kw_only=True)
class Gateway(FlowNode):
    default_flow: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SequenceFlow:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None  # FEEL, without the leading "="
    line: int | None = None
