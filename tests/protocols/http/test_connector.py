"""The ``http`` job handler against a real server on 127.0.0.1: requests, results, statuses, limits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from engine import BpmnError, Job
from protocols.http import (
    EgressPolicy,
    HttpConnector,
    HttpStatusFailure,
    HttpTimeout,
    InvalidTask,
    RedirectFailed,
    ResponseTooLarge,
)
from tests.protocols.http.server import EchoServer

LOOPBACK = EgressPolicy.from_env("127.0.0.1")


def job(task_headers: dict[str, str], /, **variables: Any) -> Job:
    return Job(key=7, type="http", variables=variables, headers=task_headers, retries=3, instance=1,
               element_id="CallApi", process_id="order")


def call(task_headers: dict[str, str], connector: HttpConnector | None = None, /, **variables: Any) -> dict[str, Any]:
    return asyncio.run((connector or HttpConnector(LOOPBACK))(job(task_headers, **variables)))


def test_a_get_sends_the_query_and_returns_status_headers_and_parsed_json(http_server: EchoServer) -> None:
    result = call({"url": f"{http_server.url}/echo?fixed=1"}, query={"q": "shoes", "page": 2, "tag": ["a", "b"]})
    response = result["response"]
    assert response["status"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert response["body"]["method"] == "GET"
    assert response["body"]["query"] == [["fixed", "1"], ["q", "shoes"], ["page", "2"], ["tag", "a"], ["tag", "b"]]
    assert list(result) == ["response"]


def test_a_post_sends_a_json_body_with_its_content_type(http_server: EchoServer) -> None:
    result = call({"method": "post", "url": f"{http_server.url}/echo"}, body={"sku": "A-1", "qty": 2})
    echoed = result["response"]["body"]
    assert echoed["method"] == "POST"
    assert echoed["headers"]["content-type"] == "application/json"
    assert echoed["body"] == '{"sku":"A-1","qty":2}'


def test_a_string_body_is_sent_as_text_unless_headers_say_otherwise(http_server: EchoServer) -> None:
    plain = call({"method": "PUT", "url": f"{http_server.url}/echo"}, body="hello")["response"]["body"]
    assert plain["headers"]["content-type"] == "text/plain; charset=utf-8"
    assert plain["body"] == "hello"
    csv = call({"method": "PUT", "url": f"{http_server.url}/echo"}, body="a,b", headers={"Content-Type": "text/csv"})
    assert csv["response"]["body"]["headers"]["content-type"] == "text/csv"


def test_request_headers_from_the_headers_variable_reach_the_server(http_server: EchoServer) -> None:
    result = call({"url": f"{http_server.url}/echo"}, headers={"Authorization": "Bearer t0ken", "X-Count": 3})
    assert http_server.received[-1]["authorization"] == "Bearer t0ken"
    sent = result["response"]["body"]["headers"]
    assert sent["authorization"] == "[redacted]"  # the server echoed a credential: the variables never hold it
    assert sent["x-count"] == "3"
    assert sent["host"] == f"127.0.0.1:{http_server.port}"


def test_method_url_and_other_task_headers_may_be_feel_over_the_variables(http_server: EchoServer) -> None:
    headers = {"method": '="DEL" + "ETE"', "url": '=base + "/echo"', "resultVariable": "=target"}
    result = call(headers, base=http_server.url, target="deleted")
    assert result["deleted"]["body"]["method"] == "DELETE"


def test_result_expression_entries_become_variables_without_a_result_variable(http_server: EchoServer) -> None:
    headers = {"url": f"{http_server.url}/orders/o-1",
               "resultExpression": "={orderTotal: response.body.total, firstSku: response.body.items[1].sku, "
                                   "ok: response.status = 200, note: prefix + response.body.id}"}
    result = call(headers, prefix="order ")
    assert result == {"orderTotal": 42.5, "firstSku": "A-1", "ok": True, "note": "order o-1"}


def test_result_expression_with_a_result_variable_stores_its_value_under_that_name(http_server: EchoServer) -> None:
    headers = {"url": f"{http_server.url}/orders/o-2", "resultVariable": "total",
               "resultExpression": "=response.body.total * 2"}
    assert call(headers) == {"total": 85}


def test_a_result_variable_alone_stores_the_whole_response(http_server: EchoServer) -> None:
    result = call({"url": f"{http_server.url}/text", "resultVariable": "page"})
    assert result["page"]["status"] == 200
    assert result["page"]["body"] == "plain words"


def test_a_result_expression_that_gives_no_context_needs_a_result_variable(http_server: EchoServer) -> None:
    with pytest.raises(InvalidTask, match="must give a context"):
        call({"url": f"{http_server.url}/orders/o-3", "resultExpression": "=response.status"})


def test_a_json_response_that_does_not_parse_is_kept_as_text(http_server: EchoServer) -> None:
    assert call({"url": f"{http_server.url}/mislabelled"})["response"]["body"] == "not {json"


def test_a_listed_status_throws_the_bpmn_error_http_and_the_status(http_server: EchoServer) -> None:
    with pytest.raises(BpmnError) as raised:
        call({"url": f"{http_server.url}/orders/missing", "errorStatuses": "404, 409"})
    assert raised.value.code == "HTTP_404"
    assert "answered 404 Not Found" in raised.value.message
    assert raised.value.variables["response"]["body"] == {"error": "no such order"}


def test_a_status_class_in_error_statuses_covers_all_its_codes(http_server: EchoServer) -> None:
    with pytest.raises(BpmnError) as raised:
        call({"method": "POST", "url": f"{http_server.url}/status/409", "errorStatuses": "=[404, \"4xx\"]"})
    assert raised.value.code == "HTTP_409"


def test_an_unlisted_server_error_fails_the_job_with_status_and_excerpt(http_server: EchoServer) -> None:
    with pytest.raises(HttpStatusFailure) as raised:
        call({"url": f"{http_server.url}/status/500", "errorStatuses": "404"})
    assert raised.value.status == 500
    message = str(raised.value)
    assert message.startswith(f"task 'CallApi' of process 'order': GET {http_server.url}/status/500 answered 500")
    assert '"error": "status 500"' in message


def test_an_unlisted_client_error_fails_the_job_too(http_server: EchoServer) -> None:
    with pytest.raises(HttpStatusFailure) as raised:
        call({"url": f"{http_server.url}/status/403"})
    assert raised.value.status == 403


def test_failure_messages_never_contain_request_header_values_or_url_credentials(http_server: EchoServer) -> None:
    secret = "s3cr3t-api-key-value"
    url = http_server.url.replace("http://", "http://user:hunter22@") + "/status/500?apiKey=q-secret"
    with pytest.raises(HttpStatusFailure) as raised:  # the server echoes the headers into its error body
        call({"url": url}, headers={"X-Api-Key": secret})
    message = str(raised.value)
    assert secret not in message
    assert "hunter22" not in message
    assert "q-secret" not in message
    assert "[redacted]" in message


def test_a_server_slower_than_the_timeout_fails_the_job(http_server: EchoServer) -> None:
    with pytest.raises(HttpTimeout, match=r"no complete answer within 0\.3 s"):  # /slow answers after 5 s
        call({"url": f"{http_server.url}/slow", "timeout": "0.3"})


def test_the_connector_default_timeout_applies_without_a_timeout_header(http_server: EchoServer) -> None:
    with pytest.raises(HttpTimeout):
        call({"url": f"{http_server.url}/slow"}, HttpConnector(LOOPBACK, timeout_s=0.2))


def test_a_response_over_the_size_cap_is_refused(http_server: EchoServer) -> None:
    small = HttpConnector(LOOPBACK, max_response_bytes=4000)
    assert len(call({"url": f"{http_server.url}/big?size=4000"}, small)["response"]["body"]) == 4000
    with pytest.raises(ResponseTooLarge, match="Content-Length: 4001"):
        call({"url": f"{http_server.url}/big?size=4001"}, small)
    with pytest.raises(ResponseTooLarge, match="larger than 4000 bytes"):  # chunked: counted while reading
        call({"url": f"{http_server.url}/stream?size=9000"}, small)


def test_redirects_are_followed(http_server: EchoServer) -> None:
    result = call({"method": "POST", "url": f"{http_server.url}/redirect?to=/echo&status=307"}, body={"a": 1})
    assert result["response"]["body"]["method"] == "POST"
    assert result["response"]["body"]["body"] == '{"a":1}'
    after_303 = call({"method": "POST", "url": f"{http_server.url}/redirect?to=/echo&status=303"}, body={"a": 1})
    assert after_303["response"]["body"]["method"] == "GET"
    assert after_303["response"]["body"]["body"] == ""


def test_a_redirect_to_another_origin_carries_no_credentials(http_server: EchoServer) -> None:
    other = f"http://localhost:{http_server.port}/echo"
    connector = HttpConnector(EgressPolicy.from_env("127.0.0.1,localhost"))
    result = call({"url": f"{http_server.url}/redirect?to={other}"}, connector,
                  headers={"Authorization": "Bearer t0ken", "X-Api-Key": "k3y-value", "Accept": "application/json"})
    sent = result["response"]["body"]["headers"]
    assert sent["host"] == f"localhost:{http_server.port}"
    assert sent["accept"] == "application/json"
    assert "authorization" not in sent and "x-api-key" not in sent


def test_redirects_stop_after_five_hops(http_server: EchoServer) -> None:
    with pytest.raises(RedirectFailed, match="more than 5 times"):
        call({"url": f"{http_server.url}/loop"})


def test_with_follow_redirects_false_the_redirect_is_the_answer(http_server: EchoServer) -> None:
    result = call({"url": f"{http_server.url}/redirect?to=/echo", "followRedirects": "false"})
    assert result["response"]["status"] == 302
    assert result["response"]["headers"]["location"] == "/echo"


@pytest.mark.parametrize(
    ("headers", "variables", "match"),
    [
        ({}, {}, "task header 'url' is missing"),
        ({"url": "ftp://127.0.0.1/x"}, {}, "absolute http:// or https:// URL"),
        ({"url": "http://127.0.0.1/", "method": "BREW"}, {}, "method 'BREW' is not one of"),
        ({"url": "http://127.0.0.1/", "timeout": "soon"}, {}, "timeout 'soon' is not a number"),
        ({"url": "http://127.0.0.1/", "errorStatuses": "40x"}, {}, "errorStatuses entry '40x'"),
        ({"url": "http://127.0.0.1/", "resultExpression": "=response.("}, {}, "resultExpression is not valid FEEL"),
        ({"url": "http://127.0.0.1/"}, {"headers": {"Host": "evil"}}, "'Host' is set by the connector"),
        ({"url": "http://127.0.0.1/"}, {"headers": {"X-A": "ok\r\nX-B: injected"}}, "contains a line break"),
        ({"url": "http://127.0.0.1/"}, {"query": ["a"]}, "'query' must be a context"),
    ],
)
def test_a_misconfigured_task_fails_before_anything_is_sent(
    http_server: EchoServer, headers: dict[str, str], variables: dict[str, Any], match: str
) -> None:
    before = len(http_server.hits)
    with pytest.raises(InvalidTask, match=match) as raised:
        call(headers, **variables)
    assert "injected" not in str(raised.value)
    assert len(http_server.hits) == before
