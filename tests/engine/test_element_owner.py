"""Which instance an element instance key belongs to (Camunda's APIs name scopes by element instance key alone)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine, NotFound

NESTED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="x">
  <bpmn:process id="nested" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:subProcess id="sub">
      <bpmn:startEvent id="ss" />
      <bpmn:serviceTask id="work"><bpmn:extensionElements><zeebe:taskDefinition type="owner-work" />
      </bpmn:extensionElements></bpmn:serviceTask>
      <bpmn:endEvent id="se" />
      <bpmn:sequenceFlow id="sf1" sourceRef="ss" targetRef="work" />
      <bpmn:sequenceFlow id="sf2" sourceRef="work" targetRef="se" />
    </bpmn:subProcess>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sub" />
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture(params=["memory", "sqlite"])
def eng(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    opened = Engine.open("memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'owner.db'}")
    opened.deploy([("nested.bpmn", NESTED)])
    yield opened
    opened.close()


def test_an_instance_key_names_its_own_scope_and_an_element_its_instance(eng: Engine) -> None:
    views = [eng.start("nested", {"n": i}) for i in range(3)]
    middle = views[1]
    assert eng.element_owner(middle.key) == (middle.key, None)
    sub = next(e["elementInstance"] for e in eng.instance(middle.key).active_elements if e["elementId"] == "sub")
    assert eng.element_owner(sub) == (middle.key, sub)
    eng.set_variables(middle.key, {"note": "inside"}, scope=sub, local=True)
    [job] = [j for j in eng.activate_jobs(["owner-work"], "test", max_jobs=10) if j.instance == middle.key]
    assert job.variables["note"] == "inside" and eng.element_owner(job.element_instance) == (middle.key,
                                                                                             job.element_instance)
    eng.complete_job(job.key, {}, worker=job.worker, lock_version=job.lock_version)
    with pytest.raises(NotFound, match=f"element instance {sub} is not active"):
        eng.element_owner(sub)  # the sub-process ended with its instance
    with pytest.raises(NotFound):
        eng.element_owner(987654321)
