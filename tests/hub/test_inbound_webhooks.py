"""Inbound webhooks (Camunda's ``io.camunda:webhook:1``) on a live hub, over real HTTP on 127.0.0.1.

Each model under tests/data/inbound/ carries the element-template properties
of one kind of webhook: a start event with mapped variables and a response
expression, HMAC, basic, API-key and JWT authorization, an intermediate
catch event correlated by a key and deduplicated by a message id, and an
interrupting boundary event. A request that does not authenticate must
change nothing: no instance, no message.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from engine import Engine
from hub.cli import app as cli
from hub.inbound.jwks import JwksCache, JwksUnavailable
from protocols.http import EgressPolicy
from tests.hub.harness import LiveHub, serve_hub
from tests.oidc_issuer import Issuer

DATA = Path(__file__).resolve().parents[1] / "data" / "inbound"
HMAC_SECRET = "hmac-secret-Zq81vX0"  # set in the environment: the model holds only {{secrets.INBOUND_TEST_HMAC}}


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveHub]:
    monkeypatch.setenv("INBOUND_TEST_HMAC", HMAC_SECRET)
    # The JWKS of the test issuer is on 127.0.0.1: the egress allow-list must admit it, as for the http connector.
    with serve_hub(tmp_path, http_allow="127.0.0.1") as live:
        yield live


def deploy(hub: LiveHub, *names: str) -> None:
    files = [("files", (n, (DATA / n).read_bytes(), "application/xml")) for n in names]
    with hub.client() as c:
        c.post("/api/v1/deployments", files=files).raise_for_status()


def engine_of(hub: LiveHub) -> Engine:
    found: Engine = hub.app.state.hub.engine
    return found


def instances(hub: LiveHub, process_id: str) -> list[Any]:
    return engine_of(hub).instances(process_id=process_id)


def at(view: Any) -> list[str]:
    """The ids of the elements an instance is at."""
    return [str(e["elementId"]) for e in view.active_elements]


def call(hub: LiveHub, method: str, path: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client(base_url=hub.url, timeout=30) as c:  # no bearer token: a webhook caller has none
        return c.request(method, path, **kwargs)


def test_a_webhook_start_event_starts_an_instance_with_the_mapped_variables_and_answers_its_response(
        hub: LiveHub) -> None:
    deploy(hub, "start.bpmn")
    answer = call(hub, "POST", "/inbound/orders", params={"channel": "web"}, json={"id": "o-1", "total": 12.5})
    assert answer.status_code == 201
    assert answer.headers["x-order"] == "o-1"
    [instance] = instances(hub, "inbound-order")
    assert answer.json() == {"received": "o-1", "instance": instance.key}
    assert instance.variables == {"orderId": "o-1", "total": 12.5, "channel": "web"}
    assert at(instance) == ["review"]
    journal = engine_of(hub).journal(instance.key)
    assert journal[0]["data"]["by"] == {"id": "webhook:orders", "channel": "webhook", "person": False}


def test_an_activation_condition_that_is_false_starts_nothing_and_answers_200(hub: LiveHub) -> None:
    deploy(hub, "start.bpmn")
    answer = call(hub, "POST", "/inbound/orders", json={"note": "no id"})
    assert answer.status_code == 200 and answer.content == b""
    assert instances(hub, "inbound-order") == []


def test_an_unknown_webhook_is_404_and_a_method_it_does_not_take_is_405(hub: LiveHub) -> None:
    deploy(hub, "start.bpmn")
    assert call(hub, "POST", "/inbound/nobody", json={}).status_code == 404
    assert call(hub, "GET", "/inbound/orders").status_code == 405
    assert instances(hub, "inbound-order") == []


def test_a_body_that_is_not_json_is_refused_with_400(hub: LiveHub) -> None:
    deploy(hub, "start.bpmn")
    answer = call(hub, "POST", "/inbound/orders", content=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert instances(hub, "inbound-order") == []


def _signature(body: bytes, secret: str = HMAC_SECRET) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def test_an_hmac_signed_request_starts_an_instance_in_hex_tagged_hex_or_base64(hub: LiveHub) -> None:
    deploy(hub, "hmac.bpmn")
    body = json.dumps({"action": "opened"}).encode()
    for signature in (_signature(body).hex(), "sha256=" + _signature(body).hex(),
                      base64.b64encode(_signature(body)).decode()):
        answer = call(hub, "POST", "/inbound/signed", content=body,
                      headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
        assert answer.status_code == 200, answer.text
    started = instances(hub, "inbound-signed")
    assert len(started) == 3
    assert started[0].variables["event"]["request"]["body"] == {"action": "opened"}


def test_a_request_with_a_wrong_or_missing_hmac_is_401_and_changes_nothing(hub: LiveHub) -> None:
    deploy(hub, "hmac.bpmn")
    body = b'{"action": "opened"}'
    wrong = "sha256=" + _signature(body, "another-secret").hex()
    tampered = "sha256=" + _signature(b'{"action": "closed"}').hex()
    for headers in ({"X-Hub-Signature-256": wrong}, {"X-Hub-Signature-256": tampered}, {}):
        answer = call(hub, "POST", "/inbound/signed", content=body, headers=headers)
        assert answer.status_code == 401
    assert instances(hub, "inbound-signed") == []


def test_the_hmac_secret_from_the_environment_is_never_in_the_journal_the_answers_or_the_log(
        hub: LiveHub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    deploy(hub, "hmac.bpmn")
    body = b'{"action": "opened"}'
    good = call(hub, "POST", "/inbound/signed", content=body,
                headers={"X-Hub-Signature-256": _signature(body).hex()})
    bad = call(hub, "POST", "/inbound/signed", content=body, headers={"X-Hub-Signature-256": "00"})
    assert (good.status_code, bad.status_code) == (200, 401)
    [instance] = instances(hub, "inbound-signed")
    journal = json.dumps(engine_of(hub).journal(instance.key))
    for text in (journal, good.text, bad.text, caplog.text):
        assert HMAC_SECRET not in text
    assert "opened" not in caplog.text  # the body is not logged either


def test_basic_authorization_admits_the_configured_user_only(hub: LiveHub) -> None:
    deploy(hub, "basic.bpmn")
    assert call(hub, "POST", "/inbound/basic-hook", json={}, auth=("hook", "wrong")).status_code == 401
    assert call(hub, "POST", "/inbound/basic-hook", json={}).status_code == 401
    assert instances(hub, "inbound-basic") == []
    assert call(hub, "POST", "/inbound/basic-hook", json={}, auth=("hook", "s3cret-pass")).status_code == 200
    [instance] = instances(hub, "inbound-basic")
    assert instance.variables == {"who": "basic"}


def test_api_key_authorization_reads_the_key_where_the_locator_says(hub: LiveHub) -> None:
    deploy(hub, "apikey.bpmn")
    assert call(hub, "PUT", "/inbound/key-hook", headers={"Authorization": "Key nope"}).status_code == 401
    assert call(hub, "PUT", "/inbound/key-hook").status_code == 401
    assert instances(hub, "inbound-apikey") == []
    assert call(hub, "PUT", "/inbound/key-hook", headers={"Authorization": "Key key-123456"}).status_code == 200
    assert len(instances(hub, "inbound-apikey")) == 1


def test_jwt_authorization_verifies_the_token_against_the_jwks_and_checks_the_roles(
        hub: LiveHub, issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INBOUND_TEST_JWKS_URL", f"{issuer.url}/jwks")
    deploy(hub, "jwt.bpmn")

    def send(token: str) -> int:
        return call(hub, "POST", "/inbound/jwt-hook", json={}, headers={"Authorization": f"Bearer {token}"}).status_code

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"roles": ["orders:write"]}, stranger, algorithm="RS256", headers={"kid": issuer.key.kid})
    unsigned = jwt.encode({"roles": ["orders:write"]}, None, algorithm="none")  # type: ignore[arg-type]
    symmetric = jwt.encode({"roles": ["orders:write"]}, "k" * 32, algorithm="HS256", headers={"kid": issuer.key.kid})
    assert send(forged) == 401
    assert send(unsigned) == 401
    assert send(symmetric) == 401
    assert send(issuer.token(lifetime_s=-120, roles=["orders:write"])) == 401  # expired
    assert send(issuer.token(roles=["orders:read"])) == 403
    assert instances(hub, "inbound-jwt") == []
    assert send(issuer.token(roles=["orders:write", "orders:read"])) == 200
    assert len(instances(hub, "inbound-jwt")) == 1


def test_an_intermediate_catch_webhook_correlates_to_the_waiting_instance_by_its_key(hub: LiveHub) -> None:
    deploy(hub, "catch.bpmn")
    engine = engine_of(hub)
    waiting = engine.start("inbound-payment", {"orderId": "A-1"})
    other = engine.start("inbound-payment", {"orderId": "B-2"})
    answer = call(hub, "POST", "/inbound/payments", json={"orderId": "A-1", "paymentId": "p-1", "amount": 10})
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    moved = engine.instance(waiting.key)
    assert at(moved) == ["ship"] and moved.variables["amountPaid"] == 10
    assert at(engine.instance(other.key)) == ["paid"]


def test_a_message_id_seen_before_is_not_published_again(hub: LiveHub) -> None:
    deploy(hub, "catch.bpmn")
    engine = engine_of(hub)
    payment = {"orderId": "C-3", "paymentId": "p-7", "amount": 5}
    first = call(hub, "POST", "/inbound/payments", json=payment)  # no instance waits: the message is buffered
    repeat = call(hub, "POST", "/inbound/payments", json={**payment, "amount": 999})
    assert first.status_code == 200 and first.json() == {"ok": True}
    assert repeat.status_code == 200 and repeat.content == b""  # already published: answered, not published
    started = engine.start("inbound-payment", {"orderId": "C-3"})
    view = engine.instance(started.key)
    assert at(view) == ["ship"] and view.variables["amountPaid"] == 5


def test_a_boundary_webhook_interrupts_the_activity_it_is_attached_to(hub: LiveHub) -> None:
    deploy(hub, "boundary.bpmn")
    engine = engine_of(hub)
    started = engine.start("inbound-cancel", {"orderId": "X-9"})
    assert call(hub, "GET", "/inbound/cancel-order", params={"order": "nope"}).status_code == 200
    assert at(engine.instance(started.key)) == ["review"]
    assert call(hub, "GET", "/inbound/cancel-order", params={"order": "X-9"}).status_code == 200
    view = engine.instance(started.key)
    assert view.state == "completed"
    assert view.variables["cancellation"]["request"]["params"] == {"order": "X-9"}
    assert engine.user_tasks(instance=started.key) == []


def test_a_catching_webhook_without_a_correlation_key_is_refused_with_422(hub: LiveHub) -> None:
    deploy(hub, "boundary.bpmn")
    engine = engine_of(hub)
    started = engine.start("inbound-cancel", {"orderId": "X-9"})
    assert call(hub, "POST", "/inbound/cancel-order", json={}).status_code == 422
    assert at(engine.instance(started.key)) == ["review"]


def test_the_guard_still_checks_origin_and_body_size_on_webhooks(hub: LiveHub) -> None:
    deploy(hub, "start.bpmn")
    foreign = call(hub, "POST", "/inbound/orders", json={"id": "o-2"}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    limit = hub.app.state.hub.settings.max_body_bytes
    large = call(hub, "POST", "/inbound/orders", content=b"x" * (limit + 1))
    assert large.status_code == 413
    assert instances(hub, "inbound-order") == []


def test_admins_list_the_active_webhooks_over_rest_and_on_the_command_line(hub: LiveHub, tmp_path: Path) -> None:
    deploy(hub, "start.bpmn", "catch.bpmn", "boundary.bpmn", "jwt.bpmn")
    assert call(hub, "GET", "/api/v1/inbound").status_code == 401
    with hub.client(hub.token("start")) as c:
        assert c.get("/api/v1/inbound").status_code == 403
    with hub.client() as c:
        items = c.get("/api/v1/inbound").json()["items"]
    by_id = {i["webhookId"]: i for i in items}
    assert set(by_id) == {"orders", "payments", "cancel-order", "jwt-hook"}
    assert by_id["orders"] | {"version": 1} == {
        "webhookId": "orders", "path": "/inbound/orders", "method": "POST", "processId": "inbound-order",
        "version": 1, "elementId": "hook", "kind": "start", "messageName": None, "hmac": False, "auth": "NONE",
        "activationCondition": True,
    }
    assert by_id["payments"]["kind"] == "intermediate" and by_id["payments"]["messageName"] == "payment-received"
    assert by_id["cancel-order"]["kind"] == "boundary"
    result = CliRunner().invoke(cli, ["inbound", "list", "--json", "--db", f"sqlite:///{tmp_path / 'hub.db'}"])
    assert result.exit_code == 0, result.output
    assert [w["webhookId"] for w in json.loads(result.output)] == [i["webhookId"] for i in items]
    assert "{{secrets" not in result.output
    table = CliRunner().invoke(cli, ["inbound", "list", "--db", f"sqlite:///{tmp_path / 'hub.db'}"])
    assert table.exit_code == 0 and "/inbound/jwt-hook" in table.output and "JWT" in table.output


def test_a_jwks_url_the_egress_allow_list_refuses_is_never_fetched(issuer: Issuer) -> None:
    keys = JwksCache(EgressPolicy.from_env(None))  # the default: public addresses only, not 127.0.0.1
    with pytest.raises(JwksUnavailable, match="may not be fetched"):
        asyncio.run(keys.key(f"{issuer.url}/jwks", issuer.key.kid))
    assert issuer.jwks_fetches == 0


def test_an_older_version_s_catching_webhook_stays_active_while_an_instance_of_it_waits(hub: LiveHub) -> None:
    deploy(hub, "catch.bpmn")
    engine = engine_of(hub)
    waiting = engine.start("inbound-payment", {"orderId": "D-4"})
    without = (DATA / "catch.bpmn").read_text().replace('value="io.camunda:webhook:1"', 'value="io.camunda:other:1"')
    with hub.client() as c:
        c.post("/api/v1/deployments", files=[("files", ("catch.bpmn", without.encode(), "application/xml"))])
    assert engine.definitions("inbound-payment")[-1]["version"] == 2
    answer = call(hub, "POST", "/inbound/payments", json={"orderId": "D-4", "paymentId": "p-9", "amount": 3})
    assert answer.status_code == 200
    assert at(engine.instance(waiting.key)) == ["ship"]
    assert call(hub, "POST", "/inbound/payments", json={"orderId": "D-4", "paymentId": "p-10"}).status_code == 404


def test_a_message_start_webhook_starts_one_instance_per_delivery_id_and_escapes_a_text_answer(
        hub: LiveHub) -> None:
    deploy(hub, "message-start.bpmn")
    first = call(hub, "POST", "/inbound/tickets", json={"title": "<b>down</b>"}, headers={"X-Delivery": "d-1"})
    repeat = call(hub, "POST", "/inbound/tickets", json={"title": "<b>down</b>"}, headers={"X-Delivery": "d-1"})
    other = call(hub, "POST", "/inbound/tickets", json={"title": "slow"}, headers={"X-Delivery": "d-2"})
    assert (first.status_code, repeat.status_code, other.status_code) == (200, 200, 200)
    assert first.text == "queued &lt;&lt;b&gt;down&lt;/b&gt;&gt;"  # a text answer is HTML-escaped, as Camunda does
    assert first.headers["content-type"].startswith("text/plain")
    assert repeat.content == b""
    assert sorted(i.variables["ticket"] for i in instances(hub, "inbound-ticket")) == ["<b>down</b>", "slow"]
