"""Hardening item 5 over A2A: ``1e999`` and lone surrogates in a data part or metadata are refused by field, never 500.

Both bindings are checked: JSON-RPC at ``/a2a/<agent>`` and HTTP+JSON at
``/a2a/<agent>/message:send``. Nothing is started.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio


def sent_message(part_json: str, metadata_json: str = "{}") -> str:
    return (
        '{"messageId": "m-1", "role": "ROLE_USER", "parts": [' + part_json + '], "metadata": ' + metadata_json + "}"
    )


CASES = [
    ('{"data": {"name": 1e999}}', "{}", "name", "1e999 is too large"),
    ('{"data": {"name": "Ann", "extra": [NaN]}}', "{}", "extra[0]", "NaN is not a JSON number"),
    ('{"data": {"name": "\\ud800"}}', "{}", "name", "lone surrogate"),
    ('{"text": "Ann\\udfff"}', "{}", "parts[0].text", "lone surrogate"),
    ('{"data": {"name": "Ann"}}', '{"skillId": "\\ud83d"}', "metadata.skillId", "lone surrogate"),
    ('{"data": {"name": "Ann"}}', '{"weight": -1e999}', "metadata.weight", "-1e999 is too large"),
]


@pytest.mark.parametrize(("part", "metadata", "field", "problem"), CASES)
async def test_a_json_rpc_message_with_infinity_or_a_lone_surrogate_is_refused_naming_the_field(
    a2a_hub: Any, part: str, metadata: str, field: str, problem: str
) -> None:
    body = '{"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": ' + sent_message(part, metadata)
    async with a2a_hub.http() as http:
        answer = await http.post("/a2a/greet", content=(body + "}}").encode())
    assert answer.status_code < 500, answer.text
    error = answer.json()["error"]
    assert field in error["message"] and problem in error["message"], error
    assert a2a_hub.engine.instances() == []


@pytest.mark.parametrize(("part", "metadata", "field", "problem"), CASES)
async def test_an_http_json_message_with_infinity_or_a_lone_surrogate_is_a_400_naming_the_field(
    a2a_hub: Any, part: str, metadata: str, field: str, problem: str
) -> None:
    body = '{"message": ' + sent_message(part, metadata) + "}"
    async with a2a_hub.http() as http:
        answer = await http.post(
            "/a2a/greet/message:send", content=body.encode(), headers={"content-type": "application/json"}
        )
    assert answer.status_code == 400, answer.text
    assert field in answer.text and problem in answer.text, answer.text
    assert a2a_hub.engine.instances() == []
