"""What goes out and what comes back, without a network: the message built from a job, a task read as JSON, the card.

Requirements covered: A8 (only an http(s) interface of a binding the client
speaks is used; a card with none is refused with what it offers).
"""

from __future__ import annotations

from typing import Any

import pytest
from a2a.types import Artifact, Message, Part, Role, Task, TaskState, TaskStatus
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]

from protocols.a2a._grpc_channel import GrpcTarget, grpc_target
from protocols.a2a.call_task import RECORD_VARIABLE, InvalidCallTask, build_message
from protocols.a2a.client import AgentUnusable, ResultTooLarge, TaskOutcome, pinned_card, state_name
from registry import RemoteAgent
from tests.data.a2a.client.fixtures import job


def parts(message: Message) -> list[dict[str, Any]]:
    return [MessageToDict(p) for p in message.parts]


def test_text_comes_from_message_or_else_text_and_data_from_data() -> None:
    built = build_message(job({"agent": "a"}, {"message": "first", "text": "second", "data": {"n": 1}}), "m-1")
    assert built.message_id == "m-1" and built.role == Role.ROLE_USER
    assert parts(built) == [
        {"text": "first", "mediaType": "text/plain"},
        {"data": {"n": 1.0}, "mediaType": "application/json"},
    ]
    assert parts(build_message(job({"agent": "a"}, {"text": "second"}), "m"))[0]["text"] == "second"


def test_without_text_or_data_all_the_jobs_variables_but_the_record_are_one_data_part() -> None:
    variables = {"amount": 3, "customer": {"id": "c-1"}, RECORD_VARIABLE: {"job": 41}}
    built = build_message(job({"agent": "a"}, variables), "m")
    assert parts(built) == [{"data": {"amount": 3.0, "customer": {"id": "c-1"}}, "mediaType": "application/json"}]


def test_the_skill_header_becomes_the_messages_metadata_skill_id() -> None:
    built = build_message(job({"agent": "a", "skill": "translate"}, {"text": "hi"}), "m")
    assert MessageToDict(built.metadata) == {"skillId": "translate"}
    assert not build_message(job({"agent": "a"}, {"text": "hi"}), "m").HasField("metadata")


def test_a_null_text_is_no_text_and_a_non_text_one_is_refused() -> None:
    assert parts(build_message(job({"agent": "a"}, {"message": None, "text": "t"}), "m"))[0]["text"] == "t"
    with pytest.raises(InvalidCallTask, match=r"service task 'AskAgent' .*variable 'text' must be text, not int"):
        build_message(job({"agent": "a"}, {"text": 5}), "m")


def test_a_finished_task_reads_as_json_with_data_as_data_and_text_as_text() -> None:
    data = Part()
    data.data.struct_value.update({"total": 12, "ratio": 0.5, "items": [1, 2]})
    task = Task(
        id="t-1",
        context_id="c-1",
        status=TaskStatus(
            state=TaskState.TASK_STATE_COMPLETED,
            message=Message(message_id="s", role=Role.ROLE_AGENT, parts=[Part(text="all done")]),
        ),
        artifacts=[
            Artifact(artifact_id="a-1", name="answer", description="the sums", parts=[data, Part(text="12")]),
            Artifact(
                artifact_id="a-2",
                parts=[
                    Part(url="https://files.example/r.pdf", media_type="application/pdf"),
                    Part(raw=b"\x00\x01", filename="blob.bin"),
                ],
            ),
        ],
    )
    assert TaskOutcome.of_task(task).to_variable() == {
        "taskId": "t-1",
        "contextId": "c-1",
        "state": "completed",
        "message": "all done",
        "artifacts": [
            {
                "id": "a-1",
                "name": "answer",
                "description": "the sums",
                "parts": [{"total": 12, "ratio": 0.5, "items": [1, 2]}, "12"],
            },
            {
                "id": "a-2",
                "name": None,
                "parts": [
                    {"file": {"mediaType": "application/pdf", "url": "https://files.example/r.pdf"}},
                    {"file": {"filename": "blob.bin", "size": 2}},
                ],
            },
        ],
    }


def test_states_are_named_as_in_a2a_json() -> None:
    assert state_name(TaskState.TASK_STATE_INPUT_REQUIRED) == "input-required"
    assert state_name(TaskState.TASK_STATE_COMPLETED) == "completed"


def test_a_result_larger_than_the_cap_fails_instead_of_filling_a_variable() -> None:
    task = Task(
        id="t",
        status=TaskStatus(state=TaskState.TASK_STATE_COMPLETED),
        artifacts=[Artifact(artifact_id="a", parts=[Part(text="x" * (1024 * 1024 + 1))])],
    )
    with pytest.raises(ResultTooLarge, match="ask the agent for less"):
        TaskOutcome.of_task(task)


def agent(interfaces: list[dict[str, str]], **card: Any) -> RemoteAgent:
    body = {
        "name": "remote",
        "description": "d",
        "version": "1",
        "supportedInterfaces": interfaces,
        "capabilities": {"streaming": True},
        "skills": [],
        **card,
    }
    return RemoteAgent("remote", "https://agent.example", body, "h", "h", None, "approved")


def test_the_first_interface_the_client_speaks_is_the_one_used() -> None:
    card = pinned_card(
        agent(
            [
                {"url": "unix:///run/agent.sock", "protocolBinding": "GRPC", "protocolVersion": "1.0"},
                {"url": "agent.example", "protocolBinding": "GRPC", "protocolVersion": "1.0"},  # no port
                {"url": "ftp://agent.example/a2a", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
                {"url": "https://agent.example/rest", "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"},
                {"url": "https://agent.example/rpc", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            ]
        )
    )
    assert [(i.protocol_binding, i.url) for i in card.supported_interfaces] == [
        ("HTTP+JSON", "https://agent.example/rest")
    ]


def test_a_grpc_interface_listed_first_is_the_one_used() -> None:
    card = pinned_card(
        agent(
            [
                {"url": "agent.example:8601", "protocolBinding": "GRPC", "protocolVersion": "1.0"},
                {"url": "https://agent.example/rpc", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            ]
        )
    )
    assert [(i.protocol_binding, i.url) for i in card.supported_interfaces] == [("GRPC", "agent.example:8601")]


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("agent.example:8601", GrpcTarget("agent.example", 8601, tls=False)),
        ("127.0.0.1:50051", GrpcTarget("127.0.0.1", 50051, tls=False)),
        ("[::1]:50051", GrpcTarget("::1", 50051, tls=False)),
        ("grpc://agent.example", GrpcTarget("agent.example", 80, tls=False)),
        ("http://agent.example:9000/ignored", GrpcTarget("agent.example", 9000, tls=False)),
        ("https://grpc.example.com/a2a", GrpcTarget("grpc.example.com", 443, tls=True)),
        ("grpcs://grpc.example.com:8443", GrpcTarget("grpc.example.com", 8443, tls=True)),
        ("agent.example", None),
        ("unix:///run/agent.sock", None),
        ("ftp://agent.example:21", None),
        ("", None),
    ],
)
def test_a_grpc_url_names_host_port_and_whether_tls(url: str, target: GrpcTarget | None) -> None:
    assert grpc_target(url) == target


def test_a_card_in_the_0_3_shape_is_read_too() -> None:
    legacy = agent([], url="https://agent.example/a2a", preferredTransport="JSONRPC", protocolVersion="0.3.0")
    del legacy.card["supportedInterfaces"]
    [interface] = pinned_card(legacy).supported_interfaces
    assert (interface.protocol_binding, interface.url) == ("JSONRPC", "https://agent.example/a2a")


def test_a_card_without_a_usable_interface_is_refused_with_what_it_offers() -> None:
    with pytest.raises(AgentUnusable, match=r"offers no interface .* GRPC unix:///x; JSONRPC file:///x"):
        pinned_card(
            agent(
                [
                    {"url": "unix:///x", "protocolBinding": "GRPC"},
                    {"url": "file:///x", "protocolBinding": "JSONRPC"},
                ]
            )
        )
