"""Hardening item 5 over REST: ``1e999``, NaN and lone surrogates are refused at every JSON body, naming the field.

Before, ``1e999`` became Infinity and was stored; every later listing of
instances answered 500 and the instance could not be removed. ``"\\ud800"``
became an unhandled 500 at once.
"""

from __future__ import annotations

import pytest

from tests.hub.harness import LiveHub

BODIES = [
    ("/api/v1/process-instances", '{"processId": "review", "variables": {"amount": %s}}', "variables.amount"),
    ("/api/v1/process-instances/1/variables", '{"variables": {"amount": %s}}', "variables.amount"),
    ("/api/v1/user-tasks/1/complete", '{"variables": {"form": {"amount": %s}}}', "variables.form.amount"),
    ("/api/v1/jobs/1/complete", '{"worker": "w", "lockVersion": 1, "variables": {"amount": %s}}', "variables.amount"),
    ("/api/v1/jobs/1/fail", '{"worker": "w", "lockVersion": 1, "errorMessage": %s}', "errorMessage"),
    ("/api/v1/jobs/1/error", '{"worker": "w", "lockVersion": 1, "errorCode": "e", "variables": [%s]}', "variables[0]"),
    ("/api/v1/messages", '{"name": "paid", "correlationKey": "o-1", "variables": {"amount": %s}}', "variables.amount"),
    ("/api/v1/signals", '{"name": "go", "variables": {"list": [1, %s]}}', "variables.list[1]"),
    ("/api/v1/jobs/activate", '{"type": "echo", "requestTimeout": %s}', "requestTimeout"),
]
BAD_VALUES = [("1e999", "1e999 is too large"), ("-1E400", "-1E400 is too large"), ("NaN", "NaN is not a JSON number")]


@pytest.mark.parametrize(("path", "template", "field"), BODIES)
@pytest.mark.parametrize(("literal", "reason"), BAD_VALUES)
def test_a_number_that_would_be_infinity_or_nan_is_a_400_problem_naming_the_field(
    live_hub: LiveHub, path: str, template: str, field: str, literal: str, reason: str
) -> None:
    with live_hub.client() as c:
        answer = c.post(path, content=(template % literal).encode())
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert f"'{field}'" in problem["detail"] and reason in problem["detail"]
    assert problem["field"] == field


@pytest.mark.parametrize(("path", "template", "field"), BODIES)
def test_a_lone_surrogate_is_a_400_problem_naming_the_field_not_a_500(
    live_hub: LiveHub, path: str, template: str, field: str
) -> None:
    with live_hub.client() as c:
        answer = c.post(path, content=(template % '"ab\\ud800"').encode())
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    detail = answer.json()["detail"]
    assert f"'{field}'" in detail and "lone surrogate" in detail


def test_a_lone_surrogate_in_a_key_is_refused_too(live_hub: LiveHub) -> None:
    with live_hub.client() as c:
        answer = c.post("/api/v1/process-instances", content=b'{"processId": "review", "variables": {"\\udc00": 1}}')
    assert answer.status_code == 400
    assert "'variables'" in answer.json()["detail"] and "lone surrogate" in answer.json()["detail"]


def test_after_refused_infinity_and_surrogates_the_instance_list_answers_200_and_the_instance_can_be_cancelled(
    live_hub: LiveHub,
) -> None:
    live_hub.deploy("review.bpmn")
    with live_hub.client() as c:
        started = c.post(
            "/api/v1/process-instances",
            json={"processId": "review", "variables": {"text": "hi", "orderId": "o-1"}, "awaitCompletion": 10},
        )
        key = started.json()["instance"]
        task = c.get("/api/v1/user-tasks", params={"instance": key}).json()["items"][0]["id"]
        attempts = [
            (f"/api/v1/process-instances/{key}/variables", b'{"variables": {"amount": 1e999}}'),
            (f"/api/v1/process-instances/{key}/variables", b'{"variables": {"name": "\\ud800"}}'),
            (f"/api/v1/user-tasks/{task}/complete", b'{"variables": {"amount": -1e999}}'),
            ("/api/v1/messages", b'{"name": "paid", "correlationKey": "o-1", "variables": {"amount": Infinity}}'),
            ("/api/v1/process-instances", b'{"processId": "review", "variables": {"amount": 1e999}}'),
        ]
        for path, body in attempts:
            assert c.post(path, content=body).status_code == 400, path
        listing = c.get("/api/v1/process-instances")
        assert listing.status_code == 200
        assert [i["instance"] for i in listing.json()["items"]] == [key]
        assert c.get(f"/api/v1/process-instances/{key}").json()["variables"] == {
            "text": "hi",
            "orderId": "o-1",
            "echoed": "hi",
        }
        assert c.post(f"/api/v1/process-instances/{key}/cancel").json()["state"] == "terminated"
