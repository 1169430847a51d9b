"""Each BPMN element and Camunda 8 extension becomes the model object the runtime expects."""

from __future__ import annotations

import pytest

from engine.model import (
    Activity,
    AdHocSubProcess,
    BoundaryEvent,
    CallActivity,
    ElementKind,
    Event,
    EventDefinitionKind,
    ExtensionElement,
    Gateway,
    JobTask,
    Mapping,
    Process,
    ReceiveTask,
    ScriptTask,
    StartEvent,
    SubProcess,
    UserTask,
    Value,
)
from engine.parser import parse_bpmn

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
    'xmlns:agenthub="urn:agenthub:bpmn:1"'
)
ROOTS = """
<bpmn:message id="M1" name="order-paid"><bpmn:extensionElements>
  <zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>
<bpmn:message id="M2" name="started"/>
<bpmn:signal id="S1" name="alarm"/>
<bpmn:error id="E1" errorCode="NO_STOCK"/>
<bpmn:escalation id="X1" escalationCode="LATE"/>
"""


def document(body: str, *, attributes: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES} id="defs">{ROOTS}\n'
        f'<bpmn:process id="p" isExecutable="true" {attributes}>\n{body}\n</bpmn:process>\n</bpmn:definitions>\n'
    )


def parse(body: str, *, attributes: str = "") -> Process:
    return parse_bpmn(document(body, attributes=attributes), source_name="test.bpmn").processes["p"]


def around(middle: str, first: str = "t") -> str:
    """A start event flowing into ``first`` and a flow from ``first`` to an end event, around ``middle``."""
    return f"""
<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f_in" sourceRef="start" targetRef="{first}"/>
{middle}
<bpmn:sequenceFlow id="f_out" sourceRef="{first}" targetRef="end"/>
<bpmn:endEvent id="end"/>
"""


def job(type_: str = "work") -> str:
    return f'<bpmn:extensionElements><zeebe:taskDefinition type="{type_}"/></bpmn:extensionElements>'


def test_a_minimal_process_links_nodes_through_its_sequence_flows() -> None:
    process = parse(around('<bpmn:task id="t" name="Do it"/>'))
    task = process.nodes["t"]
    assert type(task) is Activity
    assert task.kind is ElementKind.TASK
    assert task.name == "Do it"
    assert task.parent == "p"
    assert task.incoming == ("f_in",)
    assert task.outgoing == ("f_out",)
    assert process.nodes["start"].outgoing == ("f_in",)
    assert process.flows["f_in"].source == "start"
    assert process.flows["f_in"].target == "t"
    assert process.executable is True


def test_every_node_and_flow_carries_its_source_line() -> None:
    text = document(around('<bpmn:task id="t"/>'))
    process = parse_bpmn(text).processes["p"]
    lines = text.splitlines()
    assert 'id="t"' in lines[process.nodes["t"].line - 1]  # type: ignore[operator]
    assert 'id="f_out"' in lines[process.flows["f_out"].line - 1]  # type: ignore[operator]
    assert 'id="p"' in lines[process.line - 1]  # type: ignore[operator]


def test_incoming_and_outgoing_child_elements_are_ignored_in_favour_of_the_flows() -> None:
    process = parse(around('<bpmn:task id="t"><bpmn:incoming>bogus</bpmn:incoming></bpmn:task>'))
    assert process.nodes["t"].incoming == ("f_in",)


def test_manual_task_is_a_plain_activity() -> None:
    process = parse(around('<bpmn:manualTask id="t"/>'))
    assert process.nodes["t"].kind is ElementKind.MANUAL_TASK
    assert isinstance(process.nodes["t"], Activity)


@pytest.mark.parametrize("tag", ["serviceTask", "sendTask", "businessRuleTask"])
def test_job_tasks_read_the_task_definition_with_three_retries_by_default(tag: str) -> None:
    process = parse(around(f'<bpmn:{tag} id="t">{job("charge-card")}</bpmn:{tag}>'))
    task = process.nodes["t"]
    assert isinstance(task, JobTask)
    assert task.kind == tag
    assert task.job.type == Value(text="charge-card", is_expression=False)
    assert task.job.retries == Value(text="3", is_expression=False)


def test_task_type_and_retries_may_be_feel_expressions() -> None:
    ext = '<bpmn:extensionElements><zeebe:taskDefinition type="=kind" retries="= n + 1"/></bpmn:extensionElements>'
    task = parse(around(f'<bpmn:serviceTask id="t">{ext}</bpmn:serviceTask>')).nodes["t"]
    assert isinstance(task, JobTask)
    assert task.job.type == Value(text="kind", is_expression=True)
    assert task.job.retries == Value(text=" n + 1", is_expression=True)


def test_task_headers_are_kept_in_order() -> None:
    ext = """<bpmn:extensionElements><zeebe:taskDefinition type="mail"/>
      <zeebe:taskHeaders><zeebe:header key="to" value="ops"/><zeebe:header key="cc" value="me"/></zeebe:taskHeaders>
    </bpmn:extensionElements>"""
    task = parse(around(f'<bpmn:serviceTask id="t">{ext}</bpmn:serviceTask>')).nodes["t"]
    assert isinstance(task, JobTask)
    assert task.headers == (("to", "ops"), ("cc", "me"))


def test_io_mappings_tell_feel_sources_from_static_ones() -> None:
    ext = """<bpmn:extensionElements><zeebe:taskDefinition type="x"/><zeebe:ioMapping>
      <zeebe:input source="=order.total" target="amount"/>
      <zeebe:input source="EUR" target="currency"/>
      <zeebe:output source="=receipt.id" target="order.receiptId"/>
    </zeebe:ioMapping></bpmn:extensionElements>"""
    task = parse(around(f'<bpmn:serviceTask id="t">{ext}</bpmn:serviceTask>')).nodes["t"]
    assert task.inputs == (
        Mapping(source="order.total", target="amount", is_expression=True),
        Mapping(source="EUR", target="currency", is_expression=False),
    )
    assert task.outputs == (Mapping(source="receipt.id", target="order.receiptId", is_expression=True),)


def test_properties_and_documentation_are_kept_on_any_node() -> None:
    body = """<bpmn:task id="t"><bpmn:documentation>Checks the order.</bpmn:documentation>
      <bpmn:extensionElements><zeebe:properties><zeebe:property name="owner" value="sales"/></zeebe:properties>
      </bpmn:extensionElements></bpmn:task>"""
    task = parse(around(body)).nodes["t"]
    assert task.documentation == "Checks the order."
    assert task.properties == (("owner", "sales"),)


def test_script_task_with_a_feel_script_is_evaluated_by_the_engine() -> None:
    ext = '<bpmn:extensionElements><zeebe:script expression="=a + b" resultVariable="sum"/></bpmn:extensionElements>'
    task = parse(around(f'<bpmn:scriptTask id="t">{ext}</bpmn:scriptTask>')).nodes["t"]
    assert isinstance(task, ScriptTask)
    assert task.expression == "a + b"
    assert task.result_variable == "sum"


def test_script_task_with_a_task_definition_is_a_job() -> None:
    task = parse(around(f'<bpmn:scriptTask id="t">{job("py")}</bpmn:scriptTask>')).nodes["t"]
    assert isinstance(task, JobTask)
    assert task.kind is ElementKind.SCRIPT_TASK


def test_receive_task_waits_for_its_message_with_the_correlation_key() -> None:
    task = parse(around('<bpmn:receiveTask id="t" messageRef="M1"/>')).nodes["t"]
    assert isinstance(task, ReceiveTask)
    assert task.message is not None
    assert task.message.ref == "order-paid"
    assert task.message.correlation_key == Value(text="orderId", is_expression=True)


def test_user_task_reads_assignment_schedule_form_and_priority() -> None:
    ext = """<bpmn:extensionElements><zeebe:userTask/>
      <zeebe:assignmentDefinition assignee="=customer.rep" candidateGroups="sales, support" candidateUsers="ann"/>
      <zeebe:taskSchedule dueDate="=now() + duration(&quot;P1D&quot;)" followUpDate="2030-01-01T00:00:00Z"/>
      <zeebe:formDefinition formId="approve-form"/>
      <zeebe:priorityDefinition priority="80"/>
    </bpmn:extensionElements>"""
    task = parse(around(f'<bpmn:userTask id="t">{ext}</bpmn:userTask>')).nodes["t"]
    assert isinstance(task, UserTask)
    definition = task.user_task
    assert definition.assignee == Value(text="customer.rep", is_expression=True)
    assert definition.candidate_groups == Value(text="sales, support", is_expression=False)
    assert definition.candidate_users == Value(text="ann", is_expression=False)
    assert definition.due_date == Value(text='now() + duration("P1D")', is_expression=True)
    assert definition.follow_up_date == Value(text="2030-01-01T00:00:00Z", is_expression=False)
    assert definition.form_id == "approve-form"
    assert definition.form_key is None
    assert definition.priority == Value(text="80", is_expression=False)


def test_user_task_without_extensions_has_an_empty_definition() -> None:
    task = parse(around('<bpmn:userTask id="t"/>')).nodes["t"]
    assert isinstance(task, UserTask)
    assert task.user_task.assignee is None


def test_call_activity_reads_the_called_process_and_propagation_flags() -> None:
    ext = """<bpmn:extensionElements>
      <zeebe:calledElement processId="billing" propagateAllChildVariables="false"/></bpmn:extensionElements>"""
    task = parse(around(f'<bpmn:callActivity id="t">{ext}</bpmn:callActivity>')).nodes["t"]
    assert isinstance(task, CallActivity)
    assert task.called_process == Value(text="billing", is_expression=False)
    assert task.propagate_all_child_variables is False
    assert task.propagate_all_parent_variables is True


def test_multi_instance_reads_zeebe_collections_and_completion_condition() -> None:
    loop = """<bpmn:multiInstanceLoopCharacteristics isSequential="true">
      <bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=items" inputElement="item"
        outputCollection="results" outputElement="=result"/></bpmn:extensionElements>
      <bpmn:completionCondition>=nrOfCompletedInstances &gt;= 2</bpmn:completionCondition>
    </bpmn:multiInstanceLoopCharacteristics>"""
    task = parse(around(f'<bpmn:serviceTask id="t">{job()}{loop}</bpmn:serviceTask>')).nodes["t"]
    assert isinstance(task, Activity)
    assert task.loop is not None
    assert task.loop.sequential is True
    assert task.loop.input_collection == "items"
    assert task.loop.input_element == "item"
    assert task.loop.output_collection == "results"
    assert task.loop.output_element == "result"
    assert task.loop.completion_condition == "nrOfCompletedInstances >= 2"


def test_multi_instance_may_use_a_loop_cardinality() -> None:
    loop = """<bpmn:multiInstanceLoopCharacteristics>
      <bpmn:loopCardinality>=3</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"""
    task = parse(around(f'<bpmn:task id="t">{loop}</bpmn:task>')).nodes["t"]
    assert isinstance(task, Activity)
    assert task.loop is not None
    assert task.loop.sequential is False
    assert task.loop.cardinality == "3"


def test_gateways_keep_their_default_flow_and_conditions_lose_the_leading_equals() -> None:
    body = """
<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>
<bpmn:exclusiveGateway id="gw" default="f2"/>
<bpmn:sequenceFlow id="f1" sourceRef="gw" targetRef="end">
  <bpmn:conditionExpression>= total &gt; 100</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="end"/>
<bpmn:endEvent id="end"/>"""
    process = parse(body)
    gateway = process.nodes["gw"]
    assert isinstance(gateway, Gateway)
    assert gateway.default_flow == "f2"
    assert gateway.outgoing == ("f1", "f2")
    assert process.flows["f1"].condition == " total > 100"
    assert process.flows["f2"].condition is None
    assert process.nodes["end"].incoming == ("f1", "f2")


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("parallelGateway", ElementKind.PARALLEL_GATEWAY),
        ("inclusiveGateway", ElementKind.INCLUSIVE_GATEWAY),
    ],
)
def test_parallel_and_inclusive_gateways_are_built(tag: str, kind: ElementKind) -> None:
    process = parse(around(f'<bpmn:{tag} id="t"/>'))
    assert isinstance(process.nodes["t"], Gateway)
    assert process.nodes["t"].kind is kind


def test_event_based_gateway_leads_to_catch_events() -> None:
    body = """
<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>
<bpmn:eventBasedGateway id="gw"/>
<bpmn:sequenceFlow id="f1" sourceRef="gw" targetRef="paid"/>
<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="late"/>
<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="M1"/></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="late"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>
</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"""
    process = parse(body)
    assert process.nodes["gw"].kind is ElementKind.EVENT_BASED_GATEWAY
    late = process.nodes["late"]
    assert isinstance(late, Event)
    assert late.definition is not None
    assert late.definition.timer_type == "timeDuration"
    assert late.definition.timer == Value(text="PT1H", is_expression=False)


@pytest.mark.parametrize(
    ("definition", "kind", "ref"),
    [
        ('<bpmn:messageEventDefinition messageRef="M2"/>', EventDefinitionKind.MESSAGE, "started"),
        ('<bpmn:signalEventDefinition signalRef="S1"/>', EventDefinitionKind.SIGNAL, "alarm"),
        (
            "<bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>",
            EventDefinitionKind.TIMER,
            None,
        ),
    ],
)
def test_process_start_events_may_wait_for_a_message_signal_or_timer(
    definition: str, kind: EventDefinitionKind, ref: str | None
) -> None:
    body = f"""<bpmn:startEvent id="start">{definition}</bpmn:startEvent>
<bpmn:sequenceFlow id="f" sourceRef="start" targetRef="end"/><bpmn:endEvent id="end"/>"""
    start = parse(body).nodes["start"]
    assert isinstance(start, StartEvent)
    assert start.definition is not None
    assert start.definition.kind is kind
    assert start.definition.ref == ref


@pytest.mark.parametrize(
    ("definition", "kind", "ref"),
    [
        ("", None, None),
        ("<bpmn:terminateEventDefinition/>", EventDefinitionKind.TERMINATE, None),
        ('<bpmn:errorEventDefinition errorRef="E1"/>', EventDefinitionKind.ERROR, "NO_STOCK"),
        ('<bpmn:escalationEventDefinition escalationRef="X1"/>', EventDefinitionKind.ESCALATION, "LATE"),
        ('<bpmn:signalEventDefinition signalRef="S1"/>', EventDefinitionKind.SIGNAL, "alarm"),
        ('<bpmn:compensateEventDefinition waitForCompletion="false"/>', EventDefinitionKind.COMPENSATE, None),
        (f"<bpmn:messageEventDefinition/>{job('notify')}", EventDefinitionKind.MESSAGE, None),
    ],
)
def test_end_events_throw_what_their_definition_says(
    definition: str, kind: EventDefinitionKind | None, ref: str | None
) -> None:
    body = f"""<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f" sourceRef="start" targetRef="end"/>
<bpmn:endEvent id="end">{definition}</bpmn:endEvent>"""
    end = parse(body).nodes["end"]
    assert isinstance(end, Event)
    assert (end.definition.kind if end.definition else None) is kind
    assert (end.definition.ref if end.definition else None) == ref


def test_a_message_end_event_with_a_task_definition_is_a_job() -> None:
    body = f"""<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f" sourceRef="start" targetRef="end"/>
<bpmn:endEvent id="end"><bpmn:messageEventDefinition/>{job("send-mail")}</bpmn:endEvent>"""
    end = parse(body).nodes["end"]
    assert isinstance(end, Event)
    assert end.job is not None
    assert end.job.type.text == "send-mail"


def test_intermediate_events_catch_and_throw_links_signals_and_conditions() -> None:
    body = """
<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="throw"/>
<bpmn:intermediateThrowEvent id="throw"><bpmn:linkEventDefinition name="jump"/></bpmn:intermediateThrowEvent>
<bpmn:intermediateCatchEvent id="catch"><bpmn:linkEventDefinition name="jump"/></bpmn:intermediateCatchEvent>
<bpmn:sequenceFlow id="f1" sourceRef="catch" targetRef="cond"/>
<bpmn:intermediateCatchEvent id="cond"><bpmn:conditionalEventDefinition>
  <bpmn:condition>=ready</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:sequenceFlow id="f2" sourceRef="cond" targetRef="shout"/>
<bpmn:intermediateThrowEvent id="shout"><bpmn:signalEventDefinition signalRef="S1"/></bpmn:intermediateThrowEvent>
<bpmn:sequenceFlow id="f3" sourceRef="shout" targetRef="end"/>
<bpmn:endEvent id="end"/>"""
    process = parse(body)
    throw, catch, cond = process.nodes["throw"], process.nodes["catch"], process.nodes["cond"]
    assert isinstance(throw, Event) and throw.definition is not None
    assert isinstance(catch, Event) and catch.definition is not None
    assert isinstance(cond, Event) and cond.definition is not None
    assert throw.definition.kind is EventDefinitionKind.LINK
    assert throw.definition.ref == catch.definition.ref == "jump"
    assert cond.definition.condition == "ready"


def test_boundary_events_attach_to_their_activity() -> None:
    body = around(
        f"""<bpmn:serviceTask id="t">{job()}</bpmn:serviceTask>
<bpmn:boundaryEvent id="timeout" attachedToRef="t" cancelActivity="false">
  <bpmn:timerEventDefinition><bpmn:timeDuration>=sla</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:boundaryEvent id="failed" attachedToRef="t"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>
<bpmn:sequenceFlow id="f_timeout" sourceRef="timeout" targetRef="end"/>
<bpmn:sequenceFlow id="f_failed" sourceRef="failed" targetRef="end"/>"""
    )
    process = parse(body)
    task, timeout, failed = process.nodes["t"], process.nodes["timeout"], process.nodes["failed"]
    assert isinstance(task, Activity)
    assert task.boundary_events == ("timeout", "failed")
    assert isinstance(timeout, BoundaryEvent) and timeout.definition is not None
    assert timeout.attached_to == "t"
    assert timeout.cancel_activity is False
    assert timeout.definition.timer == Value(text="sla", is_expression=True)
    assert isinstance(failed, BoundaryEvent) and failed.definition is not None
    assert failed.cancel_activity is True
    assert failed.definition.kind is EventDefinitionKind.ERROR
    assert failed.definition.ref is None  # no errorRef: catches every error
    assert process.boundary_events("t") == (timeout, failed)


def test_subprocesses_nest_to_any_depth_with_parents_and_children() -> None:
    body = around(
        """<bpmn:subProcess id="t">
  <bpmn:startEvent id="s1"/><bpmn:sequenceFlow id="g1" sourceRef="s1" targetRef="inner"/>
  <bpmn:subProcess id="inner">
    <bpmn:startEvent id="s2"/><bpmn:sequenceFlow id="g2" sourceRef="s2" targetRef="e2"/><bpmn:endEvent id="e2"/>
  </bpmn:subProcess>
  <bpmn:sequenceFlow id="g3" sourceRef="inner" targetRef="e1"/><bpmn:endEvent id="e1"/>
</bpmn:subProcess>"""
    )
    process = parse(body)
    outer, inner = process.nodes["t"], process.nodes["inner"]
    assert isinstance(outer, SubProcess) and isinstance(inner, SubProcess)
    assert outer.children == ("s1", "inner", "e1")
    assert inner.children == ("s2", "e2")
    assert inner.parent == "t"
    assert process.nodes["e2"].parent == "inner"
    assert process.scopes["inner"] == ("s2", "e2")
    assert process.none_start_event("inner") == process.nodes["s2"]


def test_event_subprocess_is_marked_and_its_start_event_may_be_non_interrupting() -> None:
    body = around(
        '<bpmn:task id="t"/>'
        """<bpmn:subProcess id="on_msg" triggeredByEvent="true">
  <bpmn:startEvent id="es" isInterrupting="false"><bpmn:messageEventDefinition messageRef="M1"/></bpmn:startEvent>
  <bpmn:sequenceFlow id="g" sourceRef="es" targetRef="ee"/><bpmn:endEvent id="ee"/>
</bpmn:subProcess>"""
    )
    process = parse(body)
    assert process.event_subprocesses("p") == (process.nodes["on_msg"],)
    start = process.nodes["es"]
    assert isinstance(start, StartEvent)
    assert start.interrupting is False


def test_ad_hoc_subprocess_reads_active_elements_completion_and_output() -> None:
    body = around(
        """<bpmn:adHocSubProcess id="t" cancelRemainingInstances="false">
  <bpmn:extensionElements><zeebe:adHoc activeElementsCollection="=[&quot;a&quot;]" outputCollection="results"
     outputElement="=answer"/></bpmn:extensionElements>
  <bpmn:task id="a"/><bpmn:task id="b"/>
  <bpmn:completionCondition>=done</bpmn:completionCondition>
</bpmn:adHocSubProcess>"""
    )
    node = parse(body).nodes["t"]
    assert isinstance(node, AdHocSubProcess)
    assert node.children == ("a", "b")
    assert node.active_elements == '["a"]'
    assert node.completion_condition == "done"
    assert node.cancel_remaining_instances is False
    assert node.output_collection == "results"
    assert node.output_element == "answer"


def test_agenthub_attributes_and_elements_are_kept_generically() -> None:
    ext = """<bpmn:extensionElements>
  <agenthub:agent model="offline:scripted" maxModelCalls="5"><agenthub:instructions>Be brief.</agenthub:instructions>
  </agenthub:agent>
  <agenthub:policy name="no-refunds">=tool != "refund"</agenthub:policy>
  <camunda:other xmlns:camunda="http://camunda.org/schema/1.0/bpmn"/>
</bpmn:extensionElements>"""
    process = parse(
        around(f'<bpmn:adHocSubProcess id="t">{ext}<bpmn:task id="a"/></bpmn:adHocSubProcess>')
        + '<bpmn:extensionElements><agenthub:tool name="search"/></bpmn:extensionElements>',
        attributes='agenthub:exposeAs="tool" agenthub:owner="sales"',
    )
    assert process.extensions == {"exposeAs": "tool", "owner": "sales"}
    (tool,) = process.extension_elements
    assert tool == ExtensionElement(name="tool", attributes=(("name", "search"),), line=tool.line)
    assert tool.line is not None
    agent, policy = process.nodes["t"].extensions
    assert agent.name == "agent"
    assert agent.attributes == (("model", "offline:scripted"), ("maxModelCalls", "5"))
    assert agent.children[0].name == "instructions"
    assert agent.children[0].text == "Be brief."
    assert policy.text == '=tool != "refund"'


def test_several_processes_in_one_file_are_all_kept() -> None:
    process = '<bpmn:process id="{0}" isExecutable="true"><bpmn:startEvent id="{0}_s"/></bpmn:process>'
    text = f"<bpmn:definitions {NAMESPACES}>{process.format('a')}{process.format('b')}</bpmn:definitions>"
    assert list(parse_bpmn(text).processes) == ["a", "b"]


def test_root_elements_and_exporter_are_indexed_on_the_definitions() -> None:
    definitions = parse_bpmn(document(around('<bpmn:task id="t"/>')))
    assert definitions.id == "defs"
    assert definitions.messages == {"M1": "order-paid", "M2": "started"}
    assert definitions.signals == {"S1": "alarm"}
    assert definitions.errors == {"E1": "NO_STOCK"}
    assert definitions.escalations == {"X1": "LATE"}


def test_non_executable_artefacts_and_other_vendors_extensions_are_ignored() -> None:
    body = around(
        """<bpmn:task id="t"><bpmn:extensionElements><camunda:inputOutput
      xmlns:camunda="http://camunda.org/schema/1.0/bpmn"/></bpmn:extensionElements>
      <bpmn:dataInputAssociation id="dia"><bpmn:sourceRef>d</bpmn:sourceRef></bpmn:dataInputAssociation></bpmn:task>
<bpmn:laneSet id="ls"><bpmn:lane id="l"><bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
<bpmn:dataObject id="d"/><bpmn:dataObjectReference id="dr" dataObjectRef="d"/>
<bpmn:textAnnotation id="ta"><bpmn:text>note</bpmn:text></bpmn:textAnnotation>
<bpmn:association id="as" sourceRef="t" targetRef="ta"/>
<bpmn:group id="g"/>"""
    )
    assert set(parse(body).nodes) == {"start", "t", "end"}


def test_a_non_executable_process_is_kept_but_not_checked() -> None:
    text = f"""<bpmn:definitions {NAMESPACES}>
<bpmn:process id="sketch" isExecutable="false">
  <bpmn:serviceTask id="t"/><bpmn:complexGateway id="cg"/>
  <bpmn:sequenceFlow id="f" sourceRef="t" targetRef="cg"/>
</bpmn:process></bpmn:definitions>"""
    process = parse_bpmn(text).processes["sketch"]
    assert process.executable is False
    assert set(process.nodes) == {"t"}
    assert process.flows == {}


def test_a_process_without_is_executable_is_not_executable() -> None:
    text = f'<bpmn:definitions {NAMESPACES}><bpmn:process id="p"><bpmn:task id="t"/></bpmn:process></bpmn:definitions>'
    assert parse_bpmn(text).processes["p"].executable is False


def test_diagram_interchange_keeps_shapes_labels_and_edge_waypoints() -> None:
    di = """
<bpmndi:BPMNDiagram id="diagram" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI">
  <bpmndi:BPMNPlane id="plane" bpmnElement="p">
    <bpmndi:BPMNShape id="t_di" bpmnElement="t" isExpanded="true"><dc:Bounds x="10" y="20" width="100" height="80"/>
      <bpmndi:BPMNLabel><dc:Bounds x="12.5" y="105" width="40" height="14"/></bpmndi:BPMNLabel></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f_di" bpmnElement="f_in"><di:waypoint x="0" y="1"/><di:waypoint x="2.5" y="3"/>
    </bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane>
</bpmndi:BPMNDiagram>"""
    text = document(around('<bpmn:task id="t"/>')).replace("</bpmn:definitions>", di + "</bpmn:definitions>")
    definitions = parse_bpmn(text)
    (diagram,) = definitions.diagrams
    assert diagram.id == "diagram"
    shape = definitions.shapes()["t"]
    assert (shape.bounds.x, shape.bounds.y, shape.bounds.width, shape.bounds.height) == (10, 20, 100, 80)
    assert shape.is_expanded is True
    assert shape.label is not None and shape.label.x == 12.5
    assert definitions.edges()["f_in"].waypoints == ((0.0, 1.0), (2.5, 3.0))


def test_text_input_with_an_encoding_declaration_is_accepted() -> None:
    text = document(around('<bpmn:task id="t" name="Größe prüfen"/>')).replace("UTF-8", "ISO-8859-1")
    assert parse_bpmn(text).processes["p"].nodes["t"].name == "Größe prüfen"


def test_bytes_input_in_utf16_is_accepted() -> None:
    text = document(around('<bpmn:task id="t"/>')).replace("UTF-8", "UTF-16")
    assert "t" in parse_bpmn(text.encode("utf-16")).processes["p"].nodes


@pytest.mark.parametrize(
    ("definition", "kind"),
    [
        ('<bpmn:errorEventDefinition errorRef="E1"/>', EventDefinitionKind.ERROR),
        ('<bpmn:escalationEventDefinition escalationRef="X1"/>', EventDefinitionKind.ESCALATION),
        (
            "<bpmn:timerEventDefinition><bpmn:timeDate>=deadline</bpmn:timeDate></bpmn:timerEventDefinition>",
            EventDefinitionKind.TIMER,
        ),
    ],
)
def test_event_subprocesses_may_start_on_errors_escalations_and_timers(
    definition: str, kind: EventDefinitionKind
) -> None:
    body = around(
        '<bpmn:task id="t"/>'
        f"""<bpmn:subProcess id="esp" triggeredByEvent="true">
  <bpmn:startEvent id="es">{definition}</bpmn:startEvent>
  <bpmn:sequenceFlow id="g" sourceRef="es" targetRef="ee"/><bpmn:endEvent id="ee"/>
</bpmn:subProcess>"""
    )
    start = parse(body).nodes["es"]
    assert isinstance(start, StartEvent) and start.definition is not None
    assert start.definition.kind is kind


def test_a_compensation_boundary_event_names_its_handler_through_an_association() -> None:
    body = around(
        f"""<bpmn:serviceTask id="t">{job("charge")}</bpmn:serviceTask>
<bpmn:boundaryEvent id="undo" attachedToRef="t"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
<bpmn:serviceTask id="refund" isForCompensation="true">{job("refund")}</bpmn:serviceTask>
<bpmn:association id="a" associationDirection="One" sourceRef="undo" targetRef="refund"/>"""
    )
    process = parse(body)
    undo, refund = process.nodes["undo"], process.nodes["refund"]
    assert isinstance(undo, BoundaryEvent)
    assert undo.compensation_handler == "refund"
    assert isinstance(refund, Activity) and refund.is_for_compensation
