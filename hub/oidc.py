"""Sign-in by OpenID Connect: the hub accepts JWT access tokens from one configured issuer.

Owns: the issuer's discovery document and signing keys (fetched over HTTP and
cached), verifying a JWT against them, and mapping its claims to a
``registry.Principal``. Does not know: the guard's Host, Origin and body
checks, the hub's own API tokens, or how a person signs in at the issuer
(the client gets its token there; the hub only checks it).

Invariants:

- Only asymmetric signatures from an allow-list (RS*, PS*, ES*, EdDSA) are
  accepted, and only with a key from the issuer's JWKS whose algorithm is the
  token's: never ``none``, never HS* (which would accept a token "signed" with
  the public key as an HMAC secret).
- ``iss``, ``aud``, ``exp``, ``iat`` are required; ``exp``/``nbf``/``iat`` are
  checked with a small leeway for clock skew.
- The keys are fetched once and again when a token names an unknown ``kid``
  (key rotation), but no more than once per ``refresh_s``: a stream of tokens
  with made-up kids cannot turn the hub into a load generator on the issuer.
  A failed fetch is held to the same interval.
- Any failure (network, discovery, keys, token) is a refusal (``None``) with a
  log line that never contains the token.

The fetches use httpx's async client: the guard runs on the event loop, and a
slow issuer must not stall other requests. One lock makes concurrent requests
with a new kid wait for one fetch instead of each starting its own.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import jwt

from hub.oidc_config import ALGORITHMS, OidcConfig
from registry import Principal
from registry.tokens import SCOPES

__all__ = ["ALGORITHMS", "OidcConfig", "OidcVerifier", "looks_like_jwt"]

_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_LEEWAY_S = 30
_FETCH_TIMEOUT_S = 5.0
log = logging.getLogger("agenthub.hub.oidc")


def looks_like_jwt(token: str) -> bool:
    """Three base64url parts separated by dots (the signature may be empty, as in ``alg: none``)."""
    return _JWT.match(token) is not None


class _Refused(Exception):
    """The token is not accepted; the message says why, for the log (never the token)."""


class OidcVerifier:
    """Verifies JWTs from ``config.issuer``; ``clock`` is injectable so tests need not sleep."""

    def __init__(self, config: OidcConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._unnamed: list[jwt.PyJWK] = []  # keys without a kid, tried when the token names none
        self._fetched_at: float | None = None
        self._lock: asyncio.Lock | None = None
        self._endpoints: tuple[str, str] | None = None

    async def verify(self, token: str, *, audience: str | None = None, nonce: str | None = None) -> Principal | None:
        """The principal the token stands for, or None when it is not accepted (logged, without the token).

        An access token is checked against the hub's audience; an ID token from the console's sign-in against
        the console's ``client_id`` as audience and the ``nonce`` the sign-in sent.
        """
        try:
            return await self._verify(token, audience or self.config.audience, nonce)
        except _Refused as refused:
            log.info("an OpenID Connect token was refused: %s", refused)
            return None

    async def endpoints(self) -> tuple[str, str] | None:
        """The issuer's authorization and token endpoints (from discovery, fetched once), or None if unknown."""
        if self._endpoints is None:
            try:
                async with httpx.AsyncClient(timeout=_FETCH_TIMEOUT_S, follow_redirects=False) as http:
                    discovery = await _json(http, self.config.issuer.rstrip("/") + "/.well-known/openid-configuration")
            except (httpx.HTTPError, ValueError) as error:
                log.warning("OpenID Connect: could not read the discovery document of %s: %s",
                            self.config.issuer, error)
                return None
            found = discovery.get("authorization_endpoint"), discovery.get("token_endpoint")
            if discovery.get("issuer") != self.config.issuer or not all(
                    isinstance(u, str) and u.startswith(("https://", "http://")) for u in found):
                log.warning("OpenID Connect: the discovery document of %s names no usable endpoints",
                            self.config.issuer)
                return None
            self._endpoints = (str(found[0]), str(found[1]))
        return self._endpoints

    async def _verify(self, token: str, audience: str, nonce: str | None) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise _Refused(f"malformed token ({type(error).__name__})") from None
        alg = header.get("alg")
        if alg not in self.config.algorithms:
            raise _Refused(f"algorithm {str(alg)[:20]!r} is not allowed")
        key = await self._key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=list(self.config.algorithms),
                audience=audience,
                issuer=self.config.issuer,
                leeway=_LEEWAY_S,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise _Refused(f"{type(error).__name__}: {error}") from None
        if nonce is not None and claims.get("nonce") != nonce:
            raise _Refused("the ID token's nonce is not the one this sign-in sent")
        return self._principal(claims)

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        name = claims.get(self.config.name_claim)
        if not isinstance(name, str) or not name.strip():
            raise _Refused(f"the claim {self.config.name_claim!r} (the principal's id) is missing or not a string")
        groups = claims.get(self.config.groups_claim, [])
        if isinstance(groups, str):
            groups = [groups]
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise _Refused(f"the claim {self.config.groups_claim!r} (groups) is not a list of strings")
        raw_scopes = claims.get(self.config.scopes_claim, "")
        if isinstance(raw_scopes, str):
            raw_scopes = raw_scopes.split()
        if not isinstance(raw_scopes, list) or not all(isinstance(s, str) for s in raw_scopes):
            raise _Refused(f"the claim {self.config.scopes_claim!r} (scopes) is neither a string nor a list of strings")
        display = claims.get("name")
        return Principal(
            name=name,
            scopes=frozenset(s for s in raw_scopes if s in SCOPES),  # other scopes mean nothing to the hub
            groups=frozenset(groups),
            person=True,
            display_name=display if isinstance(display, str) and display else None,
        )

    async def _key(self, kid: object) -> jwt.PyJWK:
        if kid is not None and not isinstance(kid, str):
            raise _Refused("the token's kid is not a string")
        found = self._lookup(kid)
        if found is not None:
            return found
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            found = self._lookup(kid)  # another request may have fetched while this one waited
            if found is None and self._may_fetch():
                await self._fetch()
                found = self._lookup(kid)
        if found is None:
            raise _Refused(f"no key of the issuer has kid {str(kid)[:64]!r}")
        return found

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return self._unnamed[0] if len(self._unnamed) == 1 else None
        return self._keys.get(kid)

    def _may_fetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self.config.refresh_s

    async def _fetch(self) -> None:
        """Fetch discovery, then the JWKS; replace the cached keys. Failures are logged and leave the old keys."""
        self._fetched_at = self._clock()
        issuer = self.config.issuer
        try:
            async with httpx.AsyncClient(timeout=_FETCH_TIMEOUT_S, follow_redirects=False) as http:
                discovery = await _json(http, issuer.rstrip("/") + "/.well-known/openid-configuration")
                if discovery.get("issuer") != issuer:
                    raise ValueError(f"the discovery document names issuer {str(discovery.get('issuer'))[:200]!r}")
                jwks_uri = discovery.get("jwks_uri")
                if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                    raise ValueError("the discovery document has no jwks_uri")
                if jwks_uri.startswith("http://") and not issuer.startswith("http://"):
                    raise ValueError("the jwks_uri is plain http while the issuer is https")
                jwks = await _json(http, jwks_uri)
        except (httpx.HTTPError, ValueError) as error:
            log.warning("OpenID Connect: could not fetch the keys of %s: %s", issuer, error)
            return
        keys: dict[str, jwt.PyJWK] = {}
        unnamed: list[jwt.PyJWK] = []
        for entry in jwks.get("keys") or []:
            key = self._usable(entry)
            if key is None:
                continue
            kid = entry.get("kid")
            if isinstance(kid, str):
                keys[kid] = key
            else:
                unnamed.append(key)
        if not keys and not unnamed:
            log.warning("OpenID Connect: the JWKS of %s holds no usable signing key", issuer)
            return
        self._keys, self._unnamed = keys, unnamed

    def _usable(self, entry: object) -> jwt.PyJWK | None:
        """A signing key with an allowed algorithm, or None; symmetric (``oct``) keys are never taken."""
        if not isinstance(entry, dict) or entry.get("kty") == "oct" or entry.get("use", "sig") != "sig":
            return None
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            return None
        return key if key.algorithm_name in self.config.algorithms else None


async def _json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    answer = await http.get(url, headers={"Accept": "application/json"})
    answer.raise_for_status()
    document = answer.json()
    if not isinstance(document, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return document
