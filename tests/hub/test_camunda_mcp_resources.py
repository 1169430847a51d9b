"""Camunda's MCP client connectors on their own: resources and prompts of a registered server, Camunda's shapes.

The server is a small MCP server over streamable HTTP on 127.0.0.1 with two
resources and one prompt, registered in the registry as ``docs``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp.server.lowlevel import Server

from engine import Engine
from engine.scheduler import run_until_idle
from hub.job_types import close_handlers, job_handlers
from hub.settings import HubSettings
from registry import McpServer, Registry
from tests.servers import serve_app

MODEL = Path(__file__).resolve().parents[1] / "data" / "agent" / "camunda_mcp_resources.bpmn"


async def _resources(ctx: Any, params: Any) -> types.ListResourcesResult:
    return types.ListResourcesResult(resources=[
        types.Resource(uri="file:///readme.txt", name="readme", mime_type="text/plain"),
        types.Resource(uri="file:///secret.txt", name="secret")])


async def _read(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    return types.ReadResourceResult(contents=[
        types.TextResourceContents(uri=str(params.uri), mime_type="text/plain", text=f"the text of {params.uri}")])


async def _prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
    topic = types.PromptArgument(name="topic", required=True)
    return types.ListPromptsResult(prompts=[types.Prompt(name="summarise", description="Summarises a topic",
                                                         arguments=[topic])])


async def _prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
    topic = (params.arguments or {}).get("topic")
    return types.GetPromptResult(description="A summary", messages=[
        types.PromptMessage(role="user", content=types.TextContent(type="text", text=f"Summarise {topic}."))])


@pytest.fixture
def docs_url() -> Iterator[str]:
    server: Server[Any] = Server("docs", on_list_resources=_resources, on_read_resource=_read,
                                 on_list_prompts=_prompts, on_get_prompt=_prompt)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        with serve_app(server.streamable_http_app(), sock, what="the docs MCP server"):
            yield f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    finally:
        sock.close()


def test_standalone_mcp_clients_list_and_read_resources_and_get_prompts_in_camundas_shapes(
    tmp_path: Path, docs_url: str
) -> None:
    registry = Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
    registry.mcp.add(McpServer(name="docs", transport="http", url=docs_url), [], actor="test")
    engine = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    workers = job_handlers(registry, HubSettings(http_allow="127.0.0.1"), engine=engine)
    try:
        [deployed] = engine.deploy([(MODEL.name, MODEL.read_bytes())])
        assert deployed.warnings == ()
        key = engine.start("camunda_mcp_resources", {"mcpUrl": docs_url}).key
        run_until_idle(engine, workers, timeout_s=60)

        assert engine.incidents(instance=key) == []
        variables = engine.instance(key).variables
        assert variables["resources"] == {"resources": [
            {"uri": "file:///readme.txt", "name": "readme", "mimeType": "text/plain"}]}  # the secret is filtered out
        assert variables["read"] == {"contents": [
            {"uri": "file:///readme.txt", "mimeType": "text/plain", "text": "the text of file:///readme.txt"}]}
        assert variables["prompts"] == {"promptDescriptions": [{
            "name": "summarise", "description": "Summarises a topic",
            "arguments": [{"name": "topic", "description": None, "required": True}]}]}
        assert variables["prompt"] == {"description": "A summary", "messages": [
            {"role": "user", "content": {"type": "text", "text": "Summarise invoices."}}]}
    finally:
        close_handlers(workers)
        engine.close()
        registry.close()


SECRET_SCOPE = MODEL.parent / "camunda_mcp_secret_scope.bpmn"


def test_a_client_needs_only_the_secrets_of_its_own_inputs_not_those_of_a_provider_it_can_see(
    tmp_path: Path, docs_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSET_BEDROCK_KEY", raising=False)
    monkeypatch.delenv("UNSET_DOCS_URI", raising=False)
    registry = Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
    registry.mcp.add(McpServer(name="docs", transport="http", url=docs_url), [], actor="test")
    engine = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    workers = job_handlers(registry, HubSettings(http_allow="127.0.0.1"), engine=engine)
    try:
        engine.deploy([(SECRET_SCOPE.name, SECRET_SCOPE.read_bytes())])
        key = engine.start("camunda_mcp_secret_scope", {"mcpUrl": docs_url}).key
        run_until_idle(engine, workers, timeout_s=60)

        # the sub-process's provider secret is unset, and the client inside it, which never reads it, ran
        assert engine.instance(key).variables["resources"]["resources"][0]["uri"] == "file:///readme.txt"
        # a secret the client does read and that has no value is still an incident that names it
        [incident] = engine.incidents(instance=key)
        assert incident.element_id == "ReadWithSecret"
        assert "{{secrets.UNSET_DOCS_URI}}" in incident.message
    finally:
        close_handlers(workers)
        engine.close()
        registry.close()
