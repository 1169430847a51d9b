"""A small OpenID Connect issuer for the tests: discovery, a JWKS, RSA keys it can rotate, and tokens it signs.

Served by uvicorn on 127.0.0.1 for the time of a ``with``; ``down`` makes
discovery answer 503, ``jwks_fetches`` counts how often the keys were read.
It issues tokens only as tests ask for them; there is no sign-in page.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.ports import free_port
from tests.servers import serve_app

__all__ = ["Issuer", "serve_issuer"]


@dataclass
class _Key:
    kid: str
    private: rsa.RSAPrivateKey

    def jwk(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**data, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _new_key(kid: str) -> _Key:
    return _Key(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))


@dataclass
class Issuer:
    url: str
    key: _Key = field(default_factory=lambda: _new_key("key-1"))
    down: bool = False
    jwks_fetches: int = 0
    _generation: int = 1

    def rotate(self) -> None:
        """Sign with a fresh key from now on; the JWKS publishes only the new one."""
        self._generation += 1
        self.key = _new_key(f"key-{self._generation}")

    def token(self, *, lifetime_s: float = 300, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        """A token signed with the current key; ``claims`` override the defaults (None removes one)."""
        now = int(time.time())
        body: dict[str, Any] = {"iss": self.url, "aud": "agenthub", "sub": "ada", "iat": now,
                                "exp": now + int(lifetime_s)}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, self.key.private, algorithm="RS256", headers={"kid": self.key.kid, **(headers or {})})

    def app(self) -> Starlette:
        async def discovery(request: Request) -> JSONResponse:
            if self.down:
                return JSONResponse({"error": "down"}, status_code=503)
            return JSONResponse({
                "issuer": self.url,
                "jwks_uri": f"{self.url}/jwks",
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "id_token_signing_alg_values_supported": ["RS256"],
            })

        async def jwks(request: Request) -> JSONResponse:
            self.jwks_fetches += 1
            return JSONResponse({"keys": [self.key.jwk()]})

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
        ])


@contextmanager
def serve_issuer() -> Iterator[Issuer]:
    port = free_port()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    issuer = Issuer(url=f"http://127.0.0.1:{port}")
    with sock, serve_app(issuer.app(), sock, what="the OIDC issuer", lifespan="off"):
        yield issuer
