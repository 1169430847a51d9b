"""The Processes and Instances pages in a real browser: start from the form, watch the diagram change live, cancel.

Each test saves a screenshot of its page (``tests.browser``).
"""

from __future__ import annotations

import re
from typing import Any

from tests.hub.harness import LiveHub
from tests.hub.web.console import sign_in
from tests.hub.web.orders import complete_review, deploy, fail_ship, start_order

OVERLAY = '.state-overlay[data-element-id="{}"]'


def _start_from_the_form(page: Any, hub: LiveHub) -> int:
    page.goto(hub.url + "/processes")
    page.click('tr[data-process-id="order"] a[href="/processes/order"]')
    page.wait_for_selector('[data-diagram="order"][data-rendered="true"]')
    page.fill("#in-order", "A-<b>1</b>")
    page.fill("#in-amount", "12.5")
    page.check('input[name="in.rush"]')
    page.click(".start-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/instances/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_a_person_starts_an_instance_and_watches_it_move(live_hub: LiveHub, page: Any) -> None:
    deploy(live_hub)
    sign_in(page, live_hub)

    key = _start_from_the_form(page, live_hub)

    page.wait_for_selector('[data-diagram="order"][data-rendered="true"]')
    assert page.get_attribute(OVERLAY.format("review"), "data-state") == "active"
    assert page.get_attribute(OVERLAY.format("start"), "data-state") == "completed"
    assert page.locator('tr[data-variable="order"] pre').inner_text() == "A-<b>1</b>"
    page.wait_for_selector("[data-live=listening]")

    complete_review(live_hub, key)  # through the REST API, the page stays open
    page.wait_for_selector(OVERLAY.format("ship") + '[data-state="active"]')
    assert page.get_attribute(OVERLAY.format("review"), "data-state") == "completed"
    page.wait_for_selector('li[data-type="user_task_completed"]')

    fail_ship(live_hub)
    page.wait_for_selector(OVERLAY.format("ship") + '[data-state="incident"]')
    page.wait_for_selector('#incidents tr[data-state="open"]')
    assert page.errors == []


def test_a_person_cancels_after_confirming(live_hub: LiveHub, page: Any) -> None:
    deploy(live_hub)
    key = start_order(live_hub, order="A-1")
    sign_in(page, live_hub)
    page.goto(f"{live_hub.url}/instances/{key}")

    page.click("text=Cancel this instance…")
    page.wait_for_url(f"{live_hub.url}/instances/{key}/cancel")
    page.click("#confirm-cancel")

    page.wait_for_url(f"{live_hub.url}/instances/{key}")
    assert page.get_attribute("[data-instance-state]", "data-instance-state") == "terminated"
    assert page.errors == []


def test_the_list_filters_pages_and_bulk_retries_with_the_keyboard(live_hub: LiveHub, page: Any) -> None:
    deploy(live_hub)
    keys = [start_order(live_hub, order=f"A-{i}") for i in range(3)]
    complete_review(live_hub, keys[1])
    fail_ship(live_hub)
    sign_in(page, live_hub)
    page.goto(live_hub.url + "/instances")

    page.select_option("#f-state", "incident")
    page.focus("#f-var")
    page.keyboard.type("order=A-1")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*state=incident.*"))
    rows = page.locator("tr[data-instance]")
    assert rows.count() == 1 and rows.first.get_attribute("data-instance") == str(keys[1])

    page.check(f"#sel-{keys[1]}")
    page.click("button[value=retry]")
    page.click("text=Yes, retry")
    assert page.locator(f'tr[data-instance="{keys[1]}"][data-ok="true"]').count() == 1
    assert page.errors == []


def test_a_script_in_a_variable_stays_text_in_the_browser(live_hub: LiveHub, page: Any) -> None:
    deploy(live_hub)
    key = start_order(live_hub, order="<img src=x onerror=\"document.title='pwned'\">", note="exe.\u202etxt",
                      huge="y" * 1_000_000)
    sign_in(page, live_hub)
    page.goto(f"{live_hub.url}/instances/{key}")
    page.wait_for_selector('[data-diagram="order"][data-rendered="true"]')
    assert page.title() != "pwned" and page.locator("img[src=x]").count() == 0
    assert "\\u202e" in page.locator('tr[data-variable="note"] pre').inner_text()
    assert page.locator('tr[data-variable="huge"] a[download]').count() == 1
    assert page.errors == []


def test_a_reader_sees_no_start_form(live_hub: LiveHub, page: Any) -> None:
    deploy(live_hub)
    sign_in(page, live_hub, live_hub.token("read"))
    page.goto(live_hub.url + "/processes/order")
    page.wait_for_selector('[data-diagram="order"][data-rendered="true"]')
    assert page.locator(".start-form").count() == 0
    assert "needs the start scope" in page.locator("main").inner_text()
