"""The signing keys of a webhook's JWT authentication: a JWKS fetched from the model's ``jwkUrl`` and cached.

The URL is the model's, so it is fetched as the http connector fetches: only
to an address the egress allow-list admits (``AGENTHUB_HTTP_ALLOW``), checked
on the address actually connected to, without redirects, with a size cap and
a timeout. Keys are kept ``_KEEP_S`` (Camunda's connector caches them ten
minutes) and fetched again at most once per ``_RETRY_S`` when a token names a
key id the cache lacks (a rotation), so tokens with made-up key ids cannot
turn the hub into a load generator on the issuer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import httpx
import jwt

from protocols.http import EgressPolicy
from protocols.http.egress import Resolver, system_resolver
from protocols.http.exceptions import ConnectionFailed, EgressDenied

__all__ = ["JwksCache", "JwksUnavailable"]

_KEEP_S: Final = 600.0
_RETRY_S: Final = 60.0
_TIMEOUT_S: Final = 5.0
_MAX_BYTES: Final = 256 * 1024
log = logging.getLogger("agenthub.hub.inbound")


class JwksUnavailable(Exception):
    """The keys could not be fetched or read; the message names the URL's origin, never its path or query."""


@dataclass(slots=True)
class _Entry:
    keys: dict[str | None, jwt.PyJWK]
    fetched_at: float


class JwksCache:
    """Keys per JWKS URL; ``clock`` is injectable so tests need not sleep."""

    def __init__(self, egress: EgressPolicy, *, resolve: Resolver = system_resolver,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.egress = egress
        self._resolve = resolve
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = asyncio.Lock()

    async def key(self, url: str, kid: str | None) -> jwt.PyJWK | None:
        """The key ``kid`` of the JWKS at ``url`` (the only key when the token names none), or None."""
        async with self._lock:
            entry = self._entries.get(url)
            now = self._clock()
            stale = entry is None or now - entry.fetched_at > _KEEP_S
            unknown = entry is not None and kid not in entry.keys and now - entry.fetched_at > _RETRY_S
            if stale or unknown:
                entry = _Entry(await self._fetch(url), now)
                self._entries[url] = entry
            assert entry is not None
        found = entry.keys.get(kid)
        if found is None and kid is None and len(entry.keys) == 1:
            found = next(iter(entry.keys.values()))
        return found

    async def _fetch(self, url: str) -> dict[str | None, jwt.PyJWK]:
        parsed = httpx.URL(url)
        shown = f"{parsed.scheme}://{parsed.netloc.decode('ascii', 'replace')}"
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise JwksUnavailable(f"the JWK URL {shown} is not an http(s) URL")
        host = parsed.raw_host.decode("ascii")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = await self.egress.admit(host, port, self._resolve)
        except (EgressDenied, ConnectionFailed) as exc:
            raise JwksUnavailable(f"the JWK URL {shown} may not be fetched: {exc}") from None
        last: Exception | None = None
        for address in addresses:  # connect to a checked address; the name stays in Host and SNI
            target = parsed.copy_with(host=str(address))
            extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
            try:
                async with httpx.AsyncClient(trust_env=False, timeout=_TIMEOUT_S, follow_redirects=False) as client:
                    answer = await client.get(target, headers={"Host": parsed.netloc.decode("ascii")},
                                              extensions=extensions)
            except httpx.ConnectError as exc:
                last = exc
                continue
            except httpx.HTTPError as exc:
                raise JwksUnavailable(f"fetching the JWKS at {shown} failed: {type(exc).__name__}") from None
            return _keys(answer, shown)
        raise JwksUnavailable(f"cannot connect to {shown}: {last}")


def _keys(answer: httpx.Response, shown: str) -> dict[str | None, jwt.PyJWK]:
    if answer.status_code != 200:
        raise JwksUnavailable(f"the JWKS at {shown} answered {answer.status_code}")
    if len(answer.content) > _MAX_BYTES:
        raise JwksUnavailable(f"the JWKS at {shown} is larger than {_MAX_BYTES} bytes")
    try:
        data = json.loads(answer.content)
        entries = data["keys"]
        if not isinstance(entries, list):
            raise TypeError("'keys' is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise JwksUnavailable(f"the JWKS at {shown} is not a JSON Web Key Set: {exc}") from None
    keys: dict[str | None, jwt.PyJWK] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            keys[entry.get("kid")] = jwt.PyJWK(entry)
        except jwt.PyJWTError as exc:  # a key of a type PyJWT cannot use: skipped, the others still serve
            log.info("a key of the JWKS at %s is skipped: %s", shown, exc)
    return keys
