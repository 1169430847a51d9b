"""Issue 18, parts 2 and 7, through the hub's public surfaces: event logs imported over REST and the CLI and
analysed by name, and an AI-drafted change (a scripted model) proposed, refused to its requester and to a
non-member, approved by a member of the owner group, deployed, and measured against the version before it.

One live hub serves the whole module; the CLI runs in process (typer's runner) on the hub's database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import app
from tests.discover.test_drafts import IMPROVED, OWNED
from tests.discover.test_log_import import orders_csv
from tests.hub.harness import LiveHub, assistant, serve_hub
from tests.hub.web.console import csrf_of, signed_in_client


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    folder = tmp_path_factory.mktemp("drafts")
    with serve_hub(folder) as live:
        DATABASES[live.url] = f"sqlite:///{folder / 'hub.db'}"
        yield live


DATABASES: dict[str, str] = {}  # a live hub's URL -> its database, for the CLI


def cli(live: LiveHub, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, [*args, "--db", DATABASES[live.url]])
    assert result.exit_code == code, result.output
    return result.output


def person(live: LiveHub, user: str, groups: list[str], scopes: list[str]) -> str:
    with live.client() as c:
        c.post("/api/v1/users", json={"id": user, "name": user.title(), "groups": groups}).raise_for_status()
        issued = c.post("/api/v1/tokens", json={"user": user, "scopes": scopes})
        issued.raise_for_status()
        return str(issued.json()["token"])


@pytest.fixture(scope="module")
def people(hub: LiveHub) -> dict[str, str]:
    """Tokens of Ada (claims owner, asks for drafts), Bob (claims, not an owner) and Cy (claims owner)."""
    return {"ada": person(hub, "ada", ["claims-owners"], ["read", "deploy", "tasks"]),
            "bob": person(hub, "bob", ["claims"], ["read", "tasks"]),
            "cy": person(hub, "cy", ["claims-owners"], ["read", "tasks"])}


def refused(answer: Any, *words: str) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert all(w in answer.json()["detail"] for w in words), answer.json()["detail"]


CSV = orders_csv().replace("order;step;when;who", "case_id;activity;timestamp;resource")


def test_a_csv_log_uploaded_over_rest_is_listed_analysed_by_name_and_deleted(hub: LiveHub) -> None:
    with hub.client() as c:
        made = c.post("/api/v1/discover/logs", params={"name": "orders", "format": "csv"}, content=CSV)
        assert made.status_code == 201, made.text
        assert (made.json()["cases"], made.json()["events"]) == (4, 13)
        again = c.post("/api/v1/discover/logs", params={"name": "orders", "filename": "o.csv"}, content=CSV)
        assert again.status_code == 409
        bad = c.post("/api/v1/discover/logs", params={"name": "bad", "filename": "bad.csv"},
                     content="case_id,activity,timestamp\nc1,A,later\n")
        assert bad.status_code == 400 and bad.json()["problems"] == [
            "bad.csv:2: timestamp 'later' of event 'A' is not ISO 8601 (2026-12-01T10:00:00Z)"]
        assert [log["name"] for log in c.get("/api/v1/discover/logs").json()["items"]] == ["orders"]
        brief = c.get("/api/v1/discover/logs/orders/brief").json()
        assert brief["reworkLoops"][0]["elementId"] == "Check" and brief["instances"] == 4
        assert c.get("/api/v1/discover/logs/nothing/brief").status_code == 404
        with hub.client(hub.token("read")) as reader:
            assert reader.delete("/api/v1/discover/logs/orders").status_code == 403
        assert c.delete("/api/v1/discover/logs/orders").status_code == 204
        assert c.get("/api/v1/discover/logs").json()["items"] == []


def test_agenthub_discover_import_reads_a_file_and_the_brief_takes_the_log_by_name(hub: LiveHub,
                                                                                    tmp_path: Path) -> None:
    (tmp_path / "shipments.csv").write_text(CSV)
    said = cli(hub, "discover", "import", str(tmp_path / "shipments.csv"))
    assert said.strip() == "imported 13 events of 4 cases (3 activities) from shipments.csv as log 'shipments'"
    assert "shipments  csv" in cli(hub, "discover", "logs")
    brief = json.loads(cli(hub, "discover", "brief", "--log", "shipments", "--json"))
    assert brief["log"] == "shipments" and brief["cycleTimeMs"]["max"] == int(2.5 * 3_600_000)
    (tmp_path / "broken.csv").write_text("case_id,activity\nc1,A\n")
    error = cli(hub, "discover", "import", str(tmp_path / "broken.csv"), code=2)
    assert "broken.csv:1: no timestamp column" in error and "--timestamp-column" in error
    assert "deleted log 'shipments'" in cli(hub, "discover", "delete-log", "shipments")


def test_a_drafted_change_deploys_only_on_an_owner_group_members_approval_and_is_measured(
    hub: LiveHub, people: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "draft.json"
    script.write_text(json.dumps([{"final": {"bpmn": IMPROVED}}]))
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    with hub.client() as c:
        c.post("/api/v1/deployments", files=[("files", ("claim.bpmn", OWNED.encode(), "application/xml"))]
               ).raise_for_status()
    with hub.client(ada) as c:
        offline = c.post("/api/v1/discover/drafts", json={"processId": "claim", "goal": "faster", "model": "offline"})
        assert offline.status_code == 400 and "offline model cannot write BPMN" in offline.json()["detail"]
        made = c.post("/api/v1/discover/drafts", json={"processId": "claim", "goal": "tell customers",
                                                        "model": f"scripted:{script}"})
        assert made.status_code == 201, made.text
        draft = made.json()
        assert (draft["state"], draft["baseVersion"], draft["requestedBy"]) == ("proposed", 1, "ada")
        assert draft["marks"]["notify"] == "added" and "BPMNShape" in draft["bpmn"]
        refused(c.post(f"/api/v1/discover/drafts/{draft['id']}/approve"), "'ada' requested draft")
    with hub.client(bob) as c:
        refused(c.post(f"/api/v1/discover/drafts/{draft['id']}/approve"), "'bob' may not approve",
                "group 'claims-owners'")
    assert "only members of group 'claims-owners'" in cli(hub, "draft", "approve", str(draft["id"]), code=2)
    with hub.client(cy) as c:
        approved = c.post(f"/api/v1/discover/drafts/{draft['id']}/approve")
        assert approved.status_code == 200, approved.text
        assert (approved.json()["state"], approved.json()["deployedVersion"], approved.json()["decidedBy"]) == (
            "deployed", 2, "cy")
        assert c.post(f"/api/v1/discover/drafts/{draft['id']}/reject").status_code == 409
    with hub.client() as c:
        versions = [d["version"] for d in c.get("/api/v1/process-definitions?all=true").json()["items"]
                    if d["processId"] == "claim"]
        assert sorted(versions) == [1, 2]
        compared = c.get("/api/v1/discover/brief/claim", params={"compare": "1,2"}).json()
        assert (compared["old"]["version"], compared["new"]["version"]) == (1, 2)
        shown = c.get(f"/api/v1/discover/drafts/{draft['id']}").json()
        assert shown["result"]["new"]["version"] == 2
    listed = cli(hub, "draft", "list")
    assert f"{draft['id']}   claim    v1    deployed v2  ada" in listed
    shown_text = cli(hub, "draft", "show", str(draft["id"]))
    assert "+ serviceTask notify 'Tell the customer'" in shown_text and "result:" in shown_text
    assert "cycle time p50" in cli(hub, "discover", "brief", "claim", "--compare", "1", "2")


def test_the_console_shows_a_draft_marked_on_its_diagram_and_offers_the_decision_only_to_whom_may_take_it(
    hub: LiveHub, people: dict[str, str], tmp_path: Path
) -> None:
    renamed = IMPROVED.replace('name="Check the claim"', 'name="Check the claim at once"')
    script = tmp_path / "rename.json"
    script.write_text(json.dumps([{"final": renamed}]))
    with hub.client() as c:  # the claim process, as the drafting test above leaves it (xdist may run this one alone)
        if c.get("/api/v1/process-definitions/claim").status_code == 404:
            files = [("files", ("claim.bpmn", IMPROVED.encode(), "application/xml"))]
            c.post("/api/v1/deployments", files=files).raise_for_status()
    with hub.client(people["ada"]) as c:
        made = c.post("/api/v1/discover/drafts", json={"processId": "claim", "goal": "say it plainly",
                                                        "model": f"scripted:{script}"})
        assert made.status_code == 201, made.text
    draft = made.json()
    path = f"/discover/drafts/{draft['id']}"
    with signed_in_client(hub, people["bob"]) as bob:
        assert f'href="{path}"' in bob.get("/discover/drafts").text
        page = bob.get(path).text
        assert 'data-action="approve"' not in page and 'data-action="reject"' not in page
        assert '"check": {"change": "changed"}' in page and 'data-change="changed" data-element-id="check"' in page
        assert "<definitions" in bob.get(f"{path}/diagram.bpmn").text.replace("bpmn:definitions", "definitions")
    with signed_in_client(hub, people["ada"]) as ada:
        page = ada.get(path).text
        assert 'data-action="approve"' not in page and 'data-action="reject"' in page  # may withdraw it
    with signed_in_client(hub, people["cy"]) as cy:
        page = cy.get(path).text
        assert 'data-action="approve"' in page
        done = cy.post(f"{path}/reject", data={"csrf": csrf_of(page), "reason": "keep the old name"})
        assert done.status_code == 303 and done.headers["location"] == f"{path}?message=rejected"
    with hub.client() as c:
        assert c.get(f"/api/v1/discover/drafts/{draft['id']}").json()["reason"] == "keep the old name"


@pytest.mark.anyio
async def test_an_assistant_with_the_deploy_scope_drafts_a_change_over_mcp_and_one_without_it_sees_no_tool(
    hub: LiveHub, people: dict[str, str], tmp_path: Path
) -> None:
    owned, improved = (text.replace('<bpmn:process id="claim"', '<bpmn:process id="claim_mcp"')
                       for text in (OWNED, IMPROVED))
    script = tmp_path / "draft.json"
    script.write_text(json.dumps([{"final": {"bpmn": improved}}]))
    with hub.client() as c:
        c.post("/api/v1/deployments", files=[("files", ("claim_mcp.bpmn", owned.encode(), "application/xml"))]
               ).raise_for_status()
    async with assistant(hub, people["ada"]) as client:
        assert "agenthub_draft" in {tool.name for tool in (await client.list_tools()).tools}
        made = await client.call_tool("agenthub_draft", {"processId": "claim_mcp", "goal": "tell customers",
                                                         "model": f"scripted:{script}"})
        unknown = await client.call_tool("agenthub_draft", {"processId": "nowhere", "goal": "x", "model": "offline"})
    assert not made.is_error and made.structured_content is not None
    draft = made.structured_content
    assert (draft["processId"], draft["state"], draft["requestedBy"]) == ("claim_mcp", "proposed", "ada")
    assert draft["checksPassed"] and draft["diff"]
    assert unknown.is_error and unknown.structured_content is not None
    assert unknown.structured_content["error"]["type"] == "notFound"
    async with assistant(hub, people["bob"]) as client:  # no deploy scope: not offered
        assert "agenthub_draft" not in {tool.name for tool in (await client.list_tools()).tools}
    with hub.client(people["ada"]) as c:  # the draft waits for an owner, as any other
        assert c.get(f"/api/v1/discover/drafts/{draft['id']}").json()["state"] == "proposed"
