"""Every A2A method, on both bindings, refuses a caller without a valid token before it reads anything (A1).

Checked one by one: a request with no ``Authorization`` header and one with a
token the hub does not know both get HTTP 401 with a ``WWW-Authenticate:
Bearer`` challenge, the JSON-RPC ones with -32600 and no A2A error code (those
codes mean other things), and nothing is started, canceled or configured, even for
a task that exists.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine import InstanceView

pytestmark = pytest.mark.anyio

_MESSAGE = {"messageId": "m-auth", "role": "ROLE_USER", "parts": [{"data": {"order": "o-1"}}]}
_PUSH = {"url": "http://127.0.0.1:9/hook", "id": "p1"}


def _rpc_calls(task_id: str) -> list[tuple[str, dict[str, Any]]]:
    task = {"id": task_id}
    config = {"taskId": task_id, "id": "p1"}
    return [
        ("SendMessage", {"message": _MESSAGE}),
        ("SendStreamingMessage", {"message": _MESSAGE}),
        ("GetTask", task),
        ("ListTasks", {}),
        ("CancelTask", task),
        ("SubscribeToTask", task),
        ("CreateTaskPushNotificationConfig", {"taskId": task_id, "config": _PUSH}),
        ("GetTaskPushNotificationConfig", config),
        ("ListTaskPushNotificationConfigs", {"taskId": task_id}),
        ("DeleteTaskPushNotificationConfig", config),
        ("GetExtendedAgentCard", {}),
    ]


def _rest_calls(task_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("POST", "/message:send", {"message": _MESSAGE}),
        ("POST", "/message:stream", {"message": _MESSAGE}),
        ("POST", f"/tasks/{task_id}:cancel", {}),
        ("GET", f"/tasks/{task_id}:subscribe", None),
        ("POST", f"/tasks/{task_id}:subscribe", {}),
        ("GET", f"/tasks/{task_id}", None),
        ("GET", f"/tasks/{task_id}/pushNotificationConfigs/p1", None),
        ("DELETE", f"/tasks/{task_id}/pushNotificationConfigs/p1", None),
        ("POST", f"/tasks/{task_id}/pushNotificationConfigs", _PUSH),
        ("GET", f"/tasks/{task_id}/pushNotificationConfigs", None),
        ("GET", "/tasks", None),
        ("GET", "/extendedAgentCard", None),
    ]


async def _waiting_task(a2a_hub: Any) -> InstanceView:
    """A task that exists and waits (``confirm`` waits for a person), so that a refusal cannot be a 404."""
    async with a2a_hub.http() as http:
        sent = await http.post(
            "/a2a/confirm", json={"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": _MESSAGE}}
        )
    assert sent.status_code == 200, sent.text
    [instance] = a2a_hub.engine.instances(process_id="confirm")
    return instance


def _assert_refused(response: Any, what: str) -> None:
    assert response.status_code == 401, f"{what}: {response.status_code} {response.text[:200]}"
    assert response.headers["www-authenticate"].startswith("Bearer"), what


@pytest.mark.parametrize("token", [None, "forged-token-the-hub-never-issued"])
async def test_each_json_rpc_method_without_a_valid_token_is_401_and_changes_nothing(
    a2a_hub: Any, token: str | None
) -> None:
    instance = await _waiting_task(a2a_hub)
    async with a2a_hub.http(token=token) as http:
        for number, (method, params) in enumerate(_rpc_calls(str(instance.key)), start=10):
            request = {"jsonrpc": "2.0", "id": number, "method": method, "params": params}
            for path in ("/a2a/confirm", "/a2a"):
                response = await http.post(path, json=request)
                _assert_refused(response, f"{method} at {path}")
                error = response.json()["error"]
                # the body of a caller not known is not read, so the id is not echoed
                assert response.json()["id"] is None and error["code"] == -32600, (method, error)
    assert [i.key for i in a2a_hub.engine.instances(process_id="confirm")] == [instance.key]
    assert a2a_hub.engine.instance(instance.key).state == "active"


@pytest.mark.parametrize("token", [None, "forged-token-the-hub-never-issued"])
async def test_each_http_json_route_without_a_valid_token_is_401_and_changes_nothing(
    a2a_hub: Any, token: str | None
) -> None:
    instance = await _waiting_task(a2a_hub)
    async with a2a_hub.http(token=token) as http:
        for method, path, body in _rest_calls(str(instance.key)):
            response = await http.request(method, "/a2a/confirm" + path, json=body)
            _assert_refused(response, f"{method} {path}")
    assert [i.key for i in a2a_hub.engine.instances(process_id="confirm")] == [instance.key]
    assert a2a_hub.engine.instance(instance.key).state == "active"
