"""A small OpenID Connect issuer for the tests: discovery, a JWKS, RSA keys it can rotate, and tokens it signs.

Served by uvicorn on 127.0.0.1 for the time of a ``with``; ``down`` makes
discovery answer 503, ``jwks_fetches`` counts how often the keys were read.
Besides the tokens tests ask for, it runs the authorization code flow with
PKCE as a browser sees it: ``/authorize`` signs in ``person`` at once (no
page) and redirects back with a code; ``/token`` checks the code, the client,
the redirect URI and the S256 verifier, and answers an ID token with the nonce.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
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
from starlette.responses import JSONResponse, RedirectResponse, Response
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
    person: dict[str, Any] = field(default_factory=lambda: {"sub": "ada", "name": "Ada", "groups": []})
    client_id: str = "agenthub-console"
    exchanges: list[dict[str, Any]] = field(default_factory=list)  # what /token was sent, for the tests
    registered: dict[str, dict[str, Any]] = field(default_factory=dict)  # clients registered at /register
    _generation: int = 1
    _codes: dict[str, dict[str, Any]] = field(default_factory=dict)

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
                "registration_endpoint": f"{self.url}/register",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none", "client_secret_post"],
                "id_token_signing_alg_values_supported": ["RS256"],
            })

        async def register(request: Request) -> JSONResponse:
            metadata = await request.json()
            client_id = f"client-{len(self.registered) + 1}"
            self.registered[client_id] = metadata
            return JSONResponse({**metadata, "client_id": client_id, "client_id_issued_at": int(time.time()),
                                 "token_endpoint_auth_method": "none"}, status_code=201)

        async def jwks(request: Request) -> JSONResponse:
            self.jwks_fetches += 1
            return JSONResponse({"keys": [self.key.jwk()]})

        async def authorize(request: Request) -> Response:
            q = request.query_params
            known = q.get("client_id") == self.client_id or q.get("client_id") in self.registered
            if not known or q.get("code_challenge_method") != "S256":
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            code = secrets.token_urlsafe(16)
            self._codes[code] = {"redirect_uri": q["redirect_uri"], "challenge": q["code_challenge"],
                                 "nonce": q.get("nonce"), "person": dict(self.person)}
            return RedirectResponse(f"{q['redirect_uri']}?code={code}&state={q.get('state', '')}", status_code=302)

        async def token_endpoint(request: Request) -> JSONResponse:
            form = dict(await request.form())
            self.exchanges.append(form)
            grant = self._codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", ""))
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if (grant is None or form.get("client_id") not in (self.client_id, *self.registered)
                    or form.get("redirect_uri") != grant["redirect_uri"] or challenge != grant["challenge"]):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            id_token = self.token(aud=str(form.get("client_id")), nonce=grant["nonce"], **grant["person"])
            return JSONResponse({"id_token": id_token, "access_token": self.token(**grant["person"]),
                                 "token_type": "Bearer", "expires_in": 300})

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
            Route("/authorize", authorize),
            Route("/token", token_endpoint, methods=["POST"]),
            Route("/register", register, methods=["POST"]),
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
