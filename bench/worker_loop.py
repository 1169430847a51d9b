"""Worker loop benchmark: one event loop (now) against a thread per job (before), and what sleeping jobs cost.

Usage:
  .venv/bin/python bench/worker_loop.py [--jobs 2000] [--runs 5] [--concurrency 4 16] [--sleepers 1000]

jobs/s      N instances of start -> service task -> end are started first; then one worker loop runs their N
            jobs until idle, timed. The handler does nothing (``def`` or ``async def``, returning ``{}``), so
            this is the loop's own cost plus the engine's report transaction per job.
sleepers    --sleepers jobs whose ``async def`` handler sleeps 2 s, with concurrency = --sleepers: the growth of
            RSS and the threads alive once every handler is asleep.

Every measurement runs in a fresh subprocess on a fresh SQLite file (WAL, ``synchronous=NORMAL``); designs and
handler kinds are interleaved, run by run, and each jobs/s figure is the median of --runs.

"before" is the loop this one replaced, kept here as ``ThreadedLoop``: every job on a thread of a pool of
``concurrency`` threads, an async handler under an ``asyncio.run`` of its own. It shares the claim, report and
timer code with the current loop, so the difference is the way handlers are run.

A run is ``bench/worker_loop.py --one DESIGN KIND JOBS CONCURRENCY`` or ``--sleep DESIGN N``; it prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/ holds an engine.py: keep the folder off sys.path so that ``import engine`` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import Engine, Job, WorkerLoop, WorkerRegistry, WorkerSettings  # noqa: E402
from engine.scheduler.local import LocalJobs  # noqa: E402
from engine.scheduler.loop import _Outcome  # noqa: E402
from engine.views import ActivatedJob  # noqa: E402

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="x">
  <bpmn:process id="one_job" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="work" />
    </bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


class ThreadedLoop(WorkerLoop):
    """The loop as it was: a thread per running job, ``asyncio.run`` for an async handler (``until_idle`` only)."""

    def run(self, *, until_idle: bool = False) -> None:
        types = self.registry.types()
        ready = threading.Event()
        local = LocalJobs(self.name, frozenset(types), self.settings.lease_ms, self.settings.concurrency * 4, ready.set)
        previous, self.engine.local_jobs = self.engine.local_jobs, local
        try:
            self._threaded(types, local, ready)
        finally:
            self.engine.local_jobs = previous
            self.engine.release_jobs(local.drain())

    def _threaded(self, types: list[str], local: LocalJobs, ready: threading.Event) -> None:
        running: dict[Future[Any], ActivatedJob] = {}
        with ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="job") as pool:
            while True:
                for future in [f for f in running if f.done()]:
                    job = running.pop(future)
                    error = future.exception()
                    self._report(_Outcome(job, None if error else future.result(), error))
                free = self.settings.concurrency - len(running)
                jobs = local.take(free) if free > 0 else []
                if not jobs and free > 0:
                    jobs = self._claim(types, free)
                if jobs:
                    for job in jobs:
                        future = pool.submit(self._threaded_call, job)
                        running[future] = job
                        future.add_done_callback(lambda _: ready.set())
                    continue
                if any(f.done() for f in running):
                    continue
                if self.engine.next_job_due(types) is None and not running:
                    return
                ready.wait(self.settings.poll_interval_s)
                ready.clear()

    def _threaded_call(self, job: ActivatedJob) -> Any:
        arg = Job(job.key, job.type, dict(job.variables), dict(job.headers), job.retries, job.instance,
                  job.element_id, job.process_id, job.element_instance)
        result = self.registry.handlers[job.type](arg)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return result


def _sync(job: Job) -> dict[str, Any]:
    return {}


async def _async(job: Job) -> dict[str, Any]:
    return {}


def _engine(folder: str, jobs: int) -> Engine:
    engine = Engine.open(f"sqlite:///{folder}/bench.db", synchronous="NORMAL")
    engine.deploy([("one_job.bpmn", BPMN)])
    for _ in range(jobs):
        engine.start("one_job", {})
    return engine


def _loop(design: str, engine: Engine, registry: WorkerRegistry, concurrency: int) -> WorkerLoop:
    settings = WorkerSettings(concurrency=concurrency, poll_interval_s=0.05)
    kind = ThreadedLoop if design == "before" else WorkerLoop
    return kind(engine, registry, name="bench", settings=settings)


def one(design: str, kind: str, jobs: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        engine = _engine(folder, jobs)
        registry = WorkerRegistry()
        registry.register("work", _sync if kind == "sync" else _async)
        loop = _loop(design, engine, registry, concurrency)
        started = time.perf_counter()
        loop.run(until_idle=True)
        elapsed = time.perf_counter() - started
        assert loop.completed == jobs, (loop.completed, jobs)
        engine.close()
    return {"jobs_per_s": jobs / elapsed}


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def sleep(design: str, sleepers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        engine = _engine(folder, sleepers)
        asleep = 0
        peak: dict[str, Any] = {}
        guard = threading.Lock()

        async def sleepy(job: Job) -> dict[str, Any]:
            nonlocal asleep
            with guard:
                asleep += 1
                if asleep == sleepers:
                    peak.update(rss_mb=_rss_mb(), threads=threading.active_count())
            await asyncio.sleep(2)
            return {}

        registry = WorkerRegistry()
        registry.register("work", sleepy)
        loop = _loop(design, engine, registry, sleepers)
        rss, threads = _rss_mb(), threading.active_count()
        started = time.perf_counter()
        loop.run(until_idle=True)
        elapsed = time.perf_counter() - started
        engine.close()
    if not peak:
        return {"all_asleep": False, "seconds": elapsed}
    return {"rss_growth_mb": peak["rss_mb"] - rss, "threads": peak["threads"], "threads_before": threads,
            "seconds": elapsed}


def _child(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--sleepers", type=int, default=1000)
    parser.add_argument("--one", nargs=4, metavar=("DESIGN", "KIND", "JOBS", "CONCURRENCY"))
    parser.add_argument("--sleep", nargs=2, metavar=("DESIGN", "N"))
    args = parser.parse_args()
    if args.one:
        design, kind, jobs, concurrency = args.one
        print(json.dumps(one(design, kind, int(jobs), int(concurrency))))
        return
    if args.sleep:
        print(json.dumps(sleep(args.sleep[0], int(args.sleep[1]))))
        return

    cases = [(c, kind, design) for c in args.concurrency for kind in ("sync", "async") for design in ("before", "now")]
    rates: dict[tuple[int, str, str], list[float]] = {case: [] for case in cases}
    for run in range(args.runs):
        for case in cases if run % 2 == 0 else list(reversed(cases)):
            concurrency, kind, design = case
            rates[case].append(_child("--one", design, kind, str(args.jobs), str(concurrency))["jobs_per_s"])
    print(f"jobs/s, {args.jobs} trivial jobs, median of {args.runs} interleaved runs (min-max):")
    print(f"  {'concurrency':>11}  {'handler':<7}  {'before (thread/job)':>22}  {'now (event loop)':>22}")
    for concurrency in args.concurrency:
        for kind in ("sync", "async"):
            cells = []
            for design in ("before", "now"):
                values = rates[(concurrency, kind, design)]
                cells.append(f"{statistics.median(values):8.0f} ({min(values):.0f}-{max(values):.0f})")
            print(f"  {concurrency:>11}  {kind:<7}  {cells[0]:>22}  {cells[1]:>22}")
    print(f"{args.sleepers} async handlers asleep at once (concurrency {args.sleepers}), one run each:")
    for design in ("before", "now"):
        seen = _child("--sleep", design, str(args.sleepers))
        if "rss_growth_mb" not in seen:
            print(f"  {design:<6}  not all asleep at once ({seen['seconds']:.1f} s)")
            continue
        print(f"  {design:<6}  RSS +{seen['rss_growth_mb']:.1f} MiB, threads {seen['threads_before']} -> "
              f"{seen['threads']}, {seen['seconds']:.1f} s for all")


if __name__ == "__main__":
    main()
