"""The hub's settings: command-line options over environment variables over defaults."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from engine.runtime.limits import RuntimeLimits
from hub.oidc_config import ALGORITHMS, OidcConfig
from protocols.gateway.settings import GatewaySettings, gateway_settings
from protocols.mcp.limits import McpLimits

DEFAULT_DB = "sqlite:///agenthub.db"
DEFAULT_PORT = 8600


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_port(raw: str | int, source: str) -> int:
    """A TCP port from an option or the environment; ValueError names the source."""
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"{source} must be a port number between 1 and 65535, not {raw!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"{source} must be a port number between 1 and 65535, not {port}")
    return port


_LIMITS = {
    "AGENTHUB_MAX_STEPS": "max_activations",
    "AGENTHUB_MAX_CALL_DEPTH": "max_call_depth",
    "AGENTHUB_MAX_CARDINALITY": "max_cardinality",
}


def runtime_limits(env: Mapping[str, str] | None = None) -> RuntimeLimits:
    """The engine's bounds on one command from AGENTHUB_MAX_STEPS, _MAX_CALL_DEPTH, _MAX_CARDINALITY; ValueError."""
    env = os.environ if env is None else env
    values: dict[str, int] = {}
    for name, field_name in _LIMITS.items():
        raw = env.get(name)
        if not raw:
            continue
        try:
            values[field_name] = int(raw)
        except ValueError:
            raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
        if values[field_name] < 1:
            raise ValueError(f"{name} must be at least 1, not {raw}")
    return RuntimeLimits(**values)


def parse_switch(raw: str, source: str) -> bool:
    """On or off from the environment (1/true/yes/on, 0/false/no/off, empty: off); ValueError names the source."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{source} must be 1 (on) or 0 (off), not {raw!r}")


def parse_number(raw: str, source: str) -> float:
    """A non-negative number from the environment; ValueError names the source."""
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{source} must be a number, not {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise ValueError(f"{source} must be a number of zero or more, not {raw!r}")
    return value


_MCP_LIMITS = {
    "AGENTHUB_MCP_MAX_SESSIONS": ("max_sessions", int),
    "AGENTHUB_MCP_SESSION_IDLE_S": ("session_idle_s", float),
    "AGENTHUB_MCP_RATE": ("rate_per_minute", float),
    "AGENTHUB_MCP_RATE_BURST": ("rate_burst", int),
}


def mcp_limits(env: Mapping[str, str] | None = None) -> McpLimits:
    """What one token may hold of ``/mcp``, from AGENTHUB_MCP_MAX_SESSIONS, _SESSION_IDLE_S, _RATE, _RATE_BURST."""
    env = os.environ if env is None else env
    values: dict[str, float] = {}
    for name, (field_name, kind) in _MCP_LIMITS.items():
        raw = env.get(name)
        if not raw:
            continue
        value = parse_number(raw, name)
        if kind is int and not value.is_integer():
            raise ValueError(f"{name} must be a whole number, not {raw!r}")
        values[field_name] = kind(value)
    return McpLimits(**values)  # type: ignore[arg-type]


def issuer_urls(urls: tuple[str, ...], source: str) -> tuple[str, ...]:
    """Authorization server issuer URLs: absolute http(s) URLs without a query or fragment (RFC 8414)."""
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"{source}: '{url}' is not an issuer URL (https://host[/path], no query or fragment)")
    return urls


_OIDC_CLAIMS = {  # setting -> the claim it names by default
    "AGENTHUB_OIDC_GROUPS_CLAIM": "groups",
    "AGENTHUB_OIDC_SCOPES_CLAIM": "scope",
    "AGENTHUB_OIDC_NAME_CLAIM": "sub",
}


def oidc_config(env: Mapping[str, str] | None = None) -> OidcConfig | None:
    """Sign-in by OpenID Connect from AGENTHUB_OIDC_*; None when no issuer is set. ValueError names the setting."""
    env = os.environ if env is None else env
    issuer = env.get("AGENTHUB_OIDC_ISSUER", "").strip()
    audience = env.get("AGENTHUB_OIDC_AUDIENCE", "").strip()
    if not issuer:
        if audience:
            raise ValueError("AGENTHUB_OIDC_AUDIENCE is set but AGENTHUB_OIDC_ISSUER is not: set the issuer's URL too")
        return None
    issuer_urls((issuer,), "AGENTHUB_OIDC_ISSUER")
    parts = urlsplit(issuer)
    if parts.scheme != "https" and not is_loopback(parts.hostname or ""):
        raise ValueError(f"AGENTHUB_OIDC_ISSUER: '{issuer}' must be https (plain http only on a loopback address)")
    if not audience:
        raise ValueError(
            "AGENTHUB_OIDC_AUDIENCE must be set with AGENTHUB_OIDC_ISSUER: the audience (aud) the issuer puts in "
            "tokens meant for this hub, so that tokens issued for other applications are refused"
        )
    claims = {}
    for setting, default in _OIDC_CLAIMS.items():
        value = (env.get(setting) or default).strip()
        if not value:
            raise ValueError(f"{setting} must name a claim, not {env.get(setting)!r}")
        claims[setting] = value
    algorithms = tuple(a.strip() for a in (env.get("AGENTHUB_OIDC_ALGORITHMS") or "").split(",") if a.strip())
    for algorithm in algorithms:
        if algorithm not in ALGORITHMS:
            raise ValueError(
                f"AGENTHUB_OIDC_ALGORITHMS: {algorithm!r} is not allowed; choose from {', '.join(ALGORITHMS)}"
            )
    refresh_s = parse_number(env.get("AGENTHUB_OIDC_REFRESH_S") or "60", "AGENTHUB_OIDC_REFRESH_S")
    client_id = env.get("AGENTHUB_OIDC_CLIENT_ID", "").strip() or None
    client_secret = env.get("AGENTHUB_OIDC_CLIENT_SECRET", "").strip() or None
    if client_secret and not client_id:
        raise ValueError("AGENTHUB_OIDC_CLIENT_SECRET is set but AGENTHUB_OIDC_CLIENT_ID is not: set the console's "
                         "client id too")
    return OidcConfig(
        issuer=issuer,
        audience=audience,
        groups_claim=claims["AGENTHUB_OIDC_GROUPS_CLAIM"],
        scopes_claim=claims["AGENTHUB_OIDC_SCOPES_CLAIM"],
        name_claim=claims["AGENTHUB_OIDC_NAME_CLAIM"],
        algorithms=algorithms or ALGORITHMS,
        refresh_s=refresh_s,
        client_id=client_id,
        client_secret=client_secret,
    )


def _synchronous(raw: str) -> str:
    if raw.upper() not in ("FULL", "NORMAL"):
        raise ValueError(f"AGENTHUB_SQLITE_SYNCHRONOUS must be FULL or NORMAL, not {raw!r}")
    return raw.upper()


@dataclass(frozen=True, slots=True)
class HubSettings:
    db: str = DEFAULT_DB
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    worker: bool = True  # run the engine's worker loop in the hub process
    admin_token: str | None = None  # AGENTHUB_ADMIN_TOKEN
    # Host names (besides loopback) that requests may address, and browser origins allowed to call
    # the API and /mcp; loopback names and origins on this port are always allowed.
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    http_allow: str | None = None  # AGENTHUB_HTTP_ALLOW: destinations of the http connector
    # AGENTHUB_HTTP_ROUTES: FROM=TO URL rewrites for the URLs models name (protocols.http.routes)
    http_routes: str | None = None
    public_url: str | None = None  # AGENTHUB_PUBLIC_URL: how clients reach the hub, for cards and links
    # AGENTHUB_AUTHORIZATION_SERVERS: issuers of the hub's tokens, named in its OAuth protected resource metadata
    authorization_servers: tuple[str, ...] = ()
    max_body_bytes: int = 10 * 1024 * 1024
    worker_modules: tuple[str, ...] = field(default_factory=tuple)
    # AGENTHUB_MODEL_FILES: the folder that agents' "scripted:PATH" / "rules:PATH" model files must lie in
    # (relative paths start there); `serve --examples DIR` sets it to DIR when unset
    model_files: str | None = None
    # AGENTHUB_CAMUNDA_MODEL: a model string every Camunda AI Agent uses instead of its provider.* configuration
    # (e.g. "offline" or "scripted:turns.json" for demos and tests); unset: its provider, through litellm
    camunda_model: str | None = None
    # AGENTHUB_AGENT_POLICIES: a JSON file of policies over every agent's tool calls, applied before each
    # model's own: [{"tool": "*", "decision": "approve", "when": "=...", "candidateGroups": "...", "reason": "..."}]
    agent_policies: str | None = None
    # AGENTHUB_MIN_FREE_DISK_MB: below this much free space on the SQLite database's disk, /health/ready answers 503
    min_free_disk_mb: int = 100
    # AGENTHUB_READY_TIMEOUT_S: how long /health/ready waits for the database to answer a read, and for SQLite's
    # write lock (a writer holding it longer makes the hub not ready)
    ready_timeout_s: float = 2.0
    # AGENTHUB_MAX_STEPS / _MAX_CALL_DEPTH / _MAX_CARDINALITY: what one command may set off before an incident
    limits: RuntimeLimits = field(default_factory=RuntimeLimits)
    # AGENTHUB_SQLITE_SYNCHRONOUS: FULL (an acknowledged step survives power loss) or NORMAL (a process crash)
    sqlite_synchronous: str = "FULL"
    # AGENTHUB_MCP_MAX_SESSIONS / _SESSION_IDLE_S / _RATE / _RATE_BURST: what one token may hold of /mcp
    mcp: McpLimits = field(default_factory=McpLimits)
    # AGENTHUB_OIDC_ISSUER / _AUDIENCE / _GROUPS_CLAIM / _SCOPES_CLAIM / _NAME_CLAIM / _ALGORITHMS / _REFRESH_S:
    # sign-in by OpenID Connect (JWT bearer tokens from one issuer); None: only the hub's own API tokens
    oidc: OidcConfig | None = None
    # AGENTHUB_GATEWAY_SERVERS / _AGENTS / _PRINCIPAL_RATE / _TOOL_RATE / _RATE_BURST: registered MCP servers' tools
    # and A2A agents offered on /mcp, governed (docs/GATEWAY.md); default: none
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    # AGENTHUB_A2A_SIGNING_KEY: a PEM private key (EC P-256, RSA, Ed25519) that signs the A2A cards the hub serves;
    # its public key at /.well-known/jwks.json (docs/A2A.md); unset: cards unsigned
    a2a_signing_key: str | None = None
    # AGENTHUB_A2A_GRPC_PORT (`serve --a2a-grpc-port`): the A2A gRPC binding on this port (protocols.a2a.grpc_server);
    # AGENTHUB_A2A_GRPC_URL: the host:port the cards name for it (default: the hub's host, or its public URL's)
    a2a_grpc_port: int | None = None
    a2a_grpc_url: str | None = None
    # AGENTHUB_OTEL (`serve --otel`): OpenTelemetry traces and metrics, Prometheus at /metrics, OTLP where the
    # standard OTEL_EXPORTER_OTLP_* variables say (docs/TELEMETRY.md); default off
    otel: bool = False

    @classmethod
    def from_env(cls, **overrides: object) -> HubSettings:
        env = os.environ

        def split(name: str) -> tuple[str, ...]:
            return tuple(v.strip() for v in env.get(name, "").split(",") if v.strip())

        values: dict[str, object] = {
            "db": env.get("AGENTHUB_DB") or DEFAULT_DB,
            "admin_token": env.get("AGENTHUB_ADMIN_TOKEN") or None,
            "allowed_hosts": split("AGENTHUB_ALLOWED_HOSTS"),
            "allowed_origins": split("AGENTHUB_ALLOWED_ORIGINS"),
            "http_allow": env.get("AGENTHUB_HTTP_ALLOW"),
            "http_routes": env.get("AGENTHUB_HTTP_ROUTES") or None,
            "public_url": env.get("AGENTHUB_PUBLIC_URL"),
            "authorization_servers": issuer_urls(
                split("AGENTHUB_AUTHORIZATION_SERVERS"), "AGENTHUB_AUTHORIZATION_SERVERS"
            ),
            "model_files": env.get("AGENTHUB_MODEL_FILES") or None,
            "camunda_model": (env.get("AGENTHUB_CAMUNDA_MODEL") or "").strip() or None,
            "agent_policies": env.get("AGENTHUB_AGENT_POLICIES") or None,
            "a2a_signing_key": env.get("AGENTHUB_A2A_SIGNING_KEY") or None,
            "limits": runtime_limits(env),
            "mcp": mcp_limits(env),
            "sqlite_synchronous": _synchronous(env.get("AGENTHUB_SQLITE_SYNCHRONOUS") or "FULL"),
            "oidc": oidc_config(env),
            "gateway": gateway_settings(env),
            "otel": parse_switch(env.get("AGENTHUB_OTEL") or "", "AGENTHUB_OTEL"),
        }
        if env.get("AGENTHUB_PORT"):
            values["port"] = parse_port(env["AGENTHUB_PORT"], "AGENTHUB_PORT")
        if env.get("AGENTHUB_A2A_GRPC_PORT"):
            values["a2a_grpc_port"] = parse_port(env["AGENTHUB_A2A_GRPC_PORT"], "AGENTHUB_A2A_GRPC_PORT")
        if (env.get("AGENTHUB_A2A_GRPC_URL") or "").strip():
            values["a2a_grpc_url"] = _grpc_target(env["AGENTHUB_A2A_GRPC_URL"], "AGENTHUB_A2A_GRPC_URL")
        if env.get("AGENTHUB_MIN_FREE_DISK_MB"):
            free_mb = parse_number(env["AGENTHUB_MIN_FREE_DISK_MB"], "AGENTHUB_MIN_FREE_DISK_MB")
            values["min_free_disk_mb"] = int(free_mb)
        if env.get("AGENTHUB_READY_TIMEOUT_S"):
            values["ready_timeout_s"] = parse_number(env["AGENTHUB_READY_TIMEOUT_S"], "AGENTHUB_READY_TIMEOUT_S")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def a2a_grpc_target(self) -> str | None:
        """Where clients reach the A2A gRPC binding (``host:port``, as the cards say), or None when it is off."""
        if self.a2a_grpc_port is None:
            return None
        if self.a2a_grpc_url:
            return self.a2a_grpc_url
        host = urlsplit(self.public_url).hostname if self.public_url else self.host
        host = "127.0.0.1" if host in (None, "", "0.0.0.0", "::") else host
        return f"[{host}]:{self.a2a_grpc_port}" if ":" in host else f"{host}:{self.a2a_grpc_port}"

    @property
    def issuers(self) -> tuple[str, ...]:
        """The authorization servers whose tokens the hub accepts: the OpenID Connect issuer, then the listed ones."""
        first = (self.oidc.issuer,) if self.oidc is not None else ()
        return (*first, *(s for s in self.authorization_servers if s not in first))

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def _grpc_target(value: str, name: str) -> str:
    """A gRPC target as clients dial it: ``host:port`` (no scheme, no path)."""
    target = value.strip()
    host, sep, port = target.rpartition(":")
    if "/" in target or not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{name} must be host:port, the address clients dial for gRPC (not a URL), not {value!r}")
    return target
