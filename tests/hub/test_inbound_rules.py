"""The rules of an inbound webhook without a hub: activation, variables, response and the checks' edge cases."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any

import pytest

from hub.inbound.checks import Refused, WebhookMisconfigured, WebhookRequest, check_request
from hub.inbound.config import WebhookElement, WebhookKind
from hub.inbound.jwks import JwksCache
from hub.inbound.trigger import Outcome, choose, respond, variables_of, verification
from protocols.http import EgressPolicy


def element(kind: WebhookKind = WebhookKind.START, **properties: str) -> WebhookElement:
    return WebhookElement(webhook_id="hook", process_id="p", version=1, element_id="e", kind=kind,
                          message_name="m" if kind is not WebhookKind.START else None,
                          properties=tuple(properties.items()))


def request(body: Any = None, method: str = "POST", raw: bytes = b"", **headers: str) -> WebhookRequest:
    return WebhookRequest(method, raw, {k.replace("_", "-"): v for k, v in headers.items()}, {}, body or {})


def check(hook: WebhookElement, sent: WebhookRequest, secrets: dict[str, str] | None = None) -> None:
    asyncio.run(check_request(hook, sent, (secrets or {}).get, JwksCache(EgressPolicy.from_env(None))))


def test_an_unmatched_request_is_422_unless_unmatched_events_are_consumed() -> None:
    strict = element(activationCondition="=request.body.ok")
    with pytest.raises(Refused) as refused:
        choose([strict], request({"ok": False}))
    assert refused.value.status == 422
    assert choose([element(activationCondition="=request.body.ok", consumeUnmatchedEvents="true")],
                  request({"ok": False})) is None
    assert choose([strict], request({"ok": True})) is strict


def test_the_older_property_names_are_read_where_the_new_ones_are_absent() -> None:
    old = element(**{"inbound.activationCondition": "=request.body.n > 1",
                     "inbound.variableMapping": "={n: request.body.n}"})
    assert choose([old], request({"n": 2})) is old
    assert variables_of(old, request({"n": 2})) == {"n": 2}


def test_a_result_expression_that_is_not_a_context_is_refused() -> None:
    with pytest.raises(Refused, match="context"):
        variables_of(element(resultExpression="=request.body.n"), request({"n": 2}))


def test_the_response_expression_shapes_status_headers_and_body() -> None:
    hook = element(**{"inbound.responseExpression": '={statusCode: 202, headers: {a: "b"}, body: correlation}'})
    outcome = Outcome({"processInstanceKey": 7}, "started")
    assert respond(hook, request(), outcome) == (202, {"a": "b"}, {"processInstanceKey": 7})
    assert respond(hook, request(), Outcome(None, "repeat")) == (200, {}, None)


def test_a_method_other_than_the_configured_one_is_405() -> None:
    with pytest.raises(Refused) as refused:
        check(element(**{"inbound.method": "put"}), request(method="POST"))
    assert refused.value.status == 405
    check(element(**{"inbound.method": "any"}), request(method="DELETE"))


def test_hmac_with_sha1_and_sha512_and_a_secret_from_the_provider() -> None:
    body = b"payload"
    for algorithm, digest in (("sha_1", hashlib.sha1), ("sha_512", hashlib.sha512)):
        hook = element(**{"inbound.shouldValidateHmac": "enabled", "inbound.hmacSecret": "{{secrets.K}}",
                          "inbound.hmacHeader": "X-Sig", "inbound.hmacAlgorithm": algorithm})
        check(hook, request(raw=body, x_sig=hmac.new(b"v", body, digest).hexdigest()), {"K": "v"})
        with pytest.raises(Refused):
            check(hook, request(raw=body, x_sig=hmac.new(b"w", body, digest).hexdigest()), {"K": "v"})


def test_a_missing_secret_or_an_unsupported_scope_is_a_misconfiguration_not_an_admission() -> None:
    hook = element(**{"inbound.shouldValidateHmac": "enabled", "inbound.hmacSecret": "{{secrets.NONE_SUCH}}",
                      "inbound.hmacHeader": "X-Sig"})
    with pytest.raises(WebhookMisconfigured, match="NONE_SUCH"):
        check(hook, request(x_sig="00"))
    scoped = element(**{"inbound.shouldValidateHmac": "enabled", "inbound.hmacSecret": "s",
                        "inbound.hmacHeader": "X-Sig", "inbound.hmacScopes": '=["URL", "BODY"]'})
    with pytest.raises(WebhookMisconfigured, match="only BODY"):
        check(scoped, request(x_sig="00"))
    with pytest.raises(WebhookMisconfigured, match="NONE, BASIC"):
        check(element(**{"inbound.auth.type": "OAUTH"}), request())


def test_basic_authorization_with_a_malformed_header_is_401() -> None:
    hook = element(**{"inbound.auth.type": "BASIC", "inbound.auth.username": "u", "inbound.auth.password": "p"})
    for header in ("Basic !!!", "Bearer x", "Basic"):
        with pytest.raises(Refused) as refused:
            check(hook, request(authorization=header))
        assert refused.value.status == 401


def test_a_verification_challenge_is_answered_and_nothing_else_when_its_expression_gives_a_value() -> None:
    hook = element(**{"inbound.verificationExpression":
                      '=if request.body.type = "url_verification" then {body: {challenge: request.body.challenge}} '
                      "else null"})
    assert verification([hook], request({"type": "url_verification", "challenge": "c-1"})) == (
        200, {}, {"challenge": "c-1"})
    assert verification([hook], request({"type": "event"})) is None
    assert verification([element()], request({"type": "url_verification"})) is None
