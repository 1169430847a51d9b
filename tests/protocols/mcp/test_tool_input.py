"""What an ``mcp`` job asks a person for an upstream task's input request, and what it sends back (``tool_input``).

The whole path (hub to hub, REST, the console's form) is ``tests/hub/test_mcp_upstream_input.py``; these are the
shapes it does not reach: URL-mode requests, requests no person is asked, answers that are not (or no longer) due.
"""

from __future__ import annotations

from typing import Any

from engine.scheduler import Job
from protocols.mcp.tasks_client import DetailedTask
from protocols.mcp.tool_input import ANSWER_VARIABLE, Asked, answer_of, ask_person, first_request, unanswered


def _task(status: str, requests: dict[str, Any] | None) -> DetailedTask:
    return DetailedTask.model_validate({"taskId": "t1", "status": status, "createdAt": "2026-12-07T00:00:00Z",
                                        "lastUpdatedAt": "2026-12-07T00:00:00Z", "ttlMs": None,
                                        "inputRequests": requests})


def _job(answer: Any = None, headers: dict[str, str] | None = None) -> Job:
    variables = {} if answer is None else {ANSWER_VARIABLE: answer}
    return Job(key=9, type="mcp", variables=variables, headers=headers or {}, retries=3, instance=4,
               element_id="remote", process_id="p")


SAMPLE = {"method": "sampling/createMessage", "params": {"messages": [], "maxTokens": 10}}
URL = {"method": "elicitation/create", "params": {"mode": "url", "message": "Sign in to the archive",
                                                  "url": "https://127.0.0.1/consent", "elicitationId": "e1"}}
FORM = {"method": "elicitation/create",
        "params": {"message": "Which size?", "requestedSchema": {
            "type": "object", "properties": {"size": {"type": "string", "enum": ["S", "M"]}}}}}


def test_the_first_elicitation_is_asked_and_requests_no_person_answers_are_named_for_the_wait() -> None:
    task = _task("input_required", {"sample-1": SAMPLE, "size": FORM, "login": URL})
    request = first_request(task)
    assert request is not None and (request.key, request.message, request.url) == ("size", "Which size?", None)
    assert request.asked == Asked("size", ("size",))
    assert unanswered(task) == ["sampling/createMessage"]
    assert first_request(_task("input_required", {"sample-1": SAMPLE})) is None
    assert first_request(_task("working", {"size": FORM})) is None  # only a task that waits for input asks


def test_a_url_mode_request_carries_its_url_and_its_answer_has_no_content() -> None:
    request = first_request(_task("input_required", {"login": URL}))
    assert request is not None and request.url == "https://127.0.0.1/consent" and request.asked.fields is None
    asked = ask_person(_job(headers={"inputCandidateGroups": "ops, legal", "inputAssignee": " "}), "archive",
                       "fetch", "t1", request, 1)
    assert asked.name == "archive: Sign in to the archive" and asked.assignee is None
    assert asked.candidate_groups == ("ops", "legal") and asked.answer_variable == ANSWER_VARIABLE
    assert asked.details["url"] == "https://127.0.0.1/consent" and "requestedSchema" not in asked.details
    assert answer_of(_job({"round": 1, "variables": {"done": True}}), request.asked, 0) == (1, {"action": "accept"})


def test_an_answer_is_sent_once_with_the_schemas_fields_or_as_the_action_the_person_chose() -> None:
    asked = Asked("size", ("size",))
    answer = {"round": 2, "variables": {"size": "M", "private": "x"}}
    assert answer_of(_job(answer), asked, 1) == (2, {"action": "accept", "content": {"size": "M"}})
    assert answer_of(_job(answer), asked, 2) is None  # already passed on
    assert answer_of(_job(answer), None, 1) is None  # nothing was asked
    assert answer_of(_job({"round": 2, "variables": {"action": "decline"}}), asked, 1) == (2, {"action": "decline"})
    assert answer_of(_job({"round": True, "variables": {}}), asked, 0) is None
    assert Asked.of(asked.to_json()) == asked and Asked.of({"key": 3}) is None
