"""Signing in to the console with OpenID Connect: the authorization code flow with PKCE against a real issuer."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.hub.harness import LiveHub, oidc_hub
from tests.oidc_issuer import Issuer


@pytest.fixture
def hub(tmp_path: Path, issuer: Issuer) -> Iterator[LiveHub]:
    with oidc_hub(tmp_path, issuer, client_id=issuer.client_id) as live:
        yield live


def _authorize(client: httpx.Client, hub: LiveHub) -> tuple[str, dict[str, list[str]]]:
    answer = client.get("/login/oidc", params={"next": "/tasks"})
    assert answer.status_code == 303
    target = answer.headers["location"]
    return target, parse_qs(urlsplit(target).query)


def test_a_person_signs_in_at_the_issuer_and_the_session_carries_their_groups(
    hub: LiveHub, issuer: Issuer
) -> None:
    issuer.person = {"sub": "fin", "name": "Fiona Finance", "groups": ["finance"], "scope": "read tasks"}
    with httpx.Client(base_url=hub.url) as client:
        login = client.get("/login")
        assert 'href="/login/oidc?next=/"' in login.text
        target, query = _authorize(client, hub)
        assert target.startswith(issuer.url + "/authorize?")
        assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [issuer.client_id]
        assert query["redirect_uri"] == [hub.url + "/login/oidc/callback"]
        back = httpx.get(target)  # the issuer signs the person in and sends the browser back
        assert back.status_code == 302
        done = client.get(back.headers["location"])
        assert done.status_code == 303 and done.headers["location"] == "/tasks"
        home = client.get("/")
        assert home.status_code == 200 and "Fiona Finance" in home.text and "finance" in home.text
    [exchange] = issuer.exchanges
    challenge = base64.urlsafe_b64encode(hashlib.sha256(exchange["code_verifier"].encode()).digest()).rstrip(b"=")
    assert challenge.decode() == query["code_challenge"][0]  # the verifier went server to server, matching


def test_a_callback_whose_state_is_not_this_browsers_is_refused(hub: LiveHub, issuer: Issuer) -> None:
    with httpx.Client(base_url=hub.url) as victim, httpx.Client(base_url=hub.url) as attacker:
        target, _ = _authorize(attacker, hub)
        back = httpx.get(target)
        # The attacker's code, replayed in another browser (login CSRF): that browser never started this sign-in.
        refused = victim.get(back.headers["location"])
        assert refused.status_code == 400 and "not started here" in refused.text
        _authorize(victim, hub)
        forged = victim.get(back.headers["location"])
        assert forged.status_code == 400 and "state" in forged.text
        assert victim.get("/").status_code == 303


def test_an_id_token_for_another_client_is_refused(hub: LiveHub, issuer: Issuer) -> None:
    with httpx.Client(base_url=hub.url) as client:
        target, _ = _authorize(client, hub)
        back = httpx.get(target)
        issuer.client_id = "someone-else"  # the issuer now mints ID tokens for another audience
        code_url = back.headers["location"]
        answer = client.get(code_url)
        assert answer.status_code in (401, 502)
        assert client.get("/").status_code == 303


def test_signing_in_with_the_browser(hub: LiveHub, issuer: Issuer, page: Any) -> None:
    issuer.person = {"sub": "ops1", "name": "Olga Ops", "groups": ["ops"], "scope": "read"}
    page.goto(hub.url + "/")
    page.click("#oidc")
    page.wait_for_url(hub.url + "/")
    assert "Olga Ops" in page.locator("h1").inner_text()
    assert page.errors == []
