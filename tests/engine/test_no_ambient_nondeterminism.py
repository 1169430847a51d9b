"""RELIABILITY D18: a step reads no clock, no randomness and no ids of its own.

The step is ``(process, state, command, now, ids) -> (events, effects)``
(docs/ARCHITECTURE.md): replaying a journal, or running the same command on
the in-memory and the SQL store, must give the same result. Two checks hold
that: a static one over the code a step runs (the runtime, the agent, FEEL,
the parser and the model) and a runtime one that makes the one wall-clock
read FEEL has (for callers outside the engine that pass no ``now``) fail,
then runs a process whose FEEL asks for ``now()`` and whose timer is due
from it.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine import Engine
from engine.ports import ManualClock

ENGINE = Path(__file__).resolve().parents[2] / "engine"
STEP_CODE = ("runtime", "agent", "feel", "parser", "model")
# The single places where FEEL reads the wall clock and the system's randomness, for evaluations outside a step
# (the CLI's `feel` command, a connector's resultExpression).
ALLOWED = {("feel/runtime.py", "system_now"), ("feel/runtime.py", "system_entropy")}
_FORBIDDEN_MODULES = {"random", "uuid", "secrets", "time"}
_FORBIDDEN_CALLS = {"now", "utcnow", "today", "fromtimestamp", "urandom", "getrandbits", "monotonic", "perf_counter"}


def _violations(path: Path, base: Path = ENGINE) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    relative = path.relative_to(base).as_posix()
    found: list[str] = []
    functions: list[tuple[int, int, str]] = [
        (n.lineno, n.end_lineno or n.lineno, n.name)
        for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    ]

    def enclosing(line: int) -> str | None:
        inside = [(start, name) for start, end, name in functions if start <= line <= end]
        return max(inside)[1] if inside else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{relative}:{node.lineno} imports {a.name}" for a in node.names
                      if a.name.split(".")[0] in _FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _FORBIDDEN_MODULES:
            found.append(f"{relative}:{node.lineno} imports from {node.module}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _FORBIDDEN_CALLS
              and (relative, enclosing(node.lineno)) not in ALLOWED):
            found.append(f"{relative}:{node.lineno} calls .{node.func.attr}()")
    return found


def test_no_step_code_reads_the_clock_randomness_or_makes_ids() -> None:
    files = [p for part in STEP_CODE for p in sorted((ENGINE / part).rglob("*.py"))]
    assert len(files) > 40, "the check is not looking at the engine's code"
    problems = [v for path in files for v in _violations(path)]
    assert not problems, "a step must use the `now` and `ids` it is given:\n" + "\n".join(problems)


def test_the_static_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    probe = tmp_path / "runtime" / "probe.py"
    probe.parent.mkdir()
    probe.write_text("import uuid\nfrom datetime import datetime\n\ndef f():\n    return datetime.now()\n")
    assert _violations(probe, tmp_path) == ["runtime/probe.py:1 imports uuid", "runtime/probe.py:5 calls .now()"]


_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="clocked" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="stamp"/>
    <bpmn:scriptTask id="stamp">
      <bpmn:extensionElements><zeebe:script expression="=string(now())" resultVariable="at"/></bpmn:extensionElements>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="stamp" targetRef="later"/>
    <bpmn:intermediateCatchEvent id="later">
      <bpmn:timerEventDefinition><bpmn:timeDuration>=duration("PT1H")</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="later" targetRef="again"/>
    <bpmn:scriptTask id="again">
      <bpmn:extensionElements>
        <zeebe:script expression="=string(today())" resultVariable="day"/>
      </bpmn:extensionElements>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="again" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_step_evaluates_now_from_the_clock_it_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_wall_clock() -> datetime:
        raise AssertionError("a step read the wall clock")

    monkeypatch.setattr("engine.feel.runtime.system_now", no_wall_clock)
    clock = ManualClock(datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC))
    engine = Engine.open(f"sqlite:///{tmp_path / 'd18.db'}", clock=clock, synchronous="NORMAL")
    try:
        engine.deploy([("clocked.bpmn", _PROCESS.encode())])
        view = engine.start("clocked", {})
        assert view.state == "active"
        clock.advance(timedelta(hours=1, seconds=1))
        assert engine.fire_due_timers() == 1
        done = engine.instance(view.key)
        assert done.state == "completed"
        assert done.variables["at"].startswith("2031-02-03T04:05:06")
        assert done.variables["day"] == "2031-02-03"
    finally:
        engine.close()
