"""The hardening issue's first finding through the hub: a model that loops forever cannot wedge it.

Before the runtime limits, starting a process whose gateways loop with no
wait state held SQLite's write lock for good: every other request failed
with "database is locked" after 30 s and memory grew by gigabytes. Now the
start answers with an incident and the hub keeps serving everyone.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

from tests.hub.harness import LiveHub

LIMITS = Path(__file__).resolve().parents[1] / "data" / "limits"


def _deploy(hub: LiveHub, name: str) -> None:
    files = [("files", (name, (LIMITS / name).read_bytes(), "application/xml"))]
    with hub.client() as c:
        c.post("/api/v1/deployments", files=files).raise_for_status()


def test_a_process_looping_with_no_wait_state_answers_with_an_incident_and_the_hub_keeps_serving(
    live_hub: LiveHub,
) -> None:
    _deploy(live_hub, "cycle.bpmn")
    _deploy(live_hub, "huge_multi_instance.bpmn")
    with live_hub.client() as c, concurrent.futures.ThreadPoolExecutor(4) as pool:
        loops = [
            pool.submit(c.post, "/api/v1/process-instances", json={"processId": "cycle", "variables": {"done": False}}),
            pool.submit(c.post, "/api/v1/process-instances",
                        json={"processId": "huge_multi_instance", "variables": {"count": 10**9}}),
        ]
        # meanwhile, and afterwards, everyone else is served
        listed = c.get("/api/v1/process-instances")
        finished = c.post("/api/v1/process-instances",
                          json={"processId": "cycle", "variables": {"done": True}, "awaitCompletion": 10})
        answers = [f.result(timeout=120) for f in loops]
    assert listed.status_code == 200
    assert finished.status_code in (200, 201) and finished.json()["state"] == "completed"
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert answer.json()["state"] == "incident"
    with live_hub.client() as c:
        incidents = c.get("/api/v1/incidents").json()
    items = incidents["items"] if isinstance(incidents, dict) else incidents
    assert sorted(i["type"] for i in items) == ["limit", "limit"]
