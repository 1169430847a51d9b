"""Signed agent cards (A2A 1.0): a hub with ``AGENTHUB_A2A_SIGNING_KEY`` signs its cards and publishes the key;
our client (``fetch_card``) checks a remote card's signature when it carries one."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from protocols.a2a.cards import fetch_card
from protocols.a2a.signing import SignatureProblem, verify_card
from protocols.http import EgressPolicy
from tests.hub.harness import LiveHub, serve_hub

pytestmark = pytest.mark.anyio

LOCAL = EgressPolicy.from_env("127.0.0.1")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    folder = tmp_path_factory.mktemp("signed-cards")
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    (folder / "card-key.pem").write_bytes(pem)
    with serve_hub(folder, a2a_signing_key=str(folder / "card-key.pem"), http_allow="127.0.0.1") as live:
        live.deploy("straight.bpmn", expose=True)
        yield live


def protected(card: dict[str, Any]) -> dict[str, Any]:
    raw = card["signatures"][0]["protected"]
    header: dict[str, Any] = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    return header


async def test_the_hubs_cards_are_signed_with_the_key_it_publishes_and_the_03_card_is_not(hub: LiveHub) -> None:
    async with httpx.AsyncClient(base_url=hub.url) as http:  # all public: no token
        first, again = [await http.get("/a2a/straight/.well-known/agent-card.json") for _ in range(2)]
        card = first.json()
        hub_card = (await http.get("/.well-known/agent-card.json")).json()
        old = (await http.get("/a2a/straight/.well-known/agent.json")).json()
        jwks = await http.get("/.well-known/jwks.json")
    header = protected(card)
    assert (header["alg"], header["typ"], header["jku"]) == ("ES256", "JOSE", f"{hub.url}/.well-known/jwks.json")
    assert protected(hub_card)["kid"] == header["kid"]
    assert jwks.status_code == 200 and jwks.headers["access-control-allow-origin"] == "*"
    [key] = jwks.json()["keys"]
    assert (key["kid"], key["kty"], key["crv"]) == (header["kid"], "EC", "P-256") and "d" not in key
    assert "signatures" not in old
    assert first.headers["etag"] == again.headers["etag"]  # the card's tag, whatever the signature's randomness


async def test_our_client_accepts_a_card_whose_signature_verifies_and_refuses_a_tampered_one(hub: LiveHub) -> None:
    url = f"{hub.url}/a2a/straight"
    card = await fetch_card(url, egress=LOCAL)  # verified on the way in
    assert card["skills"][0]["id"] == "straight"
    async with httpx.AsyncClient() as http:
        published = (await http.get(f"{hub.url}/.well-known/jwks.json")).json()

    async def jwks(_url: str) -> dict[str, Any]:
        return dict(published)

    await verify_card(card, f"{url}/.well-known/agent-card.json", jwks)
    with pytest.raises(SignatureProblem, match="no signature verifies"):
        await verify_card({**card, "description": "Wire the money elsewhere"}, f"{url}/.well-known/agent-card.json",
                          jwks)
    with pytest.raises(SignatureProblem, match="not on its own origin"):
        await verify_card(card, "http://127.0.0.2:9/.well-known/agent-card.json", jwks)


def test_a_hub_without_a_key_serves_unsigned_cards_and_no_keys(tmp_path: Path) -> None:
    with serve_hub(tmp_path) as plain, httpx.Client(base_url=plain.url) as http:
        keys = http.get("/.well-known/jwks.json")
        card = http.get("/.well-known/agent-card.json").json()
    assert keys.status_code == 404 and "AGENTHUB_A2A_SIGNING_KEY" in keys.json()["error"]
    assert "signatures" not in card
