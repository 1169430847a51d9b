"""Approving an agent's call in the console, and the agent inspector that shows the whole run, over real HTTP.

The agent runs on the offline rules model (``tests/data/web/web-rules.json``):
it calls ``send_note`` with the note it was given, which its policy holds
for the ``ops`` group's approval.
"""

from __future__ import annotations

from typing import Any

from hub.web.inspector import agent_runs, inspector_url
from tests.hub.harness import LiveHub
from tests.hub.web.console import csrf_of, signed_in_client
from tests.hub.web.scenarios import deploy, person, start, tasks_of, wait_for

EVIL = "<script>alert('agent')</script>\u202etxt.exe"


def _run(hub: LiveHub, note: str) -> tuple[int, dict[str, Any]]:
    deploy(hub, "web-agent.bpmn", "web-rules.json")
    instance = start(hub, "web_agent", {"request": {"note": note}})
    approval = wait_for(lambda: [t for t in tasks_of(hub, instance) if t.get("kind") == "approval"])[0]
    return instance, approval


def _finished(hub: LiveHub, instance: int) -> dict[str, Any]:
    with hub.client() as c:
        return wait_for(lambda: (v := c.get(f"/api/v1/process-instances/{instance}").json())["state"]
                        == "completed" and v)


def test_an_approver_sees_the_call_its_arguments_reasoning_and_policy_and_approves_it(live_hub: LiveHub) -> None:
    instance, approval = _run(live_hub, "hello ops " + EVIL)
    task = approval["id"]
    olga = person(live_hub, "olga", ["ops"], ["tasks", "read"])
    with signed_in_client(live_hub, olga) as client:
        assert f'href="/tasks/{task}"' in client.get("/tasks").text
        page = client.get(f"/tasks/{task}")
        assert page.status_code == 200
        text = page.text
        assert "send_note" in text and "a note goes out only when ops agrees" in text
        assert "(policy <code>model:13</code>)" in text  # the policy that held it: where it is declared
        assert "I send the note: hello ops" in text  # the agent's reasoning
        assert "<script>alert" not in text and "&lt;script&gt;alert(&#39;agent&#39;)" in text
        assert "\u202e" not in text and "\\u202etxt.exe" in text
        assert f'action="/tasks/{task}/decide"' in text
        assert f'href="/instances/{instance}/agents/{approval["agentElementInstance"]}"' in text
        decided = client.post(f"/tasks/{task}/decide", data={"csrf": csrf_of(text), "decision": "approve"})
        assert decided.status_code == 303
    assert _finished(live_hub, instance)["variables"]["outcome"]["response"].startswith("sent: hello ops")


def test_the_starter_may_not_approve_and_is_not_offered_to(live_hub: LiveHub) -> None:
    olga = person(live_hub, "olga", ["ops"], ["tasks", "read", "start"])
    deploy(live_hub, "web-agent.bpmn", "web-rules.json")
    instance = start(live_hub, "web_agent", {"request": {"note": "mine"}}, token=olga)
    task = wait_for(lambda: [t for t in tasks_of(live_hub, instance) if t.get("kind") == "approval"])[0]["id"]
    with signed_in_client(live_hub, olga) as client:
        page = client.get(f"/tasks/{task}")
        assert page.status_code == 200 and f'action="/tasks/{task}/decide"' not in page.text
        assert "four eyes" in page.text
        refused = client.post(f"/tasks/{task}/decide", data={"csrf": csrf_of(page.text), "decision": "approve"})
        assert refused.status_code == 403 and "four eyes" in refused.text
    assert len(tasks_of(live_hub, instance)) == 1


def test_rejecting_needs_a_reason_and_the_agent_is_told_it(live_hub: LiveHub) -> None:
    instance, approval = _run(live_hub, "rejected note")
    task = approval["id"]
    olga = person(live_hub, "olga", ["ops"], ["tasks", "read"])
    with signed_in_client(live_hub, olga) as client:
        csrf = csrf_of(client.get(f"/tasks/{task}").text)
        bare = client.post(f"/tasks/{task}/decide", data={"csrf": csrf, "decision": "reject", "reason": " "})
        assert bare.status_code == 400 and "say why" in bare.text
        forged = client.post(f"/tasks/{task}/decide", data={"csrf": "forged", "decision": "approve"})
        assert forged.status_code == 403
        done = client.post(f"/tasks/{task}/decide", data={"csrf": csrf, "decision": "reject",
                                                           "reason": "not today <b>please</b>"})
        assert done.status_code == 303
    response = _finished(live_hub, instance)["variables"]["outcome"]["response"]
    assert "not today <b>please</b>" in response


def test_the_inspector_shows_model_calls_tool_calls_the_approval_the_budget_and_the_timeline(
    live_hub: LiveHub,
) -> None:
    huge = EVIL + "z" * 250_000  # near the most a tool call's arguments may take (262,144 bytes of JSON)
    instance, approval = _run(live_hub, huge)
    olga = person(live_hub, "olga", ["ops"], ["tasks", "read"])
    agent = approval["agentElementInstance"]
    with signed_in_client(live_hub, olga) as client:
        page = client.get(f"/tasks/{approval['id']}")
        assert len(page.text) < 200_000
        assert "more characters not shown" in page.text and "<script>alert" not in page.text
        client.post(f"/tasks/{approval['id']}/decide", data={"csrf": csrf_of(page.text), "decision": "approve"})
        _finished(live_hub, instance)
        inspected = client.get(f"/instances/{instance}/agents/{agent}")
        instance_page = client.get(f"/instances/{instance}")
    assert inspected.status_code == 200
    assert f'href="/instances/{instance}/agents/{agent}"' in instance_page.text  # the instance page links the run
    text = inspected.text
    assert f'href="/instances/{instance}"' in text  # back to the instance
    assert "rules:web-rules.json" in text and "finished" in text
    assert "<script>alert" not in text and "\u202e" not in text and "\\u202etxt.exe" in text
    assert len(text) < 300_000
    # the model calls, with the usage the journal recorded
    with live_hub.client() as c:
        journal = c.get(f"/api/v1/process-instances/{instance}/journal", params={"limit": 1000}).json()["items"]
    assert agent_runs(journal) == [("Notes", agent)]  # what the instance page links by
    assert inspector_url(instance, agent) == f"/instances/{instance}/agents/{agent}"
    calls = [e["data"] for e in journal if e["type"] == "agent_model_called"]
    assert len(calls) == 2
    for call in calls:
        assert f"{call['latencyMs']} ms" in text and str(call["inputTokens"]) in text
    # the tool call, the policy and the approval with who and how
    assert "a note goes out only when ops agrees" in text and "approve" in text
    assert "approved by olga (via console)" in text
    # the budget against its limits (maxModelCalls=4, maxToolCalls=3, maxTokens=5000000)
    assert '<th scope="row">Model calls</th><td class="num">2</td><td class="num">4</td>' in text
    assert '<th scope="row">Tool calls</th><td class="num">1</td><td class="num">3</td>' in text
    assert '<td class="num">5000000</td>' in text
    assert text.count("<li>") >= 6  # the timeline: started, 2 model calls, tool call, approval asked and decided ...


def test_the_inspector_refuses_what_is_not_an_agent_and_needs_read(live_hub: LiveHub) -> None:
    instance, approval = _run(live_hub, "note")
    with signed_in_client(live_hub) as client:
        assert client.get(f"/instances/{instance}/agents/{instance}").status_code == 404
        assert client.get(f"/instances/999999/agents/{approval['agentElementInstance']}").status_code == 404
        assert client.get(f"/instances/{instance}/agents/x").status_code == 404
    tasks_only = live_hub.token("tasks")
    with signed_in_client(live_hub, tasks_only) as client:
        refused = client.get(f"/instances/{instance}/agents/{approval['agentElementInstance']}")
        assert refused.status_code == 403 and "read" in refused.text
