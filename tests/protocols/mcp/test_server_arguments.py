"""Input hardening (RELIABILITY.md M14): bad arguments are refused with a clear message and start nothing.

Schema violations come back as tool errors (``isError: true``), which the
2025-11-25 spec asks for so the model can correct itself; broken JSON and
oversized bodies are refused at the HTTP layer (400 parse error, 413).
Nothing ever answers 500, and no instance is started.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio


async def refused(hub: Any, tool: str, arguments: dict[str, Any], mode: str = "legacy") -> dict[str, Any]:
    async with hub.client("agent", mode=mode) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert result.structured_content is not None
    error: dict[str, Any] = result.structured_content["error"]
    assert error["type"] == "invalidArguments"
    assert hub.engine.instances() == []
    return error


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"amount": 5, "discount": 1}, "unknown argument 'discount' (this tool takes: amount, note)"),
        ({"amount": "5"}, "'amount' must be a number, not a string"),
        ({"amount": True}, "'amount' must be a number, not a boolean"),
        ({"note": "x"}, "missing required argument 'amount'"),
        ({"amount": 1, "note": {"nested": 1}}, "'note' must be a string, not an object"),
    ],
)
async def test_arguments_that_break_the_schema_are_a_tool_error_naming_the_problem(
    mcp_hub: Any, mode: str, arguments: dict[str, Any], problem: str
) -> None:
    error = await refused(mcp_hub, "quote", arguments, mode)
    assert problem in error["problems"]
    assert error["message"].startswith("invalid arguments for 'quote': ")


async def test_an_integer_input_refuses_a_fraction(mcp_hub: Any) -> None:
    error = await refused(mcp_hub, "routing", {"score": 2.5})
    assert error["problems"] == ["'score' must be an integer, not a number"]


async def test_arguments_over_one_mebibyte_are_refused(mcp_hub: Any) -> None:
    error = await refused(mcp_hub, "echo", {"text": "x" * (1_100_000)})
    assert "bytes of JSON; at most 262144 are accepted" in error["message"]  # engine.arguments.MAX_ARGUMENT_BYTES


async def test_arguments_nested_deeper_than_the_limit_are_refused(mcp_hub: Any) -> None:
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(40):
        inner["a"] = {}
        inner = inner["a"]
    error = await refused(mcp_hub, "echo", deep)
    assert "nest deeper than 32 levels" in error["message"]


async def test_ids_beyond_64_bits_are_refused_before_reaching_the_database(mcp_hub: Any) -> None:
    error = await refused(mcp_hub, "agenthub_get_instance", {"instance": 2**64})
    assert error["problems"] == [f"'instance' must be at most {2**63 - 1}"]


async def test_builtin_tools_check_their_arguments_too(mcp_hub: Any) -> None:
    error = await refused(mcp_hub, "agenthub_list_instances", {"limit": 1000, "colour": "red"})
    assert set(error["problems"]) == {
        "unknown argument 'colour' (this tool takes: after, limit, processId, state)",
        "'limit' must be at most 100",
    }


def tools_call(arguments_json: str) -> bytes:
    return (
        '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":' + arguments_json + "}}"
    ).encode()


@pytest.mark.parametrize(
    ("arguments_json", "problem"),
    [
        ('{"a": 1, "a": 2}', "the key 'a' appears twice"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ("[" * 10_000 + "]" * 10_000, "nests too deeply"),
        ('{"a": "\\ud800', "Unterminated string"),
    ],
)
@pytest.mark.parametrize("version", ["2025-11-25", "2026-07-28"])
async def test_json_the_parser_would_bend_is_a_parse_error_not_a_500(
    mcp_hub: Any, arguments_json: str, problem: str, version: str
) -> None:
    async with mcp_hub.http("agent") as http:
        answer = await http.post(
            mcp_hub.url, content=tools_call(arguments_json), headers={"mcp-protocol-version": version}
        )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == -32700 and problem in error["message"]
    assert mcp_hub.engine.instances() == []


async def test_a_body_over_the_limit_is_refused_with_413_before_it_is_parsed(mcp_hub: Any) -> None:
    async with mcp_hub.http("agent") as http:
        answer = await http.post(mcp_hub.url, content=tools_call('{"text": "' + "x" * 10_000_000 + '"}'))
    assert answer.status_code == 413
    assert mcp_hub.engine.instances() == []
