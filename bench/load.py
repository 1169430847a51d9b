"""Load benchmark: REST clients and MCP sessions against a real hub, with a kill -9 and a restart in the middle.

    .venv/bin/python bench/load.py [--seconds 60] [--rest-clients 50] [--mcp-sessions 20]
                                   [--db sqlite|postgresql|both] [--runs 1]
    .venv/bin/python bench/load.py --seconds 5 --rest-clients 4 --mcp-sessions 2 --db sqlite   # smoke run

For each database, two runs of ``--seconds`` against a fresh database: (A) without a kill, (B) with ``kill -9`` of
the hub at half time and an immediate restart on the same database and port. Each run starts ``agenthub serve``
(127.0.0.1, an admin token from ``AGENTHUB_ADMIN_TOKEN``, SQLite WAL ``synchronous=FULL`` or a throwaway
PostgreSQL cluster made by ``bench/scale.py``'s ``cluster_at``), deploys the two processes below, then runs two
client processes of this script at once (``--client rest`` and ``--client mcp``, asyncio each), so that the
clients' CPU is not the hub's:

  REST  each client loops: ``POST /process-instances`` of ``load_task`` (start -> user task -> end) with the
        variables ``{"clientId", "seq", "attempt"}``, then ``POST /user-tasks/{task}/complete`` of the task the
        answer names;
  MCP   each session (``mcp`` SDK client, streamable HTTP, bearer token, one session per client) loops calling
        the process tool ``load_tool`` (start -> script task -> end) with the same three arguments.

A call that fails with a transport error (connection refused or reset, a dropped stream, an MCP session the
restarted hub does not know) is retried until it gets an answer: it counts as *retried* (in flight at the kill).
A retried start is sent again with ``attempt`` + 1, because the REST start takes no idempotency key: if the
first attempt was committed before the kill, the database holds both, and the check below tells such an
*ambiguous retry* apart from a real double. A retried complete that gets 409 (the first attempt was committed)
counts as done. Any other error answer counts as *failed*. Latency is what the client saw: from the first
attempt to the answer, so a call retried across the outage carries the outage.

Afterwards the instances and user tasks are read back over REST: every acknowledged start must exist exactly
once (*lost*: missing; *doubled*: one (clientId, seq, attempt) twice); every acknowledged complete must have
ended its instance, with one completed task. The hub's resident memory (psutil, the hub process, sampled every
0.25 s) is reported as its peak. Progress goes to stderr, the table to stdout; nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import httpx2
import psutil
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED

HERE = Path(__file__).resolve().parent
AGENTHUB = str(Path(sys.executable).with_name("agenthub"))
RETRY_PAUSE_S = (0.05, 0.5)  # first and longest pause between attempts, doubling: 70 clients must not starve a restart
GIVE_UP_AFTER_S = 120  # a call still failing this long after the run's end is reported failed, not retried forever
CALL_TIMEOUT_S = 120

MODELS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
                  xmlns:agenthub="urn:agenthub:bpmn:1" id="load-defs" targetNamespace="urn:bench">
  <bpmn:process id="load_task" name="Load: start, a user task, end" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>
    <bpmn:userTask id="approve" name="Approve"><bpmn:extensionElements><zeebe:userTask/></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
  <bpmn:process id="load_tool" name="Load: a straight-through tool" isExecutable="true">
    <bpmn:documentation>Echoes its arguments with a script task.</bpmn:documentation>
    <bpmn:extensionElements>
      <agenthub:tool>
        <agenthub:input name="clientId" type="integer" required="true"/>
        <agenthub:input name="seq" type="integer" required="true"/>
        <agenthub:input name="attempt" type="integer" required="true"/>
      </agenthub:tool>
    </bpmn:extensionElements>
    <bpmn:startEvent id="tool_start"/>
    <bpmn:sequenceFlow id="tool_f1" sourceRef="tool_start" targetRef="echo"/>
    <bpmn:scriptTask id="echo" name="Echo">
      <bpmn:extensionElements><zeebe:script expression="=seq" resultVariable="echoed"/></bpmn:extensionElements>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="tool_f2" sourceRef="echo" targetRef="tool_end"/>
    <bpmn:endEvent id="tool_end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _load(name: str) -> ModuleType:
    """A sibling benchmark as a module under another name (``bench/hub.py`` would shadow the ``hub`` package)."""
    spec = importlib.util.spec_from_file_location(f"agenthub_bench_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench_hub = _load("hub")  # free_port, wait_http, log
bench_scale = _load("scale")  # cluster_at: the throwaway PostgreSQL cluster
log = bench_hub.log


# ---------------------------------------------------------------------------------------------------------------
# client side: one process per protocol, asyncio, one JSON document out
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one client process saw: latencies per call kind, outcomes, and the acknowledged work to check."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    failed: Counter[str] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)  # call kind -> calls that needed more than one attempt
    retry_causes: Counter[str] = field(default_factory=Counter)
    acked: list[list[int]] = field(default_factory=list)  # [clientId, seq, attempt] of every acknowledged start
    completed: list[list[int]] = field(default_factory=list)  # [clientId, seq, attempt] of acknowledged completes
    ambiguous_complete: int = 0  # retried completes answered 409: the first attempt had been committed

    def ok(self, kind: str, began: float) -> None:
        self.latencies.setdefault(kind, []).append(time.perf_counter() - began)

    def fail(self, kind: str, what: str) -> None:
        self.failed[f"{kind}: {what[:160]}"] += 1


def _is_transport(error: BaseException) -> bool:
    """A dropped or refused connection (what a kill does), as opposed to an error the hub answered."""
    if isinstance(error, BaseExceptionGroup):
        return all(_is_transport(e) for e in error.exceptions)
    if isinstance(error, MCPError):
        return error.code == CONNECTION_CLOSED  # the SDK's word for a stream that ended without an answer
    return isinstance(error, httpx.TransportError | httpx2.TransportError | OSError)


def _cause(error: BaseException) -> str:
    """The innermost exception's class name: what the retry was for."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, httpx.TransportError | httpx2.TransportError):  # the message names a port: not useful
        return type(error).__name__
    return f"{type(error).__name__} {str(error)[:100]!r}"


def _pause(failures: int) -> float:
    first, longest = RETRY_PAUSE_S
    return float(min(longest, first * 2 ** min(failures - 1, 10)))


async def rest_client(index: int, base: str, token: str, deadline: float, tally: Tally) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"},
                                 timeout=CALL_TIMEOUT_S) as http:
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            answer, attempt = await _rest_call(http, "start", tally, deadline, lambda a, seq=seq: http.post(
                "/api/v1/process-instances",
                json={"processId": "load_task", "variables": {"clientId": index, "seq": seq, "attempt": a}},
            ), accept=(201,))
            if answer is None:
                continue
            tally.acked.append([index, seq, attempt])
            waiting = [w for w in answer.json().get("waitingFor", []) if w.get("kind") == "userTask"]
            if not waiting:
                tally.fail("complete", f"the start's answer names no user task: {answer.text[:120]}")
                continue
            task = waiting[0]["task"]
            done, _ = await _rest_call(http, "complete", tally, deadline, lambda _a, task=task: http.post(
                f"/api/v1/user-tasks/{task}/complete", json={"variables": {"approved": True}},
            ), accept=(200,), accept_after_retry=(409,))
            if done is not None:
                tally.completed.append([index, seq, attempt])


async def _rest_call(http: httpx.AsyncClient, kind: str, tally: Tally, deadline: float, send: Any,
                     accept: tuple[int, ...], accept_after_retry: tuple[int, ...] = ()) -> tuple[Any, int]:
    """Send until an answer comes (``send(attempt)``); the accepted answer and its attempt, or None if it failed."""
    began = time.perf_counter()
    attempt = 0
    while True:
        try:
            answer = await send(attempt)
        except httpx.TransportError as error:
            if time.monotonic() > deadline + GIVE_UP_AFTER_S:
                tally.fail(kind, f"gave up after {attempt + 1} attempts: {error!r}")
                return None, attempt
            if attempt == 0:
                tally.retried[kind] += 1
            tally.retry_causes[f"{kind}: {_cause(error)}"] += 1
            attempt += 1
            await asyncio.sleep(_pause(attempt))
            continue
        if answer.status_code in accept or (attempt and answer.status_code in accept_after_retry):
            if answer.status_code in accept_after_retry and answer.status_code not in accept:
                tally.ambiguous_complete += 1
            tally.ok(kind, began)
            return answer, attempt
        tally.fail(kind, f"{answer.status_code} {answer.text[:140]}")
        return None, attempt


async def mcp_session(index: int, url: str, token: str, deadline: float, tally: Tally) -> None:
    """One MCP session calling ``load_tool`` in a loop; a session lost with the hub is opened again.

    A call that was sent and lost its connection is owed: it is sent again (``attempt`` + 1) in a new session,
    even past the deadline. A failure to open a session with no call in flight is only a reconnect. An error the
    hub answered (a JSON-RPC error, a tool error) is a failed call.
    """
    seq, attempt, began, owed, failures = 1, 0, time.perf_counter(), False, 0
    while owed or time.monotonic() < deadline:
        sent = False
        try:
            async with (
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=CALL_TIMEOUT_S) as http,
                Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
            ):
                if not owed:
                    began = time.perf_counter()  # not the handshake
                while owed or time.monotonic() < deadline:
                    sent = True
                    try:
                        result = await client.call_tool("load_tool", {"clientId": index, "seq": seq,
                                                                      "attempt": attempt})
                    except MCPError as error:
                        if _is_transport(error):
                            raise
                        tally.fail("mcp", f"{_cause(error)}")
                        seq, attempt, began, owed, failures = seq + 1, 0, time.perf_counter(), False, 0
                        continue
                    sent = False
                    content = result.structured_content or {}
                    if result.is_error or content.get("echoed") != seq or content.get("attempt") != attempt:
                        tally.fail("mcp", f"unexpected answer: {str(result)[:140]}")
                    else:
                        tally.acked.append([index, seq, attempt])
                        tally.ok("mcp", began)
                    seq, attempt, began, owed, failures = seq + 1, 0, time.perf_counter(), False, 0
        except Exception as error:  # the SDK raises its own types and groups for a dropped connection
            if time.monotonic() > deadline + GIVE_UP_AFTER_S:
                tally.fail("mcp", f"gave up: {error!r}")
                return
            if sent and not _is_transport(error):
                tally.fail("mcp", _cause(error))
                seq, attempt, began, owed, failures = seq + 1, 0, time.perf_counter(), False, 0
                continue
            tally.retry_causes[f"mcp{'' if sent else ' session'}: {_cause(error)}"] += 1
            if sent:
                if not owed:
                    tally.retried["mcp"] += 1
                attempt, owed = attempt + 1, True
            failures += 1
            await asyncio.sleep(_pause(failures))


async def run_clients(kind: str, base: str, token: str, count: int, seconds: float) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds
    if kind == "rest":
        await asyncio.gather(*(rest_client(i, base, token, deadline, tally) for i in range(count)))
    else:
        await asyncio.gather(*(mcp_session(i, f"{base}/mcp", token, deadline, tally) for i in range(count)))
    return tally


def client_main(kind: str, base: str, count: int, seconds: float, out: Path) -> None:
    token = sys.stdin.readline().strip()  # not on the command line, where ps shows it
    began = time.perf_counter()
    tally = asyncio.run(run_clients(kind, base, token, count, seconds))
    document = {"elapsed_s": time.perf_counter() - began, **tally.__dict__}
    out.write_text(json.dumps(document))


# ---------------------------------------------------------------------------------------------------------------
# driver side: the hub, one run, the check
# ---------------------------------------------------------------------------------------------------------------


class Hub:
    """``agenthub serve`` on 127.0.0.1:``port`` over ``db``, started again on the same port after a kill."""

    def __init__(self, root: Path, db: str, token: str) -> None:
        self.root, self.db, self.token = root, db, token
        self.port = bench_hub.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.rss_peak = 0
        self.log = root / "hub.log"

    def start(self) -> float:
        """Start the hub; the seconds until ``/health`` answered."""
        began = time.perf_counter()
        # Every client shares the admin token: lift the per-token MCP session cap and call rate, which exist to
        # stop one token from crowding out others, so the run measures the hub rather than those limits.
        env = {**os.environ, "AGENTHUB_ADMIN_TOKEN": self.token, "AGENTHUB_MCP_MAX_SESSIONS": "1000",
               "AGENTHUB_MCP_RATE": "0"}
        argv = [AGENTHUB, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--db", self.db,
                "--log-level", "warning"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(argv, env=env, cwd=self.root, stdout=out, stderr=subprocess.STDOUT)
        bench_hub.wait_http(f"{self.url}/health", self.proc, "the hub")
        return time.perf_counter() - began

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def sample(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(psutil.Error):
                self.rss_peak = max(self.rss_peak, psutil.Process(self.proc.pid).memory_info().rss)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=120)


def _spawn_clients(kind: str, hub: Hub, count: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--client", kind, "--hub", hub.url, "--clients",
            str(count), "--seconds", str(seconds), "--out", str(out)]
    with (hub.root / f"{kind}.log").open("wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=err)
    assert proc.stdin is not None
    proc.stdin.write(f"{hub.token}\n".encode())
    proc.stdin.close()
    return proc


def one_run(db: str, root: Path, kill: bool, args: argparse.Namespace) -> dict[str, Any]:
    """One timed run against a fresh database; its figures and the check of what the clients were told."""
    hub = Hub(root, db, _token())
    clients: list[subprocess.Popen[bytes]] = []
    outage = None
    try:
        startup = hub.start()
        with hub.api() as api:
            answer = api.post("/api/v1/deployments", content=MODELS, params={"resourceName": "load.bpmn"},
                              headers={"Content-Type": "application/xml"})
            if answer.status_code != 201:
                raise RuntimeError(f"deploying the load models: {answer.status_code} {answer.text}")
        outs = {kind: root / f"{kind}.json" for kind in ("rest", "mcp")}
        began = time.monotonic()
        clients = [_spawn_clients("rest", hub, args.rest_clients, args.seconds, outs["rest"])]
        if args.mcp_sessions:
            clients.append(_spawn_clients("mcp", hub, args.mcp_sessions, args.seconds, outs["mcp"]))
        kill_at = began + args.seconds / 2 if kill else None
        limit = began + args.seconds + GIVE_UP_AFTER_S + 60
        while any(c.poll() is None for c in clients) and time.monotonic() < limit:
            hub.sample()
            if kill_at is not None and time.monotonic() >= kill_at:
                log(f"  kill -9 of the hub (pid {hub.proc.pid if hub.proc else '?'}) at "
                    f"{time.monotonic() - began:.1f} s; restarting")
                hub.kill()
                outage = hub.start()
                kill_at = None
                log(f"  the hub answers again after {outage:.2f} s")
            time.sleep(0.25)
        for c in clients:
            if c.poll() is None:
                c.kill()
            if c.wait(timeout=30) != 0:
                log((root / f"{'rest' if c is clients[0] else 'mcp'}.log").read_text(errors="replace")[-3000:])
                raise RuntimeError("a client process failed")
        tallies = {kind: json.loads(path.read_text()) for kind, path in outs.items() if path.exists()}
        checked = check(hub, tallies)
        return {**summarize(tallies, checked, args.seconds, hub.rss_peak, outage), "startup_s": startup,
                "hub_errors": _hub_errors(hub.log)}
    finally:
        for c in clients:
            if c.poll() is None:
                c.kill()
                c.wait(timeout=30)
        hub.close()


def _hub_errors(path: Path) -> dict[str, int]:
    """The last line of every traceback in the hub's log (both lives of it), counted."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return dict(Counter(m[:160] for m in re.findall(r"^(?:[\w.]+\.)?\w+(?:Error|Exception): .*$", text, re.M)))


def _token() -> str:
    """A fresh admin token, made by the registry as ``bench/hub.py`` does (in a subprocess: no engine import here)."""
    command = [sys.executable, "-c", "from registry import generate_token; print(generate_token())"]
    return subprocess.run(command, capture_output=True, text=True, check=True, cwd=HERE.parent).stdout.strip()


def _all(api: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after: Any = None
    for _ in range(100_000):  # bounded: a page of 1000 per round
        answer = api.get(path, params={**params, "limit": "1000", **({"after": str(after)} if after else {})})
        answer.raise_for_status()
        body = answer.json()
        items += body["items"]
        after = body["page"].get("next")
        if not after:
            break
    return items


def check(hub: Hub, tallies: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Read back every instance and user task; compare with what the clients were told."""
    with hub.api() as api:
        rest_rows = _all(api, "/api/v1/process-instances", processId="load_task")
        mcp_rows = _all(api, "/api/v1/process-instances", processId="load_tool")
        tasks = _all(api, "/api/v1/user-tasks", state="all")
    result = Counter({"lost": 0, "doubled": 0, "ambiguous": 0, "unexplained": 0, "completed without an answer": 0})
    for kind, rows in (("rest", rest_rows), ("mcp", mcp_rows)):
        tally = tallies.get(kind, {"acked": [], "completed": []})
        stored = Counter((r["variables"]["clientId"], r["variables"]["seq"], r["variables"]["attempt"]) for r in rows)
        states = {(r["variables"]["clientId"], r["variables"]["seq"], r["variables"]["attempt"]): r for r in rows}
        acked = {tuple(a) for a in tally["acked"]}
        result["lost"] += sum(1 for a in acked if a not in stored)
        result["doubled"] += sum(n - 1 for n in stored.values() if n > 1)
        # stored but never acknowledged: an attempt committed whose answer the kill took, and whose retry (a later
        # attempt) was acknowledged; anything else stored without an acknowledgement is unexplained
        acked_attempt = {(c, q): a for c, q, a in acked}
        for c, q, a in (k for k in stored if k not in acked):
            result["ambiguous" if acked_attempt.get((c, q), -1) > a else "unexplained"] += 1
        done = {tuple(c) for c in tally["completed"]} if kind == "rest" else acked
        result["lost"] += sum(1 for c in done if c in states and states[c]["state"] != "completed")
        if kind == "rest":
            per_instance = Counter(t["instance"] for t in tasks)
            completed = Counter(t["instance"] for t in tasks if t["state"] == "completed")
            for c in done:
                key = states[c]["instance"] if c in states else None
                if key is not None and (per_instance[key] != 1 or completed[key] != 1):
                    result["doubled"] += 1
            result["completed without an answer"] += sum(
                1 for k, r in states.items() if r["state"] == "completed" and k not in done)
    return dict(result)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def summarize(tallies: dict[str, dict[str, Any]], checked: dict[str, int], seconds: float, rss: int,
              outage: float | None) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {}
    failed, retried, causes = Counter[str](), Counter[str](), Counter[str]()
    for tally in tallies.values():
        for kind, values in tally["latencies"].items():
            latencies.setdefault(kind, []).extend(values)
        failed.update(tally["failed"])
        retried.update(tally["retried"])
        causes.update(tally["retry_causes"])
    calls = sum(len(v) for v in latencies.values())
    elapsed = max([seconds, *(t["elapsed_s"] for t in tallies.values())])
    figures: dict[str, Any] = {
        "calls": calls, "calls_s": calls / elapsed, "failed": sum(failed.values()), "retried": sum(retried.values()),
        "rss_mib": rss / 2**20, "outage_s": outage, "failures": dict(failed), "causes": dict(causes),
        "retried completes answered 409": sum(t.get("ambiguous_complete", 0) for t in tallies.values()), **checked,
    }
    for kind in ("start", "complete", "mcp"):
        figures[f"{kind}_n"] = len(latencies.get(kind, []))
        figures[f"{kind}_p50"] = _pct(latencies.get(kind, []), 0.5)
        figures[f"{kind}_p99"] = _pct(latencies.get(kind, []), 0.99)
    return figures


# ---------------------------------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------------------------------

COLUMNS = [  # (header, key, digits)
    ("calls", "calls", 0), ("calls/s", "calls_s", 1), ("failed", "failed", 0), ("retried", "retried", 0),
    ("start p50", "start_p50", 1), ("start p99", "start_p99", 1), ("complete p50", "complete_p50", 1),
    ("complete p99", "complete_p99", 1), ("MCP p50", "mcp_p50", 1), ("MCP p99", "mcp_p99", 1),
    ("RSS peak MiB", "rss_mib", 0), ("lost", "lost", 0), ("doubled", "doubled", 0),
    ("ambiguous retries", "ambiguous", 0), ("hub start s", "startup_s", 1), ("outage s", "outage_s", 1),
]


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def report(results: dict[tuple[str, str], list[dict[str, Any]]], args: argparse.Namespace, load: tuple[float, float],
           versions: dict[str, str]) -> None:
    print(f"\nagenthub load benchmark: {args.rest_clients} REST clients + {args.mcp_sessions} MCP sessions, "
          f"{args.seconds:g} s per run, medians of {args.runs} run(s); latencies in ms (client-seen, retries "
          f"included); {os.cpu_count()} cores, load average {load[0]:.1f} before / {load[1]:.1f} after, "
          f"Python {platform.python_version()}, {', '.join(f'{k} {v}' for k, v in versions.items())}\n")
    print("| database | run | " + " | ".join(h for h, _, _ in COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for (db, mode), runs in results.items():
        cells = [_fmt(_median(runs, key), digits) for _, key, digits in COLUMNS]
        print(f"| {db} | {mode} | " + " | ".join(cells) + " |")
    print("\nkill / no kill:")
    for db in dict.fromkeys(db for db, _ in results):
        base, killed = results.get((db, "no kill")), results.get((db, "kill -9"))
        if not base or not killed:
            continue
        parts = []
        for label, key in (("calls/s", "calls_s"), ("start p99", "start_p99"), ("complete p99", "complete_p99"),
                           ("MCP p99", "mcp_p99")):
            a, b = _median(base, key), _median(killed, key)
            parts.append(f"{label} {b / a:.2f}x" if a and b is not None else f"{label} -")
        print(f"  {db}: " + ", ".join(parts))
    notes = Counter[str]()
    for (db, mode), runs in results.items():
        for r in runs:
            for what, n in r["failures"].items():
                notes[f"{db}, {mode}: failed {what}"] += n
            for what, n in r["causes"].items():
                notes[f"{db}, {mode}: retry cause {what}"] += n
            for what, n in r["hub_errors"].items():
                notes[f"{db}, {mode}: in the hub's log: {what}"] += n
            for key in ("unexplained", "completed without an answer", "retried completes answered 409"):
                if r.get(key):
                    notes[f"{db}, {mode}: {key}"] += r[key]
    if notes:
        print("\ndetails (summed over runs):")
        for what, n in sorted(notes.items()):
            print(f"  {n:6d}  {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="length of each run (default 60)")
    parser.add_argument("--rest-clients", type=int, default=50, help="REST clients (default 50)")
    parser.add_argument("--mcp-sessions", type=int, default=20, help="MCP sessions (default 20)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=1, help="repetitions of each cell; medians (default 1)")
    parser.add_argument("--client", choices=["rest", "mcp"], help=argparse.SUPPRESS)  # a client process
    parser.add_argument("--hub", help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args.client, args.hub, args.clients, args.seconds, args.out)
        return
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    versions: dict[str, str] = {}
    load_before = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(bench_scale.cluster_at(None)) if "postgresql" in databases else None
        if cluster is not None:
            versions["PostgreSQL"] = cluster.version
        for db in databases:
            for run in range(args.runs):
                for mode in ("no kill", "kill -9"):
                    log(f"== {db}, {mode}, run {run + 1}/{args.runs}: {args.seconds:g} s ==")
                    with tempfile.TemporaryDirectory(prefix="agenthub-bench-load-") as tmp:
                        name = f"load_{run}_{'kill' if mode == 'kill -9' else 'plain'}"
                        url = f"sqlite:///{tmp}/hub.db" if db == "sqlite" else cluster.create_database(name)  # type: ignore[union-attr]
                        try:
                            figures = one_run(url, Path(tmp), mode == "kill -9", args)
                        finally:
                            if db == "postgresql":
                                cluster.drop_database(name)  # type: ignore[union-attr]
                    log(f"  {figures['calls']} calls, {figures['calls_s']:.1f}/s, failed {figures['failed']}, "
                        f"retried {figures['retried']}, lost {figures['lost']}, doubled {figures['doubled']}, "
                        f"ambiguous {figures['ambiguous']}, RSS peak {figures['rss_mib']:.0f} MiB")
                    results.setdefault((db, mode), []).append(figures)
    report(results, args, (load_before, os.getloadavg()[0]), versions)


if __name__ == "__main__":
    main()
