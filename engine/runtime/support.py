"""Which parsed elements the runtime can execute today.

The parser understands more of BPMN than the runtime runs yet; deploying a
model that uses the rest is refused with a problem naming each element,
rather than accepted and stuck later.

Some things a model may carry are accepted but not acted on, because the
model still runs without them: Camunda's job-worker ad-hoc subprocess (but
its AI Agent, which the agent loop runs), Camunda connector job types nothing here handles, inbound
connector properties. Deploying such a model succeeds with a warning per
element that says what will not happen (``process_warnings``), so an
instance does not wait later without a word.
"""

from __future__ import annotations

from typing import Final

from engine.model import (
    AdHocSubProcess,
    BoundaryEvent,
    Definitions,
    ElementKind,
    Event,
    EventDefinitionKind,
    FlowNode,
    JobTask,
    ListenerEvent,
    Process,
    StartEvent,
    SubProcess,
)
from engine.parser import Problem
from engine.runtime.lint import loop_warnings, recursion_warnings

_NONE, _TIMER, _MESSAGE, _SIGNAL = (EventDefinitionKind.NONE, EventDefinitionKind.TIMER, EventDefinitionKind.MESSAGE,
                                    EventDefinitionKind.SIGNAL)
_ERROR, _ESCALATION, _COMPENSATE, _LINK = (EventDefinitionKind.ERROR, EventDefinitionKind.ESCALATION,
                                           EventDefinitionKind.COMPENSATE, EventDefinitionKind.LINK)
_TERMINATE, _CONDITIONAL = EventDefinitionKind.TERMINATE, EventDefinitionKind.CONDITIONAL

_EVENT_KINDS = {
    ElementKind.END_EVENT: {_NONE, _TERMINATE, _ERROR, _ESCALATION, _SIGNAL, _COMPENSATE, _MESSAGE},
    ElementKind.INTERMEDIATE_THROW_EVENT: {_NONE, _SIGNAL, _ESCALATION, _COMPENSATE, _LINK, _MESSAGE},
    ElementKind.INTERMEDIATE_CATCH_EVENT: {_TIMER, _MESSAGE, _SIGNAL, _LINK, _CONDITIONAL},
    ElementKind.BOUNDARY_EVENT: {_TIMER, _MESSAGE, _SIGNAL, _ERROR, _ESCALATION, _COMPENSATE, _CONDITIONAL},
}
_START_KINDS = {
    "process": {_NONE, _TIMER, _MESSAGE, _SIGNAL},
    "event subprocess": {_TIMER, _MESSAGE, _SIGNAL, _ERROR, _ESCALATION, _CONDITIONAL},
    "subprocess": {_NONE},
}
_NOT_YET: dict[ElementKind, str] = {}


def _kinds(node: Event) -> set[EventDefinitionKind]:
    return {d.kind for d in node.definitions} or {_NONE}


def _listener_problem(process: Process, node: FlowNode) -> str | None:
    """Start listeners run before an element's own work; an event created by what triggers it has none to wait
    for (as in Camunda, which refuses them there too). An error end event never completes: no end listener."""
    if node.listeners_of(ListenerEvent.END) and isinstance(node, Event) and node.kind == ElementKind.END_EVENT \
            and _ERROR in _kinds(node):
        return "end execution listeners are not supported on an error end event (it throws instead of completing)"
    if not node.listeners_of(ListenerEvent.START):
        return None
    after_gateway = any(process.nodes[process.flows[f].source].kind == ElementKind.EVENT_BASED_GATEWAY
                        for f in node.incoming if f in process.flows)
    if isinstance(node, BoundaryEvent) or (isinstance(node, StartEvent) and node.definitions) or after_gateway:
        return f"start execution listeners are not supported on a {node.kind} triggered by its event"
    return None


def _problem(process: Process, node: FlowNode) -> str | None:
    if node.kind in _NOT_YET:
        return f"{_NOT_YET[node.kind]} are not supported yet"
    listener = _listener_problem(process, node)
    if listener is not None:
        return listener
    if not isinstance(node, Event):
        return None
    kinds = _kinds(node)
    if len(node.definitions) > 1:
        return "events with several event definitions (multiple events) are not supported yet"
    if isinstance(node, StartEvent):
        container = process.nodes.get(node.parent)
        where = "process" if container is None else (
            "event subprocess" if isinstance(container, SubProcess) and container.triggered_by_event else "subprocess")
        allowed = _START_KINDS[where]
    else:
        where = ""
        allowed = _EVENT_KINDS.get(node.kind, {_NONE})
    unsupported = kinds - allowed
    if unsupported == {_CONDITIONAL} and where == "process":
        return ("a conditional start event at the process level (Camunda starts such an instance through its API) "
                "is not supported yet: use a conditional start event in an event subprocess, or a none start event")
    if unsupported:
        kind = sorted(unsupported)[0]
        return f"a {kind} {node.kind} is not supported" + (" yet" if kind == EventDefinitionKind.CONDITIONAL else "")
    if _COMPENSATE in kinds and isinstance(node, BoundaryEvent) and node.compensation_handler is None:
        return "a compensation boundary event needs an association to its compensation handler activity"
    return None


def unsupported_problems(definitions: Definitions, resource: str) -> list[Problem]:
    problems: list[Problem] = []
    for process in definitions.processes.values():
        if not process.executable:
            continue
        for node in process.nodes.values():
            message = _problem(process, node)
            if message is not None:
                problems.append(Problem(source_name=resource, line=node.line, element_id=node.id, message=message))
    return problems


# Job types of Camunda's connectors (e-mail, Kafka, Slack, the AI Agent, MCP and A2A clients ...): Camunda's
# connector runtime runs them, which is not part of this engine. The hub runs its REST connector itself
# (``protocols.http.camunda``), the MCP and A2A clients (``protocols.mcp.camunda_client``,
# ``protocols.a2a.camunda_client``), so a model using them
# is not warned about.
_CONNECTOR_PREFIXES: Final = ("io.camunda:", "io.camunda.agenticai:", "io.camunda.connectors.")
_BUILT_IN_CONNECTORS: Final = frozenset({"io.camunda:http-json:1", "io.camunda.agenticai:mcpclient:1",
                                         "io.camunda.agenticai:mcpremoteclient:1",
                                         "io.camunda.agenticai:a2aclient:0",  # protocols.a2a.camunda_client
                                         "io.camunda.agenticai:aiagent:1",  # the AI Agent Task: protocols.llm
                                         "io.camunda.agenticai:adhoctoolsschema:1"})  # protocols.llm too
_AI_AGENT_JOB_WORKER: Final = "io.camunda.agenticai:aiagent-job-worker:"


def _ad_hoc_warning(node: AdHocSubProcess) -> str | None:
    if node.job is None or node.has_agent:  # with <agenthub:agent> the agent runs it
        return None
    job_type = node.job.type.text
    if not node.job.type.is_expression and job_type.strip().startswith(_AI_AGENT_JOB_WORKER):
        return None  # Camunda's AI Agent: the agent loop runs it (engine.agent.camunda)
    what = f"adHocSubProcess with zeebe:taskDefinition type '{job_type}'"
    reason = "ad-hoc subprocesses implemented by a job worker are not supported"
    idle = "" if node.active_elements else (
        ", which activates nothing on its own (it has no activeElementsCollection) and waits")
    return (
        f"{what}: {reason}, so no job is created and no agent runs; the subprocess runs as a plain ad-hoc "
        f"subprocess{idle}. To have an agent run it, add <agenthub:agent model=\"...\"/> to its extensionElements"
    )


def _connector_warning(node: FlowNode) -> str | None:
    job = node.job if isinstance(node, JobTask | Event) else None
    if job is None or job.type.is_expression or not job.type.text.startswith(_CONNECTOR_PREFIXES):
        return None
    if job.type.text in _BUILT_IN_CONNECTORS:
        return None
    job_type = job.type.text
    return (
        f"{node.kind} with job type '{job_type}', a Camunda connector that is not built in: its job "
        f"waits until a worker for '{job_type}' runs (a module with @worker(\"{job_type}\"), run with "
        "`agenthub worker --workers MODULE`)"
    )


def _inbound_warning(node: FlowNode) -> str | None:
    inbound = next((value for name, value in node.properties if name == "inbound.type"), None)
    if inbound is None:
        return None
    kinds = _kinds(node) if isinstance(node, Event) else set()
    if inbound.strip() == "io.camunda:webhook:1":  # served by the hub (hub.inbound), which the engine does not know
        context = next((value for name, value in node.properties if name == "inbound.context"), "")
        return (f"{node.kind} is a Camunda inbound connector ('{inbound}'), a webhook: only `agenthub serve` "
                f"serves it, at /inbound/{context or '<inbound.context>'}; without the hub, nothing triggers it")
    if inbound.strip() == "io.camunda.agenticai:a2aclient:webhook:0":  # hub.inbound too, for A2A push notifications
        context = next((value for name, value in node.properties if name == "inbound.context"), "")
        return (f"{node.kind} is Camunda's A2A webhook ('{inbound}'): only `agenthub serve` receives the agent's "
                f"push notification, at /inbound/{context or '<inbound.context>'}; without the hub, nothing "
                "triggers it")
    if inbound.strip() == "io.camunda.agenticai:a2aclient:polling:0":  # protocols.a2a.camunda_polling, in the hub
        return (f"{node.kind} is Camunda's A2A polling connector ('{inbound}'): only `agenthub serve` polls the "
                "remote task; without the hub, nothing triggers it")
    if _MESSAGE in kinds:
        instead = "it is triggered only by a message published to it (`agenthub publish` or the REST API)"
    elif isinstance(node, StartEvent):
        instead = "instances start only when started (`agenthub start` or the REST API)"
    else:
        instead = "nothing triggers it from outside"
    return f"{node.kind} is a Camunda inbound connector ('{inbound}'), which is not built in: {instead}"


def process_warnings(process: Process, resource: str) -> list[Problem]:
    """What ``process`` carries that is accepted but not acted on, one warning per element and cause."""
    if not process.executable:
        return []
    warnings: list[Problem] = []
    for node in process.nodes.values():
        found = [_ad_hoc_warning(node) if isinstance(node, AdHocSubProcess) else None,
                 _connector_warning(node), _inbound_warning(node)]
        warnings.extend(
            Problem(source_name=resource, line=node.line, element_id=node.id, message=message)
            for message in found
            if message is not None
        )
    warnings.extend(loop_warnings(process, resource))
    warnings.extend(recursion_warnings(process, resource))
    return warnings
