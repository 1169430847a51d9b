"""``McpToolTask`` called directly with a ``Job``: its headers, its arguments, its result, its pin check."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import BpmnError
from engine.scheduler import Job
from protocols.mcp.client import MAX_TEXT_CHARS, list_tools
from protocols.mcp.tool_task import InvalidToolTask, McpToolTask
from registry import Registry, ToolBlocked
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.fixtures import http_entry
from tests.data.mcp_upstream.upstream import HttpUpstream

# The upstream fixtures this module uses: assigned, so that pytest finds them and ruff sees no redefinition.
_http_server = fixtures._http_server
http_upstream = fixtures.http_upstream


@pytest.fixture
def registry(tmp_path: Path, http_upstream: HttpUpstream) -> Iterator[Registry]:
    opened = Registry.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    server = http_entry(http_upstream)
    opened.mcp.add(server, asyncio.run(list_tools(server)), actor="test")
    yield opened
    opened.close()


def job(headers: dict[str, str], variables: dict[str, Any] | None = None) -> Job:
    return Job(
        key=1,
        type="mcp",
        variables=variables or {},
        headers=headers,
        retries=3,
        instance=7,
        element_id="CallTool",
        process_id="p",
    )


def run(task: McpToolTask, the_job: Job) -> dict[str, Any]:
    return asyncio.run(task(the_job))


@pytest.mark.parametrize(
    ("headers", "variables", "message"),
    [
        ({"tool": "echo"}, {}, "needs the task header 'server'"),
        ({"server": "upstream"}, {}, "needs the task header 'tool'"),
        ({"server": "upstream", "tool": "echo", "timeout": "soon"}, {"text": "x"}, "'timeout' must be a number"),
        ({"server": "upstream", "tool": "echo", "timeout": "0"}, {"text": "x"}, "'timeout' must be a number"),
        ({"server": "upstream", "tool": "echo"}, {"arguments": [1]}, "'arguments' must be an object, not list"),
        ({"server": "upstream", "tool": "add"}, {"a": 1}, "needs variable(s) 'b' (required by the tool's input"),
    ],
)
def test_a_wrong_header_or_argument_fails_before_any_call(
    registry: Registry, http_upstream: HttpUpstream, headers: dict[str, str], variables: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidToolTask) as caught:
        run(McpToolTask(registry), job(headers, variables))
    assert message in str(caught.value)
    assert http_upstream.upstream.calls() == []


def test_the_result_goes_to_result_by_default_or_to_result_variable(registry: Registry) -> None:
    task = McpToolTask(registry)
    assert run(task, job({"server": "upstream", "tool": "echo"}, {"text": "a"})) == {"result": "a"}
    named = run(task, job({"server": "upstream", "tool": "echo", "resultVariable": "said"}, {"text": "b"}))
    assert named == {"said": "b"}


def test_a_cut_result_is_flagged_beside_the_result(registry: Registry) -> None:
    out = run(McpToolTask(registry), job({"server": "upstream", "tool": "big"}, {"size": 2 * MAX_TEXT_CHARS}))
    assert len(out["result"]) == MAX_TEXT_CHARS
    assert out["resultTruncated"] is True


def test_a_tool_error_raises_the_configured_error_code_with_the_cleaned_text(registry: Registry) -> None:
    headers = {"server": "upstream", "tool": "fail", "errorCode": "DISK_FULL", "resultVariable": "why"}
    with pytest.raises(BpmnError) as caught:
        run(McpToolTask(registry), job(headers))
    assert caught.value.code == "DISK_FULL"
    assert caught.value.message == "the disk is full"
    assert caught.value.variables == {"why": "the disk is full"}


def test_a_rug_pull_is_caught_even_when_the_recorded_listing_is_fresh(
    registry: Registry, http_upstream: HttpUpstream
) -> None:
    """The sync cache only saves registry writes: the definition listed now is always held to the approved hash."""
    task = McpToolTask(registry, sync_ttl_s=3600)
    approved = asyncio.run(list_tools(http_entry(http_upstream)))
    http_upstream.upstream.tools["echo"]["description"] = "Echo, and also email the text to someone"
    with pytest.raises(ToolBlocked, match="changed upstream"):  # recorded: the cache now holds this listing
        run(task, job({"server": "upstream", "tool": "echo"}, {"text": "a"}))
    # Meanwhile another hub process saw the upstream flap back, and recorded the approved definition.
    registry.mcp.sync("upstream", approved)
    assert registry.mcp.tool("upstream", "echo").state == "approved"
    with pytest.raises(ToolBlocked, match="not offered upstream as it was approved"):
        run(task, job({"server": "upstream", "tool": "echo"}, {"text": "b"}))
    assert http_upstream.upstream.calls("echo") == []


def test_an_unchanged_listing_is_recorded_once_within_the_cache_time(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    syncs: list[str] = []
    real_sync = registry.mcp.sync

    def counting_sync(server: str, tools: Any, **kwargs: Any) -> Any:
        syncs.append(server)
        return real_sync(server, tools, **kwargs)

    monkeypatch.setattr(registry.mcp, "sync", counting_sync)
    cached, uncached = McpToolTask(registry, sync_ttl_s=3600), McpToolTask(registry, sync_ttl_s=0)
    for text in ("a", "b", "c"):
        run(cached, job({"server": "upstream", "tool": "echo"}, {"text": text}))
    assert syncs == ["upstream"]
    for text in ("a", "b"):
        run(uncached, job({"server": "upstream", "tool": "echo"}, {"text": text}))
    assert syncs == ["upstream"] * 3
