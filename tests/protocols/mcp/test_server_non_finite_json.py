"""Hardening item 5 over MCP's HTTP transport: ``1e999`` and lone surrogates are a parse error naming the field.

The strict parser (``engine.strict_json``) reads the body before the SDK does,
so no tool, process or built-in, ever sees Infinity or a lone surrogate, and
no instance is started.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio


def tools_call(tool: str, arguments_json: str) -> bytes:
    params = '{"name": "' + tool + '", "arguments": ' + arguments_json + "}"
    return ('{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": ' + params + "}").encode()


@pytest.mark.parametrize(
    ("tool", "arguments_json", "field", "problem"),
    [
        ("quote", '{"amount": 1e999}', "params.arguments.amount", "1e999 is too large"),
        ("quote", '{"amount": 4, "note": "\\ud800"}', "params.arguments.note", "lone surrogate"),
        ("agenthub_list_instances", '{"processId": "x\\udfff"}', "params.arguments.processId", "lone surrogate"),
        ("agenthub_get_instance", '{"instance": -1e400}', "params.arguments.instance", "-1e400 is too large"),
    ],
)
@pytest.mark.parametrize("version", ["2025-11-25", "2026-07-28"])
async def test_infinity_or_a_lone_surrogate_in_tool_arguments_is_a_parse_error_naming_the_field(
    mcp_hub: Any, tool: str, arguments_json: str, field: str, problem: str, version: str
) -> None:
    async with mcp_hub.http("agent") as http:
        answer = await http.post(
            mcp_hub.url, content=tools_call(tool, arguments_json), headers={"mcp-protocol-version": version}
        )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == -32700
    assert f"'{field}'" in error["message"] and problem in error["message"]
    assert error["data"] == {"field": field}
    assert mcp_hub.engine.instances() == []
