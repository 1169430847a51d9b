"""Agent benchmark: the engine's overhead per agent turn, and whether it stays flat as a conversation grows.

Usage:
  .venv/bin/python bench/agent.py [--runs 3] [--turns 500] [--synchronous FULL|NORMAL] [--tmp DIR]

The model answers instantly (a function, no network), so what is timed is the
engine: claiming the model job, reading the turn (``Engine.agent_turn``: the
conversation and the tools), and completing it, which journals the answer,
passes the tool call through governance, runs the tool (a FEEL script task,
in its own inner instance) and creates the next model job, all in one
transaction. One turn = one model call + one tool call.

  baseline   one service-task job round trip (claim + complete) of a straight-through process, measured in
             the same run on the same database settings: the cheapest durable step there is.
  turn       median time per agent turn over turns 1..10 and over the last 10 turns of a --turns long run;
             the ratio last/first says whether the per-turn cost stays flat (the conversation is stored once
             per message; the instance's state does not grow with it).
  read       the part of a turn spent reading the conversation back for the model (it grows with the
             conversation, as the model's own input does).

Each run is a fresh SQLite database (WAL, ``synchronous`` as given); the numbers are medians over --runs runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from engine import Engine  # noqa: E402
from engine.agent import MODEL_JOB_TYPE  # noqa: E402

AGENT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:agenthub="urn:agenthub:bpmn:1" id="d" targetNamespace="x">
  <bpmn:process id="bench_agent" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:adHocSubProcess id="agent">
      <bpmn:extensionElements>
        <agenthub:agent model="instant" instructions="Echo things." prompt="=request" maxModelCalls="100000" />
        <agenthub:policy tool="echo" when="=string length(toolCall.text) &gt; 1000" decision="deny" />
      </bpmn:extensionElements>
      <bpmn:scriptTask id="echo" name="Echo">
        <bpmn:extensionElements>
          <zeebe:script expression="=fromAi(toolCall.text, &quot;what to echo&quot;)" resultVariable="toolCallResult" />
        </bpmn:extensionElements>
      </bpmn:scriptTask>
    </bpmn:adHocSubProcess>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="agent" />
    <bpmn:sequenceFlow id="f2" sourceRef="agent" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""

STRAIGHT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d2" targetNamespace="x">
  <bpmn:process id="bench_straight" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="work" />
    </bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


def _baseline(engine: Engine, count: int) -> float:
    """Median ms of one job round trip: claim a service task's job and complete it."""
    engine.deploy([("straight.bpmn", STRAIGHT)])
    for _ in range(count):
        engine.start("bench_straight", {})
    times = []
    for _ in range(count):
        begin = time.perf_counter()
        [job] = engine.activate_jobs(["work"], "bench", max_jobs=1)
        engine.complete_job(job.key, {"done": True}, worker=job.worker, lock_version=job.lock_version)
        times.append((time.perf_counter() - begin) * 1000)
    return statistics.median(times)


def _agent_run(engine: Engine, turns: int) -> tuple[list[float], list[float]]:
    """Per-turn ms and the conversation-read part of it, for one agent of ``turns`` tool-calling turns."""
    engine.deploy([("agent.bpmn", AGENT)])
    view = engine.start("bench_agent", {"request": "echo"})
    totals, reads = [], []
    for turn in range(turns + 1):
        begin = time.perf_counter()
        [job] = engine.activate_jobs([MODEL_JOB_TYPE], "bench", max_jobs=1)
        read_begin = time.perf_counter()
        request = engine.agent_turn(job.key)
        read = time.perf_counter() - read_begin
        answer: dict[str, Any] = (
            {"final": "done"} if turn == turns
            else {"toolCalls": [{"name": "echo", "arguments": {"text": f"turn {turn}"}}]}
        )
        engine.complete_job(
            job.key,
            {"answer": answer, "usage": {"model": request.model, "inputTokens": 1}},
            worker=job.worker,
            lock_version=job.lock_version,
        )
        if turn < turns:
            totals.append((time.perf_counter() - begin) * 1000)
            reads.append(read * 1000)
    if engine.instance(view.key).state != "completed":
        raise SystemExit("the benchmark agent did not complete")
    return totals, reads


def _one_run(tmp: Path, turns: int, synchronous: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=tmp) as folder:
        engine = Engine.open(f"sqlite:///{folder}/bench.db", synchronous=synchronous)
        try:
            baseline = _baseline(engine, 200)
            totals, reads = _agent_run(engine, turns)
        finally:
            engine.close()
    return {
        "baseline": baseline,
        "first": statistics.median(totals[:10]),
        "last": statistics.median(totals[-10:]),
        "all": statistics.median(totals),
        "read_first": statistics.median(reads[:10]),
        "read_last": statistics.median(reads[-10:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--synchronous", default="FULL", choices=["FULL", "NORMAL", "OFF"])
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    results = []
    for run in range(args.runs):
        print(f"run {run + 1}/{args.runs}: {args.turns} turns ...", file=sys.stderr, flush=True)
        results.append(_one_run(args.tmp, args.turns, args.synchronous))

    def median(key: str) -> float:
        return statistics.median(r[key] for r in results)

    base = median("baseline")
    print(f"agent benchmark: SQLite WAL synchronous={args.synchronous}, {args.turns} turns, "
          f"medians of {args.runs} runs")
    print(f"{'measure':<44}{'ms':>9}{'vs baseline':>13}")
    rows = [
        ("baseline: one job round trip (claim+complete)", base),
        ("agent turn, turns 1-10", median("first")),
        (f"agent turn, turns {args.turns - 9}-{args.turns}", median("last")),
        ("agent turn, all turns", median("all")),
        ("  of which reading the turn, turns 1-10", median("read_first")),
        ("  of which reading the turn, last 10", median("read_last")),
    ]
    for name, value in rows:
        print(f"{name:<44}{value:>9.2f}{value / base:>12.2f}x")
    print(f"last/first per-turn ratio: {median('last') / median('first'):.2f}")


if __name__ == "__main__":
    main()
