"""Benchmark: one A2A message to a hub process on each binding, JSON-RPC, HTTP+JSON and gRPC.

    .venv/bin/python bench/a2a_bindings.py [--calls 200] [--clients 10] [--runs 3]

A hub (``agenthub serve --a2a-grpc-port``, its own process, SQLite with synchronous=FULL: every instance's
steps are committed before the answer) serves ``bench/models/hub_straight.bpmn``, a straight-through process,
as an A2A agent. The official a2a-sdk client (Python) sends a message and gets the completed task back, on
each binding the card offers, with a bearer token; the bindings alternate within each run (interleaved), each
sequentially (one client, one call at a time) and with several clients at once. It prints p50 and p99 latency
and calls per second, medians over the runs, and the ratios to JSON-RPC. Every answer is checked (the task
completed, with the echoed text).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc.aio  # type: ignore[import-untyped]
import httpx
from a2a.client import Client, ClientCallContext, ClientConfig, ClientFactory
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
# the sibling benchmark's helpers (bench/ is not a package, and a plain "import hub" would be the hub package)
_spec = importlib.util.spec_from_file_location("bench_hub", HERE / "hub.py")
assert _spec is not None and _spec.loader is not None
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
AGENTHUB, free_port, log, wait_http = _helpers.AGENTHUB, _helpers.free_port, _helpers.log, _helpers.wait_http
summary = _helpers.summary

BINDINGS = ("JSONRPC", "HTTP+JSON", "GRPC")


class Hub:
    """A hub with gRPC on, the straight-through process deployed exposed, and an admin token."""

    def __init__(self, root: Path) -> None:
        port, self.grpc_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{port}"
        db = f"sqlite:///{root / 'hub.db'}"
        self.token = subprocess.run(
            [sys.executable, "-c", "from registry import generate_token; print(generate_token())"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        env = {**os.environ, "AGENTHUB_ADMIN_TOKEN": self.token}
        subprocess.run([AGENTHUB, "deploy", "--expose", str(HERE / "models" / "hub_straight.bpmn"), "--db", db],
                       check=True, capture_output=True, env=env, cwd=root)
        self.proc = subprocess.Popen(
            [AGENTHUB, "serve", "--port", str(port), "--a2a-grpc-port", str(self.grpc_port), "--db", db,
             "--log-level", "warning"],
            env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_http(f"{self.url}/health", self.proc, "the hub")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _message(i: int) -> SendMessageRequest:
    return SendMessageRequest(message=Message(message_id=f"bench-{uuid.uuid4()}", role=Role.ROLE_USER,
                                              parts=[Part(text=f"hello {i}")]))


async def _send(client: Client, context: ClientCallContext, i: int) -> None:
    [response] = [r async for r in client.send_message(_message(i), context=context)]
    task = response.task
    if task.status.state != TaskState.TASK_STATE_COMPLETED:
        raise SystemExit(f"call {i}: the task ended {TaskState.Name(task.status.state)}")
    artifact = MessageToDict(task.artifacts[0].parts[0].data)
    if artifact.get("echoed") != f"hello {i}":
        raise SystemExit(f"call {i}: unexpected answer {artifact}")


async def measure(hub: Hub, binding: str, clients: int, calls: int) -> dict[str, float]:
    """``calls`` messages spread over ``clients`` clients at once on ``binding``; latency per call, overall rate."""
    latencies: list[float] = []
    context = ClientCallContext(service_parameters={"authorization": f"Bearer {hub.token}"})
    ready = asyncio.Barrier(clients)  # the clock starts once every client has its card and a warm connection
    began: list[float] = []

    async def one_client(index: int, count: int) -> None:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {hub.token}"}, timeout=60) as http:
            config = ClientConfig(httpx_client=http, streaming=False, supported_protocol_bindings=[binding],
                                  grpc_channel_factory=grpc.aio.insecure_channel)
            async with await ClientFactory(config).create_from_url(f"{hub.url}/a2a/echo_straight/") as client:
                await _send(client, context, -1)  # warm the connection
                await ready.wait()
                if not began:
                    began.append(time.perf_counter())
                for i in range(count):
                    sent = time.perf_counter()
                    await _send(client, context, index * calls + i)
                    latencies.append(time.perf_counter() - sent)

    per_client = max(1, calls // clients)
    await asyncio.gather(*(one_client(c, per_client) for c in range(clients)))
    return summary(latencies, time.perf_counter() - began[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200, help="calls per binding and mode (default 200)")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions; medians are reported (default 3)")
    args = parser.parse_args()
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    modes = (("sequential", 1), (f"{args.clients} clients", args.clients))
    with tempfile.TemporaryDirectory(prefix="agenthub-bench-a2a-") as tmp:
        hub = Hub(Path(tmp))
        try:
            for run in range(args.runs):
                for mode, clients in modes:
                    order = BINDINGS[run % 3:] + BINDINGS[:run % 3]  # interleaved: who goes first rotates
                    for binding in order:
                        measured = asyncio.run(measure(hub, binding, clients, args.calls))
                        results.setdefault((binding, mode), []).append(measured)
                        log(f"run {run + 1}/{args.runs} {binding} {mode}: p50 {measured['p50_ms']:.1f} ms, "
                            f"p99 {measured['p99_ms']:.1f} ms, {measured['calls_s']:.0f} calls/s")
        finally:
            hub.close()
    report(results, args, [m for m, _ in modes])


def report(results: dict[tuple[str, str], list[dict[str, float]]], args: argparse.Namespace,
           modes: list[str]) -> None:
    def med(binding: str, mode: str, key: str) -> float:
        return statistics.median(r[key] for r in results[(binding, mode)])

    print(f"\nagenthub A2A bindings: {args.calls} messages per cell, medians of {args.runs} runs, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, SQLite synchronous=FULL\n")
    print("| binding | mode | p50 ms | p99 ms | calls/s | p50 vs JSON-RPC | calls/s vs JSON-RPC |")
    print("|---|---|---|---|---|---|---|")
    for mode in modes:
        base_p50, base_rate = med("JSONRPC", mode, "p50_ms"), med("JSONRPC", mode, "calls_s")
        for binding in BINDINGS:
            p50, p99, rate = med(binding, mode, "p50_ms"), med(binding, mode, "p99_ms"), med(binding, mode, "calls_s")
            print(f"| {binding} | {mode} | {p50:.1f} | {p99:.1f} | {rate:.0f} | {p50 / base_p50:.2f}x | "
                  f"{rate / base_rate:.2f} |")


if __name__ == "__main__":
    main()
