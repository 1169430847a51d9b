"""RELIABILITY A12: message limits inside the body limit.

A message with 10,000 parts, and one whose metadata nests 5,000 levels deep
(both well under the body size limit), are refused with an A2A error that
says what is wrong; the hub starts nothing and keeps serving.
"""

from __future__ import annotations

import json
import uuid

import httpx

from tests.hub.harness import LiveHub


def _send(http: httpx.Client, message: dict[str, object] | str) -> httpx.Response:
    text = message if isinstance(message, str) else json.dumps(message)
    body = '{"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": ' + text + "}}"
    return http.post("/a2a/straight", content=body, headers={"content-type": "application/json"})


def test_too_many_parts_or_metadata_nested_too_deep_is_refused_and_starts_nothing(live_hub: LiveHub) -> None:
    live_hub.deploy("straight.bpmn")
    token = live_hub.token("start", "read")
    headers = {"Authorization": f"Bearer {token}", "A2A-Version": "1.0"}
    with httpx.Client(base_url=live_hub.url, headers=headers, timeout=60) as http:
        many = {"messageId": str(uuid.uuid4()), "role": "ROLE_USER", "parts": [{"text": "x"}] * 10_000}
        answer = _send(http, many)
        assert answer.status_code in (200, 400), answer.text
        error = answer.json()["error"]
        assert "at most" in error["message"] and "parts" in error["message"], error

        nested = '{"a": ' * 5_000 + '"bottom"' + "}" * 5_000  # written out: json.dumps cannot nest this deep
        deep = (f'{{"messageId": "{uuid.uuid4()}", "role": "ROLE_USER", "parts": [{{"data": {{"amount": 1}}}}], '
                f'"metadata": {nested}}}')
        assert len(deep) < 1_000_000  # under the body limit: the depth is what is refused
        answer = _send(http, deep)
        assert answer.status_code in (200, 400), answer.text
        error = answer.json()["error"]
        assert error == {"code": -32700, "message": "Parse error: the JSON nests too deeply"}

        # the hub still serves, and nothing was started
        ok = _send(http, {"messageId": str(uuid.uuid4()), "role": "ROLE_USER", "parts": [{"data": {"amount": 2}}]})
        assert ok.json()["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
    with live_hub.client() as rest:
        assert len(rest.get("/api/v1/process-instances").json()["items"]) == 1
