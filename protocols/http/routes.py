"""Where a URL that a model names is sent: routes an operator sets (``AGENTHUB_HTTP_ROUTES``).

A model names the services it calls by URL: Camunda's REST connector its ``url``, its MCP remote client
``data.transport.http.url``, its A2A client ``data.connection.url``, our ``http`` job type its ``url`` header.
A route sends such a URL elsewhere without changing the model: to an internal gateway in place of a public API
(an OpenAI-compatible proxy for ``https://api.openai.com``), to a vetted mirror of a public MCP server, or to
stand-ins on 127.0.0.1 in a test. Entries are comma separated ``FROM=TO``, both absolute ``http://`` or
``https://`` URLs without query, fragment or credentials::

    AGENTHUB_HTTP_ROUTES=https://api.openai.com=http://llm-gateway.internal:4000,https://mcp.deepwiki.com/mcp=http://mirror.internal/deepwiki/mcp

A URL takes the route with the longest ``FROM`` that matches it: the same scheme, host and port (the default
port when none is written), and a path that is ``FROM``'s or lies below it (at a ``/``). ``TO`` replaces that
part; the rest of the path, the query and the fragment are kept. A URL no route matches is unchanged.

The routed URL is the one everything after sees: the egress allow-list (``AGENTHUB_HTTP_ALLOW``) checks where
the hub connects, so a route's target must be admitted there, and an MCP server or A2A agent that a model names
by URL is looked up in the registry by the routed URL (register the target). A route is the operator's, not the
model's: a model cannot add one, and a redirect the target answers is followed as answered (not routed again).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from protocols.http.exceptions import EgressConfigError

__all__ = ["ENV_VAR", "HttpRoutes", "Route"]

ENV_VAR = "AGENTHUB_HTTP_ROUTES"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(parts: SplitResult) -> tuple[str, str, int]:
    """(scheme, host, port) of a parsed URL, the default port filled in and the host lower case."""
    scheme = parts.scheme.lower()
    port = parts.port if parts.port is not None else _DEFAULT_PORTS[scheme]
    return scheme, (parts.hostname or "").lower().rstrip("."), port


def _endpoint(text: str, entry: str, side: str) -> SplitResult:
    """One side of a route entry, parsed and checked."""
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError as exc:
        raise EgressConfigError(f"{ENV_VAR} entry '{entry}': {side} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise EgressConfigError(f"{ENV_VAR} entry '{entry}': {side} must be an absolute http:// or https:// URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise EgressConfigError(f"{ENV_VAR} entry '{entry}': {side} may not carry a query, a fragment or "
                                "credentials")
    return parts


@dataclass(frozen=True, slots=True)
class Route:
    """``FROM=TO``: URLs at or below ``source`` go to ``target``; ``origin`` and ``prefix`` are ``source``'s
    (scheme, host, port) and path, parsed once."""

    source: str
    target: str
    origin: tuple[str, str, int]
    prefix: str

    @classmethod
    def parse(cls, entry: str) -> Route:
        source, sep, target = entry.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise EgressConfigError(f"{ENV_VAR} entry '{entry}' is not FROM=TO (two URLs)")
        parts = _endpoint(source, entry, "FROM")
        _endpoint(target, entry, "TO")
        return cls(source.strip().rstrip("/"), target.strip().rstrip("/"), _origin(parts), parts.path.rstrip("/"))

    def rest(self, parts: SplitResult, origin: tuple[str, str, int]) -> str | None:
        """What follows ``source`` in the URL ``parts`` (of ``origin``): path rest, query, fragment; None when
        this route does not take it."""
        if origin != self.origin or (parts.path != self.prefix and not parts.path.startswith(self.prefix + "/")):
            return None
        return urlunsplit(("", "", parts.path[len(self.prefix):], parts.query, parts.fragment))


@dataclass(frozen=True, slots=True)
class HttpRoutes:
    """The operator's routes, most specific first; ``route(url)`` is where ``url`` goes."""

    routes: tuple[Route, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> HttpRoutes:
        routes = [Route.parse(entry) for entry in entries if entry.strip()]
        sources = [(*r.origin, r.prefix) for r in routes]
        for i, key in enumerate(sources):
            if key in sources[:i]:
                raise EgressConfigError(f"{ENV_VAR} routes '{routes[i].source}' twice")
        # the longest source path first: the most specific route wins
        return cls(tuple(sorted(routes, key=lambda r: len(r.prefix), reverse=True)))

    @classmethod
    def from_env(cls, value: str | None) -> HttpRoutes:
        """The routes in ``value`` (comma separated ``FROM=TO``); none for None or blank. EgressConfigError if
        an entry is malformed."""
        return cls.parse((value or "").split(","))

    def __bool__(self) -> bool:
        return bool(self.routes)

    def route(self, url: str) -> str:
        """``url`` sent where its route says, or ``url`` unchanged when no route matches."""
        if not self.routes:
            return url
        try:
            parts = urlsplit(url)
            if parts.scheme.lower() not in _DEFAULT_PORTS:
                return url
            origin = _origin(parts)
        except ValueError:  # not a URL, or a port that is not one
            return url
        for route in self.routes:
            rest = route.rest(parts, origin)
            if rest is not None:
                return route.target + rest
        return url

    def routed(self, url: str) -> tuple[str, str]:
        """``url`` routed, and how to name it in a message: the routed URL, with the one the model named when a
        route changed it."""
        target = self.route(url)
        return target, target if target == url else f"{target} (where {ENV_VAR} sends {url})"
