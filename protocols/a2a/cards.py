"""Fetching a remote agent's card, the first step of registering it.

The card is fetched as every call to the agent is made: through a client
whose connections go only to addresses the egress allow-list
(``AGENTHUB_HTTP_ALLOW``) admits, the host resolved once and the connection
made to a checked address (``_egress``). Registering an agent at a refused
address (the metadata service 169.254.169.254, a private network) therefore
fails with a ``CardError`` naming the address and the setting, before any
connection is made.

A card that is signed (A2A 1.0 ``signatures``) must verify with a key its own
origin publishes (``signing.verify_card``), or registering it fails.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from engine import strict_json
from protocols.a2a._egress import checked_client
from protocols.a2a.signing import SignatureProblem, verify_card
from protocols.http import EgressPolicy, HttpConnectorError, Resolver, system_resolver

MAX_CARD_BYTES = 1024 * 1024
WELL_KNOWN = "/.well-known/agent-card.json"


class CardError(Exception):
    """The card could not be fetched or is not an agent card; the message says which and why."""


def card_url(url: str) -> str:
    """The card's address: the URL itself when it names a ``.json`` file, else its well-known path."""
    return url if url.endswith(".json") else url.rstrip("/") + WELL_KNOWN


async def fetch_card(
    url: str,
    *,
    egress: EgressPolicy,
    token_env: str | None = None,
    timeout_s: float = 10.0,
    resolve: Resolver = system_resolver,
) -> dict[str, Any]:
    """The agent card at ``url``, fetched only from addresses ``egress`` admits; CardError says what went wrong."""
    headers = {"Accept": "application/json", "A2A-Version": "1.0"}
    if token_env:
        secret = os.environ.get(token_env)
        if not secret:
            raise CardError(f"environment variable {token_env} is not set (it holds the agent's bearer token)")
        headers["Authorization"] = f"Bearer {secret}"
    target = card_url(url)
    try:
        async with (
            checked_client(egress, headers={}, timeout_s=timeout_s, resolve=resolve) as client,
            client.stream("GET", target, headers=headers) as response,
        ):
            if response.status_code != 200:
                raise CardError(f"GET {target} answered {response.status_code}; is this an A2A agent's URL?")
            data = b""
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_CARD_BYTES:
                    raise CardError(f"the agent card at {target} is larger than {MAX_CARD_BYTES} bytes")
    except HttpConnectorError as exc:  # EgressDenied names the refused address and the setting to change
        raise CardError(f"cannot fetch the agent card from {target}: {exc}") from None
    except httpx.HTTPError as exc:
        raise CardError(f"cannot fetch the agent card from {target}: {type(exc).__name__}: {exc}") from None
    try:  # strictly: a card with NaN or a repeated key could not be pinned by its canonical hash
        card = strict_json.loads(data)
    except strict_json.JsonProblem as exc:
        raise CardError(f"{target} did not return JSON: {exc}") from None
    if not isinstance(card, dict) or not isinstance(card.get("name"), str):
        raise CardError(f"{target} is not an agent card (no 'name')")
    if card.get("signatures"):  # signed (A2A 1.0): one signature must verify with a key its origin publishes

        async def jwks(url: str) -> dict[str, Any]:
            return await _fetch_json(url, egress, timeout_s, resolve)

        try:
            await verify_card(card, target, jwks)
        except SignatureProblem as exc:
            raise CardError(str(exc)) from None
    return card


async def _fetch_json(url: str, egress: EgressPolicy, timeout_s: float, resolve: Resolver) -> dict[str, Any]:
    """A small public JSON document (a JWKS), fetched as the card is; CardError says what went wrong."""
    try:
        async with checked_client(egress, headers={}, timeout_s=timeout_s, resolve=resolve) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
    except (HttpConnectorError, httpx.HTTPError) as exc:
        raise CardError(f"cannot fetch the keys the card is signed with from {url}: {exc}") from None
    if response.status_code != 200 or len(response.content) > MAX_CARD_BYTES:
        raise CardError(f"GET {url} (the keys the card is signed with) answered {response.status_code}")
    try:
        found = strict_json.loads(response.content)
    except strict_json.JsonProblem as exc:
        raise CardError(f"{url} did not return JSON: {exc}") from None
    if not isinstance(found, dict):
        raise CardError(f"{url} is not a JWK set")
    return found
