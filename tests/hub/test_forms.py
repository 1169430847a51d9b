"""Camunda Forms through the hub's public surface: ``.form`` files deployed beside BPMN, linked from user tasks and
start events by ``formId`` (with its binding types), ``formKey`` and ``externalReference``; the task's form over
REST and MCP; variables checked against the form before a task completes (REST 400 problem+json, MCP tool error,
CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from typer.testing import CliRunner

from hub.cli import app
from tests.hub.harness import LiveHub

FORMS = Path(__file__).resolve().parents[1] / "data" / "forms"
LINK = '<zeebe:formDefinition formId="claim-review" />'
GOOD = {"reviewer": "Grace", "amount": 250, "decision": "approve"}


def _file(name: str, text: str | None = None) -> tuple[str, tuple[str, bytes, str]]:
    content = text if text is not None else (FORMS / name).read_text()
    return "files", (name, content.encode(), "application/octet-stream")


def _deploy(c: httpx.Client, *files: tuple[str, tuple[str, bytes, str]]) -> dict[str, Any]:
    answer = c.post("/api/v1/deployments", files=list(files))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _variant(process_id: str, link: str) -> str:
    """The review process under another id, its task linking its form as ``link`` says."""
    text = (FORMS / "review.bpmn").read_text()
    return text.replace('id="claim_review"', f'id="{process_id}"').replace(LINK, link)


def _form_v2() -> str:
    schema = json.loads((FORMS / "claim-review.form").read_text())
    schema["versionTag"] = "v2"
    schema["components"][1]["validate"]["max"] = 5000
    return json.dumps(schema)


def _task(c: httpx.Client, process_id: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    started = c.post("/api/v1/process-instances", json={"processId": process_id, "variables": variables or {}})
    assert started.status_code == 201, started.text
    [task] = c.get("/api/v1/user-tasks", params={"instance": started.json()["instance"]}).json()["items"]
    return dict(c.get(f"/api/v1/user-tasks/{task['id']}").json())


def test_a_task_linked_by_form_id_is_read_with_its_deployed_form_and_the_start_event_with_its_own(
    live_hub: LiveHub,
) -> None:
    with live_hub.client() as c:
        _deploy(c, _file("review.bpmn"), _file("claim-review.form"), _file("claim-start.form"))
        task = _task(c, "claim_review", {"claimant": "Ada", "claimed": 300})
        form = task["form"]
        assert (form["formId"], form["bindingType"], form["version"]) == ("claim-review", "latest", 1)
        assert [f["key"] for f in form["schema"]["components"]] == ["reviewer", "amount", "decision", "note"]
        start = c.get("/api/v1/process-definitions/claim_review/form").json()
        assert start["formId"] == "claim-start"
        assert [f["key"] for f in start["schema"]["components"]] == ["claimant", "claimed"]


def test_variables_that_fail_the_form_are_refused_field_by_field_and_the_task_stays_open(live_hub: LiveHub) -> None:
    with live_hub.client() as c:
        _deploy(c, _file("review.bpmn"), _file("claim-review.form"), _file("claim-start.form"))
        task = _task(c, "claim_review")
        bad = {"reviewer": "grace hopper", "amount": 5000, "note": "x" * 201}
        refused = c.post(f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": bad})
        assert refused.status_code == 400
        assert refused.headers["content-type"] == "application/problem+json"
        errors = {e["field"]: e["message"] for e in refused.json()["errors"]}
        assert errors == {
            "reviewer": "must match the pattern '^[A-Z][a-z]+$'",
            "amount": "must be at most 1000",
            "decision": "is required",
            "note": "must have at most 200 characters",
        }
        wrong_option = c.post(f"/api/v1/user-tasks/{task['id']}/complete",
                              json={"variables": {**GOOD, "decision": "maybe", "amount": "250"}})
        assert {e["field"]: e["message"] for e in wrong_option.json()["errors"]} == {
            "amount": "must be a number", "decision": "must be one of 'approve', 'reject'"}
        assert c.get(f"/api/v1/user-tasks/{task['id']}").json()["state"] == "created"
        done = c.post(f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": GOOD})
        assert done.status_code == 200, done.text
        assert done.json()["state"] == "completed"
        assert c.get(f"/api/v1/process-instances/{task['instance']}").json()["state"] == "completed"


def test_binding_types_pick_the_latest_the_deployments_or_the_tagged_version_of_a_form(live_hub: LiveHub) -> None:
    with live_hub.client() as c:
        by_deployment = _variant("by_deployment", LINK.replace("/>", 'bindingType="deployment" />'))
        by_tag = _variant("by_tag", LINK.replace("/>", 'bindingType="versionTag" versionTag="v1" />'))
        _deploy(c, _file("claim-review.form"), _file("by_deployment.bpmn", by_deployment))
        newer = _deploy(c, _file("claim-review.form", _form_v2()), _file("by_tag.bpmn", by_tag),
                        _file("latest.bpmn", _variant("latest", LINK)))
        assert {p["processId"] for p in newer["processes"]} == {"by_tag", "latest"}
        shown = {p: _task(c, p)["form"] for p in ("by_deployment", "by_tag", "latest")}
        assert {p: f["version"] for p, f in shown.items()} == {"by_deployment": 1, "by_tag": 1, "latest": 2}
        assert shown["by_tag"]["versionTag"] == "v1"
        assert shown["latest"]["schema"]["versionTag"] == "v2"
        task = _task(c, "by_deployment")  # version 1 allows at most 1000: its check, not the latest's
        refused = c.post(f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": {**GOOD, "amount": 3000}})
        assert refused.json()["errors"] == [{"field": "amount", "message": "must be at most 1000"}]


def test_a_form_id_not_deployed_is_shown_as_a_problem_and_a_broken_form_fails_the_deployment(
    live_hub: LiveHub,
) -> None:
    with live_hub.client() as c:
        _deploy(c, _file("tagged.bpmn", _variant("tagged", LINK.replace("/>", 'bindingType="versionTag" '
                                                                               'versionTag="v9" />'))))
        form = _task(c, "tagged")["form"]
        assert form["schema"] is None
        assert form["problem"] == "no version of form 'claim-review' has versionTag 'v9'"
        broken = c.post("/api/v1/deployments", files=[_file("broken.form", '{"components": []}')])
        assert broken.status_code == 400
        assert broken.json()["problems"][0]["file"] == "broken.form"
        assert 'a form needs a string "id"' in broken.json()["problems"][0]["message"]


def test_form_key_and_external_reference_come_back_as_given_and_an_embedded_form_with_its_schema(
    live_hub: LiveHub,
) -> None:
    embedded = json.dumps({"id": "inline", "components": [{"type": "checkbox", "key": "ok",
                                                           "validate": {"required": True}}]})
    inline = _variant("inline", '<zeebe:formDefinition formKey="camunda-forms:bpmn:inlineForm" />').replace(
        '<bpmn:startEvent id="submitted"',
        f'<bpmn:extensionElements><zeebe:userTaskForm id="inlineForm">{embedded}</zeebe:userTaskForm>'
        '</bpmn:extensionElements><bpmn:startEvent id="submitted"')
    with live_hub.client() as c:
        _deploy(c, _file("keyed.bpmn", _variant("keyed", '<zeebe:formDefinition formKey="app:claims/review" />')),
                _file("linked.bpmn", _variant("linked", '<zeebe:formDefinition '
                                                        'externalReference="https://forms.example/claims" />')),
                _file("inline.bpmn", inline))
        keyed = _task(c, "keyed")
        assert (keyed["form"]["formKey"], keyed["form"]["schema"], keyed["formKey"]) == (
            "app:claims/review", None, "app:claims/review")
        linked = _task(c, "linked")["form"]
        assert (linked["externalReference"], linked["formId"], linked["schema"]) == (
            "https://forms.example/claims", None, None)
        task = _task(c, "inline")
        assert task["form"]["schema"]["id"] == "inline"
        refused = c.post(f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": {"ok": False}})
        assert refused.json()["errors"] == [{"field": "ok", "message": "is required"}]


async def _over_mcp(hub: LiveHub, tool: str, arguments: dict[str, Any]) -> Any:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {hub.admin}"}, timeout=60) as http,
        Client(streamable_http_client(f"{hub.url}/mcp", http_client=http)) as client,
    ):
        return await client.call_tool(tool, arguments)


def test_mcp_lists_a_task_with_its_form_and_refuses_variables_the_form_does_not_accept(live_hub: LiveHub) -> None:
    with live_hub.client() as c:
        _deploy(c, _file("review.bpmn"), _file("claim-review.form"), _file("claim-start.form"))
        task = _task(c, "claim_review")
    listed = anyio.run(_over_mcp, live_hub, "agenthub_list_user_tasks", {"instance": task["instance"]})
    [shown] = listed.structured_content["tasks"]
    assert shown["form"]["formId"] == "claim-review" and shown["form"]["schema"]["id"] == "claim-review"
    refused = anyio.run(_over_mcp, live_hub, "agenthub_complete_user_task",
                        {"task": task["id"], "variables": {**GOOD, "amount": 0}})
    assert refused.is_error
    assert refused.structured_content["error"]["type"] == "invalidForm"
    assert refused.structured_content["error"]["errors"] == [{"field": "amount", "message": "must be at least 1"}]
    done = anyio.run(_over_mcp, live_hub, "agenthub_complete_user_task", {"task": task["id"], "variables": GOOD})
    assert not done.is_error


def test_the_cli_deploys_form_files_and_refuses_a_completion_the_form_does_not_accept(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    runner = CliRunner()
    files = [str(FORMS / n) for n in ("review.bpmn", "claim-review.form", "claim-start.form")]
    deployed = runner.invoke(app, ["deploy", *files, "--db", db])
    assert deployed.exit_code == 0, deployed.output
    started = runner.invoke(app, ["start", "claim_review", "--db", db, "--json"])
    assert started.exit_code == 0, started.output
    listed = runner.invoke(app, ["tasks", "--db", db, "--json"])
    assert listed.exit_code == 0, listed.output
    [task] = json.loads(listed.output)
    refused = runner.invoke(app, ["complete", str(task["id"]), "--vars", json.dumps({**GOOD, "reviewer": "x"}),
                                  "--db", db])
    assert refused.exit_code != 0
    assert "reviewer: must match the pattern" in refused.output
    done = runner.invoke(app, ["complete", str(task["id"]), "--vars", json.dumps(GOOD), "--db", db])
    assert done.exit_code == 0, done.output
