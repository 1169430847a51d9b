"""FEEL's uuid() and random number() inside a step: fresh per element instance, yet the same when replayed.

A step reads no randomness of its own (RELIABILITY D18): the runtime seeds the
two functions with the instance, the element instance, the time and the
expression. The system's randomness, FEEL's fallback for callers outside a
step, is made to fail here to show that a step never reaches it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.ports import ManualClock

MODEL = Path(__file__).resolve().parents[2] / "data" / "deploy" / "feel_random.bpmn"


@pytest.fixture(autouse=True)
def no_system_entropy(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(size: int) -> bytes:
        raise AssertionError("a step read the system's randomness")

    monkeypatch.setattr("engine.feel.runtime.system_entropy", refuse)


def made(engine: Engine) -> dict[str, Any]:
    engine.deploy([(MODEL.name, MODEL.read_bytes())])
    view = engine.instance(engine.start("feel_random", {}).key)
    assert view.state == "completed"
    result: dict[str, Any] = view.variables["made"]
    return result


def test_uuid_and_random_number_in_a_step_are_valid_and_differ_between_calls_and_instances(engine: Engine) -> None:
    first, second = made(engine), made(engine)
    ids = [first["requestId"], first["other"], second["requestId"], second["other"]]
    assert len(set(ids)) == 4 and all(uuid.UUID(i).version == 7 for i in ids)
    assert 0 <= first["draw"] < 1 and first["draw"] != second["draw"]


def test_the_same_run_on_a_fresh_engine_gives_the_same_values(tmp_path: Path) -> None:
    runs = []
    for name in ("one", "two"):
        engine = Engine.open(f"sqlite:///{tmp_path / name}.db", clock=ManualClock())
        try:
            runs.append(made(engine))
        finally:
            engine.close()
    assert runs[0] == runs[1]
