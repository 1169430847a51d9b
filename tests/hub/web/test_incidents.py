"""The console's incidents over real HTTP: grouped by cause, retried after a variable fix, and who may not."""

from __future__ import annotations

from typing import Any

from tests.hub.harness import LiveHub
from tests.hub.web.console import csrf_of, signed_in_client
from tests.hub.web.scenarios import deploy, start, wait_for


def _incidents(hub: LiveHub, instance: int | None = None, state: str = "open") -> list[dict[str, Any]]:
    with hub.client() as c:
        params: dict[str, Any] = {"state": state, **({"instance": instance} if instance else {})}
        return list(c.get("/api/v1/incidents", params=params).json()["items"])


def _stuck(hub: LiveHub, count: int = 1) -> list[int]:
    """Instances stuck at a gateway whose only condition reads a variable they lack (``limit``)."""
    deploy(hub, "web-incident.bpmn")
    instances = [start(hub, "web_incident") for _ in range(count)]
    wait_for(lambda: len(_incidents(hub)) >= count)
    return instances


def _state(hub: LiveHub, instance: int) -> str:
    with hub.client() as c:
        return str(c.get(f"/api/v1/process-instances/{instance}").json()["state"])


def test_open_incidents_are_listed_grouped_by_their_cause(live_hub: LiveHub) -> None:
    first, second = _stuck(live_hub, 2)
    with signed_in_client(live_hub) as client:
        page = client.get("/incidents")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert page.text.count('class="panel incident-group"') == 1 and "2 incidents</h2>" in page.text
    assert f'href="/instances/{first}"' in page.text and f'href="/instances/{second}"' in page.text
    message = _incidents(live_hub)[0]["message"]
    assert message.split("'")[0] in page.text


def test_fixing_a_variable_and_retrying_completes_the_instance(live_hub: LiveHub) -> None:
    [instance] = _stuck(live_hub)
    [incident] = _incidents(live_hub, instance)
    with signed_in_client(live_hub) as client:
        csrf = csrf_of(client.get("/incidents").text)
        done = client.post(f"/incidents/{incident['id']}/retry", data={
            "csrf": csrf, "name": "limit", "value": "20", "scope": "instance", "reason": "the order form lost it"})
        assert done.status_code == 303 and done.headers["location"] == f"/incidents?retried={incident['id']}"
        assert f"Incident {incident['id']} was retried" in client.get(done.headers["location"]).text
    wait_for(lambda: _state(live_hub, instance) == "completed")
    with live_hub.client() as c:
        journal = c.get(f"/api/v1/process-instances/{instance}/journal").json()["items"]
    by = {e["type"]: e["data"].get("by") for e in journal if e["type"] in ("variables_set", "incident_resolved")}
    assert by["variables_set"]["channel"] == "console" and by["incident_resolved"]["channel"] == "console"
    [fixed] = [e["data"] for e in journal if e["type"] == "variables_set"]
    assert fixed["reason"] == "the order form lost it"


def test_a_retry_without_a_fix_raises_the_incident_again(live_hub: LiveHub) -> None:
    [instance] = _stuck(live_hub)
    [incident] = _incidents(live_hub, instance)
    with signed_in_client(live_hub) as client:
        csrf = csrf_of(client.get("/incidents").text)
        assert client.post(f"/incidents/{incident['id']}/retry", data={"csrf": csrf}).status_code == 303
    again = wait_for(lambda: _incidents(live_hub, instance))
    assert again[0]["id"] != incident["id"]


def test_bad_fixes_are_refused_with_a_page_saying_why_and_nothing_changes(live_hub: LiveHub) -> None:
    [instance] = _stuck(live_hub)
    [incident] = _incidents(live_hub, instance)
    path = f"/incidents/{incident['id']}/retry"
    with signed_in_client(live_hub) as client:
        csrf = csrf_of(client.get("/incidents").text)
        cases = [
            ({"csrf": "forged", "name": "limit", "value": "20", "reason": "x"}, 403, "CSRF"),
            ({"csrf": csrf, "name": "limit", "value": "20"}, 400, "say why"),
            ({"csrf": csrf, "name": "<script>", "value": "20", "reason": "x"}, 400, "not a variable name"),
            ({"csrf": csrf, "name": "limit", "value": "twenty", "reason": "x"}, 400, "must be JSON"),
            ({"csrf": csrf, "name": "limit", "value": "1", "reason": "x", "scope": "galaxy"}, 400, "instance"),
        ]
        for data, status, words in cases:
            answer = client.post(path, data=data)
            assert answer.status_code == status and words in answer.text, data
            assert "<script>" not in answer.text.split("<main")[1]
        assert client.post("/incidents/999999/retry", data={"csrf": csrf}).status_code == 404
    assert _incidents(live_hub, instance)[0]["id"] == incident["id"]


def test_a_reader_sees_incidents_but_is_not_offered_a_retry_and_is_refused_one(live_hub: LiveHub) -> None:
    [instance] = _stuck(live_hub)
    [incident] = _incidents(live_hub, instance)
    with signed_in_client(live_hub, live_hub.token("read")) as client:
        page = client.get("/incidents")
        assert page.status_code == 200 and f'href="/instances/{instance}"' in page.text
        assert "/retry" not in page.text and "needs the start scope" in page.text
        refused = client.post(f"/incidents/{incident['id']}/retry", data={"csrf": csrf_of(page.text)})
        assert refused.status_code == 403 and "start" in refused.text
    with signed_in_client(live_hub, live_hub.token("tasks")) as client:
        assert client.get("/incidents").status_code == 403
    assert _incidents(live_hub, instance)[0]["id"] == incident["id"]
