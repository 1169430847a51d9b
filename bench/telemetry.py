"""Telemetry's overhead: straight-through instances/s with OpenTelemetry off and on, interleaved runs, medians.

Usage:
  .venv/bin/python bench/telemetry.py [--runs 5] [--n 300] [--sync NORMAL]

The scenario is bench/engine.py's ``straight`` (start -> FEEL script -> gateway -> service task -> end): ``n``
``engine.start`` calls, then ``WorkerLoop(...).run(until_idle=True)`` runs the jobs, on a fresh SQLite file per
run. "on" is what ``AGENTHUB_OTEL=1`` installs (``hub.telemetry.install``: the SDK's tracer and meter providers,
Prometheus's reader) with a batch span processor whose exporter drops what it gets, so the cost measured is the
recording, not a collector's network. Off and on alternate run by run, so a machine whose load drifts (CI, other
work) drifts both; the report is each side's median and their ratio.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult  # noqa: E402

from engine import Engine, Job, WorkerLoop, WorkerRegistry, WorkerSettings  # noqa: E402
from hub import telemetry as hub_telemetry  # noqa: E402

MODEL = ROOT / "bench" / "models" / "straight.bpmn"
JOB_TYPE = "bench-work"


class _Dropped(SpanExporter):
    """Takes every span and keeps none: the exporter's side of the cost is left out."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS


def _registry() -> WorkerRegistry:
    registry = WorkerRegistry()

    def work(job: Job) -> dict[str, Any]:
        return {"y": job.variables["x"] + 1}

    registry.register(JOB_TYPE, work)
    return registry


def one_run(n: int, sync: str, tmp: Path) -> tuple[float, float]:
    """Instances per second of wall-clock and of this process's CPU time (all its threads) for ``n``
    straight-through instances, started and then run by a worker loop. CPU time is what a loaded machine
    (other processes on the same cores) disturbs least."""
    work = Path(tempfile.mkdtemp(prefix="agenthub-otel-", dir=tmp))
    engine = Engine.open(f"sqlite:///{work / 'engine.db'}", synchronous=sync)
    try:
        process_id = engine.deploy([(MODEL.name, MODEL.read_bytes())])[0].process_id
        loop = WorkerLoop(engine, _registry(), name="bench", settings=WorkerSettings(poll_interval_s=0.01))
        began, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            engine.start(process_id)
        loop.run(until_idle=True)
        elapsed, used = time.perf_counter() - began, time.process_time() - cpu
        assert loop.completed == n, f"{loop.completed} of {n} jobs completed"
        return n / elapsed, n / used
    finally:
        engine.close()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--sync", default="NORMAL", choices=("FULL", "NORMAL"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="agenthub-otel-bench-"))
    exporter = _Dropped()
    rates: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    try:
        one_run(min(args.n, 50), args.sync, tmp)  # warm-up: imports, parsers, SQLite's first file
        for _ in range(args.runs):
            for side in ("off", "on"):
                if side == "on":
                    hub_telemetry.install(env={}).tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
                try:
                    rates[side].append(one_run(args.n, args.sync, tmp))
                finally:
                    hub_telemetry.uninstall()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"straight, {args.n} instances a run, {args.runs} runs a side, SQLite synchronous={args.sync}")
    for index, what in enumerate(("wall-clock", "CPU time")):
        off = statistics.median(r[index] for r in rates["off"])
        on = statistics.median(r[index] for r in rates["on"])
        print(
            f"  {what}: off {off:,.0f} instances/s, on {on:,.0f} instances/s, on/off {on / off:.2f}  (runs off: "
            f"{', '.join(f'{r[index]:,.0f}' for r in rates['off'])}; on: "
            f"{', '.join(f'{r[index]:,.0f}' for r in rates['on'])})"
        )
    print(f"  {exporter.count:,} spans exported")


if __name__ == "__main__":
    main()
