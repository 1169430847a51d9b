"""Camunda's public DMN, form and listener example models, run on a live hub (issue 15's "Done when").

The models are Camunda's (Camunda License): they are never in this repository. Point
``AGENTHUB_CAMUNDA_PLATFORM_EXAMPLES`` at a folder holding one sub-folder per example, each with its
``.bpmn``, ``.dmn`` and ``.form`` files side by side (and, optionally, a ``SOURCE`` line naming the
repository and path it came from); without it the test is skipped, since CI cannot reach GitHub.

Each example is deployed through the REST API. Every process is started with values valid for its start
form and the variables ``camunda_platform_examples.json`` (our own data) gives for its process id (one
without a none start event by publishing its start message), then driven: service-task and listener jobs
are answered by a generic worker (the job type's result from the same file, else no variables), user
tasks are completed with values valid for their form, messages are published when an instance waits for
one, timers of a second are waited for. Every decision is evaluated with the file's cases and compared
with the result the table gives. The test prints a row per process and decision (``-s``): ran to its end,
decided as expected, or where it stopped and why. It fails when an example does not deploy, a form is
not found or refuses its values, a decision decides wrong, or an instance ends in an incident that is
not a connector's (those wait for a secret or a host other than 127.0.0.1: the sweep's limits).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from tests.hub.harness import LiveHub, serve_hub

ROOT = os.environ.get("AGENTHUB_CAMUNDA_PLATFORM_EXAMPLES", "")
DATA = json.loads((Path(__file__).resolve().parents[1] / "data" / "hub" / "camunda_platform_examples.json").read_text())
ROUNDS = 60
IDLE_ROUNDS = 75  # 15 s of timers: Camunda's rocket launch counts down ten seconds
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SUFFIXES = (".bpmn", ".dmn", ".form")

pytestmark = pytest.mark.skipif(
    not ROOT,
    reason="set AGENTHUB_CAMUNDA_PLATFORM_EXAMPLES to a folder of Camunda's example models (fetched, never committed)",
)


def examples() -> list[Path]:
    if not ROOT:
        return []
    return sorted(p for p in Path(ROOT).iterdir() if p.is_dir() and any(f.suffix in SUFFIXES for f in p.iterdir()))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    # connectors reach nothing but 127.0.0.1: a REST connector's call elsewhere is an incident, reported
    # and Camunda's AI agents ask the offline model (the agentic examples have their own sweep)
    with serve_hub(tmp_path_factory.mktemp("platform"), http_allow="127.0.0.1", camunda_model="offline") as live:
        yield live


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """form-js keys with dots are paths into nested contexts."""
    *outer, last = key.split(".")
    for part in outer:
        target = target.setdefault(part, {})
    target[last] = value


def _option(component: dict[str, Any]) -> Any:
    values = component.get("values") or []
    return values[0]["value"] if values else "option"


def _value(component: dict[str, Any]) -> Any:
    """A value valid for one form-js field, from its type and its ``validate`` rules."""
    kind = component.get("type")
    rules = component.get("validate") or {}
    if kind == "number":
        return rules.get("min", 1)
    if kind == "checkbox":
        return True
    if kind in ("checklist", "taglist"):
        return [_option(component)]
    if kind in ("radio", "select"):
        return _option(component)
    if kind == "datetime":
        return {"date": "2030-01-15", "time": "10:00", "datetime": "2030-01-15T10:00"}.get(
            component.get("subtype", "date"), "2030-01-15"
        )
    if rules.get("validationType") == "email":
        return "someone@example.com"
    if rules.get("validationType") == "phone":
        return "+4930123456"
    return "x" * max(int(rules.get("minLength", 1)), 4)


# stuck or stopped outside: waiting for a secret, a host other than 127.0.0.1, or a model: the sweep's limits
OUTCOMES_ACCEPTED = ("ran to end", "decided", "deployed", "stuck", "stopped outside", "not started")
FIELDS = {"textfield", "textarea", "number", "checkbox", "checklist", "taglist", "radio", "select", "datetime"}


def form_values(schema: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Values for every input field of a form-js schema, ``given`` (from the data file) winning."""
    values: dict[str, Any] = {}

    def walk(components: list[dict[str, Any]]) -> None:
        for component in components:
            if component.get("type") in FIELDS and component.get("key"):
                _put(values, component["key"], _value(component))
            walk(component.get("components") or [])

    walk(schema.get("components") or [])
    return {**values, **given}


def deploy(client: httpx.Client, folder: Path) -> tuple[list[str], list[str], str | None]:
    """Deploy a folder's models together: (process ids, decision ids, the refusal if one)."""
    files = [
        ("files", (p.name, p.read_bytes(), "application/octet-stream"))
        for p in sorted(folder.iterdir())
        if p.suffix in SUFFIXES
    ]
    answer = client.post("/api/v1/deployments", files=files)
    if answer.status_code != 201:
        return [], [], f"deploy {answer.status_code}: {answer.text[:400]}"
    body = answer.json()
    return [p["processId"] for p in body["processes"]], [d["decisionId"] for d in body["decisions"]], None


def decide(client: httpx.Client, decision_id: str) -> tuple[str, str]:
    """Evaluate one decision with the data file's cases: (outcome, detail)."""
    cases = DATA["decisions"].get(decision_id, [])
    for case in cases:
        answer = client.post(f"/api/v1/decisions/{decision_id}/evaluate", json={"variables": case["variables"]})
        if answer.status_code != 200 or answer.json()["result"] != case["expect"]:
            return "decided wrong", f"{case['variables']}: {answer.status_code} {answer.text[:300]}"
    return ("decided", f"{len(cases)} cases as expected") if cases else ("deployed", "no cases in the data file")


def answer_jobs(client: httpx.Client, waiting: list[dict[str, Any]], log: list[str]) -> bool:
    moved = False
    for job_type in sorted({w["type"] for w in waiting if w.get("kind") == "job" and w.get("type")}):
        jobs = client.post("/api/v1/jobs/activate", json={"type": job_type, "maxJobs": 10}).json()["jobs"]
        log.append(f"activated {job_type}: {len(jobs)}")
        for job in jobs:
            result = DATA["jobs"].get(job_type, {})
            lease = {"worker": job["worker"], "lockVersion": job["lockVersion"]}
            done = client.post(f"/api/v1/jobs/{job['key']}/complete", json={"variables": result, **lease})
            log.append(f"job {job_type}: {done.status_code}")
            moved = moved or done.status_code < 300
    return moved


def complete_tasks(client: httpx.Client, instance: int, log: list[str]) -> tuple[bool, str | None]:
    moved = False
    for task in client.get("/api/v1/user-tasks", params={"instance": instance}).json()["items"]:
        full = client.get(f"/api/v1/user-tasks/{task['id']}").json()
        form = full.get("form") or {}
        if form.get("problem"):
            return moved, f"user task {task.get('element')}'s form: {form['problem']}"
        schema = form.get("schema") or {}
        given = DATA["tasks"].get(task.get("element", ""), {})
        done = client.post(f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": form_values(schema, given)})
        log.append(f"task {task.get('element')}: {done.status_code}")
        if done.status_code == 409:  # its listeners run: answered as jobs below
            continue
        if done.status_code >= 300:
            return moved, f"completing user task {task.get('element')}: {done.status_code} {done.text[:400]}"
        moved = True
    return moved, None


def publish(client: httpx.Client, waiting: list[dict[str, Any]], log: list[str]) -> bool:
    moved = False
    for wait in waiting:
        if wait.get("kind") == "message" and wait.get("name"):
            body = {
                "name": wait["name"],
                "correlationKey": wait.get("correlationKey") or "",
                "variables": DATA["messages"].get(wait["name"], {}),
            }
            sent = client.post("/api/v1/messages", json=body)
            log.append(f"message {wait['name']}: {sent.status_code}")
            moved = moved or sent.status_code < 300
    return moved


def _pending(wait: dict[str, Any]) -> bool:
    """Whether ``wait`` is the hub's to move on: a timer, or a job its own workers hold."""
    return wait.get("kind") == "timer" or (wait.get("kind") == "job" and wait.get("state") == "locked")


def start_by_message(client: httpx.Client, process_id: str, variables: dict[str, Any]) -> int | None:
    """Publish the message of each message start event of ``process_id``: the instance it started, if one."""
    xml = ElementTree.fromstring(client.get(f"/api/v1/process-definitions/{process_id}/xml").content)
    messages = {m.get("id"): m.get("name") for m in xml.iter(f"{{{BPMN}}}message")}
    for process in xml.iter(f"{{{BPMN}}}process"):
        if process.get("id") != process_id:
            continue
        for start in process.findall(f"{{{BPMN}}}startEvent"):
            definition = start.find(f"{{{BPMN}}}messageEventDefinition")
            name = messages.get(definition.get("messageRef")) if definition is not None else None
            if name and client.post("/api/v1/messages", json={"name": name, "variables": variables}).is_success:
                listed = client.get("/api/v1/process-instances", params={"processId": process_id}).json()["items"]
                if listed:
                    return int(max(i["instance"] for i in listed))
    return None


def drive(client: httpx.Client, process_id: str) -> tuple[str, str]:
    """Start one instance and answer what it waits for until it ends or stops moving: (outcome, detail);
    whatever it left running is canceled, so its waits do not reach the next example's instances."""
    try:
        return _drive(client, process_id)
    finally:
        for left in client.get("/api/v1/process-instances", params={"state": "active"}).json()["items"]:
            client.post(f"/api/v1/process-instances/{left['instance']}/cancel")
        for left in client.get("/api/v1/process-instances", params={"state": "incident"}).json()["items"]:
            client.post(f"/api/v1/process-instances/{left['instance']}/cancel")


def _drive(client: httpx.Client, process_id: str) -> tuple[str, str]:
    start_form = client.get(f"/api/v1/process-definitions/{process_id}/form")
    schema = (start_form.json().get("schema") or {}) if start_form.status_code == 200 else {}
    variables = form_values(schema, DATA["start"].get(process_id, {}))
    started = client.post("/api/v1/process-instances", json={"processId": process_id, "variables": variables})
    if started.status_code == 409 and "no none start event" in started.text:
        key = start_by_message(client, process_id, variables)
        if key is None:
            return "not started", "no none start event, and no message start event took a published message"
    elif started.status_code != 201:
        return "start refused", f"{started.status_code}: {started.text[:300]}"
    else:
        key = started.json()["instance"]
    log: list[str] = []
    idle = 0
    for _ in range(ROUNDS):
        view = client.get(f"/api/v1/process-instances/{key}").json()
        if view["state"] == "completed":
            return "ran to end", "; ".join(log[-6:])
        if view["state"] != "active":
            incidents = client.get("/api/v1/incidents", params={"instance": key}).json().get("items", [])
            outside = incidents and all(i["type"] == "job" for i in incidents)  # a connector's secret or host
            return ("stopped outside" if outside else view["state"]), "; ".join(
                f"{i['element']}: {i['type']}: {i['message']}" for i in incidents
            )[:500]
        listed = client.get("/api/v1/process-instances", params={"state": "active"}).json()["items"]
        children = [client.get(f"/api/v1/process-instances/{c['instance']}").json() for c in listed]
        children = [view, *(child for child in children if child["instance"] != key)]
        waiting = [w for child in children for w in child.get("waitingFor") or []]
        moved, refused = complete_tasks(client, key, log)
        for child in children:
            if child["instance"] != key:
                more, also = complete_tasks(client, child["instance"], log)
                moved, refused = moved or more, refused or also
        if refused:
            return "form refused", refused
        moved = answer_jobs(client, waiting, log) or moved
        moved = publish(client, waiting, log) or moved
        if not moved and idle < IDLE_ROUNDS and any(_pending(w) for w in waiting):
            idle += 1  # a timer of seconds, or a job the hub's own workers run (a connector, a model): let them
            time.sleep(0.2)
            continue
        if not moved:
            return "stuck", json.dumps(view.get("waitingFor"))[:500] + " log: " + "; ".join(log[-4:])
    return "stuck", f"still active after {ROUNDS} rounds: {json.dumps(view.get('waitingFor'))[:300]}"


@pytest.mark.parametrize("folder", examples(), ids=lambda p: p.name)
def test_a_camunda_example_deploys_and_runs_to_its_end(hub: LiveHub, folder: Path) -> None:
    source = (folder / "SOURCE").read_text().strip() if (folder / "SOURCE").exists() else folder.name
    with hub.client() as client:
        processes, decisions, problem = deploy(client, folder)
        assert problem is None, f"{source}: {problem}"
        rows = [(pid, *drive(client, pid)) for pid in processes if pid not in DATA["skip"]]
        rows += [(did, *decide(client, did)) for did in decisions]
    for pid, outcome, detail in rows:
        print(f"| {source} | {pid} | deployed | {outcome} | {detail} |")
    failed = [row for row in rows if row[1] not in OUTCOMES_ACCEPTED]
    assert not failed, f"{source}: {failed}"
