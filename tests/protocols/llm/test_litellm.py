"""LiteLLMModel against an OpenAI-compatible server on 127.0.0.1: what is sent, what comes back, what never leaks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from protocols.llm import LiteLLMModel, ModelCallFailed, ModelResolver, UnknownModel
from tests.protocols.llm.conversation import SUPPORT_TOOLS, answered, make_turn, start
from tests.protocols.llm.openai_server import OpenAIServer, openai_server

KEY = "sk-test-secret-4f1c2a"
MODEL = "openai/test-model"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the only address these tests reach
    with openai_server() as running:
        yield running


def test_a_conversation_with_tool_calls_then_a_final_answer(server: OpenAIServer) -> None:
    server.reply_tool_calls(
        ("call_a", "lookup_order", {"orderId": "A-17", "_confidence": 0.85}), content="Let me look it up."
    )
    server.reply_text("Refunded 40 on order A-17.")
    model = ModelResolver.standard(timeout_s=30).resolve(MODEL)

    first = make_turn(start({"orderId": "A-17"}), SUPPORT_TOOLS, model=MODEL, endpoint=server.url)
    reply = model.complete(first)
    assert reply.answer == {
        "toolCalls": [{"id": "call_a", "name": "lookup_order", "arguments": {"orderId": "A-17"}, "confidence": 0.85}],
        "content": "Let me look it up.",
    }
    assert reply.usage["model"] == MODEL
    assert (reply.usage["inputTokens"], reply.usage["outputTokens"]) == (31, 9)
    assert reply.usage["costUsd"] == 0  # litellm has no price for test-model, and that is no failure
    assert reply.usage["latencyMs"] >= 0

    messages = answered(first.messages, reply, lambda call: {"status": "delivered", "total": 40})
    second = model.complete(make_turn(messages, SUPPORT_TOOLS, model=MODEL, endpoint=server.url))
    assert second.answer == {"final": "Refunded 40 on order A-17.", "content": None}

    sent = server.received[1]
    assert sent.path == "/v1/chat/completions"
    assert sent.body["model"] == "test-model"
    assert sent.body["messages"] == [
        {"role": "system", "content": "You resolve customer requests."},
        {"role": "user", "content": '{"orderId": "A-17"}'},
        {"role": "assistant", "content": "Let me look it up.", "tool_calls": [
            {"id": "call_a", "type": "function",
             "function": {"name": "lookup_order", "arguments": '{"orderId": "A-17"}'}}
        ]},
        {"role": "tool", "tool_call_id": "call_a", "content": '{"status": "delivered", "total": 40}'},
    ]
    tools = {tool["function"]["name"]: tool["function"] for tool in sent.body["tools"]}
    assert list(tools) == ["lookup_order", "refund", "delete_account", "ask_customer"]
    assert tools["refund"]["parameters"]["required"] == ["orderId", "amount"]
    assert tools["refund"]["parameters"]["properties"]["_confidence"]["type"] == "number"
    assert "_confidence" not in tools["refund"]["parameters"]["required"]
    assert sent.headers["authorization"] == f"Bearer {KEY}"  # the key came from the environment


def test_the_api_key_never_appears_in_the_reply(server: OpenAIServer) -> None:
    server.reply_tool_calls(("c1", "ask_customer", {"question": f"Is your key {KEY}?"}), content=f"echo {KEY}")
    reply = LiteLLMModel(MODEL).complete(make_turn(start("hi"), SUPPORT_TOOLS, model=MODEL, endpoint=server.url))

    dumped = json.dumps(reply.to_variables())
    assert KEY not in dumped
    assert reply.answer["toolCalls"][0]["arguments"] == {"question": "Is your key [secret]?"}


def test_a_provider_error_fails_the_step_once_without_the_key_in_the_message(server: OpenAIServer) -> None:
    server.fail(401, f"Incorrect API key provided: {KEY}")
    model = LiteLLMModel(MODEL)
    with pytest.raises(ModelCallFailed) as caught:
        model.complete(make_turn(start("hi"), SUPPORT_TOOLS, model=MODEL, endpoint=server.url))

    message = str(caught.value)
    assert KEY not in message and "[secret]" in message
    assert message.startswith(f"{MODEL}: AuthenticationError at {server.url}:")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert len(server.received) == 1  # litellm's own retries are off: the engine retries the job


def test_a_server_error_is_not_retried_by_litellm(server: OpenAIServer) -> None:
    server.fail(500, "upstream broke")
    with pytest.raises(ModelCallFailed, match="upstream broke"):
        LiteLLMModel(MODEL).complete(make_turn(start("hi"), [], model=MODEL, endpoint=server.url))
    assert len(server.received) == 1
    assert "tools" not in server.received[0].body  # no tools, no empty list


def test_a_server_that_does_not_answer_in_time_fails_the_step(server: OpenAIServer) -> None:
    server.hold = threading.Event()
    with pytest.raises(ModelCallFailed, match=r"no answer within 0\.5 s at http://127\.0\.0\.1"):
        LiteLLMModel(MODEL, timeout_s=0.5).complete(make_turn(start("hi"), [], model=MODEL, endpoint=server.url))
    assert len(server.received) == 1


def test_the_cost_comes_from_litellms_bundled_price_list_when_it_knows_the_model(server: OpenAIServer) -> None:
    server.reply_text("hello")
    model = "openai/gpt-4o-mini"
    reply = LiteLLMModel(model).complete(make_turn(start("hi"), [], model=model, endpoint=server.url))
    assert reply.usage["model"] == model
    assert reply.usage["costUsd"] > 0  # 31 prompt and 9 completion tokens at the listed prices


def test_the_models_default_endpoint_is_used_when_the_turn_names_none(server: OpenAIServer) -> None:
    server.reply_text("hello")
    reply = LiteLLMModel(MODEL, api_base=server.url).complete(make_turn(start("hi"), [], model=MODEL))
    assert reply.answer["final"] == "hello"


def test_a_model_string_litellm_cannot_route_is_an_unknown_model() -> None:
    with pytest.raises(UnknownModel, match="'no-such-model' is not a model litellm can reach: write it as"):
        LiteLLMModel("no-such-model").complete(make_turn(start("hi"), [], model="no-such-model"))
