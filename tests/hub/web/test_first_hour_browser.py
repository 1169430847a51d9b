"""The console's "done when", as a newcomer lives it: `make run`'s hub, a browser, the complaint example.

``agenthub serve --examples examples`` (what ``make run`` runs) on a free
port; in headless Chromium: sign in with the admin token, start the
complaint from its form, watch the agent on the instance page, answer the
customer's question, add a finance person and a token for her in the
registry, sign in as her, approve the refund with its arguments and the
agent's reasoning in view, and read the trail on the diagram, in the journal
and in the agent inspector.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry import generate_token
from tests.hub.web.scenarios import wait_for
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[3]
OVERLAY = '.state-overlay[data-element-id="{}"]'


class Served:
    def __init__(self, url: str, admin: str) -> None:
        self.url = url
        self.admin = admin

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.admin}"}, timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port, admin = free_port(), generate_token()
    env = {**os.environ, "AGENTHUB_ADMIN_TOKEN": admin, "AGENTHUB_DB": f"sqlite:///{tmp_path / 'hub.db'}"}
    log = (tmp_path / "hub.log").open("w")
    agenthub = Path(sys.executable).with_name("agenthub")
    server = subprocess.Popen([str(agenthub), "serve", "--examples", "examples", "--port", str(port)], cwd=REPO,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"the hub ended: {(tmp_path / 'hub.log').read_text()[-2000:]}")
        try:
            return httpx.get(url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=60)
        yield Served(url, admin)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _sign_in(page: Any, url: str, token: str) -> None:
    page.goto(url + "/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def _open_task(hub: Served, instance: int, kind: str | None) -> dict[str, Any]:
    def found() -> list[dict[str, Any]]:
        with hub.api() as api:
            items = api.get("/api/v1/user-tasks", params={"all": "true"}).json()["items"]
        return [t for t in items if t["instance"] == instance and t.get("kind") == kind]

    return wait_for(found, timeout=60)[0]


def test_a_newcomer_resolves_a_complaint_in_the_browser(served: Served, page: Any) -> None:
    url = served.url
    _sign_in(page, url, served.admin)

    # Start the complaint from its form.
    page.goto(url + "/processes/complaint")
    page.wait_for_selector('[data-diagram="complaint"][data-rendered="true"]')
    page.fill("#in-customer", "ada")
    page.fill("#in-orderId", "A-100")
    page.fill("#in-complaint", "My kettle never arrived.")
    page.click(".start-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/instances/\d+$"))
    instance = int(page.url.rsplit("/", 1)[1])

    # The agent works and asks the customer; the page follows it live.
    question = _open_task(served, instance, None)
    page.wait_for_selector(OVERLAY.format("lookup_order") + '[data-state="completed"]')
    page.goto(f"{url}/tasks/{question['id']}")
    page.fill("#variables", '{"choice": "refund"}')
    page.click("#variables >> xpath=ancestor::form//button[@type='submit']")
    page.wait_for_url(re.compile(r".*/tasks(\?.*)?$"))

    # The refund waits for finance; the admin who started it may not approve (four eyes, and a machine token).
    approval = _open_task(served, instance, "approval")
    page.goto(f"{url}/tasks/{approval['id']}")
    assert page.locator("button[value=approve]").count() == 0

    # Add fay to finance and make her a token, in the registry.
    page.goto(url + "/registry")
    page.fill("#user-id", "fay")
    page.fill("#user-name", "Fay Finance")
    page.fill("#user-groups", "finance")
    page.click("#user-groups >> xpath=ancestor::form//button[@type='submit']")
    page.wait_for_url(re.compile(r".*/registry.*"))
    page.fill("#token-name", "fay's laptop")
    page.select_option("#token-user", "fay")
    page.check("input[name=scopes][value=read]")
    page.check("input[name=scopes][value=tasks]")
    page.click("#token-user >> xpath=ancestor::form//button[@type='submit']")
    fay_token = page.input_value("#new-token")
    assert fay_token.startswith("ahk_")

    # Fay signs in and approves, with the exact arguments and the agent's reasoning in view.
    page.click("header .who button")
    page.wait_for_url(url + "/login")
    _sign_in(page, url, fay_token)
    page.goto(f"{url}/tasks/{approval['id']}")
    text = page.locator("main").inner_text()
    assert "A-100" in text and "refunds over 50 need finance approval" in text
    page.click("button[value=approve]")
    page.wait_for_url(re.compile(r".*/tasks\?done=\d+$"))

    # The whole trail: the diagram, the journal and the inspector say who did what.
    def finished() -> bool:
        with served.api() as api:
            return bool(api.get(f"/api/v1/process-instances/{instance}").json()["state"] == "completed")

    wait_for(finished, timeout=60)
    page.goto(f"{url}/instances/{instance}")
    page.wait_for_selector('[data-diagram="complaint"][data-rendered="true"]')
    assert page.locator(OVERLAY.format("Notify") + '[data-state="completed"]').count() == 1
    page.click("#agents a")
    inspector = page.locator("main").inner_text()
    assert "propose_refund" in inspector and "fay" in inspector
    with served.api() as api:
        journal = api.get(f"/api/v1/process-instances/{instance}/journal", params={"limit": 1000}).json()["items"]
    [decided] = [e["data"] for e in journal if e["type"] == "agent_approval_decided"]
    assert decided["approved"] is True and decided["by"]["id"] == "fay" and decided["by"]["channel"] == "console"
    assert page.errors == []
