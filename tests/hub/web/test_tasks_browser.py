"""Tasks in a real browser: a clerk completes a task through its form, an approver approves an agent's call.

Each test saves a screenshot of its page (``tests.browser``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.hub.harness import LiveHub
from tests.hub.web.console import sign_in
from tests.hub.web.scenarios import deploy, person, start, tasks_of, wait_for


def _state(hub: LiveHub, instance: int) -> dict[str, Any]:
    with hub.client() as c:
        found: dict[str, Any] = c.get(f"/api/v1/process-instances/{instance}").json()
        return found


def _claim_review(live_hub: LiveHub, page: Any) -> tuple[int, int]:
    """The claim review (a process whose task links a Camunda form by formId) deployed and started, signed in,
    on its task's page with the form drawn: the instance and its task."""
    forms = Path(__file__).resolve().parents[2] / "data" / "forms"
    files = [("files", (n, (forms / n).read_bytes(), "application/octet-stream"))
             for n in ("review.bpmn", "claim-review.form", "claim-start.form")]
    with live_hub.client() as c:
        c.post("/api/v1/deployments", files=files).raise_for_status()
    instance = start(live_hub, "claim_review")
    task = wait_for(lambda: tasks_of(live_hub, instance))[0]["id"]
    sign_in(page, live_hub)
    page.goto(f"{live_hub.url}/tasks/{task}")
    page.wait_for_selector('[data-form-schema-id][data-rendered="true"]')
    return instance, int(task)


def test_a_clerk_claims_and_completes_a_task_through_its_form_by_keyboard(live_hub: LiveHub, page: Any) -> None:
    deploy(live_hub, "web-task.bpmn")
    instance = start(live_hub, "web_task", {"note": "pay <b>it</b>", "amount": 120, "urgent": True})
    task = wait_for(lambda: tasks_of(live_hub, instance))[0]["id"]
    sign_in(page, live_hub, person(live_hub, "cleo", ["clerks"], ["tasks", "read"]))

    page.goto(live_hub.url + "/tasks")
    row = page.locator("tr", has=page.locator(f'a[href="/tasks/{task}"]'))
    row.locator("button", has_text="Claim").click()
    page.wait_for_url(f"{live_hub.url}/tasks/{task}")
    assert page.locator("text=Unclaim").count() == 1
    assert page.locator('input[name="field.note"]').input_value() == "pay <b>it</b>"

    page.focus('input[name="field.amount"]')
    page.keyboard.press("Control+A")
    page.keyboard.type("99")
    page.focus("#variables")
    page.keyboard.type('{"verdict": "ok"}')
    page.keyboard.press("Tab")  # to the Complete button
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/tasks\?done=\d+$"))
    assert page.locator("[role=status]").inner_text() == f"Task {task} is done."
    wait_for(lambda: _state(live_hub, instance)["state"] == "completed")
    assert _state(live_hub, instance)["variables"]["verdict"] == "ok"
    assert page.errors == []


def test_an_approver_approves_an_agents_call_and_inspects_the_run(live_hub: LiveHub, page: Any) -> None:
    deploy(live_hub, "web-agent.bpmn", "web-rules.json")
    instance = start(live_hub, "web_agent", {"request": {"note": "<img src=x onerror=alert(1)> \u202eok"}})
    approval = wait_for(lambda: [t for t in tasks_of(live_hub, instance) if t.get("kind") == "approval"])[0]
    dialogs: list[str] = []

    def dialog(opened: Any) -> None:  # a script the page ran would open one: none may
        dialogs.append(opened.message)
        opened.dismiss()

    page.on("dialog", dialog)
    sign_in(page, live_hub, person(live_hub, "olga", ["ops"], ["tasks", "read"]))

    page.goto(live_hub.url + "/tasks")
    page.click(f'a[href="/tasks/{approval["id"]}"]')
    assert "send_note" in page.locator("#call").inner_text()
    assert "<img src=x onerror=alert(1)>" in page.locator("pre.arguments").inner_text()
    assert "\\u202eok" in page.locator("pre.arguments").inner_text()
    page.click("button[value=approve]")
    page.wait_for_url(re.compile(r".*/tasks\?done=\d+$"))
    wait_for(lambda: _state(live_hub, instance)["state"] == "completed")

    page.goto(f"{live_hub.url}/instances/{instance}/agents/{approval['agentElementInstance']}")
    assert "finished" in page.locator("h1").inner_text()
    assert page.locator("#models ~ table tbody tr").count() == 2
    assert "approved by olga (via console)" in page.locator("#approvals ~ ul").inner_text()
    assert page.locator(".chat .message").count() >= 4
    assert dialogs == [] and page.errors == []


def test_a_task_with_a_deployed_form_is_completed_through_form_js(live_hub: LiveHub, page: Any) -> None:
    deploy(live_hub, "web-form.bpmn", "invoice-comment.form")
    instance = start(live_hub, "web_form", {"comment": "first <b>draft</b>"})
    task = wait_for(lambda: tasks_of(live_hub, instance))[0]["id"]
    dialogs: list[str] = []
    page.on("dialog", lambda opened: dialogs.append(opened.message))
    sign_in(page, live_hub)

    page.goto(f"{live_hub.url}/tasks/{task}")
    page.wait_for_selector('[data-form-schema-id][data-rendered="true"]')
    assert "Say what you think of the invoice" in page.locator(".form-js").inner_text()
    field = page.get_by_label("Comment")
    assert field.input_value() == "first <b>draft</b>"  # the instance's variable the field edits
    field.fill("")
    page.click("#task-form > p > button[type=submit]")
    assert page.url.endswith(f"/tasks/{task}")  # required: form-js refuses the empty field, nothing is sent
    field.fill("looks right")
    page.click("#task-form > p > button[type=submit]")
    page.wait_for_url(re.compile(r".*/tasks\?done=\d+$"))
    wait_for(lambda: _state(live_hub, instance)["state"] == "completed")
    assert _state(live_hub, instance)["variables"]["comment"] == "looks right"
    assert dialogs == [] and page.errors == []


def _approve_after_the_pattern_refuses(live_hub: LiveHub, page: Any, instance: int, task: int) -> None:
    """Approve with the lowercase reviewer the form has: form-js refuses it (the pattern) and nothing is sent;
    with the name capitalized the task completes with the form's values."""
    page.get_by_role("radio", name="Approve").check()
    page.click("#task-form > p > button[type=submit]")
    assert page.url.endswith(f"/tasks/{task}")
    page.get_by_label("Reviewer").fill("Grace")
    page.click("#task-form > p > button[type=submit]")
    page.wait_for_url(re.compile(r".*/tasks\?done=\d+$"))
    wait_for(lambda: _state(live_hub, instance)["state"] == "completed")
    variables = _state(live_hub, instance)["variables"]
    assert (variables["reviewer"], variables["amount"], variables["decision"]) == ("Grace", 250, "approve")


def test_a_form_linked_by_form_id_is_rendered_by_form_js_and_its_values_pass_the_engines_check(
    live_hub: LiveHub, page: Any,
) -> None:
    instance, task = _claim_review(live_hub, page)
    page.get_by_label("Reviewer").fill("grace")
    page.get_by_label("Amount approved").fill("250")
    _approve_after_the_pattern_refuses(live_hub, page, instance, task)


def test_a_draft_saved_from_the_form_comes_back_with_the_task_and_the_form_still_checks_the_completion(
    live_hub: LiveHub, page: Any,
) -> None:
    instance, task = _claim_review(live_hub, page)
    page.get_by_label("Reviewer").fill("grace")  # not valid yet (the pattern wants a capital): a draft may be
    page.get_by_label("Amount approved").fill("250")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(rf".*/tasks/{task}\?saved=yes$"))
    assert "Draft saved" in page.locator("[role=status]").inner_text()
    page.goto(f"{live_hub.url}/tasks/{task}")  # later: the draft is what the form starts with
    page.wait_for_selector('[data-form-schema-id][data-rendered="true"]')
    assert page.get_by_label("Reviewer").input_value() == "grace"
    assert page.get_by_label("Amount approved").input_value() == "250"
    assert "reviewer" not in _state(live_hub, instance)["variables"]  # the task's own, not the process's yet
    _approve_after_the_pattern_refuses(live_hub, page, instance, task)  # completing still checks the form
    with live_hub.client() as c:
        trail = c.get(f"/api/v1/process-instances/{instance}/journal").json()["items"]
    [saved] = [e["data"] for e in trail if e["type"] == "user_task_draft_saved"]
    assert {"amount", "reviewer"} <= set(saved["variables"]) and saved["by"]["channel"] == "console"  # every field
    assert page.errors == []
