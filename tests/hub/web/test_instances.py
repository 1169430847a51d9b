"""The Instances pages over real HTTP: filters, keyset pages, one instance, changing it, live events, refusals."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading

import httpx
import pytest

from engine.store import instance_search
from hub.web import instances as instances_page
from tests.hub.harness import LiveHub
from tests.hub.web.console import csrf_of, signed_in_client
from tests.hub.web.orders import complete_review, deploy, fail_ship, start_order


def _keys(html: str) -> list[int]:
    return [int(k) for k in re.findall(r'<tr data-instance="(\d+)"', html)]


def _state(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="diagram-state">(.*?)</script>', html, re.S)
    assert found, "the page has no diagram state"
    return dict(json.loads(found.group(1)))


def test_the_list_filters_by_process_state_variable_and_dates(live_hub: LiveHub) -> None:
    deploy(live_hub)
    live_hub.deploy("review.bpmn")
    a = start_order(live_hub, order="A-1", amount=5)
    b = start_order(live_hub, order="A-2", amount=7)
    complete_review(live_hub, b)
    fail_ship(live_hub)
    with live_hub.client() as api:
        other = api.post("/api/v1/process-instances", json={"processId": "review"}).json()["instance"]
    today = dt.datetime.now(dt.UTC).date()
    with signed_in_client(live_hub) as client:
        assert _keys(client.get("/instances").text) == sorted([a, b, other], reverse=True)
        assert _keys(client.get("/instances?process=order").text) == [b, a]
        assert _keys(client.get("/instances?process=order&version=1&state=incident").text) == [b]
        # active as the REST API means it: not ended, incidents or not
        assert _keys(client.get("/instances?state=active").text) == sorted([a, b, other], reverse=True)
        assert _keys(client.get("/instances?var=order%3DA-1").text) == [a]
        assert _keys(client.get("/instances?var=amount%3D7").text) == [b]
        assert _keys(client.get("/instances?var=amount%3D%227%22").text) == []  # the text "7" is not the number
        assert len(_keys(client.get(f"/instances?created_from={today}&created_to={today}").text)) == 3
        assert _keys(client.get(f"/instances?created_to={today - dt.timedelta(days=1)}").text) == []
        assert _keys(client.get(f"/instances?ended_from={today}").text) == []
        page = client.get("/instances?state=incident")
        assert 'option value="incident" selected' in page.text and "no business key" in page.text
        assert client.get("/instances?state=bogus").status_code == 400
        assert client.get("/instances?var=no-equals").status_code == 400
        assert client.get("/instances?created_from=yesterday").status_code == 400


def test_pages_follow_each_other_by_key(live_hub: LiveHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instances_page, "PAGE", 3)
    deploy(live_hub)
    started = [start_order(live_hub, order=f"A-{i}") for i in range(7)]
    seen: list[int] = []
    with signed_in_client(live_hub) as client:
        url: str | None = "/instances?process=order"
        while url:
            html = client.get(url).text
            seen += _keys(html)
            found = re.search(r'<a href="([^"]+)" rel="next">', html)
            url = found.group(1).replace("&amp;", "&") if found else None
            assert url is None or "process=order" in url
    assert seen == sorted(started, reverse=True)


def test_the_instance_page_shows_the_path_the_variables_and_the_journal(live_hub: LiveHub) -> None:
    deploy(live_hub)
    key = start_order(live_hub, order="A-1")
    complete_review(live_hub, key)
    with signed_in_client(live_hub) as client:
        answer = client.get(f"/instances/{key}")
    assert answer.status_code == 200
    assert 'data-diagram="order"' in answer.text and f'data-live-url="/instances/{key}/events' in answer.text
    state = _state(answer.text)
    assert state["mode"] == "instance"
    assert state["elements"]["review"]["state"] == "completed"
    assert state["elements"]["ship"] == {"state": "active", "active": 1, "completed": 0, "incidents": 0}
    assert state["flows"] == ["f1", "f2"]
    assert '<tr data-variable="order">' in answer.text
    assert 'data-type="user_task_completed"' in answer.text
    assert '<script src="/static/live.js"></script>' in answer.text


def test_an_incident_is_marked_and_retried_from_the_page(live_hub: LiveHub) -> None:
    deploy(live_hub)
    key = start_order(live_hub, order="A-1")
    complete_review(live_hub, key)
    fail_ship(live_hub)
    with signed_in_client(live_hub) as client:
        page = client.get(f"/instances/{key}").text
        assert _state(page)["elements"]["ship"]["state"] == "incident"
        assert "the carrier said no" in page
        incident = re.search(r'/incidents/(\d+)/retry', page)
        assert incident is not None
        answer = client.post(f"/instances/{key}/incidents/{incident.group(1)}/retry", data={"csrf": csrf_of(page)})
        assert answer.status_code == 303
        after = client.get(f"/instances/{key}").text
    assert _state(after)["elements"]["ship"]["state"] == "active"
    assert 'data-state="resolved"' in after


def test_a_variable_is_set_with_a_reason_that_the_journal_keeps(live_hub: LiveHub) -> None:
    deploy(live_hub)
    key = start_order(live_hub, order="A-1")
    with signed_in_client(live_hub) as client:
        page = client.get(f"/instances/{key}").text
        scope = re.search(r'<option value="(\d+)">process</option>', page)
        assert scope is not None
        answer = client.post(f"/instances/{key}/variables", data={
            "csrf": csrf_of(page), "scope": scope.group(1), "name": "amount", "value": "42", "reason": "typo fixed"})
        assert answer.status_code == 303
        bad = client.post(f"/instances/{key}/variables", data={
            "csrf": csrf_of(page), "scope": scope.group(1), "name": "amount", "value": "4 2", "reason": "x"})
        assert bad.status_code == 400 and "must be JSON" in bad.text
        unexplained = client.post(f"/instances/{key}/variables", data={
            "csrf": csrf_of(page), "scope": scope.group(1), "name": "amount", "value": "1", "reason": " "})
        assert unexplained.status_code == 400
    with live_hub.client() as api:
        assert api.get(f"/api/v1/process-instances/{key}").json()["variables"]["amount"] == 42
        journal = api.get(f"/api/v1/process-instances/{key}/journal").json()["items"]
    [entry] = [e for e in journal if e["type"] == "variables_set"]
    assert entry["data"]["reason"] == "typo fixed"
    assert entry["data"]["by"]["channel"] == "console"


def test_untrusted_values_are_escaped_and_a_huge_one_is_cut(live_hub: LiveHub) -> None:
    deploy(live_hub)
    huge = "x" * 1_000_000
    key = start_order(live_hub, order="<script>alert(1)</script>", note="exe.\u202etxt", huge=huge)
    with signed_in_client(live_hub) as client:
        page = client.get(f"/instances/{key}")
        assert page.status_code == 200
        assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "\u202e" not in page.text and "exe.\\u202etxt" in page.text
        assert len(page.text) < 100_000
        link = re.search(r'href="(/instances/\d+/variables/value\?scope=\d+&amp;name=huge)"', page.text)
        assert link is not None and "1,000,000 characters" in page.text
        whole = client.get(link.group(1).replace("&amp;", "&"))
        assert whole.status_code == 200 and json.loads(whole.text) == huge
        assert whole.headers["content-disposition"].startswith("attachment")
        listed = client.get("/instances").text
        assert "<script>alert" not in listed


def test_cancel_asks_first_then_cancels(live_hub: LiveHub) -> None:
    deploy(live_hub)
    key = start_order(live_hub, order="A-1")
    with signed_in_client(live_hub) as client:
        page = client.get(f"/instances/{key}").text
        assert f'href="/instances/{key}/cancel"' in page
        confirm = client.get(f"/instances/{key}/cancel")
        assert confirm.status_code == 200 and "cannot be undone" in confirm.text
        refused = client.post(f"/instances/{key}/cancel", data={"csrf": "forged"})
        assert refused.status_code == 403 and "CSRF" in refused.text
        answer = client.post(f"/instances/{key}/cancel", data={"csrf": csrf_of(confirm.text)})
        assert answer.status_code == 303
        assert 'data-instance-state="terminated"' in client.get(f"/instances/{key}").text


def test_bulk_cancel_and_retry_ask_for_confirmation(live_hub: LiveHub) -> None:
    deploy(live_hub)
    a, b, c = (start_order(live_hub, order=f"A-{i}") for i in range(3))
    complete_review(live_hub, c)
    fail_ship(live_hub)
    with signed_in_client(live_hub) as client:
        csrf = csrf_of(client.get("/instances").text)
        ask = client.post("/instances/bulk", data={"csrf": csrf, "action": "cancel", "key": [str(a), str(b)]})
        assert ask.status_code == 200 and "Cancel 2 instance(s)?" in ask.text
        with live_hub.client() as api:
            assert api.get(f"/api/v1/process-instances/{a}").json()["state"] == "active"  # nothing happened yet
        done = client.post("/instances/bulk", data={"csrf": csrf, "action": "cancel", "key": [str(a), str(b)],
                                                    "confirm": "yes"})
        assert done.status_code == 200 and done.text.count('data-ok="true"') == 2
        retried = client.post("/instances/bulk", data={"csrf": csrf, "action": "retry", "key": [str(c)],
                                                       "confirm": "yes"})
        assert "1 incident(s) retried" in retried.text
        assert client.post("/instances/bulk", data={"csrf": csrf, "action": "explode", "key": [str(a)]}).status_code \
            == 400
    with live_hub.client() as api:
        assert api.get(f"/api/v1/process-instances/{a}").json()["state"] == "terminated"
        assert api.get(f"/api/v1/process-instances/{c}").json()["state"] == "active"


def test_a_read_only_principal_is_offered_no_change_and_refused_one(live_hub: LiveHub) -> None:
    deploy(live_hub)
    key = start_order(live_hub, order="A-1")
    complete_review(live_hub, key)
    fail_ship(live_hub)
    with signed_in_client(live_hub, live_hub.token("read")) as reader:
        page = reader.get(f"/instances/{key}").text
        assert "/cancel" not in page and "/retry" not in page and 'action="/instances/' not in page
        listed = reader.get("/instances").text
        assert 'name="key"' not in listed and 'action="/instances/bulk"' not in listed
        csrf = csrf_of(page)  # the sign-out form's
        for path, data in ((f"/instances/{key}/cancel", {}), (f"/instances/{key}/variables", {"name": "a"}),
                           (f"/instances/{key}/incidents/1/retry", {}),
                           ("/instances/bulk", {"action": "cancel", "key": str(key)})):
            answer = reader.post(path, data={"csrf": csrf, **data})
            assert answer.status_code == 403 and "start" in answer.text, path
        assert reader.get(f"/instances/{key}/cancel").status_code == 403
    with live_hub.client() as api:
        assert api.get(f"/api/v1/process-instances/{key}").json()["state"] == "incident"


def test_parent_and_called_instances_link_to_each_other(live_hub: LiveHub) -> None:
    deploy(live_hub, "order.bpmn", "parent.bpmn")
    with live_hub.client() as api:
        parent = api.post("/api/v1/process-instances", json={"processId": "parent"}).json()["instance"]
    with signed_in_client(live_hub) as client:
        page = client.get(f"/instances/{parent}").text
        child = re.search(r'<section id="children".*?<a href="/instances/(\d+)">', page, re.S)
        assert child is not None
        child_page = client.get(f"/instances/{child.group(1)}").text
        assert f'href="/instances/{parent}" rel="up"' in child_page
        assert "/cancel" not in child_page  # a called instance is cancelled with its parent


def test_an_unknown_instance_is_a_404_page(live_hub: LiveHub) -> None:
    with signed_in_client(live_hub) as client:
        assert client.get("/instances/999999").status_code == 404
        assert client.get("/instances/abc").status_code == 404
        assert client.get("/instances/999999/events").status_code == 404


def test_the_event_stream_says_when_the_instance_changes(live_hub: LiveHub) -> None:
    deploy(live_hub)
    key = start_order(live_hub, order="A-1")
    other = start_order(live_hub, order="A-2")
    received: list[str] = []
    with signed_in_client(live_hub) as client, client.stream("GET", f"/instances/{key}/events", timeout=20) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        mover = threading.Timer(0.3, lambda: (complete_review(live_hub, other), complete_review(live_hub, key)))
        mover.start()
        for line in lines:
            received.append(line)
            if line.startswith("data:"):
                break
        mover.join()
    assert "event: changed" in received
    assert json.loads(received[-1].removeprefix("data: "))["instance"] == key


def test_the_event_stream_needs_a_session_or_token(live_hub: LiveHub) -> None:
    deploy(live_hub)
    key = start_order(live_hub, order="A-1")
    with httpx.Client(base_url=live_hub.url) as anonymous:
        assert anonymous.get(f"/instances/{key}/events").status_code == 303


def test_a_variable_search_goes_on_below_where_it_stopped(live_hub: LiveHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instance_search, "SCAN", 3)
    deploy(live_hub)
    wanted = start_order(live_hub, order="A-1")
    for i in range(4):
        start_order(live_hub, order=f"B-{i}")
    with signed_in_client(live_hub) as client:
        first = client.get("/instances?var=order%3DA-1").text
        assert _keys(first) == [] and "Search older instances" in first
        found = re.search(r'<a href="([^"]+)" rel="next">', first)
        assert found is not None
        assert _keys(client.get(found.group(1).replace("&amp;", "&")).text) == [wanted]
