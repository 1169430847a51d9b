"""A file as Camunda Modeler saves it for Camunda 8 parses into the model the runtime expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.model import (
    BoundaryEvent,
    CallActivity,
    Definitions,
    ElementKind,
    EventDefinitionKind,
    Gateway,
    JobTask,
    Mapping,
    Process,
    ReceiveTask,
    ScriptTask,
    UserTask,
    Value,
)
from engine.parser import parse_bpmn

FILE = Path(__file__).resolve().parents[2] / "data" / "parser" / "camunda8_order.bpmn"


@pytest.fixture(scope="module")
def definitions() -> Definitions:
    return parse_bpmn(FILE.read_bytes(), source_name=FILE.name, known_process_ids={"billing"})


@pytest.fixture(scope="module")
def process(definitions: Definitions) -> Process:
    return definitions.processes["order-fulfilment"]


def test_the_definitions_know_the_exporter_messages_and_errors(definitions: Definitions) -> None:
    assert definitions.exporter == "Camunda Modeler"
    assert definitions.exporter_version == "5.31.0"
    assert definitions.messages == {"Message_Paid": "payment-received"}
    assert definitions.errors == {"Error_Billing": "BILLING_FAILED"}
    assert list(definitions.processes) == ["order-fulfilment"]


def test_the_process_keeps_its_name_documentation_and_properties(process: Process) -> None:
    assert process.name == "Order fulfilment"
    assert process.executable is True
    assert process.documentation == "Checks stock, bills the customer and ships the order."
    assert process.properties == (("owner", "team-orders"),)
    assert len(process.nodes) == 18
    assert len(process.flows) == 17


def test_the_start_event_maps_its_output(process: Process) -> None:
    start = process.none_start_event(process.id)
    assert start is not None
    assert start.id == "StartEvent_OrderReceived"
    assert start.outputs == (Mapping(source="order.id", target="orderId"),)


def test_the_service_task_has_type_retries_headers_and_mappings(process: Process) -> None:
    task = process.nodes["Task_CheckStock"]
    assert isinstance(task, JobTask)
    assert task.job.type == Value(text="inventory-check", is_expression=False)
    assert task.job.retries == Value(text="5", is_expression=False)
    assert task.headers == (("warehouse", "north"), ("mode", "strict"))
    assert task.inputs == (
        Mapping(source="order.items", target="items"),
        Mapping(source="north", target="warehouse", is_expression=False),
    )
    assert task.outputs == (Mapping(source="available", target="inStock"),)


def test_the_exclusive_gateway_has_a_default_and_a_conditional_flow(process: Process) -> None:
    gateway = process.nodes["Gateway_InStock"]
    assert isinstance(gateway, Gateway)
    assert gateway.default_flow == "Flow_OutOfStock"
    assert [f.id for f in process.outgoing(gateway)] == ["Flow_Available", "Flow_OutOfStock"]
    assert process.flows["Flow_Available"].condition == "inStock = true"
    assert process.flows["Flow_Available"].name == "yes"


def test_the_script_task_is_a_feel_script_with_a_result_variable(process: Process) -> None:
    task = process.nodes["Task_ComputeTotal"]
    assert isinstance(task, ScriptTask)
    assert task.expression == "sum(for item in items return item.price * item.quantity)"
    assert task.result_variable == "total"


def test_the_multi_instance_task_runs_per_item_with_a_feel_task_type(process: Process) -> None:
    task = process.nodes["Task_ReserveItem"]
    assert isinstance(task, JobTask)
    assert task.job.type == Value(text='"reserve-" + warehouse', is_expression=True)
    assert task.loop is not None
    assert task.loop.sequential is False
    assert (task.loop.input_collection, task.loop.input_element) == ("items", "item")
    assert (task.loop.output_collection, task.loop.output_element) == ("reservations", "reservation")
    assert task.loop.completion_condition == "count(reservations[item = null]) > 0"


def test_the_call_activity_calls_billing_and_catches_its_error(process: Process) -> None:
    call = process.nodes["Activity_Bill"]
    assert isinstance(call, CallActivity)
    assert call.called_process == Value(text="billing", is_expression=False)
    assert call.propagate_all_child_variables is False
    assert call.propagate_all_parent_variables is True
    assert call.inputs == (Mapping(source="total", target="amount"),)
    assert call.boundary_events == ("Event_BillingFailed",)
    boundary = process.nodes["Event_BillingFailed"]
    assert isinstance(boundary, BoundaryEvent) and boundary.definition is not None
    assert boundary.definition.kind is EventDefinitionKind.ERROR
    assert boundary.definition.ref == "BILLING_FAILED"
    assert boundary.outgoing == ("Flow_ToBillingFailed",)


def test_the_user_task_is_assigned_scheduled_and_has_a_form(process: Process) -> None:
    task = process.nodes["Task_Approve"]
    assert isinstance(task, UserTask)
    assert task.documentation == "A manager checks orders over 1000."
    assert task.user_task.assignee == Value(text="order.manager", is_expression=True)
    assert task.user_task.candidate_groups == Value(text="sales, finance", is_expression=False)
    assert task.user_task.due_date == Value(text='now() + duration("P2D")', is_expression=True)
    assert task.user_task.form_id == "approve-order"
    assert task.user_task.priority == Value(text="75", is_expression=False)
    assert task.properties == (("sla", "2 days"),)


def test_the_reminder_is_a_non_interrupting_timer_leading_to_a_send_task(process: Process) -> None:
    reminder = process.nodes["Event_Reminder"]
    assert isinstance(reminder, BoundaryEvent) and reminder.definition is not None
    assert reminder.cancel_activity is False
    assert reminder.definition.timer == Value(text="PT1H", is_expression=False)
    remind = process.nodes["Task_Remind"]
    assert isinstance(remind, JobTask)
    assert remind.kind is ElementKind.SEND_TASK
    assert remind.headers == (("template", "reminder"),)


def test_the_receive_task_waits_for_payment_by_order_id(process: Process) -> None:
    task = process.nodes["Task_WaitForPayment"]
    assert isinstance(task, ReceiveTask) and task.message is not None
    assert task.message.ref == "payment-received"
    assert task.message.correlation_key == Value(text="orderId", is_expression=True)
    assert task.incoming == ("Flow_Small", "Flow_FromApprove")


def test_every_element_is_drawn(definitions: Definitions, process: Process) -> None:
    shapes, edges = definitions.shapes(), definitions.edges()
    assert set(shapes) == set(process.nodes)
    assert set(edges) == set(process.flows)
    assert shapes["Task_CheckStock"].bounds.width == 100
    assert shapes["Gateway_InStock"].label is not None
    assert edges["Flow_ToCheckStock"].waypoints == ((188.0, 230.0), (240.0, 230.0))


def test_every_node_points_back_to_its_line_in_the_file(process: Process) -> None:
    lines = FILE.read_text().splitlines()
    for node in process.nodes.values():
        assert node.line is not None
        assert f'id="{node.id}"' in lines[node.line - 1]


def test_calling_a_process_not_deployed_yet_parses_as_in_camunda_which_resolves_the_call_when_it_runs() -> None:
    definitions = parse_bpmn(FILE.read_bytes(), source_name=FILE.name, known_process_ids=())
    assert definitions.processes  # the deployment warns instead (tests/engine/runtime/test_late_call_target.py)
