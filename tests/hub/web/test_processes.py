"""The Processes pages over real HTTP: the list, one version's heat map and start form, starting, and refusals."""

from __future__ import annotations

import json
import re

from tests.hub.harness import LiveHub
from tests.hub.web.console import csrf_of, signed_in_client
from tests.hub.web.orders import complete_review, deploy, start_order


def _state(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="diagram-state">(.*?)</script>', html, re.S)
    assert found, "the page has no diagram state"
    return dict(json.loads(found.group(1)))


def test_the_list_shows_every_process_with_versions_exposure_and_counts(live_hub: LiveHub) -> None:
    deploy(live_hub)
    live_hub.deploy("review.bpmn")
    first = start_order(live_hub, order="A-1")
    start_order(live_hub, order="A-2")
    complete_review(live_hub, first)
    with signed_in_client(live_hub) as client:
        answer = client.get("/processes")
    assert answer.status_code == 200 and "text/html" in answer.headers["content-type"]
    row = re.search(r'<tr data-process-id="order">(.*?)</tr>', answer.text, re.S)
    assert row is not None
    assert "MCP tool" in row.group(1) and "A2A skill" in row.group(1)  # it declares <agenthub:tool>
    assert re.search(r"state=active\">2<", row.group(1)) and re.search(r"state=completed\">0<", row.group(1))
    review = re.search(r'<tr data-process-id="review">(.*?)</tr>', answer.text, re.S)
    assert review is not None and "not exposed" in review.group(1)


def test_a_process_page_has_the_diagram_with_a_heat_map(live_hub: LiveHub) -> None:
    deploy(live_hub)
    done = start_order(live_hub, order="A-1")
    start_order(live_hub, order="A-2")
    complete_review(live_hub, done)
    with signed_in_client(live_hub) as client:
        answer = client.get("/processes/order")
    assert answer.status_code == 200
    assert 'data-diagram="order"' in answer.text
    assert 'data-xml-url="/processes/order/diagram.bpmn?version=1"' in answer.text
    state = _state(answer.text)
    assert state["mode"] == "heat"
    assert state["elements"]["review"] == {"state": "active", "active": 1, "completed": 1, "incidents": 0}
    assert state["elements"]["ship"]["active"] == 1
    assert state["elements"]["start"]["completed"] == 2


def test_an_unknown_process_or_version_is_a_404_page(live_hub: LiveHub) -> None:
    deploy(live_hub)
    with signed_in_client(live_hub) as client:
        assert client.get("/processes/nope").status_code == 404
        missing = client.get("/processes/order?version=7")
        assert missing.status_code == 404 and "has no version 7" in missing.text
        assert client.get("/processes/order?version=x").status_code == 400


def test_the_start_form_follows_the_declared_inputs_and_starts_an_instance(live_hub: LiveHub) -> None:
    deploy(live_hub)
    with signed_in_client(live_hub) as client:
        page = client.get("/processes/order").text
        assert 'name="in.order"' in page and "required" in page
        assert 'name="in.amount"' in page and 'step="any"' in page
        assert 'name="in.rush" value="true"' in page and 'type="checkbox"' in page
        assert 'name="in.items"' in page and "<textarea" in page
        answer = client.post("/processes/order/start?version=1", data={
            "csrf": csrf_of(page), "in.order": "A-9", "in.amount": "12.5", "in.count": "3", "in.rush": "true",
            "in.items": '["book"]',
        })
        assert answer.status_code == 303
        key = int(answer.headers["location"].rsplit("/", 1)[1])
    with live_hub.client() as api:
        variables = api.get(f"/api/v1/process-instances/{key}").json()["variables"]
    assert variables == {"order": "A-9", "amount": 12.5, "count": 3, "rush": True, "items": ["book"]}


def test_a_wrong_input_shows_the_form_again_with_the_reason(live_hub: LiveHub) -> None:
    deploy(live_hub)
    with signed_in_client(live_hub) as client:
        csrf = csrf_of(client.get("/processes/order").text)
        missing = client.post("/processes/order/start", data={"csrf": csrf, "in.order": ""})
        assert missing.status_code == 400 and "&#39;order&#39; is required" in missing.text
        wrong = client.post("/processes/order/start", data={"csrf": csrf, "in.order": "A", "in.count": "1.5"})
        assert wrong.status_code == 400 and "whole number" in wrong.text
        assert 'value="A"' in wrong.text  # what was typed stays
    with live_hub.client() as api:
        assert api.get("/api/v1/process-instances").json()["items"] == []


def test_a_process_without_declared_inputs_takes_a_json_object(live_hub: LiveHub) -> None:
    live_hub.deploy("review.bpmn")
    with signed_in_client(live_hub) as client:
        page = client.get("/processes/review").text
        assert 'name="variables"' in page
        answer = client.post("/processes/review/start", data={"csrf": csrf_of(page), "variables": '{"orderId": "7"}'})
        assert answer.status_code == 303
        bad = client.post("/processes/review/start", data={"csrf": csrf_of(page), "variables": "[1]"})
        assert bad.status_code == 400 and "JSON object" in bad.text


def test_starting_needs_the_start_scope_and_the_csrf_token(live_hub: LiveHub) -> None:
    deploy(live_hub)
    with signed_in_client(live_hub, live_hub.token("read")) as reader:
        page = reader.get("/processes/order")
        assert page.status_code == 200
        assert "/start" not in page.text and "needs the <code>start</code> scope" in page.text
        forged = reader.post("/processes/order/start", data={"csrf": csrf_of(page.text), "in.order": "A"})
        assert forged.status_code == 403 and "start" in forged.text
    with signed_in_client(live_hub) as admin:
        refused = admin.post("/processes/order/start", data={"csrf": "forged", "in.order": "A"})
        assert refused.status_code == 403 and "CSRF" in refused.text
    with live_hub.client() as api:
        assert api.get("/api/v1/process-instances").json()["items"] == []


def test_a_page_needs_the_read_scope(live_hub: LiveHub) -> None:
    deploy(live_hub)
    with signed_in_client(live_hub, live_hub.token("tasks")) as client:
        assert client.get("/processes").status_code == 403
        assert client.get("/processes/order").status_code == 403
