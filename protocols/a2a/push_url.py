"""Webhook URLs for A2A push notifications: which ones a caller may set (RELIABILITY.md A3).

A push config makes the hub send requests to a URL the caller chose, so the
URL is checked before the config is stored, and the same check runs again
before each delivery (a config may reach the table by another path). The
rules on top of the egress allow-list (``AGENTHUB_HTTP_ALLOW``, the one the
``http`` connector obeys; ``protocols.http.EgressPolicy``):

- ``http`` or ``https`` only, ASCII only (an internationalised host in its
  ``xn--`` form), no whitespace or backslash, at most 2048 characters;
- no user info (``http://allowed@127.0.0.1``) and no fragment
  (``http://127.0.0.1#@allowed``): parsers disagree on where such a host
  ends, and a webhook needs neither;
- an IP address must be written in its usual form (dotted quad, or IPv6 in
  brackets): ``127.1``, ``2130706433``, ``0x7f000001`` and ``017700000001``
  all reach 127.0.0.1 through some resolvers and are refused outright;
- an IP address, and ``localhost`` or a name under ``.localhost`` (which
  stand for 127.0.0.1), must be admitted by the allow-list: by default
  only public addresses are, so loopback, private, link-local (the cloud
  metadata address), shared and unique-local addresses are refused;
- a host name must be a valid DNS name of at most 253 characters.

A host name is not resolved here: what it resolves to when a notification
goes out is what counts (DNS rebinding, A4), and the dispatcher checks every
address it connects to against the same allow-list.
"""

from __future__ import annotations

import ipaddress
import re
import socket

import httpx

from protocols.http import EgressDenied, EgressPolicy
from protocols.http.egress import IPAddress, parse_address

__all__ = ["MAX_URL_LENGTH", "PushUrlRefused", "check_push_url"]

MAX_URL_LENGTH = 2048
_MAX_HOST = 253
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NUMERIC = re.compile(r"^[0-9a-fx.]+$")
_LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


class PushUrlRefused(ValueError):
    """A webhook URL the hub will not call; the message says why and what to do."""


def check_push_url(url: str, policy: EgressPolicy) -> httpx.URL:
    """The parsed URL when a push notification may be sent to it, else ``PushUrlRefused``."""
    shown = url if len(url) <= 100 else url[:100] + "..."
    if len(url) > MAX_URL_LENGTH:
        raise PushUrlRefused(f"the webhook URL is longer than {MAX_URL_LENGTH} characters")
    if not url.isascii() or not url.isprintable() or any(c in url for c in " \\\t"):
        raise PushUrlRefused(
            f"the webhook URL '{shown}' has characters that are not printable ASCII (spaces and backslashes "
            "included); write an internationalised host name in its xn-- form"
        )
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise PushUrlRefused(f"the webhook URL '{shown}' is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise PushUrlRefused(f"the webhook URL '{shown}' must start with http:// or https://")
    if "#" in url:
        raise PushUrlRefused(f"the webhook URL '{shown}' has a fragment ('#...'), which a webhook does not use")
    if "@" in url.split("//", 1)[-1].split("/", 1)[0] or parsed.userinfo:
        raise PushUrlRefused(
            f"the webhook URL '{shown}' has user info ('...@'); put credentials in the config's "
            "authentication, not in the URL"
        )
    host = parsed.raw_host.decode("ascii").lower()  # as sent: .host would decode xn-- labels
    if not host:
        raise PushUrlRefused(f"the webhook URL '{shown}' names no host")
    address = _address(host, shown)
    if address is None:
        _check_name(host, shown)
        if host != "localhost" and not host.endswith(".localhost"):
            return parsed
        address = _LOOPBACK  # RFC 6761: localhost names are loopback, whatever a resolver says
    try:
        policy.check(host, [address])
    except EgressDenied as exc:
        raise PushUrlRefused(f"the webhook URL '{shown}' is refused: {exc}") from None
    return parsed


def _address(host: str, shown: str) -> IPAddress | None:
    """The IP address the host is written as, or None for a name; odd spellings of an address are refused."""
    literal = parse_address(host)
    if literal is not None:
        if isinstance(literal, ipaddress.IPv6Address) and literal.scope_id:
            raise PushUrlRefused(f"the webhook URL '{shown}' names an IPv6 address with a zone")
        return literal
    last = host.rstrip(".").rsplit(".", 1)[-1]
    if _NUMERIC.match(host) and (last.isdigit() or last.startswith("0x") or _inet_aton(host)):
        # What URL parsers and resolvers read as IPv4 in other spellings (127.1, 2130706433, 0x7f000001, octal).
        raise PushUrlRefused(
            f"the webhook URL '{shown}' writes its host '{host}' as a number that is not a dotted-quad IPv4 "
            "address; write the address as a.b.c.d"
        )
    return None


def _inet_aton(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def _check_name(host: str, shown: str) -> None:
    name = host.rstrip(".")
    if len(name) > _MAX_HOST or not name or not all(_LABEL.match(label) for label in name.split(".")):
        raise PushUrlRefused(
            f"the webhook URL '{shown}' has host '{host[:80]}', which is not a valid DNS name "
            f"(labels of 1 to 63 letters, digits or '-', at most {_MAX_HOST} characters in all)"
        )
