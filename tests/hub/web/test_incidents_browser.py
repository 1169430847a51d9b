"""Incidents in a real browser: fix the variable an instance lacks and retry it.

Each test saves a screenshot of its page (``tests.browser``).
"""

from __future__ import annotations

import re
from typing import Any

from tests.hub.harness import LiveHub
from tests.hub.web.console import sign_in
from tests.hub.web.scenarios import deploy, start, wait_for


def _open(hub: LiveHub) -> list[dict[str, Any]]:
    with hub.client() as c:
        return list(c.get("/api/v1/incidents").json()["items"])


def test_a_person_fixes_a_variable_and_retries_an_incident(live_hub: LiveHub, page: Any) -> None:
    deploy(live_hub, "web-incident.bpmn")
    instance = start(live_hub, "web_incident")
    [incident] = wait_for(lambda: _open(live_hub))
    sign_in(page, live_hub)

    page.goto(live_hub.url + "/incidents")
    assert page.locator(".incident-group").count() == 1
    page.click("summary:has-text('Retry')")
    page.fill(f"#name-{incident['id']}", "limit")
    page.fill(f"#value-{incident['id']}", "20")
    page.fill(f"#reason-{incident['id']}", "the form lost the limit")
    page.click(f"form[action='/incidents/{incident['id']}/retry'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/incidents\?retried=\d+$"))
    assert page.locator("[role=status]").inner_text() == f"Incident {incident['id']} was retried."
    assert page.locator(".incident-group").count() == 0
    with live_hub.client() as c:
        wait_for(lambda: c.get(f"/api/v1/process-instances/{instance}").json()["state"] == "completed")
    assert page.errors == []
