"""Typed records on element instances read and write the JSON that the earlier dict form stored."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.runtime.records import (
    AgentLimits,
    AgentRun,
    Approval,
    CompensationRecord,
    ListenerPosition,
    ParkedJob,
    ToolCall,
    ToolVariables,
)
from engine.runtime.state import ElementInstance, ElementState, InstanceState

# As the code before typed records wrote them (element.agent, element.call, element.parked were dicts).
STORED_AGENT: dict[str, Any] = {
    "model": "offline", "endpoint": None, "resultVariable": "agentResult",
    "limits": {"modelCalls": 10, "toolCalls": None, "tokens": 500, "cost": "0.25", "deadline": 1700000000000},
    "modelCalls": 2, "toolCalls": 1, "tokens": 120, "cost": "0.0031", "messages": 7,
    "pending": ["call_2_1"], "counts": {"lookup_order": 1}, "grace": 0,
}
STORED_CALL: dict[str, Any] = {"id": "c1", "tool": "refund", "argumentsHash": "abc", "arguments": {"amount": 5},
                               "approval": "pending"}
STORED_PARKED: dict[str, Any] = {"type": "charge", "retries": 3, "headers": {"h": "v"}, "answer": "answer",
                                 "round": 1, "job": 44}


def _instance(**fields: Any) -> dict[str, Any]:
    return {"key": 9, "element": "Agent", "parent": 1, "state": "active", **fields}


def test_a_stored_agent_run_loads_typed_and_saves_unchanged() -> None:
    element = ElementInstance.from_dict(_instance(agent=STORED_AGENT))
    run = element.agent
    assert isinstance(run, AgentRun)
    assert run.limits == AgentLimits(model_calls=10, tokens=500, cost=Decimal("0.25"), deadline=1700000000000)
    assert (run.model_calls, run.cost, run.conversation_length, run.pending) == (2, Decimal("0.0031"), 7,
                                                                                 ["call_2_1"])
    assert element.to_dict()["agent"] == STORED_AGENT


def test_an_agent_run_stored_before_grace_and_endpoint_were_kept_loads() -> None:
    old = {k: v for k, v in STORED_AGENT.items() if k not in ("grace", "endpoint")}
    run = AgentRun.from_dict(old)
    assert run.grace == 0 and run.endpoint is None


def test_tool_calls_and_parked_jobs_round_trip_through_their_stored_keys() -> None:
    element = ElementInstance.from_dict(_instance(inner=True, call=STORED_CALL, parked=STORED_PARKED))
    assert element.call == ToolCall(id="c1", tool="refund", arguments_hash="abc", arguments={"amount": 5},
                                    approval=Approval.PENDING)
    assert element.parked == ParkedJob(job_type="charge", retries=3, headers={"h": "v"}, answer_variable="answer",
                                       round=1, job=44)
    data = element.to_dict()
    assert data["call"] == STORED_CALL and data["parked"] == STORED_PARKED


def test_an_approved_call_stores_no_arguments() -> None:
    call = ToolCall(id="c1", tool="refund", arguments_hash="abc", approval=Approval.APPROVED)
    assert call.to_dict() == {"id": "c1", "tool": "refund", "argumentsHash": "abc", "approval": "approved"}


def test_a_whole_instance_state_survives_a_save_and_reload() -> None:
    state = InstanceState(key=1, process_id="p", definition_key=2, version=1)
    state.elements[9] = ElementInstance(key=9, element_id="Agent", parent=1, state=ElementState.ACTIVE,
                                        agent=AgentRun.from_dict(STORED_AGENT))
    again = InstanceState.from_dict(state.to_dict())
    assert again.to_dict() == state.to_dict()


def test_a_run_stored_before_tool_variables_keeps_its_tools_isolated_and_a_propagating_one_says_so() -> None:
    assert AgentRun.from_dict(STORED_AGENT).tool_variables == ToolVariables.ISOLATED  # as it ran when stored
    run = AgentRun.from_dict({**STORED_AGENT, "toolVariables": "propagate"})
    assert run.tool_variables == ToolVariables.PROPAGATE and run.to_dict()["toolVariables"] == "propagate"


def test_what_a_propagating_tool_wrote_round_trips_with_its_call() -> None:
    call = ToolCall(id="c1", tool="refund", arguments_hash="abc", written={"status": "done"})
    assert ToolCall.from_dict(call.to_dict()) == call and call.to_dict()["written"] == {"status": "done"}


def test_an_element_instance_reads_back_equal_whether_it_holds_only_plain_fields_or_more() -> None:
    plain = ElementInstance(key=9, element_id="Task", parent=1, state=ElementState.ACTIVE, job=12, loop_counter=2,
                            user_task=13, child_instance=14, incident=15)
    fuller = ElementInstance(key=10, element_id="Join", parent=1, joins={"Join": {"f1": 1}}, waits={16: "timer"},
                             is_body=True, conditions={"Cond": None}, listener=ListenerPosition("start", 0, 17),
                             compensable=[CompensationRecord("Sub", 18, {}, [CompensationRecord("Pay", 19, {"n": 1},
                                                                                                [], False)], True)],
                             compensating=[CompensationRecord("Pay", 20, {}, [], False)])
    for element in (plain, fuller, ElementInstance(key=11, element_id="Start", parent=None)):
        again = ElementInstance.from_dict(element.to_dict())
        assert again == element and again.to_dict() == element.to_dict()
        assert isinstance(again.state, ElementState)
    stored = fuller.to_dict()  # the lists the state held before these records were typed
    assert stored["listener"] == ["start", 0, 17]
    assert stored["compensable"] == [["Sub", 18, {}, [["Pay", 19, {"n": 1}, [], False]], True]]


def test_records_stored_before_they_were_typed_load() -> None:
    older = {"key": 5, "element": "Sub", "parent": 1, "state": "active", "listener": ["completing", 1],
             "compensable": [["Pay", 6, {"n": 2}, []]]}  # no container flag, no open listener job
    element = ElementInstance.from_dict(older)
    assert element.listener == ListenerPosition("completing", 1, None)
    assert element.compensable == [CompensationRecord("Pay", 6, {"n": 2}, [], False)]
