"""Discover through the hub's surfaces, on the journal of the examples' own runs (``make examples``):
``agenthub export`` and ``agenthub discover inventory | brief`` on the command line, and
``/api/v1/export``, ``/api/v1/discover/inventory`` and ``/api/v1/discover/brief/{processId}`` over REST."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.hub.harness import serve_hub

REPO = Path(__file__).resolve().parents[2]
AGENTHUB = Path(sys.executable).parent / "agenthub"
EXAMPLES = {"complaint": 3, "invoice": 2, "order": 2}  # instances each example runs, all to completion


@pytest.fixture(scope="module")
def examples_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding the journal of every example's runs."""
    path = tmp_path_factory.mktemp("examples") / "hub.db"
    env = {**os.environ, "AGENTHUB_DB": f"sqlite:///{path}", "AGENTHUB_SQLITE_SYNCHRONOUS": "NORMAL"}
    ran = subprocess.run([sys.executable, "-m", "examples.run_all"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return path


def _agenthub(db: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(AGENTHUB), *args, "--db", f"sqlite:///{db}"], cwd=db.parent, capture_output=True,
                            text=True, timeout=120, check=False)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def _has_pm4py() -> bool:
    try:
        import pm4py  # noqa: F401  (optional: the mining routes answer 501 without it)
    except ImportError:
        return False
    return True


def _read_xes(path: Path) -> Any:
    pm4py = pytest.importorskip("pm4py")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pm4py suggests optional accelerators
        return pm4py.read_xes(str(path))


def test_agenthub_export_writes_the_examples_runs_as_xes_that_pm4py_reads_back(
    examples_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "examples.xes"
    done = _agenthub(examples_db, "export", "--format", "xes", "--out", str(out))
    frame = _read_xes(out)
    assert frame["case:concept:name"].nunique() == sum(EXAMPLES.values())
    assert done.stdout.strip() == f"wrote {len(frame)} events of {sum(EXAMPLES.values())} instances to {out}"
    agent = frame[frame["concept:name"] == "Look up the order"]
    assert set(agent["org:resource"].dropna()) == {"agent:Resolve"}  # the agent chose that tool


def test_agenthub_export_as_ocel_for_one_process_holds_its_instances_and_agent_runs(
    examples_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "complaint.json"
    _agenthub(examples_db, "export", "--format", "ocel", "--process", "complaint", "--out", str(out))
    document = json.loads(out.read_text())
    kinds = [o["type"] for o in document["objects"]]
    assert kinds.count("instance") == EXAMPLES["complaint"] and kinds.count("agent run") == EXAMPLES["complaint"]
    assert {"agent model call", "agent tool call", "approval decided"} <= {e["type"] for e in document["events"]}


def test_agenthub_export_refuses_an_unknown_format_a_bad_time_and_an_unknown_process(
    examples_db: Path, tmp_path: Path
) -> None:
    out = str(tmp_path / "x")
    refused = [_agenthub(examples_db, "export", *args, "--out", out, ok=False) for args in (
        ("--format", "csv"), ("--from", "last week"), ("--process", "nope"), ("--version", "2"))]
    assert [r.returncode for r in refused] == [2, 2, 2, 2]
    assert [r.stderr.strip() for r in refused] == [
        "error: 'csv' is not an export format: use xes or ocel",
        "error: --from 'last week' is not an ISO 8601 date or time (2026-12-01 or 2026-12-01T10:00Z)",
        "error: process 'nope' is not deployed",
        "error: --version needs --process",
    ]
    assert not Path(out).exists()


def test_agenthub_discover_inventory_counts_every_examples_instances(examples_db: Path) -> None:
    found = json.loads(_agenthub(examples_db, "discover", "inventory", "--json").stdout)
    assert {p["processId"]: (p["instances"], p["completed"], p["incidents"]) for p in found} == {
        name: (n, n, 0) for name, n in EXAMPLES.items()}
    assert all(set(p["cycleTimeMs"]) == {"p50", "p90", "p95", "p99", "max", "mean"} for p in found)
    table = _agenthub(examples_db, "discover", "inventory").stdout.splitlines()
    assert table[0].split() == ["PROCESS", "INSTANCES", "COMPLETED", "TERMINATED", "ACTIVE", "INCIDENTS", "CYCLE",
                                "P50", "CYCLE", "P90"]
    assert [line.split()[:3] for line in table[1:]] == [[p, str(n), str(n)] for p, n in sorted(EXAMPLES.items())]


def test_agenthub_discover_brief_reports_the_agent_and_where_time_goes(examples_db: Path) -> None:
    found = json.loads(_agenthub(examples_db, "discover", "brief", "complaint", "--json").stdout)
    [agent] = found["agents"]
    assert (agent["elementId"], agent["runs"], agent["rejected"]) == ("Resolve", EXAMPLES["complaint"], 0)
    assert agent["modelCalls"] >= agent["runs"] and agent["toolCalls"] > 0
    assert found["bottlenecks"] and all(b["type"] != "adHocSubProcess" for b in found["bottlenecks"])
    text = _agenthub(examples_db, "discover", "brief", "complaint").stdout
    assert text.startswith(f"process complaint: {EXAMPLES['complaint']} instances, {EXAMPLES['complaint']} completed")
    assert "bottlenecks:" in text and "automation opportunities (by expected impact):" in text
    unknown = _agenthub(examples_db, "discover", "brief", "nope", ok=False)
    assert (unknown.returncode, unknown.stderr.strip()) == (2, "error: process 'nope' is not deployed")


def test_agenthub_discover_model_and_conformance_mine_the_examples_with_pm4py(
    examples_db: Path, tmp_path: Path
) -> None:
    pytest.importorskip("pm4py")
    out = tmp_path / "order.bpmn"
    done = _agenthub(examples_db, "discover", "model", "--process", "order", "--out", str(out))
    assert done.stdout.strip() == f"wrote the discovered model to {out}"
    assert b'id="discovered-order"' in out.read_bytes() and b"BPMNShape" in out.read_bytes()
    checked = json.loads(_agenthub(examples_db, "discover", "conformance", "order", "--json").stdout)
    assert (checked["processId"], checked["version"], checked["instances"]) == ("order", 1, EXAMPLES["order"])
    assert (checked["fitness"], checked["deviations"]) == (1.0, [])
    text = _agenthub(examples_db, "discover", "conformance", "order").stdout
    assert text.startswith(f"process order version 1: {EXAMPLES['order']} instances, fitness 1.00 (100% fit)")


def test_the_rest_api_streams_exports_and_answers_the_inventory_and_briefs_with_the_read_scope(
    examples_db: Path, tmp_path: Path
) -> None:
    shutil.copy(examples_db, tmp_path / "hub.db")
    with serve_hub(tmp_path) as hub:
        reader, starter = hub.token("read"), hub.token("start")
        with hub.client(reader) as c:
            xes = c.get("/api/v1/export", params={"format": "xes"})
            assert xes.status_code == 200 and xes.headers["content-type"].startswith("application/xml")
            (tmp_path / "rest.xes").write_bytes(xes.content)
            assert _read_xes(tmp_path / "rest.xes")["case:concept:name"].nunique() == sum(EXAMPLES.values())
            ocel = c.get("/api/v1/export", params={"format": "ocel", "process": "invoice", "version": "1"})
            assert ocel.headers["content-type"].startswith("application/json")
            assert [o["type"] for o in ocel.json()["objects"]].count("instance") == EXAMPLES["invoice"]
            inventory = c.get("/api/v1/discover/inventory").json()["processes"]
            assert {p["processId"]: p["completed"] for p in inventory} == EXAMPLES
            brief = c.get("/api/v1/discover/brief/invoice").json()
            assert (brief["processId"], brief["instances"]) == ("invoice", EXAMPLES["invoice"])
            missing = c.get("/api/v1/discover/brief/nope")
            assert (missing.status_code, missing.json()["detail"]) == (404, "process 'nope' is not deployed")
            wrong = c.get("/api/v1/export", params={"format": "csv"})
            assert (wrong.status_code, wrong.json()["detail"]) == (
                400, "'csv' is not an export format: use xes or ocel")
            assert c.get("/api/v1/export", params={"process": "nope"}).status_code == 404
            if _has_pm4py():
                mined = c.get("/api/v1/discover/model", params={"process": "invoice"})
                assert mined.status_code == 200 and b'id="discovered-invoice"' in mined.content
                checked = c.get("/api/v1/discover/conformance/order", params={"version": "1"}).json()
                assert (checked["instances"], checked["fitness"]) == (EXAMPLES["order"], 1.0)
                assert c.get("/api/v1/discover/conformance/nope").status_code == 404
        with hub.client(starter) as c:
            for path in ("/api/v1/export", "/api/v1/discover/inventory", "/api/v1/discover/brief/invoice",
                         "/api/v1/discover/conformance/invoice", "/api/v1/discover/model"):
                assert c.get(path).status_code == 403
