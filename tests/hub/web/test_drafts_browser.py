"""The drafts page in a real browser (issue 18, part 7): a drafted change drawn with what it added and changed
marked on its diagram, approved there by a member of the process's owner group, and then deployed.

Each test saves a screenshot of its page (``tests.browser``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.discover.test_drafts import IMPROVED, OWNED
from tests.hub.harness import LiveHub, serve_hub
from tests.hub.test_discover_drafts import person
from tests.hub.web.console import sign_in


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveHub, str, int]]:
    """A hub with the claim process (owned by claims-owners) and one draft of it by Ada; Cy's token."""
    folder: Path = tmp_path_factory.mktemp("drafts-console")
    script = folder / "draft.json"
    script.write_text(json.dumps([{"final": {"bpmn": IMPROVED}}]))
    with serve_hub(folder) as hub:
        ada = person(hub, "ada", ["claims-owners"], ["read", "deploy"])
        cy = person(hub, "cy", ["claims-owners"], ["read", "tasks"])
        with hub.client() as c:
            c.post("/api/v1/deployments", files=[("files", ("claim.bpmn", OWNED.encode(), "application/xml"))]
                   ).raise_for_status()
        with hub.client(ada) as c:
            made = c.post("/api/v1/discover/drafts", json={"processId": "claim", "goal": "tell customers",
                                                            "model": f"scripted:{script}"})
            made.raise_for_status()
        yield hub, cy, int(made.json()["id"])


def test_a_draft_is_drawn_with_its_changes_marked_and_an_owner_approves_it_there(
    drafted: tuple[LiveHub, str, int], page: Any
) -> None:
    hub, cy, draft_id = drafted
    sign_in(page, hub, cy)
    page.goto(f"{hub.url}/discover/drafts")
    page.click(f"tr[data-draft-id='{draft_id}'] a")
    page.wait_for_selector("[data-diagram][data-rendered='true']")
    added = page.locator(".state-overlay.diff[data-element-id=notify]")
    assert added.count() == 1 and added.get_attribute("data-state") == "added"
    assert page.locator(".state-overlay.diff[data-element-id=review]").get_attribute("data-state") == "changed"
    assert page.locator(".djs-connection.diff-added").count() == 3  # the three new flows
    assert page.locator("tr[data-change=removed]").count() == 2  # the flows it removed, listed
    page.click("button[data-action=approve]")
    page.wait_for_url(f"{hub.url}/discover/drafts/{draft_id}?message=approved")
    assert "Deployed as version 2." in " ".join(page.inner_text("main").split())
    assert page.locator("h1 .muted").inner_text() == "deployed"
    assert page.errors == []


def test_a_person_with_the_deploy_scope_asks_for_a_draft_from_the_brief_page_and_one_without_it_sees_no_form(
    drafted: tuple[LiveHub, str, int], page: Any, tmp_path: Path
) -> None:
    hub, cy, _ = drafted
    script = tmp_path / "again.json"
    script.write_text(json.dumps([{"final": {"bpmn": IMPROVED}}]))
    dee = person(hub, "dee", ["analysts"], ["read", "deploy"])
    sign_in(page, hub, cy)  # read and tasks, no deploy: no form
    page.goto(f"{hub.url}/discover/claim")
    assert page.locator("form.draft-form").count() == 0
    page.context.clear_cookies()
    sign_in(page, hub, dee)
    page.goto(f"{hub.url}/discover/claim")
    page.fill("form.draft-form input[name=goal]", "tell customers")
    page.fill("form.draft-form input[name=model]", f"scripted:{script}")
    page.click("button[data-action=draft]")
    page.wait_for_url(f"{hub.url}/discover/drafts/*?message=proposed")
    assert "waits for a person of the process's owner group" in " ".join(page.inner_text("main").split())
    assert page.locator("h1 .muted").inner_text() == "proposed"
    assert page.locator("button[data-action=approve]").count() == 0  # dee is not an owner
    assert page.errors == []
