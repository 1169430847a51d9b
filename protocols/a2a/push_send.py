"""Sending one push notification: a POST to the config's webhook, made only to an address the allow-list admits.

Lifecycle of one attempt:

1. the URL is checked again with the create-time rules
   (``push_url.check_push_url``): a config that reached the table some other
   way is refused here, before any name is resolved;
2. the host is resolved once and every address checked against the egress
   allow-list (``EgressPolicy.admit``, the ``http`` connector's), then the
   connection goes to a checked address, with the URL's host in ``Host``
   and, for https, in the TLS server name: a DNS answer that changes
   between check and connection cannot redirect it (RELIABILITY.md A4);
3. the body is the task as an A2A ``StreamResponse``; the config's token
   goes in ``X-A2A-Notification-Token`` and its authentication in
   ``Authorization: <scheme> <credentials>``;
4. a 2xx answer is a delivery. Redirects are not followed (a 3xx is a
   failed attempt), and the answer's body is not read.

The whole attempt, resolution included, ends within ``timeout_s`` (at most
30 s, as A2A advises). ``DeliveryRefused`` means the destination is not
allowed and retrying cannot help; ``DeliveryFailed`` is worth a retry.
Proxy settings in the environment are ignored: a proxy would connect to an
address nobody checked.
"""

from __future__ import annotations

import asyncio
import ssl

import httpx

from protocols.a2a.push_url import PushUrlRefused, check_push_url
from protocols.http import ConnectionFailed, EgressDenied, EgressPolicy, Resolver, system_resolver
from protocols.http.egress import IPAddress, parse_address
from registry import PushConfig

__all__ = ["MAX_TIMEOUT_S", "DeliveryFailed", "DeliveryRefused", "PushSender"]

MAX_TIMEOUT_S = 30.0
TOKEN_HEADER = "X-A2A-Notification-Token"


class DeliveryRefused(Exception):
    """The webhook may not be called (a refused URL or address); no retry."""


class DeliveryFailed(Exception):
    """The attempt failed (no connection, timeout, a non-2xx answer); ``status`` is the answer's, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PushSender:
    """POSTs notifications under an egress policy; ``resolve`` and ``ssl_context`` replace the system's."""

    def __init__(
        self,
        egress: EgressPolicy,
        *,
        timeout_s: float = 10.0,
        resolve: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not 0 < timeout_s <= MAX_TIMEOUT_S:
            raise ValueError(f"a push notification's timeout must be more than 0 and at most {MAX_TIMEOUT_S:g} s")
        self.egress = egress
        self.timeout_s = timeout_s
        self._resolve = resolve
        self._ssl = ssl_context or httpx.create_ssl_context()

    async def send(self, config: PushConfig, payload: str) -> int:
        """Deliver ``payload`` to the config's webhook; the 2xx status it answered, else an exception."""
        try:
            url = check_push_url(config.url, self.egress)
        except PushUrlRefused as exc:
            # The message quotes the URL, whose path or query may hold a secret (many webhooks work that way).
            raise DeliveryRefused(str(exc).replace(config.url[:100], _origin(config.url))) from None
        headers = [("Content-Type", "application/json"), ("A2A-Version", "1.0"), ("User-Agent", "agenthub-push")]
        if config.token:
            headers.append((TOKEN_HEADER, config.token))
        if config.auth_scheme and config.auth_credentials:
            headers.append(("Authorization", f"{config.auth_scheme} {config.auth_credentials}"))
        shown = _origin(config.url)  # errors are logged and stored: no path or query, which may carry a secret
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._post(url, shown, headers, payload.encode())
        except TimeoutError:
            raise DeliveryFailed(f"{shown} gave no answer within {self.timeout_s:g} s") from None

    async def _post(self, url: httpx.URL, shown: str, headers: list[tuple[str, str]], body: bytes) -> int:
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = await self.egress.admit(host, port, self._resolve)
        except EgressDenied as exc:
            raise DeliveryRefused(f"{shown} is refused: {exc}") from None
        except ConnectionFailed as exc:
            raise DeliveryFailed(f"{shown}: {exc}") from None
        last: Exception | None = None
        for address in addresses:  # every one was checked; try them in the resolver's order
            try:
                return await self._exchange(url, shown, address, headers, body)
            except httpx.ConnectError as exc:
                last = exc
        tried = ", ".join(str(a) for a in addresses)
        raise DeliveryFailed(f"cannot connect to {shown} at {tried}: {last}")

    async def _exchange(
        self, url: httpx.URL, shown: str, address: IPAddress, headers: list[tuple[str, str]], body: bytes
    ) -> int:
        host = url.raw_host.decode("ascii")
        target = url.copy_with(host=str(address))  # connect to the checked address; the name stays in Host and SNI
        sent = [*headers, ("Host", url.netloc.decode("ascii"))]
        extensions = {"sni_hostname": host} if url.scheme == "https" and parse_address(host) is None else {}
        try:
            async with (
                httpx.AsyncClient(verify=self._ssl, trust_env=False, timeout=self.timeout_s) as client,
                client.stream("POST", target, headers=sent, content=body, extensions=extensions) as response,
            ):
                status = response.status_code
        except httpx.ConnectError:
            raise
        except httpx.TimeoutException:
            raise DeliveryFailed(f"{shown} gave no answer within {self.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"POST {shown} failed: {type(exc).__name__}") from None
        if not 200 <= status < 300:
            what = "redirected (not followed)" if 300 <= status < 400 else f"answered {status}"
            raise DeliveryFailed(f"POST {shown} {what}", status)
        return status


def _origin(url: str) -> str:
    """``scheme://host[:port]/...`` of a URL, for messages: webhook URLs often carry a secret in the path."""
    try:
        parsed = httpx.URL(url)
        return f"{parsed.scheme}://{parsed.netloc.decode('ascii')}/..."
    except (httpx.InvalidURL, UnicodeError):
        return "(an invalid URL)"
