"""Sign-in by OpenID Connect: a live hub accepts JWTs from its configured issuer and refuses every forgery.

Over real HTTP: the issuer in ``tests.oidc_issuer`` serves discovery and a
JWKS on 127.0.0.1 and signs tokens with RSA keys it can rotate; the hub
fetches its keys, verifies tokens in the guard and records who acted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hub.harness import LiveHub, assistant, oidc_hub
from tests.oidc_issuer import Issuer

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def hub(tmp_path: Path, issuer: Issuer) -> Iterator[LiveHub]:
    with oidc_hub(tmp_path, issuer) as live:
        yield live


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _claims(issuer: Issuer) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(issuer.token(scope="admin").split(".")[1] + "=="))  # type: ignore[no-any-return]


def test_a_signed_in_person_starts_an_instance_and_the_hub_records_who(
    hub: LiveHub, issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hub.deploy("straight.bpmn")
    token = issuer.token(sub="ada", name="Ada Lovelace", groups=["finance"], scope="openid start read")
    with hub.client(token) as rest:
        started = rest.post("/api/v1/process-instances", json={"processId": "straight", "variables": {"amount": 2}})
        assert started.status_code == 201, started.text
        key = started.json()["instance"]
        assert rest.get(f"/api/v1/process-instances/{key}").json()["startedBy"] == "ada"
    assert token not in caplog.text


def test_a_token_without_the_needed_scope_is_forbidden(hub: LiveHub, issuer: Issuer) -> None:
    hub.deploy("straight.bpmn")
    with hub.client(issuer.token(scope="read other:start")) as rest:
        assert rest.get("/api/v1/process-instances").status_code == 200
        refused = rest.post("/api/v1/process-instances", json={"processId": "straight", "variables": {"amount": 2}})
        assert refused.status_code == 403


@pytest.mark.parametrize(
    "change",
    [
        {"lifetime_s": -120},  # expired, beyond the leeway
        {"nbf_from_now": 600},  # not valid yet (the time is taken when the test runs, not when it is collected)
        {"aud": "another-app"},
        {"iss": "https://login.example.org"},
        {"exp": None},  # no expiry at all
        {"sub": None},  # no principal id
        {"aud": None},  # no audience: a token for no resource in particular is not one for this hub
    ],
    ids=["expired", "not-yet-valid", "wrong-audience", "wrong-issuer", "no-exp", "no-sub", "no-aud"],
)
def test_a_token_that_does_not_hold_up_is_refused_with_401(
    hub: LiveHub, issuer: Issuer, change: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    if "nbf_from_now" in change:
        change = {"nbf": int(time.time()) + change["nbf_from_now"]}
    token = issuer.token(scope="read", **change)
    with hub.client(token) as rest:
        refused = rest.get("/api/v1/process-instances")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer ")
    assert token not in caplog.text


def test_an_unsigned_token_is_refused(hub: LiveHub, issuer: Issuer) -> None:
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": issuer.key.kid}, _claims(issuer)) + "."
    with hub.client(token) as rest:
        assert rest.get("/api/v1/process-instances").status_code == 401


def test_a_token_signed_with_the_public_key_as_an_hmac_secret_is_refused(hub: LiveHub, issuer: Issuer) -> None:
    with hub.client(issuer.token(scope="read")) as rest:
        assert rest.get("/api/v1/process-instances").status_code == 200  # the hub has the issuer's keys
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": issuer.key.kid}, _claims(issuer))
    signature = hmac.new(issuer.key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    with hub.client(f"{signing_input}.{_b64(signature)}") as rest:
        assert rest.get("/api/v1/process-instances").status_code == 401


def test_a_token_signed_with_a_rotated_key_is_accepted_after_the_keys_are_fetched_again(
    hub: LiveHub, issuer: Issuer
) -> None:
    with hub.client(issuer.token(scope="read")) as rest:
        assert rest.get("/api/v1/process-instances").status_code == 200
    assert issuer.jwks_fetches == 1
    old = issuer.token(scope="read")
    issuer.rotate()
    with hub.client(issuer.token(scope="read")) as rest:
        assert rest.get("/api/v1/process-instances").status_code == 200
    assert issuer.jwks_fetches == 2
    with hub.client(old) as rest:  # the old key is gone from the JWKS
        assert rest.get("/api/v1/process-instances").status_code == 401


def test_unknown_key_ids_do_not_make_the_hub_fetch_the_keys_more_than_once_per_interval(
    tmp_path: Path, issuer: Issuer
) -> None:
    with oidc_hub(tmp_path, issuer, refresh_s=3600) as hub:
        with hub.client(issuer.token(scope="read")) as rest:
            assert rest.get("/api/v1/process-instances").status_code == 200
        for n in range(5):
            made_up = issuer.token(scope="read", headers={"kid": f"made-up-{n}"})
            with hub.client(made_up) as rest:
                assert rest.get("/api/v1/process-instances").status_code == 401
        assert issuer.jwks_fetches == 1


def test_a_token_is_refused_with_401_while_discovery_is_down_and_accepted_once_it_is_back(
    hub: LiveHub, issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    issuer.down = True
    token = issuer.token(scope="read")
    with hub.client(token) as rest:
        refused = rest.get("/api/v1/process-instances")
    assert refused.status_code == 401
    assert "could not fetch the keys" in caplog.text and token not in caplog.text
    issuer.down = False
    with hub.client(token) as rest:
        assert rest.get("/api/v1/process-instances").status_code == 200


def test_api_tokens_still_work_beside_sign_in(hub: LiveHub) -> None:
    with hub.client(hub.token("read")) as rest:
        assert rest.get("/api/v1/process-instances").status_code == 200
    with hub.client("ahk_00000000_" + "x" * 43) as rest:
        assert rest.get("/api/v1/process-instances").status_code == 401


def test_a_jwt_is_refused_when_sign_in_is_not_configured(live_hub: LiveHub, issuer: Issuer) -> None:
    with live_hub.client(issuer.token(scope="admin")) as rest:
        assert rest.get("/api/v1/process-instances").status_code == 401
    assert issuer.jwks_fetches == 0


def test_the_metadata_names_the_issuer_as_the_authorization_server(hub: LiveHub, issuer: Issuer) -> None:
    with httpx.Client(base_url=hub.url, timeout=30) as http:
        for path in ("", "/mcp"):
            document = http.get(f"/.well-known/oauth-protected-resource{path}").json()
            assert document["authorization_servers"] == [issuer.url]
            assert document["resource"] == hub.url + path


async def test_an_assistant_connects_to_mcp_with_a_signed_in_persons_token(hub: LiveHub, issuer: Issuer) -> None:
    hub.deploy("straight.bpmn", expose=True)
    async with assistant(hub, issuer.token(scope="start read")) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert "straight" in tools
        done = await client.call_tool("straight", {"amount": 4})
        assert not done.is_error and done.structured_content is not None
        assert done.structured_content["doubled"] == 8
