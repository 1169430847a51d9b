"""Camunda's provider.* configuration mapped to litellm, credentials from secrets, a Camunda agent end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, WorkerRegistry
from engine.agent import MODEL_JOB_TYPE
from engine.ports import ManualClock
from engine.scheduler import run_until_idle
from protocols.llm import ModelResolver, ModelTask, ScriptedModel, UnknownModel
from protocols.llm.camunda_providers import litellm_call
from protocols.llm.scripted import ScriptedTurn
from tests.protocols.llm.conversation import DATA
from tests.protocols.llm.openai_server import OpenAIServer, openai_server

AGENT = DATA.parent / "agent" / "camunda_agent.bpmn"
KEY = "sk-camunda-secret-8e2d"
SECRETS = {"LLM_KEY": KEY, "AWS_ACCESS": "AKIA-test-access", "AWS_SECRET": "aws-secret-value-31",
           "SA_JSON": '{"type": "service_account"}', "AZ_CLIENT_SECRET": "azure-client-secret-7"}


def _secrets(name: str) -> str | None:
    return SECRETS.get(name)


@pytest.mark.parametrize(("provider", "model", "options", "api_base"), [
    ({"type": "openai", "openai": {
        "authentication": {"apiKey": "{{secrets.LLM_KEY}}", "organizationId": "org-1", "projectId": "proj-1"},
        "model": {"model": "gpt-4o", "parameters": {"maxCompletionTokens": 500, "temperature": 0.2, "topP": 0.9}}}},
     "openai/gpt-4o",
     {"api_key": KEY, "organization": "org-1", "project": "proj-1", "max_completion_tokens": 500,
      "temperature": 0.2, "top_p": 0.9}, None),
    ({"type": "anthropic", "anthropic": {
        "endpoint": "https://anthropic.example/v1", "authentication": {"apiKey": "{{secrets.LLM_KEY}}"},
        "model": {"model": "claude-sonnet-4-5", "parameters": {"maxTokens": 1000, "topK": 40}}}},
     "anthropic/claude-sonnet-4-5", {"api_key": KEY, "max_tokens": 1000, "top_k": 40},
     "https://anthropic.example/v1"),
    ({"type": "bedrock", "bedrock": {
        "region": "eu-central-1", "authentication": {"type": "credentials", "accessKey": "{{secrets.AWS_ACCESS}}",
                                                     "secretKey": "{{secrets.AWS_SECRET}}"},
        "model": {"model": "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "parameters": {"maxTokens": 800}}}},
     "bedrock/eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
     {"aws_access_key_id": "AKIA-test-access", "aws_secret_access_key": "aws-secret-value-31",
      "aws_region_name": "eu-central-1", "max_tokens": 800}, None),
    ({"type": "azureOpenAi", "azureOpenAi": {
        "endpoint": "https://my.openai.azure.com", "authentication": {
            "type": "clientCredentials", "clientId": "client-1", "clientSecret": "{{secrets.AZ_CLIENT_SECRET}}",
            "tenantId": "tenant-1"},
        "model": {"deploymentName": "gpt-4o-deployment", "parameters": {"temperature": 0}}}},
     "azure/gpt-4o-deployment",
     {"client_id": "client-1", "client_secret": "azure-client-secret-7", "tenant_id": "tenant-1", "temperature": 0},
     "https://my.openai.azure.com"),
    ({"type": "google-vertex-ai", "googleVertexAi": {
        "projectId": "my-project", "region": "europe-west4",
        "authentication": {"type": "serviceAccountCredentials", "jsonKey": "{{secrets.SA_JSON}}"},
        "model": {"model": "gemini-2.5-pro", "parameters": {"maxOutputTokens": 256, "topK": 3}}}},
     "vertex_ai/gemini-2.5-pro",
     {"vertex_credentials": '{"type": "service_account"}', "vertex_project": "my-project",
      "vertex_location": "europe-west4", "max_tokens": 256, "top_k": 3}, None),
    ({"type": "openaiCompatible", "openaiCompatible": {
        "endpoint": "http://127.0.0.1:8000/v1", "headers": {"X-Tenant": "t1"},
        "model": {"model": "llama3", "parameters": {"customParameters": {"seed": 7}}}}},
     "openai/llama3", {"api_key": "none", "extra_headers": {"X-Tenant": "t1"}, "extra_body": {"seed": 7}},
     "http://127.0.0.1:8000/v1"),
])
def test_each_provider_type_maps_to_a_litellm_model_and_its_keyword_arguments(
        provider: dict[str, Any], model: str, options: dict[str, Any], api_base: str | None) -> None:
    call = litellm_call(provider, _secrets)
    assert (call.model, call.options, call.api_base) == (model, options, api_base)


def test_the_secret_values_used_are_hidden_and_the_timeout_is_read_as_an_iso_duration() -> None:
    call = litellm_call({"type": "bedrock", "bedrock": {
        "region": "us-east-1", "endpoint": "https://bedrock.example", "timeouts": {"timeout": "PT45S"},
        "authentication": {"accessKey": "{{secrets.AWS_ACCESS}}", "secretKey": "{{secrets.AWS_SECRET}}"},
        "model": {"model": "m"}}}, _secrets)
    assert call.hidden == ("aws-secret-value-31", "AKIA-test-access")
    assert call.timeout_s == 45 and call.api_base is None
    assert call.options["aws_bedrock_runtime_endpoint"] == "https://bedrock.example"


def test_a_missing_secret_or_model_or_an_unknown_provider_type_is_an_unknown_model() -> None:
    with pytest.raises(UnknownModel, match=r"secrets\.NOPE"):
        litellm_call({"type": "openai", "openai": {"authentication": {"apiKey": "{{secrets.NOPE}}"},
                                                   "model": {"model": "gpt-4o"}}}, _secrets)
    with pytest.raises(UnknownModel, match="names no model"):
        litellm_call({"type": "anthropic", "anthropic": {}}, _secrets)
    with pytest.raises(UnknownModel, match=r"provider\.type 'custom'"):
        litellm_call({"type": "custom"}, _secrets)


# --- a Camunda agent end to end: ModelTask, litellm, a scripted OpenAI-compatible server --------------------


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    opened = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}", clock=ManualClock())
    yield opened
    opened.close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the only address these tests reach
    with openai_server() as running:
        yield running


def _run(engine: Engine, task: ModelTask, endpoint: str) -> int:
    workers = WorkerRegistry()
    workers.register(MODEL_JOB_TYPE, task)
    engine.deploy([(AGENT.name, AGENT.read_bytes())])
    view = engine.start("camunda_agent", {"inputText": "What is 5 + 3?", "followUpInput": None, "maxCalls": 5,
                                          "responseFormat": "text", "llmEndpoint": endpoint})
    run_until_idle(engine, workers, timeout_s=60)
    return view.key


def test_a_camunda_agent_calls_its_provider_with_the_key_from_secrets_which_never_reaches_the_journal(
        engine: Engine, server: OpenAIServer) -> None:
    server.reply_tool_calls(("call_1", "Add", {"a": 5, "b": 3}))
    server.reply_text(f"The sum is 8 (and my key is {KEY})")
    key = _run(engine, ModelTask(engine, ModelResolver.standard(), secrets=lambda n: {"CALC_LLM_KEY": KEY}.get(n)),
               server.url)
    assert [r.body["model"] for r in server.received] == ["calc-model", "calc-model"]
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in server.received)
    assert server.received[1].body["messages"][-1] == {"role": "tool", "tool_call_id": "call_1", "content": "8"}
    view = engine.instance(key)
    assert view.variables["agent"]["responseText"] == "The sum is 8 (and my key is [secret])"
    recorded = json.dumps(engine.journal(key, limit=1000)) + json.dumps(view.variables, default=str)
    assert KEY not in recorded
    [started] = [e for e in engine.journal(key, limit=1000) if e["type"] == "agent_started"]
    assert started["data"]["model"] == "camunda:openaiCompatible"


def test_a_model_named_for_every_camunda_agent_answers_instead_of_its_provider(engine: Engine) -> None:
    resolver = ModelResolver.standard()
    resolver.register("fixed", lambda _: ScriptedModel([ScriptedTurn(final="8", is_final=True)]))
    key = _run(engine, ModelTask(engine, resolver, camunda_model="fixed"), "http://127.0.0.1:9/v1")
    assert engine.instance(key).variables["agent"]["responseText"] == "8"
