"""Where the HTTP connector may connect: an allow-list checked on the addresses actually connected to.

The allow-list is a list of entries (the hub reads it from ``AGENTHUB_HTTP_ALLOW``,
comma separated):

- ``public``: any globally routable address;
- ``api.example.com``: that host name, whatever it resolves to;
- ``*.example.com``: any subdomain of ``example.com`` (not ``example.com`` itself);
- ``10.0.0.7`` or ``fd00::7``: that address;
- ``10.0.0.0/8`` or ``fd00::/8``: any address in that network.

No entries means ``public``. A list replaces that default: ``10.0.0.0/8`` alone
admits only that network, ``public,10.0.0.0/8`` admits both. Loopback, private,
link-local (including the cloud metadata address 169.254.169.254), unique-local,
shared (100.64/10), multicast, unspecified and reserved addresses are never
``public``; only an address, network or host name entry admits them. IPv4
addresses carried inside IPv6 ones (``::ffff:a.b.c.d``, 6to4, Teredo, NAT64) are
judged as the IPv4 address they reach.

The connector resolves a name itself, checks every address it resolves to (one
refused address refuses the name) and then connects to a checked address, so a
DNS answer that changes between check and connection cannot redirect it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

from protocols.http.exceptions import ConnectionFailed, EgressConfigError, EgressDenied

__all__ = ["ENV_VAR", "EgressPolicy", "IPAddress", "Resolver", "address_kind", "connect_admitted", "system_resolver"]

ENV_VAR = "AGENTHUB_HTTP_ALLOW"
T = TypeVar("T")

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver: TypeAlias = Callable[[str, int], Awaitable[Sequence[str]]]
"""``resolve(host, port)`` -> the addresses (as text) that ``host`` resolves to."""

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer for ``host``, through the event loop's ``getaddrinfo``."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConnectionFailed(f"cannot resolve host '{host}': {exc}") from None
    seen: dict[str, None] = {}
    for *_, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for or tunnels to, if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_kind(address: IPAddress) -> str:
    """``"public"`` for a globally routable address, else what it is (``"loopback"``, ``"private"``, ...)."""
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv6Address):
        if address in _UNIQUE_LOCAL:
            return "unique-local"
        inner = _embedded_ipv4(address)
        if inner is not None:
            kind = address_kind(inner)
            return kind if kind == "public" else f"{kind} (as {inner})"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not globally routable"
    return "public"


def _unmapped(address: IPAddress) -> IPAddress:
    """``::ffff:10.0.0.1`` is ``10.0.0.1`` for matching against entries."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def normalize_host(host: str) -> str:
    """Lower case, no trailing dot, IDNA (``münchen.de`` -> ``xn--mnchen-3ya.de``)."""
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def parse_address(text: str) -> IPAddress | None:
    """The address ``text`` is (brackets and an IPv6 zone allowed), or None for a host name."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """The allow-list, parsed. Build it with ``parse(entries)`` or ``from_env(value)``."""

    public: bool = True
    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()  # ".example.com" for "*.example.com"
    networks: tuple[IPNetwork, ...] = ()
    entries: tuple[str, ...] = ("public",)  # as written, for messages

    @classmethod
    def parse(cls, entries: Iterable[str]) -> EgressPolicy:
        """The policy of these entries; no entries gives the default, ``public``."""
        written = tuple(e.strip() for e in entries if e.strip())
        if not written:
            return cls()
        public = False
        hosts: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for entry in written:
            if entry.lower() == "public":
                public = True
            elif (network := _network(entry)) is not None:
                networks.append(network)
            elif entry.startswith("*."):
                suffixes.append("." + _host_entry(entry[2:], entry))
            else:
                hosts.add(_host_entry(entry, entry))
        return cls(public, frozenset(hosts), tuple(suffixes), tuple(networks), written)

    @classmethod
    def from_env(cls, value: str | None) -> EgressPolicy:
        """The policy of a comma-separated list such as ``AGENTHUB_HTTP_ALLOW``'s value (None or empty: ``public``)."""
        return cls.parse((value or "").split(","))

    def admits_name(self, host: str) -> bool:
        """Whether a host name entry (exact or ``*.`` wildcard) admits ``host``."""
        name = normalize_host(host)
        return name in self.hosts or any(name.endswith(suffix) for suffix in self.suffixes)

    def allows(self, host: str, address: IPAddress) -> bool:
        """Whether connecting to ``address`` for a URL naming ``host`` is allowed."""
        address = _unmapped(address)
        if any(address in network for network in self.networks):
            return True
        if self.admits_name(host):
            return True
        return self.public and address_kind(address) == "public"

    def check(self, host: str, addresses: Sequence[IPAddress]) -> None:
        """Raise EgressDenied unless every one of ``addresses`` is allowed for ``host``."""
        refused = [a for a in addresses if not self.allows(host, a)]
        if refused:
            raise EgressDenied(self._denial(host, refused), host, [str(a) for a in refused])

    async def admit(self, host: str, port: int, resolve: Resolver = system_resolver) -> list[IPAddress]:
        """The checked addresses to connect to for ``host``: resolved once here, every one allowed."""
        literal = parse_address(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            addresses = []
            for text in await resolve(host, port):
                address = parse_address(text)
                if address is None:
                    raise ConnectionFailed(f"host '{host}' resolved to {text!r}, which is not an IP address")
                addresses.append(address)
            if not addresses:
                raise ConnectionFailed(f"host '{host}' resolved to no address")
        self.check(host, addresses)
        return addresses

    def _denial(self, host: str, refused: Sequence[IPAddress]) -> str:
        what = ", ".join(f"{a} ({address_kind(_unmapped(a))})" for a in refused)
        named = parse_address(host) is None
        target = f"{host}: it resolves to {what}" if named else what
        options = [normalize_host(host)] if named else []
        options.append(str(_unmapped(refused[0])))
        return (
            f"the HTTP connector may not connect to {target}, which the egress allow-list "
            f"{ENV_VAR}='{','.join(self.entries)}' does not admit"
            + (" ('public' admits only globally routable addresses)" if self.public else "")
            + f". To allow it, add {' or '.join(repr(o) for o in options)} to {ENV_VAR} (comma separated"
            + ("; keep 'public' in the list to still reach public hosts" if self.public else "")
            + ")."
        )

def _network(entry: str) -> IPNetwork | None:
    text = entry[1:-1] if entry.startswith("[") and entry.endswith("]") else entry
    if parse_address(text.split("/", 1)[0]) is None:
        return None
    try:
        return ipaddress.ip_network(text)
    except ValueError as exc:
        raise EgressConfigError(f"{ENV_VAR} entry '{entry}' is not a valid address or network: {exc}") from None


def _host_entry(name: str, entry: str) -> str:
    host = normalize_host(name)
    if not host or not all(_LABEL.match(label) for label in host.split(".")):
        raise EgressConfigError(
            f"{ENV_VAR} entry '{entry}' is not a host name, '*.domain' wildcard, IP address, CIDR network or "
            "'public' (ports and URLs are not accepted)"
        )
    return host


async def connect_admitted(
    policy: EgressPolicy,
    resolve: Resolver,
    host: str,
    port: int,
    connect: Callable[[str], Awaitable[T]],
    failures: tuple[type[BaseException], ...],
) -> T:
    """``connect(address)`` to the first address of ``host`` that accepts, every one checked by ``policy`` first.

    The name is resolved once, here: a DNS answer that changes between the check and the connection cannot
    redirect it (rebinding). For network backends under an HTTP client (the A2A client's httpcore, the MCP
    client's httpcore2): ``failures`` are the backend's connection errors, tried past to the next address.
    Raises EgressDenied for a refused address, ConnectionFailed when none accepts.
    """
    addresses = await policy.admit(host, port, resolve)
    last: BaseException | None = None
    for address in addresses:  # every one was checked; try them in the resolver's order
        try:
            return await connect(str(address))
        except failures as exc:
            last = exc
    raise ConnectionFailed(f"cannot connect to {host}:{port} at {', '.join(map(str, addresses))}: {last}")
