"""DMN through the hub's public surface: deploy .dmn beside BPMN over REST, business rule tasks, incidents and
retries, ``POST /api/v1/decisions/{id}/evaluate`` and ``agenthub decide``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from hub.cli import app
from tests.hub.harness import LiveHub

DMN_DATA = Path(__file__).resolve().parents[1] / "data" / "dmn"
GOLD = {"customer": {"orders": 12}, "total": 250}


def _deploy(c: httpx.Client, *files: tuple[str, str]) -> dict[str, Any]:
    upload = [("files", (name, text.encode(), "application/xml")) for name, text in files]
    answer = c.post("/api/v1/deployments", files=upload)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _file(name: str) -> tuple[str, str]:
    return name, (DMN_DATA / name).read_text()


def _start(c: httpx.Client, variables: dict[str, Any]) -> dict[str, Any]:
    answer = c.post("/api/v1/process-instances",
                    json={"processId": "pricing", "variables": variables, "awaitCompletion": 10})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_a_process_deployed_with_its_dmn_runs_its_business_rule_task_to_the_end(live_hub: LiveHub) -> None:
    with live_hub.client() as c:
        report = _deploy(c, _file("discount.bpmn"), _file("discount.dmn"))
        assert [(p["processId"], p["version"]) for p in report["processes"]] == [("pricing", 1)]
        assert [(d["decisionId"], d["version"], d["isNew"]) for d in report["decisions"]] == [
            ("customerLevel", 1, True), ("discount", 1, True)]
        instance = _start(c, GOLD)
        assert instance["state"] == "completed"
        assert instance["variables"]["discount"] == {"rate": 0.15, "amount": 37.5}
        journal = c.get(f"/api/v1/process-instances/{instance['instance']}/journal").json()
        [evaluated] = [e for e in journal["items"] if e["type"] == "decision_evaluated"]
        assert evaluated["data"]["evaluated"][-1]["matchedRules"] == [{"ruleId": "goldBig", "ruleIndex": 1}]


def test_a_failing_decision_is_an_incident_that_a_new_version_and_a_retry_resolve(live_hub: LiveHub) -> None:
    name, text = _file("discount.dmn")
    # The last rule matches every level too: a gold customer matches two rules of a UNIQUE table.
    broken = text.replace('<inputEntry><text>"standard"</text></inputEntry>', "<inputEntry><text>-</text></inputEntry>")
    with live_hub.client() as c:
        _deploy(c, _file("discount.bpmn"), (name, broken))
        instance = _start(c, GOLD)
        assert instance["state"] == "incident"
        [incident] = c.get("/api/v1/incidents", params={"instance": instance["instance"]}).json()["items"]
        assert incident["type"] == "decision"
        assert "decision 'discount' version 1" in incident["message"]
        assert "hit policy UNIQUE but rules 1, 3 all match" in incident["message"]
        fixed = _deploy(c, _file("discount.dmn"))
        assert {d["decisionId"]: d["version"] for d in fixed["decisions"]}["discount"] == 2
        assert c.post(f"/api/v1/incidents/{incident['id']}/resolve").status_code in (200, 204)
        after = c.get(f"/api/v1/process-instances/{instance['instance']}").json()
        assert after["state"] == "completed"
        assert after["variables"]["discount"] == {"rate": 0.15, "amount": 37.5}


def test_a_decision_is_evaluated_on_its_own_over_rest_with_its_matched_rules(live_hub: LiveHub) -> None:
    with live_hub.client() as c:
        _deploy(c, _file("discount.dmn"))
        answer = c.post("/api/v1/decisions/discount/evaluate",
                        json={"variables": {"customer": {"orders": 12}, "total": 50}})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["decisionId"], body["version"], body["result"]) == ("discount", 1, {"rate": 0.05, "amount": 2.5})
        assert [r["ruleId"] for r in body["matchedRules"]] == ["goldSmall"]
        assert [d["decisionId"] for d in body["evaluatedDecisions"]] == ["customerLevel", "discount"]
        listed = c.get("/api/v1/decisions", params={"decisionId": "discount"}).json()["items"]
        assert [(d["decisionId"], d["version"], d["versionTag"]) for d in listed] == [("discount", 1, "v1")]
        missing = c.post("/api/v1/decisions/nope/evaluate", json={})
        assert missing.status_code == 404
        assert "decision 'nope' is not deployed" in missing.json()["detail"]
        bad = c.post("/api/v1/decisions/discount/evaluate", json={"vars": {}})
        assert bad.status_code == 400


def test_agenthub_decide_prints_the_result_and_the_matched_rules(live_hub: LiveHub, tmp_path: Path) -> None:
    with live_hub.client() as c:
        _deploy(c, _file("discount.dmn"))
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    runner = CliRunner()
    shown = runner.invoke(app, ["decide", "discount", "--vars", json.dumps(GOLD), "--db", db])
    assert shown.exit_code == 0, shown.output
    assert 'decision discount version 1: {"rate": 0.15, "amount": 37.5}' in shown.output
    assert "1 (goldBig)" in shown.output
    as_json = runner.invoke(app, ["decide", "discount", "--vars", json.dumps(GOLD), "--json", "--db", db])
    assert json.loads(as_json.output)["matchedRules"][0]["ruleId"] == "goldBig"
    missing = runner.invoke(app, ["decide", "nope", "--db", db])
    assert missing.exit_code == 2
    assert "decision 'nope' is not deployed" in missing.output
    bad = runner.invoke(app, ["decide", "discount", "--vars", "[1]", "--db", db])
    assert bad.exit_code == 2 and "--vars must be a JSON object" in bad.output


def test_agenthub_deploy_takes_dmn_files_beside_bpmn_and_prints_their_decisions(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    files = [str(DMN_DATA / "discount.bpmn"), str(DMN_DATA / "discount.dmn")]
    first = runner.invoke(app, ["deploy", *files, "--db", db])
    assert first.exit_code == 0, first.output
    assert "pricing version 1" in first.output and "decision discount version 1" in first.output
    again = runner.invoke(app, ["deploy", str(DMN_DATA / "discount.dmn"), "--json", "--db", db])
    report = json.loads(again.output)
    assert {d["decisionId"]: (d["version"], d["isNew"]) for d in report["decisions"]} == {
        "customerLevel": (1, False), "discount": (1, False)}
