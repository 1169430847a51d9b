"""The console's tasks over real HTTP: the tabs, claiming, completing with a form, approvals, and who may not."""

from __future__ import annotations

from typing import Any

import httpx

from engine import TaskView
from hub.web.tasks import _SCAN_PAGES, PAGE, _listing
from tests.hub.harness import LiveHub
from tests.hub.web.console import csrf_of, signed_in_client
from tests.hub.web.scenarios import deploy, person, start, tasks_of, wait_for


def _invoice(hub: LiveHub, **variables: object) -> tuple[int, int]:
    deploy(hub, "web-task.bpmn")
    instance = start(hub, "web_task", {"note": "pay it", "amount": 120, "urgent": True, **variables})
    task = wait_for(lambda: tasks_of(hub, instance))[0]
    return instance, int(task["id"])


def test_the_task_list_shows_a_person_what_is_open_to_them_and_claiming_moves_it_to_mine(live_hub: LiveHub) -> None:
    _instance, task = _invoice(live_hub)
    clerk = person(live_hub, "cleo", ["clerks"], ["tasks", "read"])
    with signed_in_client(live_hub, clerk) as client:
        listing = client.get("/tasks")
        assert listing.status_code == 200 and "text/html" in listing.headers["content-type"]
        assert f'href="/tasks/{task}"' in listing.text and "Check the invoice" in listing.text
        assert f'href="/tasks/{task}"' in client.get("/tasks?tab=groups").text
        assert f'href="/tasks/{task}"' in client.get("/tasks?tab=unassigned").text
        assert f'href="/tasks/{task}"' not in client.get("/tasks?tab=mine").text
        assert 'href="/tasks?tab=all"' not in listing.text  # every task: an admin's tab only
        assert client.get("/tasks?tab=all").status_code == 403
        claimed = client.post(f"/tasks/{task}/claim", data={"csrf": csrf_of(listing.text)})
        assert claimed.status_code == 303
        assert f'href="/tasks/{task}"' in client.get("/tasks?tab=mine").text
        assert f'href="/tasks/{task}"' not in client.get("/tasks?tab=unassigned").text
        page = client.get(f"/tasks/{task}")
        assert page.status_code == 200 and f'action="/tasks/{task}/unclaim"' in page.text
        assert client.post(f"/tasks/{task}/unclaim", data={"csrf": csrf_of(page.text)}).status_code == 303
    assert tasks_of(live_hub, _instance)[0]["assignee"] is None


def test_a_person_outside_the_candidates_is_offered_nothing_and_refused_if_they_try(live_hub: LiveHub) -> None:
    instance, task = _invoice(live_hub)
    outsider = person(live_hub, "dan", ["sales"], ["tasks", "read"])
    with signed_in_client(live_hub, outsider) as client:
        listing = client.get("/tasks")
        assert f'href="/tasks/{task}"' not in listing.text
        page = client.get(f"/tasks/{task}")
        assert page.status_code == 200
        assert f'action="/tasks/{task}/complete"' not in page.text and f'/tasks/{task}/claim' not in page.text
        assert "only they (or an admin) may complete" in page.text
        csrf = csrf_of(page.text)
        for path in (f"/tasks/{task}/claim", f"/tasks/{task}/complete"):
            refused = client.post(path, data={"csrf": csrf, "variables": "{}"})
            assert refused.status_code == 403 and "may not" in refused.text and "text/html" in refused.headers[
                "content-type"]
    assert tasks_of(live_hub, instance)[0]["assignee"] is None
    reader = live_hub.token("read")
    with signed_in_client(live_hub, reader) as client:
        refused = client.get("/tasks")
        assert refused.status_code == 403 and "tasks" in refused.text


def test_completing_through_the_generated_form_sets_the_changed_fields_and_the_json(live_hub: LiveHub) -> None:
    instance, task = _invoice(live_hub)
    clerk = person(live_hub, "cleo", ["clerks"], ["tasks", "read"])
    with signed_in_client(live_hub, clerk) as client:
        page = client.get(f"/tasks/{task}")
        assert 'name="field.amount"' in page.text and 'name="field.urgent"' in page.text
        assert 'name="field.note"' in page.text and 'name="variables"' in page.text
        done = client.post(f"/tasks/{task}/complete", data={
            "csrf": csrf_of(page.text), "generated": "1", "field.note": "pay it", "field.amount": "99.5",
            "variables": '{"verdict": "ok"}'})  # urgent unticked: false
        assert done.status_code == 303 and done.headers["location"] == f"/tasks?done={task}"
    with live_hub.client() as c:
        state = wait_for(lambda: (v := c.get(f"/api/v1/process-instances/{instance}").json())["state"] == "completed"
                         and v)
    assert state["variables"]["verdict"] == "ok"  # amount and urgent are the task's inputs: they stay local to it
    with live_hub.client() as c:
        journal = c.get(f"/api/v1/process-instances/{instance}/journal").json()["items"]
    [completed] = [e for e in journal if e["type"] == "user_task_completed"]
    assert completed["data"]["by"]["channel"] == "console" and completed["data"]["by"]["id"] == "cleo"
    assert completed["data"]["variables"] == ["amount", "urgent", "verdict"]  # the note was left as it was


def test_a_form_without_the_csrf_token_changes_nothing(live_hub: LiveHub) -> None:
    instance, task = _invoice(live_hub)
    with signed_in_client(live_hub) as client:
        for path in (f"/tasks/{task}/complete", f"/tasks/{task}/claim"):
            refused = client.post(path, data={"csrf": "forged", "variables": "{}"})
            assert refused.status_code == 403 and "CSRF" in refused.text
        refused = client.post(f"/tasks/{task}/complete", data={"variables": "{}"})
        assert refused.status_code == 403
        csrf = csrf_of(client.get(f"/tasks/{task}").text)
        not_an_approval = client.post(f"/tasks/{task}/decide", data={"csrf": csrf, "decision": "approve"})
        assert not_an_approval.status_code == 400 and "not an approval" in not_an_approval.text
    [open_task] = tasks_of(live_hub, instance)
    assert open_task["assignee"] is None


def test_bad_json_in_the_form_is_a_page_saying_so(live_hub: LiveHub) -> None:
    instance, task = _invoice(live_hub)
    with signed_in_client(live_hub) as client:
        csrf = csrf_of(client.get(f"/tasks/{task}").text)
        for bad in ("{not json", "[1, 2]", '{"x": NaN}'):
            answer = client.post(f"/tasks/{task}/complete", data={"csrf": csrf, "variables": bad})
            assert answer.status_code == 400 and "text/html" in answer.headers["content-type"], bad
    assert len(tasks_of(live_hub, instance)) == 1


def test_untrusted_inputs_are_escaped_made_visible_and_cut(live_hub: LiveHub) -> None:
    evil = "<script>alert('x')</script>\u202egnp.exe" + "y" * 1_000_000
    _instance, task = _invoice(live_hub, note=evil)
    with signed_in_client(live_hub) as client:
        page = client.get(f"/tasks/{task}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "\u202e" not in page.text and "\\u202egnp.exe" in page.text
    assert len(page.text) < 100_000  # the engine keeps a task's inputs short; the page cuts what is still long


def test_a_deployed_camunda_form_is_handed_to_form_js_with_its_schema_as_inert_json(live_hub: LiveHub) -> None:
    deploy(live_hub, "web-form.bpmn", "invoice-comment.form")
    instance = start(live_hub, "web_form", {"comment": "</script><script>alert(1)</script>", "other": "x" * 50_000})
    task = int(wait_for(lambda: tasks_of(live_hub, instance))[0]["id"])
    with signed_in_client(live_hub) as client:
        page = client.get(f"/tasks/{task}")
        assert page.status_code == 200
        assert 'data-form-schema-id="task-form-schema"' in page.text
        assert 'data-form-data-id="task-form-data"' in page.text
        assert '<script type="application/json" id="task-form-schema">' in page.text
        assert '"key": "comment"' in page.text and "<script>alert" not in page.text
        assert '{"comment": "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)' in page.text  # inert, as data
        assert "x" * 50_000 not in page.text  # only what the form's fields edit
        empty = client.post(f"/tasks/{task}/complete", data={"csrf": csrf_of(page.text), "variables": ""})
        assert empty.status_code == 400 and "sent nothing" in empty.text
        assert 'src="/static/forms.js"' in page.text
        done = client.post(f"/tasks/{task}/complete", data={"csrf": csrf_of(page.text),
                                                             "variables": '{"comment": "fine"}'})
        assert done.status_code == 303
    with live_hub.client() as c:
        finished = wait_for(lambda: (v := c.get(f"/api/v1/process-instances/{instance}").json())["state"]
                            == "completed" and v)
    assert finished["variables"]["comment"] == "fine"


def test_an_admin_sees_every_task_and_an_unknown_task_is_a_404_page(live_hub: LiveHub) -> None:
    _instance, task = _invoice(live_hub)
    with signed_in_client(live_hub) as client:
        assert f'href="/tasks/{task}"' in client.get("/tasks?tab=all").text
        missing = client.get("/tasks/999999999")
        assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
        assert client.get("/tasks/abc").status_code == 404
        assert client.get("/tasks?tab=nonsense").status_code == 400


def test_without_a_session_the_task_pages_send_to_the_login_form(live_hub: LiveHub) -> None:
    with httpx.Client(base_url=live_hub.url) as client:
        answer = client.get("/tasks")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


class _Tasks:
    """The engine's task pages over a list: keyset by key, ``limit`` at a time."""

    def __init__(self, views: list[TaskView]) -> None:
        self.views = views
        self.reads = 0

    def user_tasks(self, *, state: str, limit: int, after: int | None, sort: str | None = None) -> list[TaskView]:
        self.reads += 1
        return [v for v in self.views if after is None or v.key > after][:limit]


def _view(key: int, assignee: str | None = None) -> TaskView:
    return TaskView(key=key, instance=1, element_id="t", name="t", process_id="p", state="created",
                    assignee=assignee, candidate_groups=[], candidate_users=[])


def test_a_listing_page_keeps_its_tabs_tasks_reads_pages_and_hands_on_a_cursor() -> None:
    def mine(t: TaskView) -> bool:
        return t.assignee == "cleo"

    engine: Any = _Tasks([_view(k, "cleo" if k % 3 == 0 else None) for k in range(1, 400)])
    first, cursor = _listing(engine, mine, None)
    assert len(first) == PAGE and all(mine(t) for t in first) and cursor == first[-1].key
    second, _ = _listing(engine, mine, cursor)
    assert second[0].key == first[-1].key + 3
    everything: list[TaskView] = []
    cursor = None
    while True:
        shown, cursor = _listing(engine, mine, cursor)
        everything.extend(shown)
        if cursor is None:
            break
    assert [t.key for t in everything] == list(range(3, 400, 3))
    rare: Any = _Tasks([_view(k, "cleo" if k == 999 else None) for k in range(1, 1000)])
    shown, cursor = _listing(rare, mine, None)  # a bounded scan: the cursor says where to go on
    assert shown == [] and cursor == PAGE * _SCAN_PAGES and rare.reads == _SCAN_PAGES


def test_the_task_list_orders_as_asked_and_refuses_an_unknown_order(live_hub: LiveHub) -> None:
    _invoice(live_hub)
    with signed_in_client(live_hub) as client:
        assert client.get("/tasks?sort=-created").status_code == 200
        refused = client.get("/tasks?sort=<b>")
        assert refused.status_code == 400 and "<b>" not in refused.text.split("<main")[1]
