"""Benchmark: an MCP tool call directly, through a BPMN service task on the hub, and a process as a tool.

    .venv/bin/python bench/hub.py [--calls 200] [--clients 20] [--runs 3]

Three ways to get the same echo, each measured sequentially (one client, one
call at a time) and with 20 concurrent clients, in the same run:

  (a) the ``echo`` tool called directly on an ``mcp`` SDK server (the baseline);
  (b) a hub process, called as an MCP tool, whose service task (job type
      ``mcp``) calls that same echo tool: MCP in, BPMN, MCP out;
  (c) a straight-through hub process (a script task) called as an MCP tool.

Every call goes over streamable HTTP on 127.0.0.1 with the official ``mcp``
client, the hub with a bearer token, on SQLite (WAL, synchronous=FULL: every
instance's steps are committed durably before the answer). The upstream, the
hub and this client are three processes. It prints p50 and p99 latency and
calls per second, medians over the runs, with ratios to (a). Target: (c)
within 3x of (a) at p50.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

HERE = Path(__file__).resolve().parent
AGENTHUB = str(Path(sys.executable).with_name("agenthub"))
SCENARIOS = {
    "a": "echo tool, direct on an mcp SDK server",
    "b": "echo via a BPMN service task on the hub",
    "c": "straight-through process as a tool",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Setup:
    """The upstream echo server and a hub with the upstream registered and both processes deployed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: list[subprocess.Popen[bytes]] = []
        upstream_port, hub_port = free_port(), free_port()
        self.upstream_url = f"http://127.0.0.1:{upstream_port}/mcp"
        self.hub_url = f"http://127.0.0.1:{hub_port}/mcp"
        db = f"sqlite:///{root / 'hub.db'}"
        self.token = subprocess.run(
            [sys.executable, "-c", "from registry import generate_token; print(generate_token())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        # the upstream is on 127.0.0.1, which the egress allow-list admits only when told (its default is public);
        # one token makes every call here, so the per-token rate limit and session cap are lifted (as bench/gateway)
        env = {**os.environ, "AGENTHUB_ADMIN_TOKEN": self.token, "AGENTHUB_HTTP_ALLOW": "127.0.0.1",
               "AGENTHUB_MCP_RATE": "0", "AGENTHUB_MCP_MAX_SESSIONS": "100"}
        self._spawn([sys.executable, str(HERE / "mcp_echo.py"), str(upstream_port)], env)
        wait_http(f"http://127.0.0.1:{upstream_port}/", self.procs[-1], "the upstream echo server")
        for command in (
            ["mcp-server", "add", "echo", "--url", self.upstream_url],
            ["deploy", str(HERE / "models" / "hub_echo_task.bpmn"), str(HERE / "models" / "hub_straight.bpmn")],
        ):
            subprocess.run([AGENTHUB, *command, "--db", db], check=True, capture_output=True, env=env, cwd=root)
        self._spawn([AGENTHUB, "serve", "--port", str(hub_port), "--db", db, "--log-level", "warning"], env)
        wait_http(f"http://127.0.0.1:{hub_port}/health", self.procs[-1], "the hub")

    def _spawn(self, argv: list[str], env: dict[str, str]) -> None:
        self.procs.append(
            subprocess.Popen(argv, env=env, cwd=self.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=30)


Call = Callable[[Client, int], Awaitable[None]]


def scenario(name: str, setup: Setup) -> tuple[str, dict[str, str], Call]:
    async def direct(client: Client, i: int) -> None:
        result = await client.call_tool("echo", {"text": f"hello {i}"})
        assert result.structured_content == {"text": f"hello {i}"}, result

    async def via_task(client: Client, i: int) -> None:
        result = await client.call_tool("echo_task", {"text": f"hello {i}"})
        assert result.structured_content and result.structured_content["echoed"] == {"text": f"hello {i}"}, result

    async def straight(client: Client, i: int) -> None:
        result = await client.call_tool("echo_straight", {"text": f"hello {i}"})
        assert result.structured_content and result.structured_content["echoed"] == f"hello {i}", result

    auth = {"Authorization": f"Bearer {setup.token}"}
    return {
        "a": (setup.upstream_url, {}, direct),
        "b": (setup.hub_url, auth, via_task),
        "c": (setup.hub_url, auth, straight),
    }[name]


async def measure(url: str, headers: dict[str, str], call: Call, clients: int, calls: int) -> dict[str, float]:
    """``calls`` calls spread over ``clients`` sessions running at once; latency per call and overall rate."""
    latencies: list[float] = []

    async def one_client(index: int, count: int) -> None:
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
        ):
            await call(client, -1)  # warm the session
            for i in range(count):
                began = time.perf_counter()
                await call(client, index * calls + i)
                latencies.append(time.perf_counter() - began)

    per_client = max(1, calls // clients)
    began = time.perf_counter()
    await asyncio.gather(*(one_client(c, per_client) for c in range(clients)))
    return summary(latencies, time.perf_counter() - began)


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    """p50 and p99 latency (ms) of ``latencies`` (seconds), and the calls per second over ``elapsed``."""
    latencies = sorted(latencies)
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "calls_s": len(latencies) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200, help="calls per scenario and mode (default 200)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions; medians are reported (default 3)")
    args = parser.parse_args()
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="agenthub-bench-hub-") as tmp:
        setup = Setup(Path(tmp))
        try:
            for run in range(args.runs):
                for name in SCENARIOS:
                    for mode, clients in (("sequential", 1), (f"{args.clients} clients", args.clients)):
                        url, headers, call = scenario(name, setup)
                        measured = asyncio.run(measure(url, headers, call, clients, args.calls))
                        results.setdefault((name, mode), []).append(measured)
                        log(
                            f"run {run + 1}/{args.runs} ({name}) {mode}: p50 {measured['p50_ms']:.1f} ms, "
                            f"p99 {measured['p99_ms']:.1f} ms, {measured['calls_s']:.0f} calls/s"
                        )
        finally:
            setup.close()
    report(results, args)


def report(results: dict[tuple[str, str], list[dict[str, float]]], args: argparse.Namespace) -> None:
    def med(name: str, mode: str, key: str) -> float:
        return statistics.median(r[key] for r in results[(name, mode)])

    print(
        f"\nagenthub hub benchmark: {args.calls} calls per cell, medians of {args.runs} runs, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, SQLite synchronous=FULL\n"
    )
    print("| scenario | mode | p50 ms | p99 ms | calls/s | p50 vs (a) | calls/s vs (a) |")
    print("|---|---|---|---|---|---|---|")
    modes = sorted({mode for _, mode in results}, key=lambda m: m != "sequential")
    for mode in modes:
        base_p50, base_rate = med("a", mode, "p50_ms"), med("a", mode, "calls_s")
        for name, label in SCENARIOS.items():
            p50, p99, rate = med(name, mode, "p50_ms"), med(name, mode, "p99_ms"), med(name, mode, "calls_s")
            print(
                f"| ({name}) {label} | {mode} | {p50:.1f} | {p99:.1f} | {rate:.0f} | "
                f"{p50 / base_p50:.2f}x | {rate / base_rate:.2f} |"
            )
    sequential = med("c", "sequential", "p50_ms") / med("a", "sequential", "p50_ms")
    verdict = "met" if sequential <= 3 else "missed"
    print(f"\ntarget: (c) within 3x of (a) at p50 (sequential): {sequential:.2f}x, {verdict}")


if __name__ == "__main__":
    main()
