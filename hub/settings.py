"""The hub's settings: command-line options over environment variables over defaults."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

DEFAULT_DB = "sqlite:///agenthub.db"
DEFAULT_PORT = 8600


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    public_url: str | None = None  # AGENTHUB_PUBLIC_URL: how clients reach the hub, for cards and links
    max_body_bytes: int = 10 * 1024 * 1024
    worker_modules: tuple[str, ...] = field(default_factory=tuple)
    # AGENTHUB_MODEL_FILES: the folder that agents' "scripted:PATH" / "rules:PATH" model files must lie in
    # (relative paths start there); `serve --examples DIR` sets it to DIR when unset
    model_files: str | None = None
    # AGENTHUB_AGENT_POLICIES: a JSON file of policies over every agent's tool calls, applied before each
    # model's own: [{"tool": "*", "decision": "approve", "when": "=...", "candidateGroups": "...", "reason": "..."}]
    agent_policies: str | None = None

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
            "public_url": env.get("AGENTHUB_PUBLIC_URL"),
            "model_files": env.get("AGENTHUB_MODEL_FILES") or None,
            "agent_policies": env.get("AGENTHUB_AGENT_POLICIES") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
