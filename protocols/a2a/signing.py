"""Signed agent cards (A2A 1.0): the hub's cards signed with its key, and a remote card's signature checked.

A2A 1.0 signs a card as a JWS with a detached payload: the card's canonical
JSON (RFC 8785, ``signatures`` left out), one entry of ``signatures`` per key
(``protected``: the base64url JWS header, ``signature``). The a2a-sdk does the
canonical form and the JWS (``a2a.utils.signing``); this module holds the key
and the trust rule.

Our side: with ``AGENTHUB_A2A_SIGNING_KEY`` (a PEM private key: EC P-256 signs
ES256, RSA RS256, Ed25519 EdDSA) every 1.0 card the hub serves carries one
signature whose header names the key (``kid``, its RFC 7638 thumbprint) and
where it is published (``jku``: ``/.well-known/jwks.json`` on the hub). The 0.3
card is served unsigned: 0.3 canonicalizes another document.

Their side: a remote card that carries ``signatures`` is checked when it is
fetched (``cards.fetch_card``): at least one signature must verify with a key
from its ``jku``, and that JWKS must be on the card's own origin, so the
signature ties the card to the keys its host publishes (a ``jku`` elsewhere
would let whoever wrote the card pick the key). An unsigned card is accepted
as before: signing is optional in A2A.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from a2a.types import AgentCard
from a2a.utils.signing import SignatureVerificationError, create_agent_card_signer, create_signature_verifier
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from google.protobuf.json_format import ParseDict, ParseError  # type: ignore[import-untyped]
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.api_jwk import PyJWK
from jwt.exceptions import InvalidKeyError, PyJWKError

__all__ = ["ALGORITHMS", "JWKS_PATH", "CardSigner", "SignatureProblem", "verify_card"]

JWKS_PATH = "/.well-known/jwks.json"
ALGORITHMS = ["ES256", "RS256", "EdDSA"]


class SignatureProblem(Exception):
    """A signed card whose signatures do not verify, or whose keys cannot be had; the message says which."""


class CardSigner:
    """The hub's card key: signs cards, and publishes its public half as a JWKS."""

    def __init__(self, pem: bytes, jwks_url: Callable[[], str]) -> None:
        key = serialization.load_pem_private_key(pem, password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            self.algorithm, public = "ES256", ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        elif isinstance(key, rsa.RSAPrivateKey):
            self.algorithm, public = "RS256", RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            self.algorithm, public = "EdDSA", OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
        else:
            raise ValueError("AGENTHUB_A2A_SIGNING_KEY must be an EC P-256, RSA or Ed25519 private key (PEM)")
        self._key = key
        self.kid = _thumbprint(public)
        self.jwk = {**public, "kid": self.kid, "alg": self.algorithm, "use": "sig"}
        self.jwks_url = jwks_url

    @classmethod
    def from_file(cls, path: str, jwks_url: Callable[[], str]) -> CardSigner:
        try:
            pem = Path(path).read_bytes()
        except OSError as exc:
            raise ValueError(f"AGENTHUB_A2A_SIGNING_KEY: cannot read {path}: {exc}") from None
        return cls(pem, jwks_url)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk]}

    def sign(self, card: AgentCard) -> AgentCard:
        """A copy of ``card`` with this key's signature as its only one."""
        signed = AgentCard()
        signed.CopyFrom(card)
        signed.ClearField("signatures")
        header = {"kid": self.kid, "alg": self.algorithm, "jku": self.jwks_url(), "typ": "JOSE"}
        return create_agent_card_signer(self._key, header)(signed)  # type: ignore[arg-type]


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 over the key's required members, sorted, no spaces; base64url without padding."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    members = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()


def _headers(card: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for entry in card.get("signatures") or []:
        raw = entry.get("protected") if isinstance(entry, dict) else None
        try:
            header = json.loads(base64.urlsafe_b64decode(str(raw) + "=" * (-len(str(raw)) % 4)))
        except (ValueError, TypeError):
            continue
        if isinstance(header, dict):
            found.append(header)
    return found


async def verify_card(
    card: dict[str, Any], card_url: str, fetch_jwks: Callable[[str], Awaitable[dict[str, Any]]]
) -> None:
    """Check a signed card: one signature must verify with a key of its ``jku``, on the card's own origin."""
    origin = urlsplit(card_url)[:2]
    keys: dict[str, PyJWK] = {}
    for url in {h["jku"] for h in _headers(card) if isinstance(h.get("jku"), str)}:
        if urlsplit(url)[:2] != origin:
            raise SignatureProblem(f"the card at {card_url} is signed with keys published at {url}, not on its own "
                                   "origin: its signature proves nothing about who serves it")
        for jwk in (await fetch_jwks(url)).get("keys") or []:
            try:
                if isinstance(jwk, dict) and isinstance(jwk.get("kid"), str):
                    keys[jwk["kid"]] = PyJWK(jwk)
            except PyJWKError:
                continue
    if not keys:
        raise SignatureProblem(f"the card at {card_url} is signed, but names no key published on its origin (jku)")

    def key_of(kid: str | None, _jku: str | None) -> PyJWK:
        if kid is None or kid not in keys:
            raise InvalidKeyError(f"no published key '{kid}'")  # a PyJWTError: the verifier tries the next signature
        return keys[kid]

    try:
        parsed = ParseDict(card, AgentCard(), ignore_unknown_fields=True)
        create_signature_verifier(key_of, ALGORITHMS)(parsed)
    except (SignatureVerificationError, ParseError, ValueError) as exc:
        raise SignatureProblem(f"the card at {card_url} is signed, but no signature verifies: {exc}") from None
