"""RELIABILITY D17: recorded runs of the golden scenarios replay the same on today's engine.

Each fixture in ``tests/data/replay`` is a scenario of ``tests/data/scenarios``
as the engine ran it when the fixture was recorded: the SHA-256 of its model
files and, for every instance it made, the journal (event type, element,
element instance, data, time on the scenario's manual clock). The test runs
the scenario again, on the in-memory store, and compares:

- a model file that changed since the recording is a *version error*: the
  recording belongs to another model and says nothing about this one;
- the same model giving another journal is *nondeterminism* (or a change of
  behaviour): the first event that differs is named, with the recording's and
  today's, so a deliberate change is re-recorded knowingly and an accidental
  one is caught.

Re-record after a deliberate change of behaviour:
``.venv/bin/python -m tests.engine.test_replay --record [NAME ...]``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

REPLAY = Path(__file__).resolve().parents[1] / "data" / "replay"
_RUNNER_PATH = Path(__file__).resolve().parent / "runtime" / "test_scenarios.py"
_spec = importlib.util.spec_from_file_location("_scenario_runner_for_replay", _RUNNER_PATH)
assert _spec is not None and _spec.loader is not None
_runner = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _runner
_spec.loader.exec_module(_runner)
SCENARIOS: Path = _runner.SCENARIOS

# The golden scenarios: one for each kind of behaviour the kernel carries.
GOLDEN = [
    "straight", "exclusive_default", "parallel_join", "user_task_assignment", "event_message_catch",
    "event_timer_duration", "event_error_boundary_code", "exclusive_incident_open", "job_incident",
    "job_retry", "call_activity", "cancel_instance", "multi_instance_parallel", "event_signal_parallel",
    "event_compensation_reverse", "ad_hoc_completion_condition",
]


class VersionError(AssertionError):
    """The recording was made with other model files: it cannot be replayed against these."""


class Nondeterminism(AssertionError):
    """The same model and the same commands gave another journal than the recording."""


def model_files(name: str, models: Path = SCENARIOS) -> dict[str, str]:
    spec = json.loads((SCENARIOS / f"{name}.json").read_text())
    files = [f"{name}.bpmn", *spec.get("deployAlso", [])]
    return {f: hashlib.sha256((models / f).read_bytes()).hexdigest() for f in files}


def record(name: str, models: Path = SCENARIOS) -> dict[str, Any]:
    """Run scenario ``name`` on the memory store (its models from ``models``) and return its recording."""
    run = _runner.ScenarioRun(name, "memory:", restart=False)
    if models != SCENARIOS:
        _runner.SCENARIOS = models
    try:
        run.run()
        instances = sorted(i.key for i in run.engine.instances(limit=10_000))
        journals = {
            str(key): [[e["type"], e["elementId"], e["elementInstance"], e["data"], e["at"]]
                       for e in run.engine.journal(key, limit=100_000)]
            for key in instances
        }
    finally:
        _runner.SCENARIOS = SCENARIOS
        run.engine.close()
    return {"scenario": name, "models": model_files(name, models), "journals": journals}


def compare(recorded: dict[str, Any], replayed: dict[str, Any], *, check_models: bool = True) -> None:
    """Raise VersionError or Nondeterminism, naming the first difference; return when they are the same."""
    name = recorded["scenario"]
    if check_models and recorded["models"] != replayed["models"]:
        changed = sorted(f for f in {*recorded["models"], *replayed["models"]}
                         if recorded["models"].get(f) != replayed["models"].get(f))
        raise VersionError(f"{name}: recorded with other model files ({', '.join(changed)} changed since): "
                           "a version error, not a replay; deploy it as a new version or re-record")
    before, after = recorded["journals"], replayed["journals"]
    if sorted(before) != sorted(after):
        raise Nondeterminism(f"{name}: the recording made instances {sorted(before)}, the replay {sorted(after)}")
    for key in sorted(before, key=int):
        old, new = before[key], after[key]
        for position, (was, now) in enumerate(zip(old, new, strict=False)):
            if was != now:
                raise Nondeterminism(
                    f"{name}: instance {key}, journal event {position}: recorded {was}, replayed {now}"
                )
        if len(old) != len(new):
            shorter, longer = ("replay", old) if len(new) < len(old) else ("recording", new)
            common = min(len(old), len(new))
            raise Nondeterminism(f"{name}: instance {key}: the {shorter} stops after {common} events, "
                                 f"the other goes on with {longer[common]}")


def _fixture(name: str) -> dict[str, Any]:
    path = REPLAY / f"{name}.json"
    assert path.exists(), f"no recording {path}: run `python -m tests.engine.test_replay --record {name}`"
    recorded: dict[str, Any] = json.loads(path.read_text())
    return recorded


@pytest.mark.parametrize("name", GOLDEN)
def test_a_recorded_golden_run_replays_event_for_event(name: str) -> None:
    compare(_fixture(name), record(name))


def test_every_golden_scenario_has_a_recording_and_nothing_else_is_recorded() -> None:
    assert sorted(p.stem for p in REPLAY.glob("*.json")) == sorted(GOLDEN)


def _reordered(tmp_path: Path) -> Path:
    """The scenarios' models with straight.bpmn's tasks reordered: Start -> Charge -> Total -> Big -> End."""
    models = tmp_path / "models"
    models.mkdir()
    for f in SCENARIOS.iterdir():
        if f.is_file():
            (models / f.name).write_bytes(f.read_bytes())
    source = (models / "straight.bpmn").read_text()
    for was, now in (('sourceRef="Start" targetRef="Total"', 'sourceRef="Start" targetRef="Charge"'),
                     ('sourceRef="Charge" targetRef="End"', 'sourceRef="Charge" targetRef="Total"'),
                     ('sourceRef="Big" targetRef="Charge"', 'sourceRef="Big" targetRef="End"')):
        assert was in source, f"straight.bpmn no longer has {was}"
        source = source.replace(was, now)
    (models / "straight.bpmn").write_text(source)
    return models


def test_a_reordered_model_is_a_version_error_and_would_not_replay_anyway(tmp_path: Path) -> None:
    recorded, replayed = _fixture("straight"), record("straight", _reordered(tmp_path))
    with pytest.raises(VersionError, match=r"straight: recorded with other model files \(straight\.bpmn changed"):
        compare(recorded, replayed)
    with pytest.raises(Nondeterminism, match=r"straight: instance \d+, journal event \d+: recorded"):
        compare(recorded, replayed, check_models=False)


def test_an_engine_that_behaves_differently_is_caught_at_the_first_event_that_differs() -> None:
    recorded = _fixture("parallel_join")
    replayed = record("parallel_join")
    key = sorted(replayed["journals"], key=int)[0]
    events = replayed["journals"][key]
    flows = [i for i, e in enumerate(events) if e[0] == "flow_taken"]
    assert len(flows) >= 2
    first, second = flows[0], flows[1]
    events[first], events[second] = events[second], events[first]  # two branches taken in the other order
    with pytest.raises(Nondeterminism, match=rf"parallel_join: instance {key}, journal event {first}: recorded"):
        compare(recorded, replayed)
    del events[-1]
    events[first], events[second] = events[second], events[first]
    with pytest.raises(Nondeterminism, match="the replay stops after"):
        compare(recorded, replayed)


def _dumps(recording: dict[str, Any]) -> str:
    """JSON with one journal event per line, so a re-recording's diff shows the events that changed."""
    journals = ",\n".join(
        f"  {json.dumps(key)}: [\n" + ",\n".join(f"   {json.dumps(e, sort_keys=True)}" for e in events) + "\n  ]"
        for key, events in recording["journals"].items()
    )
    return (f'{{\n "scenario": {json.dumps(recording["scenario"])},\n'
            f' "models": {json.dumps(recording["models"], sort_keys=True)},\n "journals": {{\n{journals}\n }}\n}}\n')


def main(argv: list[str]) -> int:
    if argv[:1] != ["--record"]:
        print(__doc__)
        return 2
    REPLAY.mkdir(parents=True, exist_ok=True)
    for name in argv[1:] or GOLDEN:
        (REPLAY / f"{name}.json").write_text(_dumps(record(name)))
        print(f"recorded {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
