"""The behaviour table: one behaviour per element kind, the runtime twin of the parser's table."""

from __future__ import annotations

from typing import Any

import pytest

from engine.agent.behavior import AgentSubProcessBehavior
from engine.kernel import BEHAVIORS
from engine.model import ElementKind, FlowNode
from engine.parser._table import FLOW_NODES
from engine.runtime.behaviors import runtime_table
from engine.runtime.behaviors.ad_hoc import AdHocSubProcessBehavior
from engine.runtime.kernel import BehaviorTable, UnknownElementKind
from engine.runtime.state import ElementInstance, IncidentAction, InstanceState
from engine.runtime.step import Step


def _node(kind: str, id_: str = "Thing") -> FlowNode:
    return FlowNode(id=id_, kind=kind, parent="p")  # type: ignore[arg-type]


def test_every_element_kind_the_parser_accepts_has_a_behaviour() -> None:
    parsed = {kind for kind, _ in FLOW_NODES.values()}
    assert BEHAVIORS.missing(parsed) == set()
    assert BEHAVIORS.missing(set(ElementKind)) == set()


def test_the_engine_table_runs_ad_hoc_subprocesses_with_the_agent_and_the_runtime_table_without() -> None:
    assert isinstance(BEHAVIORS.of(_node(ElementKind.AD_HOC_SUB_PROCESS)), AgentSubProcessBehavior)
    plain = runtime_table().of(_node(ElementKind.AD_HOC_SUB_PROCESS))
    assert isinstance(plain, AdHocSubProcessBehavior) and not isinstance(plain, AgentSubProcessBehavior)


def test_an_element_kind_without_a_behaviour_is_a_clear_error() -> None:
    table = BehaviorTable(kinds={}, multi_instance=BEHAVIORS.multi_instance, compensation=BEHAVIORS.compensation)
    with pytest.raises(UnknownElementKind) as caught:
        table.of(_node(ElementKind.USER_TASK, "Approve"))
    message = str(caught.value)
    assert "'Approve'" in message and "userTask" in message and "no behaviour" in message


def test_an_unknown_kind_is_a_clear_error_in_the_full_table() -> None:
    with pytest.raises(UnknownElementKind, match="'Odd' is a complexGateway"):
        BEHAVIORS.of(_node("complexGateway", "Odd"))


def test_incident_actions_and_phases_keep_their_stored_strings() -> None:
    state = InstanceState(key=1, process_id="p", definition_key=2, version=1,
                          incidents={5: IncidentAction.ACTIVATE, 6: IncidentAction.MODEL})
    data = state.to_dict()
    assert data["incidents"] == [[5, "activate"], [6, "model"]]
    assert InstanceState.from_dict(data).incidents == {5: IncidentAction.ACTIVATE, 6: IncidentAction.MODEL}
    assert IncidentAction.LEAVE.phase is not None and IncidentAction.SETTLE.phase is None


def test_the_step_takes_its_table() -> None:
    class Lookup:
        def latest(self, process_id: str) -> Any:
            return None

    class Ids:
        def next_key(self) -> int:
            return 1

    state = InstanceState(key=1, process_id="p", definition_key=2, version=1)
    table = runtime_table()
    step = Step(None, state, None, Ids(), Lookup(), behaviors=table)  # type: ignore[arg-type]
    assert step.behaviors is table
    element = ElementInstance(key=3, element_id="x", parent=None)
    assert element.agent is None
