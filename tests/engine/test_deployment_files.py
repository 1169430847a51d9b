"""Files deployed beside the BPMN: stored with the deployment, part of the version, refused when unsafe."""

from __future__ import annotations

import pytest

from engine import DeploymentError, Engine, InvalidInput

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:test">
  <bpmn:process id="files" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:endEvent id="Done" />
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Done" />
  </bpmn:process>
</bpmn:definitions>
"""


def _deployment(engine: Engine, process_key: int) -> int:
    [row] = [d for d in engine.definitions("files") if d["key"] == process_key]
    return int(row["deployment"])


def test_a_file_deployed_beside_the_bpmn_is_read_back_from_its_deployment(engine: Engine) -> None:
    [deployed] = engine.deploy([("files.bpmn", MODEL), ("rules/agent.json", b'{"rules": []}')])
    deployment = _deployment(engine, deployed.key)
    assert engine.deployment_file(deployment, "rules/agent.json") == '{"rules": []}'
    assert engine.deployment_file(deployment, "other.json") is None


def test_a_changed_file_makes_a_new_version_and_the_same_files_reuse_it(engine: Engine) -> None:
    first = engine.deploy([("files.bpmn", MODEL), ("agent.json", "[1]")])[0]
    same = engine.deploy([("files.bpmn", MODEL), ("agent.json", "[1]")])[0]
    changed = engine.deploy([("files.bpmn", MODEL), ("agent.json", "[2]")])[0]
    assert (first.version, same.version, same.is_new) == (1, 1, False)
    assert (changed.version, changed.is_new) == (2, True)
    assert engine.deployment_file(_deployment(engine, changed.key), "agent.json") == "[2]"
    # the BPMN alone is yet another version: its files are part of what it is
    assert engine.deploy([("files.bpmn", MODEL)])[0].version == 3


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("../secrets.json", "{}", "a relative path without '..'"),
        ("/etc/passwd.json", "{}", "a relative path without '..'"),
        ("bin.json", b"\xff\xfe\x00", "is not UTF-8 text"),
        ("big.json", "x" * (1024 * 1024 + 1), "more than a deployed file may hold"),
    ],
)
def test_an_unsafe_file_is_refused_and_nothing_is_deployed(
    engine: Engine, name: str, data: str | bytes, problem: str
) -> None:
    with pytest.raises(DeploymentError) as raised:
        engine.deploy([("files.bpmn", MODEL), (name, data)])
    assert problem in str(raised.value)
    assert engine.definitions("files") == []


def test_files_without_any_bpmn_are_refused() -> None:
    engine = Engine.open("sqlite:///:memory:")
    try:
        with pytest.raises(InvalidInput, match="at least one BPMN resource"):
            engine.deploy([("agent.json", "{}")])
    finally:
        engine.close()
