"""Every kind of problem is reported with its line and element id, and all of them together."""

from __future__ import annotations

import pytest

from engine.parser import BpmnParseError, Problem, parse_bpmn

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
)
ROOTS = """
<bpmn:message id="M1" name="paid"><bpmn:extensionElements>
  <zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>
<bpmn:message id="M_nokey" name="loose"/>
<bpmn:signal id="S1" name="alarm"/>
<bpmn:error id="E1" errorCode="E"/>
"""


def document(body: str, *, extra: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES}>{ROOTS}\n'
        f'<bpmn:process id="p" isExecutable="true">\n{body}\n</bpmn:process>\n{extra}</bpmn:definitions>\n'
    )


def problems(text: str, **kwargs: object) -> tuple[Problem, ...]:
    with pytest.raises(BpmnParseError) as caught:
        parse_bpmn(text, source_name="order.bpmn", **kwargs)  # type: ignore[arg-type]
    return caught.value.problems


def line_of(text: str, marker: str) -> int:
    """The 1-based line of ``text`` holding ``marker`` (which must occur once)."""
    found = [number for number, line in enumerate(text.splitlines(), start=1) if marker in line]
    assert len(found) == 1, f"{marker!r} on lines {found}"
    return found[0]


def only(text: str, **kwargs: object) -> Problem:
    (problem,) = problems(text, **kwargs)
    return problem


def assert_reported(text: str, marker: str, element_id: str, words: str, **kwargs: object) -> None:
    """Exactly one problem, on the line of ``marker``, naming ``element_id``, and saying ``words``."""
    problem = only(text, **kwargs)
    assert (problem.line, problem.element_id) == (line_of(text, marker), element_id), problem
    assert words in problem.message, problem


START = '<bpmn:startEvent id="start"/>\n<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="t"/>'
END = '<bpmn:sequenceFlow id="f9" sourceRef="t" targetRef="end"/>\n<bpmn:endEvent id="end"/>'


def around(middle: str) -> str:
    return f"{START}\n{middle}\n{END}"


def test_problem_reads_as_file_line_element_and_message() -> None:
    problem = Problem("order.bpmn", 12, "Gateway_1", "exclusive gateway has no outgoing sequence flow")
    assert str(problem) == "order.bpmn:12: element 'Gateway_1': exclusive gateway has no outgoing sequence flow"
    assert str(Problem("order.bpmn", None, None, "document is empty")) == "order.bpmn: document is empty"


def test_a_dangling_source_ref_is_reported_on_the_flow() -> None:
    text = document(around('<bpmn:task id="t"/>\n<bpmn:sequenceFlow id="bad" sourceRef="ghost" targetRef="t"/>'))
    assert_reported(text, 'id="bad"', "bad", "sourceRef 'ghost'")


def test_a_dangling_target_ref_is_reported_on_the_flow() -> None:
    text = document(around('<bpmn:task id="t"/>\n<bpmn:sequenceFlow id="bad" sourceRef="t" targetRef="ghost"/>'))
    assert_reported(text, 'id="bad"', "bad", "targetRef 'ghost'")


def test_a_process_without_a_start_event_is_reported() -> None:
    text = document('<bpmn:task id="t"/>')
    assert_reported(text, 'id="p"', "p", "no start event")


def test_a_process_with_only_an_error_start_event_has_no_start_event() -> None:
    text = document('<bpmn:startEvent id="s"><bpmn:errorEventDefinition errorRef="E1"/></bpmn:startEvent>')
    found = problems(text)
    assert {(p.element_id, p.line) for p in found} == {("p", line_of(text, 'id="p"')), ("s", line_of(text, 'id="s"'))}
    assert any("only allowed in an event subprocess" in p.message for p in found)


def test_a_sequence_flow_crossing_into_a_subprocess_is_reported() -> None:
    text = document(
        around(
            """<bpmn:subProcess id="t">
  <bpmn:startEvent id="s1"/><bpmn:sequenceFlow id="g1" sourceRef="s1" targetRef="inner"/>
  <bpmn:task id="inner"/>
</bpmn:subProcess>
<bpmn:sequenceFlow id="cross" sourceRef="start" targetRef="inner"/>"""
        )
    )
    assert_reported(text, 'id="cross"', "cross", "crosses a scope boundary")


def test_a_gateway_without_outgoing_flows_is_reported() -> None:
    text = document(
        '<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>\n'
        '<bpmn:exclusiveGateway id="gw"/>'
    )
    assert_reported(text, 'id="gw"', "gw", "exclusive gateway has no outgoing sequence flow")


def test_a_duplicate_id_is_reported_at_its_second_use() -> None:
    text = document(around('<bpmn:task id="t"/>\n<bpmn:task id="t" name="again"/>'))
    problem = only(text)
    assert (problem.line, problem.element_id) == (line_of(text, 'name="again"'), "t")
    first = line_of(text, '<bpmn:task id="t"/>')
    assert f"first used on line {first}" in problem.message


@pytest.mark.parametrize("tag", ["serviceTask", "sendTask", "businessRuleTask"])
def test_a_job_task_without_a_task_type_is_reported(tag: str) -> None:
    text = document(around(f'<bpmn:{tag} id="t"/>'))
    assert_reported(text, f"<bpmn:{tag}", "t", "zeebe:taskDefinition type")


@pytest.mark.parametrize(
    ("definition", "words"),
    [
        ('<bpmn:messageEventDefinition messageRef="nope"/>', "unknown messageRef 'nope'"),
        ('<bpmn:signalEventDefinition signalRef="nope"/>', "unknown signalRef 'nope'"),
        ('<bpmn:errorEventDefinition errorRef="nope"/>', "unknown errorRef 'nope'"),
        ('<bpmn:escalationEventDefinition escalationRef="nope"/>', "unknown escalationRef 'nope'"),
    ],
)
def test_an_unknown_reference_to_a_root_element_is_reported(definition: str, words: str) -> None:
    text = document(
        around(f'<bpmn:task id="t"/>\n<bpmn:boundaryEvent id="b" attachedToRef="t">{definition}</bpmn:boundaryEvent>')
    )
    assert_reported(text, 'id="b"', "b", words)


def test_an_unknown_message_on_a_receive_task_is_reported() -> None:
    text = document(around('<bpmn:receiveTask id="t" messageRef="nope"/>'))
    assert_reported(text, 'id="t"', "t", "unknown messageRef 'nope'")


def call(process_id: str) -> str:
    return around(
        f'<bpmn:callActivity id="t"><bpmn:extensionElements><zeebe:calledElement processId="{process_id}"/>'
        "</bpmn:extensionElements></bpmn:callActivity>"
    )


def test_a_call_to_a_process_found_nowhere_is_not_a_problem_as_it_may_be_deployed_later() -> None:
    parse_bpmn(document(call("billing")), known_process_ids=["shipping"])  # Camunda resolves it when it runs


def test_a_call_is_not_checked_without_known_ids_nor_when_it_is_feel_deployed_or_in_the_file() -> None:
    parse_bpmn(document(call("billing")))
    parse_bpmn(document(call("=target")), known_process_ids=[])
    parse_bpmn(document(call("billing")), known_process_ids={"billing"})
    parse_bpmn(document(call("p")), known_process_ids=())


def test_a_call_to_a_non_executable_process_of_the_file_is_reported() -> None:
    text = document(call("sketch"), extra='<bpmn:process id="sketch" isExecutable="false"/>\n')
    assert_reported(text, 'id="t"', "t", "not executable", known_process_ids=())


def test_a_condition_on_a_flow_out_of_a_parallel_gateway_is_reported() -> None:
    text = document(
        """<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fork"/>
<bpmn:parallelGateway id="fork"/>
<bpmn:sequenceFlow id="c" sourceRef="fork" targetRef="end"><bpmn:conditionExpression>=x</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:endEvent id="end"/>"""
    )
    assert_reported(text, 'id="c"', "c", "parallel gateway 'fork' cannot have a condition")


def test_a_boundary_event_on_a_gateway_is_reported() -> None:
    text = document(
        """<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>
<bpmn:parallelGateway id="gw"/><bpmn:sequenceFlow id="f1" sourceRef="gw" targetRef="end"/><bpmn:endEvent id="end"/>
<bpmn:boundaryEvent id="b" attachedToRef="gw"><bpmn:signalEventDefinition signalRef="S1"/></bpmn:boundaryEvent>"""
    )
    assert_reported(text, 'id="b"', "b", "only activities")


def test_an_event_subprocess_without_a_start_event_is_reported() -> None:
    text = document(around('<bpmn:task id="t"/>\n<bpmn:subProcess id="esp" triggeredByEvent="true"/>'))
    assert_reported(text, 'id="esp"', "esp", "event subprocess has no start event")


def test_an_embedded_subprocess_without_a_none_start_event_is_reported() -> None:
    text = document(around('<bpmn:subProcess id="t"><bpmn:task id="inner"/></bpmn:subProcess>'))
    assert_reported(text, 'id="t"', "t", "no none start event")


@pytest.mark.parametrize(
    ("middle", "marker", "what"),
    [
        (
            '<bpmn:task id="t"/>\n<bpmn:sequenceFlow id="x" sourceRef="t" targetRef="end">'
            "<bpmn:conditionExpression>=a ==</bpmn:conditionExpression></bpmn:sequenceFlow>",
            "<bpmn:conditionExpression",
            "condition",
        ),
        (
            '<bpmn:task id="t"><bpmn:extensionElements><zeebe:ioMapping><zeebe:input source="=1 +" target="v"/>'
            "</zeebe:ioMapping></bpmn:extensionElements></bpmn:task>",
            "<zeebe:input",
            "input mapping 'v'",
        ),
        (
            '<bpmn:scriptTask id="t"><bpmn:extensionElements><zeebe:script expression="=)" resultVariable="r"/>'
            "</bpmn:extensionElements></bpmn:scriptTask>",
            "<zeebe:script",
            "zeebe:script expression",
        ),
        (
            '<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>'
            '<zeebe:loopCharacteristics inputCollection="=[1," inputElement="i"/></bpmn:extensionElements>'
            "</bpmn:multiInstanceLoopCharacteristics></bpmn:task>",
            "<zeebe:loopCharacteristics",
            "multi-instance inputCollection",
        ),
        (
            '<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>=3</bpmn:loopCardinality>'
            "\n<bpmn:completionCondition>=done and</bpmn:completionCondition>"
            "</bpmn:multiInstanceLoopCharacteristics></bpmn:task>",
            "<bpmn:completionCondition",
            "completionCondition",
        ),
        (
            '<bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="=&quot;a" />'
            "</bpmn:extensionElements></bpmn:serviceTask>",
            "<zeebe:taskDefinition",
            "zeebe:taskDefinition type",
        ),
    ],
)
def test_feel_syntax_errors_are_reported_where_the_expression_is(middle: str, marker: str, what: str) -> None:
    text = document(around(middle))
    problem = only(text)
    assert problem.line == line_of(text, marker)
    assert problem.element_id in ("t", "x")
    assert f"invalid FEEL in {what}" in problem.message


@pytest.mark.parametrize(
    ("middle", "name"),
    [
        ('<bpmn:complexGateway id="t"/>', "bpmn:complexGateway"),
        ('<bpmn:transaction id="t"/>', "bpmn:transaction"),
        ('<bpmn:callChoreography id="t"/>', "bpmn:callChoreography"),
        ('<bpmn:task id="t"><bpmn:standardLoopCharacteristics/></bpmn:task>', "standardLoopCharacteristics"),
        (
            '<bpmn:task id="t"><bpmn:extensionElements><zeebe:linkedResources/>'
            "</bpmn:extensionElements></bpmn:task>",
            "zeebe:linkedResources",
        ),
    ],
)
def test_an_unsupported_element_is_reported_by_name(middle: str, name: str) -> None:
    text = document(around(middle))
    problem = only(text)
    assert problem.element_id == "t"
    assert name in problem.message


def test_an_unsupported_root_element_is_reported_by_name() -> None:
    text = document(around('<bpmn:task id="t"/>'), extra='<bpmn:choreography id="ch"/>\n')
    assert_reported(text, 'id="ch"', "ch", "unsupported element bpmn:choreography")


def test_a_script_task_with_only_an_inline_script_is_reported_and_never_run() -> None:
    text = document(
        around('<bpmn:scriptTask id="t" scriptFormat="python"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>')
    )
    assert_reported(text, 'id="t"', "t", "bpmn:script in 'python' is never run")


def test_a_message_catch_without_a_correlation_key_is_reported() -> None:
    text = document(
        around(
            '<bpmn:intermediateCatchEvent id="t"><bpmn:messageEventDefinition messageRef="M_nokey"/>'
            "</bpmn:intermediateCatchEvent>"
        )
    )
    assert_reported(text, 'id="t"', "t", "needs a correlation key")


def test_an_unconditional_second_flow_out_of_an_exclusive_gateway_is_reported() -> None:
    text = document(
        """<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>
<bpmn:exclusiveGateway id="gw"/>
<bpmn:sequenceFlow id="a" sourceRef="gw" targetRef="end"><bpmn:conditionExpression>=x</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="b" sourceRef="gw" targetRef="end"/>
<bpmn:endEvent id="end"/>"""
    )
    assert_reported(text, 'id="b"', "b", "needs a condition or must be the gateway's default flow")


def test_a_link_throw_without_a_matching_catch_is_reported() -> None:
    text = document(
        '<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="jump"/>\n'
        '<bpmn:intermediateThrowEvent id="jump"><bpmn:linkEventDefinition name="L"/></bpmn:intermediateThrowEvent>'
    )
    assert_reported(text, 'id="jump"', "jump", "no link catch event named 'L'")


def test_multi_instance_without_a_collection_is_reported() -> None:
    text = document(around('<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics/></bpmn:task>'))
    assert_reported(text, 'id="t"', "t", "inputCollection or a loopCardinality")


def test_an_attribute_that_is_not_a_boolean_is_reported() -> None:
    text = document(around('<bpmn:task id="t" isForCompensation="yes"/>'))
    assert_reported(text, 'id="t"', "t", "isForCompensation='yes' is not a boolean")


def test_a_flow_node_without_an_id_is_reported() -> None:
    text = document(around('<bpmn:task id="t"/>\n<bpmn:task name="anonymous"/>'))
    problem = only(text)
    assert (problem.line, problem.element_id) == (line_of(text, "anonymous"), None)
    assert "bpmn:task has no id" in problem.message


def test_references_to_an_unsupported_element_are_not_reported_twice() -> None:
    text = document(
        around(
            '<bpmn:transaction id="t"/>\n<bpmn:boundaryEvent id="b" attachedToRef="t">'
            "<bpmn:errorEventDefinition/></bpmn:boundaryEvent>"
        )
    )
    assert [p.element_id for p in problems(text)] == ["t"]


def test_invalid_xml_is_reported_with_the_line_lxml_gives() -> None:
    text = document(around('<bpmn:task id="t">\n</bpmn:serviceTask>'))
    problem = only(text)
    assert problem.line == line_of(text, "</bpmn:serviceTask>")
    assert problem.message.startswith("invalid XML:")


def test_a_root_that_is_not_definitions_is_reported() -> None:
    problem = only(f"<bpmn:process {NAMESPACES} id='p'/>")
    assert "not bpmn:definitions" in problem.message


def test_several_problems_are_reported_together_in_line_order() -> None:
    text = document(
        """<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="work"/>
<bpmn:serviceTask id="work"/>
<bpmn:sequenceFlow id="f1" sourceRef="work" targetRef="gw"/>
<bpmn:exclusiveGateway id="gw"/>
<bpmn:sequenceFlow id="f2" sourceRef="nowhere" targetRef="work"/>
<bpmn:complexGateway id="cg"/>"""
    )
    found = problems(text)
    assert [(p.element_id, p.line) for p in found] == [
        ("work", line_of(text, 'id="work"')),
        ("gw", line_of(text, 'id="gw"')),
        ("f2", line_of(text, 'id="f2"')),
        ("cg", line_of(text, 'id="cg"')),
    ]
    with pytest.raises(BpmnParseError) as caught:
        parse_bpmn(text, source_name="order.bpmn")
    assert str(caught.value).splitlines() == [str(p) for p in found]
    work = line_of(text, 'id="work"')
    assert str(caught.value).startswith(f"order.bpmn:{work}: element 'work': ")


def test_an_unsupported_event_definition_is_reported_once() -> None:
    text = document(
        around('<bpmn:task id="t"/>\n<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:cancelEventDefinition/>')
        + "</bpmn:boundaryEvent>"
    )
    assert_reported(text, "<bpmn:cancelEventDefinition", "b", "bpmn:cancelEventDefinition is not supported")


def test_a_non_interrupting_start_event_outside_an_event_subprocess_is_reported() -> None:
    text = document(
        '<bpmn:startEvent id="s" isInterrupting="false"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>'
        '\n<bpmn:endEvent id="e"/>'
    )
    assert_reported(text, 'id="s"', "s", "only the start event of an event subprocess can be non-interrupting")


def test_the_same_id_in_two_processes_is_reported() -> None:
    other = '<bpmn:process id="q" isExecutable="false"><bpmn:task id="t"/></bpmn:process>\n'
    text = document(around('<bpmn:task id="t"/>'), extra=other)
    assert_reported(text, '<bpmn:process id="q"', "t", "duplicate id")


def test_an_unknown_zeebe_extension_on_the_process_is_reported() -> None:
    text = document(
        around('<bpmn:task id="t"/>') + "<bpmn:extensionElements><zeebe:linkedResources/></bpmn:extensionElements>"
    )
    assert_reported(text, "<zeebe:linkedResources", "p", "unsupported Camunda 8 extension zeebe:linkedResources")


def test_an_is_executable_that_is_not_a_boolean_is_reported() -> None:
    text = document(around('<bpmn:task id="t"/>')).replace('isExecutable="true"', 'isExecutable="yes"')
    assert_reported(text, 'id="p"', "p", "isExecutable='yes' is not a boolean")


def test_a_compensation_boundary_event_without_a_handler_is_reported() -> None:
    text = document(
        around('<bpmn:task id="t"/>\n<bpmn:boundaryEvent id="undo" attachedToRef="t">')
        + "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>"
    )
    assert_reported(text, 'id="undo"', "undo", "compensation boundary event has no handler")


def test_a_compensation_handler_not_marked_for_compensation_is_reported() -> None:
    text = document(
        around('<bpmn:task id="t"/>\n<bpmn:boundaryEvent id="undo" attachedToRef="t">')
        + "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>\n"
        + '<bpmn:task id="refund"/>\n<bpmn:association id="a" sourceRef="undo" targetRef="refund"/>'
    )
    assert_reported(text, 'id="refund"', "refund", 'isForCompensation="true"')
