"""The agents' own decisions through the hub: ``agenthub discover agents [PROCESS] [--json]`` on the command line
and ``GET /api/v1/discover/agents?process=`` over REST, on a journal with known tool sequences
(tests/hub/discover_seed.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.hub.discover_seed import seed_discover
from tests.hub.harness import serve_hub

AGENTHUB = Path(sys.executable).parent / "agenthub"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("agents")
    seed_discover(folder / "hub.db")
    return folder


def _agenthub(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(AGENTHUB), *args, "--db", f"sqlite:///{folder / 'hub.db'}"], cwd=folder,
                          capture_output=True, text=True, timeout=120, check=False)


def _check_support(region: dict[str, Any]) -> None:
    assert (region["processId"], region["elementId"], region["runs"]) == ("support_agent", "Support", 4)
    assert region["sequences"][0] == {"tools": ["lookup_order", "refund"], "runs": 2}
    edges = {(e["from"], e["to"]): e["count"] for e in region["toolGraph"]["edges"]}
    assert edges[("(start)", "lookup_order")] == 3 and edges[("lookup_order", "refund")] == 2
    assert edges[("(start)", "delete_account")] == 1 and edges[("lookup_order", "lookup_order")] == 2
    assert region["loops"] == [{"tool": "lookup_order", "repeatedCalls": 2, "runs": 1, "mostRepeats": 3}]
    assert region["decisions"]["deny"] == 1 and region["denyRate"] == round(1 / 9, 4)
    assert {m["model"]: m["runs"] for m in region["drift"]["byModel"]} == {"anthropic/claude-sonnet": 1,
                                                                          "openai/gpt-4o": 3}


def test_agenthub_discover_agents_prints_each_agents_sequences_loops_and_drift(seeded: Path) -> None:
    done = _agenthub(seeded, "discover", "agents", "support_agent", "--json")
    assert done.returncode == 0, done.stderr
    [region] = json.loads(done.stdout)
    _check_support(region)
    text = _agenthub(seeded, "discover", "agents").stdout
    assert text.startswith("agent Support agent (Support) in support_agent: 4 runs")
    assert "2 x lookup_order > refund" in text and "lookup_order: 2 repeated calls in 1 runs, at most 3 times" in text
    assert "drift byModel:" in text and "anthropic/claude-sonnet" in text
    unknown = _agenthub(seeded, "discover", "agents", "nope")
    assert (unknown.returncode, unknown.stderr.strip()) == (2, "error: process 'nope' is not deployed")
    claims = json.loads(_agenthub(seeded, "discover", "agents", "claim", "--json").stdout)
    assert claims == []


def test_the_rest_api_answers_the_agents_decisions_with_the_read_scope(seeded: Path) -> None:
    with serve_hub(seeded) as hub:
        with hub.client(hub.token("read")) as c:
            [region] = c.get("/api/v1/discover/agents", params={"process": "support_agent"}).json()["agents"]
            _check_support(region)
            assert [a["processId"] for a in c.get("/api/v1/discover/agents").json()["agents"]] == ["support_agent"]
            missing = c.get("/api/v1/discover/agents", params={"process": "nope"})
            assert (missing.status_code, missing.json()["detail"]) == (404, "process 'nope' is not deployed")
        with hub.client(hub.token("start")) as c:
            assert c.get("/api/v1/discover/agents").status_code == 403
