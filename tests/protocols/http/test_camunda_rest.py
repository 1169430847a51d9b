"""Camunda's REST connector (``io.camunda:http-json:1``) runs a model written for Camunda, unchanged.

``data/camunda_rest.bpmn`` has one REST connector task with the extension elements
Camunda's modeler writes: ``zeebe:ioMapping`` inputs under Camunda's names
(``method``, ``url``, ``headers``, ``queryParameters``, ``body``, ``authentication.*``,
timeouts), and the task headers ``resultVariable``, ``resultExpression``,
``errorExpression`` (404 -> ``bpmnError("NOT_FOUND")``, caught; 503 ->
``jobError(..., job.retries - 1, PT0.3S)``; a DELETE that succeeded ->
``bpmnError("NO_DELETES")``) and ``retryBackoff`` (PT0.2S). Its request headers
carry ``X-Signature: {{secrets.REST_SIGNING_KEY}}``. It runs against the test
server on 127.0.0.1 with the engine's real clock, so that backoffs are real.
"""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, InstanceView, WorkerRegistry
from engine.scheduler import run_until_idle
from protocols.http import CAMUNDA_REST_JOB_TYPE, CamundaRestConnector, EgressPolicy, HttpConnector
from tests.protocols.http.server import EchoServer

BPMN = Path(__file__).parent / "data" / "camunda_rest.bpmn"
SIGNING_KEY = "sig-key-4b8e1f07c2"
PLACEHOLDER = "{{secrets.REST_SIGNING_KEY}}"


@pytest.fixture(autouse=True)
def signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REST_SIGNING_KEY", SIGNING_KEY)  # Camunda's convention: the variable of the same name


def connector(allow: str = "127.0.0.1") -> CamundaRestConnector:
    return CamundaRestConnector(HttpConnector(EgressPolicy.from_env(allow), timeout_s=10))


def run(
    tmp_path: Path, server: EchoServer, variables: dict[str, Any], *, rest: CamundaRestConnector | None = None,
    instances: int = 1,
) -> tuple[list[InstanceView], Engine]:
    engine = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    engine.deploy([(BPMN.name, BPMN.read_bytes())])
    keys = [engine.start("camunda_rest", {"baseUrl": server.url, "method": "GET", **variables}).key
            for _ in range(instances)]
    registry = WorkerRegistry()
    registry.register(CAMUNDA_REST_JOB_TYPE, rest or connector())
    run_until_idle(engine, registry, timeout_s=60)
    return [engine.instance(key) for key in keys], engine


def recorded(engine: Engine, view: InstanceView) -> str:
    """Everything the engine keeps about the instance: journal, variables, incidents."""
    journal = engine.journal(view.key, limit=100_000)
    incidents = [i.message for i in engine.incidents(instance=view.key)]
    return json.dumps({"journal": journal, "variables": view.variables, "incidents": incidents}, ensure_ascii=False)


def ended_at(engine: Engine, view: InstanceView) -> str:
    [end] = [e["elementId"] for e in engine.journal(view.key) if e["type"] == "element_completed"
             and e["elementId"] in ("Done", "Missing", "Refused")]
    return str(end)


def test_camunda_inputs_make_the_request_and_the_result_headers_map_the_answer(
    tmp_path: Path, http_server: EchoServer
) -> None:
    before = len(http_server.received)
    [view], engine = run(tmp_path, http_server, {
        "path": "/echo", "method": "POST", "traceId": "t-17", "query": {"page": "2", "q": "a b"},
        "body": {"name": "Ada", "tags": ["x"]},
    })
    try:
        assert view.state == "completed" and ended_at(engine, view) == "Done"
        sent = http_server.received[before:][-1]
        assert sent["x-trace"] == "t-17" and sent["x-signature"] == SIGNING_KEY
        answer = view.variables["apiResponse"]  # resultVariable: the whole answer
        assert answer["status"] == 200 and answer["reason"] == "OK"
        assert answer["headers"]["content-type"] == "application/json"
        assert json.loads(answer["body"]["body"]) == {"name": "Ada", "tags": ["x"]}
        # resultExpression: over the answer's entries (body.method) and over response.*
        assert view.variables["status"] == 200 and view.variables["echoedMethod"] == "POST"
        assert view.variables["echoedQuery"] == [["page", "2"], ["q", "a b"]]
        text = recorded(engine, view)
        assert SIGNING_KEY not in text and PLACEHOLDER in text
        assert answer["body"]["headers"]["x-signature"] == "[redacted]"
    finally:
        engine.close()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(("auth", "header", "expected"), [
    ({"authType": "noAuth"}, "authorization", None),
    ({"authType": "basic", "username": "ada", "password": "pa55-word-basic"}, "authorization",
     _basic("ada", "pa55-word-basic")),
    ({"authType": "bearer", "token": "bearer-tok-5521"}, "authorization", "Bearer bearer-tok-5521"),
    ({"authType": "apiKey", "apiKeyLocation": "headers", "apiKeyName": "X-Api-Key", "apiKeyValue": "key-hdr-991"},
     "x-api-key", "key-hdr-991"),
])
def test_each_authentication_type_sends_its_credentials_and_records_none(
    tmp_path: Path, http_server: EchoServer, auth: dict[str, str], header: str, expected: str | None
) -> None:
    before = len(http_server.received)
    [view], engine = run(tmp_path, http_server, {"path": "/echo", **auth})
    try:
        assert view.state == "completed"
        assert http_server.received[before:][-1].get(header) == expected
        if expected is not None:
            assert expected not in json.dumps(view.variables["apiResponse"])
    finally:
        engine.close()


def test_an_api_key_in_the_query_is_sent_as_a_query_parameter(tmp_path: Path, http_server: EchoServer) -> None:
    [view], engine = run(tmp_path, http_server, {
        "path": "/echo", "authType": "apiKey", "apiKeyLocation": "query", "apiKeyName": "api_key",
        "apiKeyValue": PLACEHOLDER, "query": {"page": "1"},
    })
    try:
        assert view.state == "completed"
        assert http_server.queries[-1] == [["page", "1"], ["api_key", SIGNING_KEY]]
        assert view.variables["echoedQuery"] == [["page", "1"], ["api_key", "[redacted]"]]
        assert SIGNING_KEY not in recorded(engine, view)
    finally:
        engine.close()


@pytest.mark.parametrize("how", ["credentialsBody", "basicAuthHeader"])
def test_oauth_client_credentials_fetch_a_token_once_and_send_it_as_bearer(
    tmp_path: Path, http_server: EchoServer, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setenv("OAUTH_CLIENT_SECRET", "oauth-secret-1")
    tokens, received = len(http_server.tokens), len(http_server.received)
    views, engine = run(tmp_path, http_server, {
        "path": "/echo", "authType": "oauth-client-credentials-flow", "clientId": "client-1",
        "clientSecret": "{{secrets.OAUTH_CLIENT_SECRET}}", "scopes": "read:all", "clientAuthentication": how,
    }, instances=2)
    try:
        assert [v.state for v in views] == ["completed", "completed"]
        [token] = http_server.tokens[tokens:]  # the second call reused the cached token
        assert token.endswith("read:all")
        assert [r["authorization"] for r in http_server.received[received:]] == [f"Bearer {token}"] * 2
        form = http_server.forms[-1]
        assert form["grant_type"] == "client_credentials" and form["scope"] == "read:all"
        assert ("client_secret" in form) == (how == "credentialsBody")
        for view in views:
            assert token not in recorded(engine, view) and "oauth-secret-1" not in recorded(engine, view)
    finally:
        engine.close()


def test_an_oauth_token_refused_is_an_incident_that_says_so(
    tmp_path: Path, http_server: EchoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTH_CLIENT_SECRET", "wrong-secret-77")
    [view], engine = run(tmp_path, http_server, {
        "path": "/echo", "authType": "oauth-client-credentials-flow", "clientId": "client-1",
        "clientSecret": "{{secrets.OAUTH_CLIENT_SECRET}}",
    })
    try:
        assert view.state == "incident"
        [incident] = engine.incidents(instance=view.key)
        assert incident.message.startswith("task 'CallApi' of process 'camunda_rest': cannot get an OAuth token: POST")
        assert "/oauth/token answered 401" in incident.message
        assert "wrong-secret-77" not in recorded(engine, view)
    finally:
        engine.close()


def test_an_error_expression_turns_a_404_into_a_bpmn_error_caught_by_the_boundary_event(
    tmp_path: Path, http_server: EchoServer
) -> None:
    [view], engine = run(tmp_path, http_server, {"path": "/status/404"})
    try:
        assert view.state == "completed" and ended_at(engine, view) == "Missing"
        assert view.variables["notFound"]["error"] == "status 404"
        assert view.variables["notFound"]["youSent"]["x-signature"] == "[redacted]"
        assert SIGNING_KEY not in recorded(engine, view)
    finally:
        engine.close()


def test_an_error_expression_can_throw_on_a_successful_answer(tmp_path: Path, http_server: EchoServer) -> None:
    [view], engine = run(tmp_path, http_server, {"path": "/echo", "method": "DELETE"})
    try:
        assert view.state == "completed" and ended_at(engine, view) == "Refused"
        assert "apiResponse" not in view.variables
    finally:
        engine.close()


def test_a_job_error_is_retried_with_its_backoff_then_becomes_an_incident(
    tmp_path: Path, http_server: EchoServer
) -> None:
    hits = len(http_server.at)
    [view], engine = run(tmp_path, http_server, {"path": "/status/503"})
    try:
        assert view.state == "incident"
        at = http_server.at[hits:]
        assert len(at) == 3  # retries="3": the job error leaves job.retries - 1 each time
        assert all(later - earlier >= 0.3 for earlier, later in itertools.pairwise(at))
        [incident] = engine.incidents(instance=view.key)
        assert incident.message == "the API is busy"
    finally:
        engine.close()


def test_an_unhandled_failure_is_retried_after_retry_backoff_then_is_an_incident_without_the_secret(
    tmp_path: Path, http_server: EchoServer
) -> None:
    hits = len(http_server.at)
    [view], engine = run(tmp_path, http_server, {"path": "/status/500"})
    try:
        assert view.state == "incident"
        at = http_server.at[hits:]
        assert len(at) == 3 and all(b - a >= 0.2 for a, b in itertools.pairwise(at))
        [incident] = engine.incidents(instance=view.key)
        assert "answered 500" in incident.message
        text = recorded(engine, view)
        assert SIGNING_KEY not in text and PLACEHOLDER in text
    finally:
        engine.close()


def test_a_missing_secret_fails_at_once_naming_it_and_nothing_is_sent(
    tmp_path: Path, http_server: EchoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REST_SIGNING_KEY")
    hits = len(http_server.hits)
    [view], engine = run(tmp_path, http_server, {"path": "/echo"})
    try:
        assert view.state == "incident"
        [incident] = engine.incidents(instance=view.key)
        assert "secrets.REST_SIGNING_KEY" in incident.message and "REST_SIGNING_KEY" in incident.message
        assert len(http_server.hits) == hits
    finally:
        engine.close()


def test_the_egress_allow_list_of_the_http_job_type_applies(tmp_path: Path, http_server: EchoServer) -> None:
    hits = len(http_server.hits)
    [view], engine = run(tmp_path, http_server, {"path": "/echo"}, rest=connector("10.0.0.0/8"))
    try:
        assert view.state == "incident"
        [incident] = engine.incidents(instance=view.key)
        assert "AGENTHUB_HTTP_ALLOW" in incident.message
        assert len(http_server.hits) == hits
    finally:
        engine.close()
