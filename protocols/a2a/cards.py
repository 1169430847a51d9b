"""Fetching a remote agent's card, the first step of registering it.

The card is fetched as every call to the agent is made: through a client
whose connections go only to addresses the egress allow-list
(``AGENTHUB_HTTP_ALLOW``) admits, the host resolved once and the connection
made to a checked address (``_egress``). Registering an agent at a refused
address (the metadata service 169.254.169.254, a private network) therefore
fails with a ``CardError`` naming the address and the setting, before any
connection is made.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from engine import strict_json
from protocols.a2a._egress import checked_client
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
    return card
