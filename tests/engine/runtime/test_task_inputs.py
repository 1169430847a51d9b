"""A user task says what it asks: its ``inputs``, fixed when it is created and bounded in size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import AskPerson, Engine, Job, WorkerRegistry
from engine.runtime.task_inputs import MAX_INPUTS, MAX_VALUE_CHARS, bounded
from engine.scheduler.loop import run_until_idle

DATA = Path(__file__).resolve().parents[2] / "data"
ORDER = {"customer": "ada", "total": 120, "reason": "The kettle never arrived."}

MULTI = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="x">
  <bpmn:process id="per_item" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:userTask id="check" name="Check an item">
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:extensionElements>
          <zeebe:loopCharacteristics inputCollection="=items" inputElement="item" />
        </bpmn:extensionElements>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_user_task_lists_its_input_mapped_variables_as_they_were_when_it_was_created(engine: Engine) -> None:
    engine.deploy([("refund_review.bpmn", (DATA / "cli" / "refund_review.bpmn").read_bytes())])
    key = engine.start("refund_review", {"order": ORDER}).key
    engine.set_variables(key, {"order": {**ORDER, "total": 999}}, local=False)
    [task] = engine.user_tasks(instance=key)
    expected = {"customer": "ada", "refund": {"amount": 60, "reason": "The kettle never arrived."}}
    assert task.inputs == expected
    assert engine.user_task(task.key).to_json()["inputs"] == expected


def test_a_task_without_input_mappings_has_empty_inputs(engine: Engine) -> None:
    engine.deploy([("approval.bpmn", (DATA / "cli" / "approval.bpmn").read_bytes())])
    key = engine.start("approval", {"amount": 5}).key
    [task] = engine.user_tasks(instance=key)
    assert task.to_json()["inputs"] == {}


def test_each_task_of_a_multi_instance_user_task_shows_its_item(engine: Engine) -> None:
    engine.deploy([("per_item.bpmn", MULTI)])
    key = engine.start("per_item", {"items": [{"sku": "A"}, {"sku": "B"}]}).key
    assert [t.inputs for t in engine.user_tasks(instance=key)] == [{"item": {"sku": "A"}}, {"item": {"sku": "B"}}]


def test_very_large_inputs_are_kept_shortened_and_only_so_many() -> None:
    kept = bounded({"text": "x" * (MAX_VALUE_CHARS + 10), "data": {"list": list(range(1000))}, "n": 1})
    assert kept["text"] == "x" * MAX_VALUE_CHARS + f"… ({MAX_VALUE_CHARS + 10} characters)"
    assert isinstance(kept["data"], str) and kept["data"].startswith('{"list":[0,1,2')
    assert kept["n"] == 1
    assert len(bounded({f"v{i}": i for i in range(MAX_INPUTS + 5)})) == MAX_INPUTS


def test_a_job_that_asks_a_person_shows_its_question_and_details_as_the_task_inputs(engine: Engine) -> None:
    engine.deploy([("external.bpmn", (DATA / "hub" / "external.bpmn").read_bytes())])

    def ask(job: Job) -> dict[str, Any]:
        raise AskPerson("Which size should we send?", details={"kind": "size", "sizes": ["S", "M"]})

    registry = WorkerRegistry()
    registry.register("remote-work", ask)
    key = engine.start("external").key
    run_until_idle(engine, registry, timeout_s=30)
    [task] = engine.user_tasks(instance=key)
    assert task.to_json()["inputs"] == {"question": "Which size should we send?", "sizes": ["S", "M"]}
