"""Benchmark: what uvicorn's C HTTP parser (httptools) and libuv's event loop (uvloop) save the hub, per MCP request.

    .venv/bin/python bench/http_stack.py [--rounds 7] [--calls 200]

The hub runs uvicorn with ``http="auto"`` and ``loop="auto"`` (``hub/commands/serve.py``): httptools and uvloop,
both locked dependencies, when they can be imported; h11 and asyncio's own loop otherwise. This starts four
worlds side by side, each an echo upstream and a hub (``bench/gateway.py``'s ``Setup``), with one, the other,
both or neither hidden from them (a folder on ``PYTHONPATH`` whose ``httptools``/``uvloop`` modules refuse to
import), and measures in interleaved rounds (the order turns every round), one session at a time:

  ping     a bare MCP request to the hub (``ping``, the legacy protocol);
  builtin  one of the hub's own tools (``agenthub_list_user_tasks``: a registry read);
  direct   the ``echo`` tool called on the upstream itself (the same SDK server in the same world);
  gateway  ``echow__echo`` through the hub (policy, pin check, pooled upstream call, audit row committed).

For each: the median wall time per call and the median CPU time the serving process spent per call (psutil),
the steadier of the two on a noisy machine. The benchmark's own client runs the same in every world.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import psutil
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import Setup  # bench/ is not a package: its folder is on the path (above)

WORLDS = {"h11 + asyncio": ("httptools", "uvloop"), "httptools + asyncio": ("uvloop",),
          "h11 + uvloop": ("httptools",), "httptools + uvloop": ()}


async def _per_call(url: str, headers: dict[str, str], what: str, calls: int) -> float:
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
    ):
        async def one(i: int) -> None:
            if what == "ping":
                await client.send_ping()
            elif what == "builtin":
                await client.call_tool("agenthub_list_user_tasks", {})
            else:
                result = await client.call_tool(what, {"text": f"x{i}"})
                assert not result.is_error and result.structured_content == {"text": f"x{i}"}, result

        for i in range(10):  # warm
            await one(i)
        began = time.perf_counter()
        for i in range(calls):
            await one(i)
        return (time.perf_counter() - began) / calls


def _hiding(root: Path, modules: tuple[str, ...]) -> str:
    folder = root / ("hide-" + "-".join(modules or ("nothing",)))
    folder.mkdir()
    for name in modules:
        (folder / f"{name}.py").write_text(f'raise ImportError("{name} hidden by bench/http_stack.py")\n')
    return str(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="agenthub-bench-http-") as tmp:
        root = Path(tmp)
        setups: dict[str, Setup] = {}
        try:
            for name, hidden in WORLDS.items():
                os.environ["PYTHONPATH"] = _hiding(root, hidden)
                folder = root / f"world-{len(setups)}"
                folder.mkdir()
                setups[name] = Setup(folder)
            os.environ.pop("PYTHONPATH")
            for round_ in range(args.rounds):
                order = list(setups.items())
                for name, setup in order[round_ % len(order):] + order[:round_ % len(order)]:
                    hub, upstream = psutil.Process(setup.hub.pid), psutil.Process(setup.procs[0].pid)
                    auth = {"Authorization": f"Bearer {setup.token}"}
                    for what, url, headers, server, tool in (
                        ("ping", setup.hub_url, auth, hub, "ping"),
                        ("builtin", setup.hub_url, auth, hub, "builtin"),
                        ("direct", setup.upstream_url, {}, upstream, "echo"),
                        ("gateway", setup.hub_url, auth, hub, "echow__echo"),
                    ):
                        before = sum(server.cpu_times()[:2])
                        wall = asyncio.run(_per_call(url, headers, tool, args.calls))
                        cpu = (sum(server.cpu_times()[:2]) - before) / (args.calls + 10)
                        results.setdefault((name, what), []).append((wall * 1000, cpu * 1000))
                print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        finally:
            for setup in setups.values():
                setup.close()
    print(f"\nmedians of {args.rounds} interleaved rounds, {args.calls} calls each, one session, "
          f"{os.cpu_count()} cores; ms per call (wall / CPU of the serving process)\n")
    print("| world | ping (hub) | builtin tool (hub) | direct (upstream) | gateway (hub) | gateway / direct (wall) |")
    print("|---|---|---|---|---|---|")
    for name in WORLDS:
        cells = {what: (statistics.median(w for w, _ in results[(name, what)]),
                        statistics.median(c for _, c in results[(name, what)]))
                 for what in ("ping", "builtin", "direct", "gateway")}
        shown = " | ".join(f"{w:.2f} / {c:.2f}" for w, c in cells.values())
        print(f"| {name} | {shown} | {cells['gateway'][0] / cells['direct'][0]:.2f}x |")


if __name__ == "__main__":
    main()
