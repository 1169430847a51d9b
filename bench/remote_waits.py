"""Remote waits benchmark: N remote tasks waiting at once in one hub, with what they cost while they wait.

Usage:
  PYTHONPATH=. .venv/bin/python bench/remote_waits.py [--calls 1000] [--streaming]
  PYTHONPATH=. .venv/bin/python bench/remote_waits.py --mcp [--calls 1000] [--seconds 60]

One hub (default settings: 64 worker slots) on a fresh SQLite file, and in a process of its own an A2A agent
built with the a2a-sdk on 127.0.0.1 (``tests/data/a2a/client/remote_agent.py``) whose tasks stay ``working``
until released. N instances of ``call_agent`` (one ``a2a`` service task each) are started through the engine;
once every job waits on its task without a worker, it prints the hub process's RSS growth since before the
first start, the threads alive, and the worker slots held (sampled for 5 s: the jobs being checked at that
moment). Then the tasks are released, every waiting job woken (as push notifications would), and the time
until all N complete printed.

A run of the agent alone is ``bench/remote_waits.py --agent [--streaming]``: it prints its URL, and releases its
tasks when a line arrives on its standard input.

With ``--mcp`` the remote work is an upstream MCP server's tasks (the MCP Tasks extension): a second hub, in a
process of its own, serves the conformance fixture ``slow_compute`` (a timer of ``--seconds``) as a tool, and the
hub under test runs N instances of a process whose ``mcp`` service task calls it; each call answers with a task,
and its job waits on it without a worker (``registry.mcp_calls`` lists them). The same figures are printed, then the
time until all N complete once their timers end upstream (each job reads its task again after as long as it has
run, 0.5 to 30 s; with ``--seconds`` over 75, the slots are sampled again a minute after the first start).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/ holds an engine.py: keep the folder off sys.path so that ``import engine`` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

from engine import Engine  # noqa: E402
from protocols.mcp.limits import McpLimits  # noqa: E402
from registry import Registry  # noqa: E402
from tests.data.a2a.client.remote_agent import TOKEN, serve_agent  # noqa: E402
from tests.data.mcp_upstream.models import tool_task_process  # noqa: E402
from tests.hub.harness import serve_hub  # noqa: E402

CALL_AGENT = ROOT / "tests" / "data" / "a2a" / "client" / "call_agent.bpmn"
SLOW_COMPUTE = ROOT / "tests" / "hub" / "mcp_fixtures" / "slow_compute.bpmn"
TOKEN_ENV = "REMOTE_AGENT_TOKEN"
UPSTREAM_TOKEN_ENV = "UPSTREAM_HUB_TOKEN"


def rss_mb() -> float:
    """The resident set size now (``/proc/self/statm``), in MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def until(condition: Callable[[], bool], what: str, timeout: float = 600) -> float:
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - began


def slots(loop: Any) -> str:
    """The worker slots held over 5 s (sampled every 50 ms): mean and max."""
    held = []
    for _ in range(100):
        held.append(loop.slots_held)
        time.sleep(0.05)
    return f"mean {statistics.mean(held):.1f}, max {max(held)} of {loop.settings.concurrency}"


def agent(streaming: bool) -> None:
    """The remote agent alone: its URL on stdout, its tasks released when a line arrives on stdin."""
    with serve_agent(streaming=streaming) as remote:
        print(remote.url, flush=True)
        sys.stdin.readline()
        remote.release()
        sys.stdin.readline()  # until the hub is done


def upstream_hub() -> None:
    """The upstream hub alone, serving ``slow_compute`` as a tool: its URL and admin token on stdout, until a line
    arrives on stdin."""
    with tempfile.TemporaryDirectory() as folder, serve_hub(Path(folder), mcp=McpLimits(rate_per_minute=0)) as hub:
        with hub.client() as c:
            files = [("files", (SLOW_COMPUTE.name, SLOW_COMPUTE.read_bytes(), "application/xml"))]
            c.post("/api/v1/deployments", files=files, params={"expose": "true"}).raise_for_status()
        print(f"{hub.url}/mcp {hub.admin}", flush=True)
        sys.stdin.readline()


def mcp_waits(calls: int, seconds: int) -> None:
    command = [sys.executable, __file__, "--upstream-hub"]
    upstream = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert upstream.stdin is not None and upstream.stdout is not None
    url, token = upstream.stdout.readline().split()
    os.environ[UPSTREAM_TOKEN_ENV] = token
    with (
        tempfile.TemporaryDirectory() as folder,
        serve_hub(Path(folder), http_allow="127.0.0.1") as hub,
        hub.client() as c,
    ):
        c.post("/api/v1/mcp-servers", json={"name": "b", "transport": "http", "url": url,
                                            "bearerEnv": UPSTREAM_TOKEN_ENV}).raise_for_status()
        model = tool_task_process("compute_on_b", "b", "slow_compute")
        c.post("/api/v1/deployments", files=[("files", ("compute.bpmn", model, "application/xml"))]).raise_for_status()
        engine: Engine = hub.app.state.hub.engine
        registry: Registry = hub.app.state.hub.registry
        loop = hub.app.state.worker.loop
        rss_before, threads_before = rss_mb(), threading.active_count()
        began = time.monotonic()
        for n in range(calls):
            engine.start("compute_on_b", {"seconds": seconds, "label": f"n{n}"})
        started_s = time.monotonic() - began
        until(lambda: len(registry.mcp_calls.page(limit=calls + 1)) == calls, "every job to wait")
        waiting_s = time.monotonic() - began
        print(f"{calls} upstream MCP tasks (another hub's slow_compute, {seconds} s each), one hub, "
              f"{loop.settings.concurrency} worker slots")
        print(f"  started in {started_s:.1f} s, all waiting without a worker after {waiting_s:.1f} s")
        print(f"  hub RSS growth {rss_mb() - rss_before:.1f} MiB, threads {threading.active_count()} "
              f"(before: {threads_before})")
        print(f"  worker slots held by reads in progress, right after: {slots(loop)}")
        if seconds > 75:
            time.sleep(max(0.0, 60 - (time.monotonic() - began)))
            print(f"  ... and a minute after the first start (reads spaced by the tasks' age, up to 30 s): "
                  f"{slots(loop)}; hub RSS growth then {rss_mb() - rss_before:.1f} MiB")
        until(lambda: not engine.instances(state="active", process_id="compute_on_b", limit=1), "all to complete")
        print(f"  all {calls} completed {time.monotonic() - began:.1f} s after the first start; hub RSS growth then "
              f"{rss_mb() - rss_before:.1f} MiB")
    upstream.stdin.write("done\n")
    upstream.stdin.close()
    upstream.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--streaming", action="store_true", help="the agent's card says it streams")
    parser.add_argument("--mcp", action="store_true", help="an upstream MCP server's tasks instead of an A2A agent's")
    parser.add_argument("--seconds", type=int, default=60, help="with --mcp: how long each upstream task runs")
    parser.add_argument("--agent", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--upstream-hub", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.agent:
        agent(args.streaming)
        return
    if args.upstream_hub:
        upstream_hub()
        return
    if args.mcp:
        mcp_waits(args.calls, args.seconds)
        return
    os.environ[TOKEN_ENV] = TOKEN
    calls = args.calls
    command = [sys.executable, __file__, "--agent", *(["--streaming"] if args.streaming else [])]
    remote = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert remote.stdin is not None and remote.stdout is not None
    url = remote.stdout.readline().strip()
    with (
        tempfile.TemporaryDirectory() as folder,
        serve_hub(Path(folder), http_allow="127.0.0.1") as hub,
        hub.client() as c,
    ):
        c.post("/api/v1/agents", json={"name": "helper", "url": url, "tokenEnv": TOKEN_ENV}).raise_for_status()
        files = [("files", (CALL_AGENT.name, CALL_AGENT.read_bytes(), "application/xml"))]
        c.post("/api/v1/deployments", files=files).raise_for_status()
        engine: Engine = hub.app.state.hub.engine
        registry: Registry = hub.app.state.hub.registry
        loop = hub.app.state.worker.loop
        rss_before, threads_before = rss_mb(), threading.active_count()
        began = time.monotonic()
        keys = [engine.start("call_agent", {"question": f"q{n}", "payload": {"mode": "wait"}}).key
                for n in range(calls)]
        started_s = time.monotonic() - began
        until(lambda: len(registry.a2a_calls.page(limit=calls + 1)) == calls, "every job to wait")
        waiting_s = time.monotonic() - began
        early = slots(loop)
        print(f"{calls} remote A2A tasks ({'streaming' if args.streaming else 'polling'} agent), one hub, "
              f"{loop.settings.concurrency} worker slots")
        print(f"  started in {started_s:.1f} s, all waiting without a worker after {waiting_s:.1f} s")
        print(f"  hub RSS growth {rss_mb() - rss_before:.1f} MiB, threads {threading.active_count()} "
              f"(before: {threads_before})")
        print(f"  worker slots held by checks in progress, right after: {early}")
        time.sleep(max(0.0, 60 - (time.monotonic() - began)))
        print(f"  ... and a minute after the first start (checks every 30 s): {slots(loop)}")
        print(f"  hub RSS growth then {rss_mb() - rss_before:.1f} MiB, threads {threading.active_count()}")
        remote.stdin.write("release\n")
        remote.stdin.flush()
        time.sleep(0.5)
        released = time.monotonic()
        for key in keys:
            for job in engine.jobs(key):
                engine.wake_job(int(job["key"]))
        until(lambda: not engine.instances(state="active", process_id="call_agent", limit=1), "all to complete")
        print(f"  released: all {calls} completed {time.monotonic() - released:.1f} s later")
    remote.stdin.write("done\n")
    remote.stdin.close()
    remote.wait(timeout=30)


if __name__ == "__main__":
    main()
