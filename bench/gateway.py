"""Benchmark: a federated MCP tool call through the hub's gateway against the same call made directly upstream.

    .venv/bin/python bench/gateway.py [--calls 200] [--clients 20] [--runs 3] [--memory-calls 0]

Three ways to an ``echo`` tool (``bench/mcp_echo.py``, the official SDK
server over streamable HTTP), interleaved within each run, each sequential
(one session) and with ``--clients`` sessions at once:

  (a) direct: the ``mcp`` client on the upstream;
  (g) gateway: the ``mcp`` client on the hub's ``/mcp``, tool ``echo__echo``:
      the hub's rate limits and policies (a file with one policy that matches
      every call and lets it through), the pin check on a fresh upstream
      listing, the call on a pooled session and the audit row committed
      (SQLite, synchronous=FULL) before the answer;
  (w) gateway, announcing upstream: the same through the hub, tool ``echow__echo``,
      to a second echo server that advertises ``tools.listChanged``, so the
      hub subscribes and reuses its listing between calls (the pin is still
      compared at every call; ``protocols.mcp.client_listing``). (g) is the
      path before that reuse, (w) after it, measured in the same run.

Every call's answer is checked; a failed call stops the benchmark. Target
(issue 17): (g) within 1.5x of (a) at p50 and 2x at p99. With
``--memory-calls N`` the hub's resident memory is sampled while N more
gateway calls run (20 sessions), to see that it stays flat while the audit
grows by N rows. Upstream, hub and this client are three processes on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
import psutil
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

HERE = Path(__file__).resolve().parent
AGENTHUB = str(Path(sys.executable).with_name("agenthub"))
POLICY = [{"tool": "*", "decision": "deny", "when": 'toolCall.text = "forbidden"', "reason": "bench"}]
Call = Callable[[Client, int], Awaitable[None]]


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
    """The upstream echo server, and a hub that federates it as ``echo`` with a policy file."""

    def __init__(self, root: Path) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        upstream_port, announcing_port, hub_port = free_port(), free_port(), free_port()
        self.upstream_url = f"http://127.0.0.1:{upstream_port}/mcp"
        announcing_url = f"http://127.0.0.1:{announcing_port}/mcp"
        self.hub_url = f"http://127.0.0.1:{hub_port}/mcp"
        db = f"sqlite:///{root / 'hub.db'}"
        policies = root / "policies.json"
        policies.write_text(json.dumps(POLICY))
        self.token = subprocess.run(
            [sys.executable, "-c", "from registry import generate_token; print(generate_token())"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        env = {**os.environ, "AGENTHUB_ADMIN_TOKEN": self.token, "AGENTHUB_HTTP_ALLOW": "127.0.0.1",
               "AGENTHUB_GATEWAY_SERVERS": "echo,echow", "AGENTHUB_AGENT_POLICIES": str(policies),
               "AGENTHUB_MCP_RATE": "0", "AGENTHUB_MCP_MAX_SESSIONS": "100"}
        self._spawn([sys.executable, str(HERE / "mcp_echo.py"), str(upstream_port)], env, root)
        wait_http(f"http://127.0.0.1:{upstream_port}/", self.procs[-1], "the upstream echo server")
        self._spawn([sys.executable, str(HERE / "mcp_echo.py"), str(announcing_port), "--announce"], env, root)
        wait_http(f"http://127.0.0.1:{announcing_port}/", self.procs[-1], "the announcing echo server")
        for name, url in (("echo", self.upstream_url), ("echow", announcing_url)):
            subprocess.run([AGENTHUB, "mcp-server", "add", name, "--url", url, "--db", db],
                           check=True, capture_output=True, env=env, cwd=root)
        self._spawn([AGENTHUB, "serve", "--port", str(hub_port), "--db", db, "--log-level", "warning"], env, root)
        self.hub = self.procs[-1]
        wait_http(f"http://127.0.0.1:{hub_port}/health", self.hub, "the hub")

    def _spawn(self, argv: list[str], env: dict[str, str], root: Path) -> None:
        self.procs.append(subprocess.Popen(argv, env=env, cwd=root, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))

    def hub_rss_mb(self) -> float:
        process = psutil.Process(self.hub.pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=30)


def scenario(name: str, setup: Setup) -> tuple[str, dict[str, str], Call]:
    async def direct(client: Client, i: int) -> None:
        result = await client.call_tool("echo", {"text": f"hello {i}"})
        assert not result.is_error and result.structured_content == {"text": f"hello {i}"}, result

    def through(tool: str) -> Call:
        async def gateway(client: Client, i: int) -> None:
            result = await client.call_tool(tool, {"text": f"hello {i}"})
            assert not result.is_error and result.structured_content == {"text": f"hello {i}"}, result

        return gateway

    if name == "a":
        return setup.upstream_url, {}, direct
    return setup.hub_url, {"Authorization": f"Bearer {setup.token}"}, through("echow__echo" if name == "w" else
                                                                              "echo__echo")


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
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "calls_s": len(latencies) / elapsed,
    }


def memory(setup: Setup, calls: int, clients: int) -> list[tuple[int, float]]:
    """The hub's RSS after every tenth of ``calls`` gateway calls."""
    url, headers, call = scenario("g", setup)
    samples = [(0, setup.hub_rss_mb())]
    step = max(clients, calls // 10)
    done = 0
    while done < calls:
        asyncio.run(measure(url, headers, call, clients, step))
        done += step
        samples.append((done, setup.hub_rss_mb()))
        log(f"memory: {done} calls, hub RSS {samples[-1][1]:.0f} MiB")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200, help="calls per scenario and mode (default 200)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent sessions (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions; medians are reported (default 3)")
    parser.add_argument("--memory-calls", type=int, default=0, help="then this many gateway calls, RSS sampled")
    args = parser.parse_args()
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    samples: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory(prefix="agenthub-bench-gateway-") as tmp:
        setup = Setup(Path(tmp))
        try:
            for run in range(args.runs):
                for mode, clients in (("sequential", 1), (f"{args.clients} sessions", args.clients)):
                    for name in ("a", "g", "w"):  # interleaved: each run measures both, one after the other
                        url, headers, call = scenario(name, setup)
                        measured = asyncio.run(measure(url, headers, call, clients, args.calls))
                        results.setdefault((name, mode), []).append(measured)
                        log(f"run {run + 1}/{args.runs} ({name}) {mode}: p50 {measured['p50_ms']:.1f} ms, "
                            f"p99 {measured['p99_ms']:.1f} ms, {measured['calls_s']:.0f} calls/s")
            if args.memory_calls:
                samples = memory(setup, args.memory_calls, args.clients)
        finally:
            setup.close()
    report(results, samples, args)


def report(
    results: dict[tuple[str, str], list[dict[str, float]]], samples: list[tuple[int, float]], args: argparse.Namespace
) -> None:
    def med(name: str, mode: str, key: str) -> float:
        return statistics.median(r[key] for r in results[(name, mode)])

    print(f"\nagenthub gateway benchmark: {args.calls} calls per cell, medians of {args.runs} runs, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, SQLite synchronous=FULL\n")
    print("| path | mode | p50 ms | p99 ms | calls/s | p50 vs direct | p99 vs direct |")
    print("|---|---|---|---|---|---|---|")
    for mode in sorted({m for _, m in results}, key=lambda m: m != "sequential"):
        for name, label in (("a", "direct upstream"), ("g", "gateway, listing per call"),
                            ("w", "gateway, announced listing reused")):
            p50, p99, rate = med(name, mode, "p50_ms"), med(name, mode, "p99_ms"), med(name, mode, "calls_s")
            print(f"| {label} | {mode} | {p50:.1f} | {p99:.1f} | {rate:.0f} | "
                  f"{p50 / med('a', mode, 'p50_ms'):.2f}x | {p99 / med('a', mode, 'p99_ms'):.2f}x |")
    if samples:
        print("\nhub RSS (MiB) by gateway calls made: " + ", ".join(f"{n}: {mb:.0f}" for n, mb in samples))


if __name__ == "__main__":
    main()
