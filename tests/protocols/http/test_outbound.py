"""Camunda's outbound-connector headers, applied to any connector's answer or failure (``protocols.http.outbound``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from engine import BpmnError
from engine.exceptions import JobFailure
from engine.scheduler import Job
from protocols.http import CamundaOutbound, ConnectorError, ConnectorInputError, OutboundHeaders, run_outbound

WHERE = "task 'T' of process 'p'"


def job(retries: int = 3, **headers: str) -> Job:
    return Job(key=1, type="io.camunda:slack:1", variables={}, headers=headers, retries=retries, instance=1,
               element_id="T", process_id="p")


def run(answer: Any, retries: int = 3, **headers: str) -> dict[str, Any]:
    async def produce() -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    return asyncio.run(run_outbound(job(retries, **headers), produce, WHERE))


def test_without_result_headers_an_answer_sets_no_variables() -> None:
    assert run({"ok": True}) == {}


def test_result_variable_and_result_expression_both_apply() -> None:
    found = run({"status": 200, "body": {"id": 7}}, resultVariable="whole",
                resultExpression="={id: body.id, status: response.status}")
    assert found == {"whole": {"status": 200, "body": {"id": 7}}, "id": 7, "status": 200}


def test_a_result_expression_that_is_not_a_context_fails_without_retries() -> None:
    with pytest.raises(JobFailure) as caught:
        run({"a": 1}, resultExpression="=[1, 2]")
    assert caught.value.retries == 0 and "must give a context" in str(caught.value)


def test_a_failure_is_retried_one_fewer_after_retry_backoff() -> None:
    with pytest.raises(JobFailure) as caught:
        run(ConnectorError("upstream down", code="503"), retries=3, retryBackoff="PT1M30S")
    assert (caught.value.retries, caught.value.backoff_ms, str(caught.value)) == (2, 90_000, "upstream down")


def test_a_mistake_in_the_inputs_is_not_retried() -> None:
    with pytest.raises(JobFailure) as caught:
        run(ConnectorInputError("the input 'url' is missing"), retries=3)
    assert caught.value.retries == 0


@pytest.mark.parametrize(("header", "value"), [
    ("retryBackoff", "thirty seconds"), ("retryBackoff", "P1M"), ("resultExpression", "={a:"),
    ("errorExpression", "=if"), ("resultVariable", "not a name"),
])
def test_a_malformed_header_fails_the_job_without_retries_naming_the_header(header: str, value: str) -> None:
    with pytest.raises(JobFailure) as caught:
        run({"a": 1}, **{header: value})
    assert caught.value.retries == 0 and header in str(caught.value)


def test_bpmn_error_in_the_error_expression_throws_with_code_message_and_variables() -> None:
    expression = '=if error.code = "404" then bpmnError("MISSING", error.message, {why: error.code}) else null'
    with pytest.raises(BpmnError) as caught:
        run(ConnectorError("no such order", code="404"), errorExpression=expression)
    assert (caught.value.code, caught.value.message, caught.value.variables) == (
        "MISSING", "no such order", {"why": "404"})


def test_bpmn_error_needs_only_a_code_and_may_look_at_a_successful_answer() -> None:
    with pytest.raises(BpmnError) as caught:
        run({"body": {"state": "rejected"}}, errorExpression='=if body.state = "rejected" then bpmnError("NO") else {}')
    assert caught.value.code == "NO" and caught.value.message == ""


def test_job_error_sets_retries_and_backoff_and_defaults_to_no_retries() -> None:
    with pytest.raises(JobFailure) as caught:
        run({"a": 1}, retries=5, errorExpression='=jobError("try later", {}, job.retries - 2, duration("PT5S"))')
    assert (str(caught.value), caught.value.retries, caught.value.backoff_ms) == ("try later", 3, 5000)
    with pytest.raises(JobFailure) as caught:
        run({"a": 1}, retries=5, errorExpression='=jobError("give up")')
    assert caught.value.retries == 0


def test_an_error_expression_giving_null_lets_the_outcome_stand() -> None:
    assert run({"a": 1}, resultVariable="r", errorExpression="=null") == {"r": {"a": 1}}
    with pytest.raises(JobFailure) as caught:
        run(ConnectorError("boom"), retries=2, errorExpression='=if error.code = "404" then bpmnError("X") else null')
    assert caught.value.retries == 1


def test_the_headers_are_read_once_into_a_value() -> None:
    headers = OutboundHeaders.read({"resultVariable": "out", "retryBackoff": "PT2S"}, WHERE)
    assert headers.result_variable == "out" and headers.retry_backoff_ms == 2000


def test_a_worker_for_a_camunda_connector_type_keeps_its_variables_without_result_headers() -> None:
    wrapped = CamundaOutbound(lambda job: {"sent": True})
    assert asyncio.run(wrapped(job())) == {"sent": True}
    assert asyncio.run(wrapped(job(resultVariable="answer"))) == {"answer": {"sent": True}}


def test_a_worker_failure_meets_the_error_expression_and_retry_backoff() -> None:
    def fails(job: Job) -> dict[str, Any]:
        raise RuntimeError("channel not found")

    wrapped = CamundaOutbound(fails)
    with pytest.raises(JobFailure) as caught:
        asyncio.run(wrapped(job(3, retryBackoff="PT10S")))
    assert (caught.value.retries, caught.value.backoff_ms) == (2, 10_000)
    assert str(caught.value) == "RuntimeError: channel not found"
    with pytest.raises(BpmnError) as thrown:
        asyncio.run(wrapped(job(errorExpression='=if contains(error.message, "not found") then bpmnError("GONE") '
                                               "else null")))
    assert thrown.value.code == "GONE"


def test_a_bpmn_error_raised_by_a_worker_passes_through() -> None:
    async def throws(job: Job) -> dict[str, Any]:
        raise BpmnError("NOPE", "refused")

    with pytest.raises(BpmnError):
        asyncio.run(CamundaOutbound(throws)(job()))
