"""What a webhook request must pass before it may change anything: its method, HMAC signature and authorization.

As Camunda's webhook connector checks, in that order:

- method: ``inbound.method`` (``any`` admits every method), else 405;
- HMAC (``inbound.shouldValidateHmac`` ``enabled``): the signature in header
  ``inbound.hmacHeader`` over the raw body with ``inbound.hmacSecret``
  (``sha_1``, ``sha_256``, ``sha_512``), accepted as hex, as ``tag=hex``
  (``sha256=...``, GitHub's form) or as base64 (Twilio's), compared in
  constant time, else 401; only the ``BODY`` scope is supported;
- authorization (``inbound.auth.type``): ``BASIC`` (``username``,
  ``password``), ``APIKEY`` (``apiKey`` against the value ``apiKeyLocator``
  finds in the request), ``JWT`` (signature by a key of the JWKS at
  ``jwt.jwkUrl``, asymmetric algorithms only, ``exp``/``nbf`` checked, and
  the roles ``jwt.permissionsExpression`` finds in the claims must include
  ``jwt.requiredPermissions``), else 401 (403 for missing roles).

Configured values may hold ``{{secrets.NAME}}`` placeholders
(``protocols.http.secrets``) and may be FEEL (``=...``, evaluated without
variables); they are read for each request. A refusal's detail never quotes a
secret, a signature or the body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import jwt

from engine.feel import FeelError, compile_expression, is_expression, strip_marker, to_json
from hub.inbound.config import WebhookElement
from hub.inbound.jwks import JwksCache, JwksUnavailable
from protocols.http.exceptions import InvalidTask
from protocols.http.secrets import SecretProvider, SecretResolver

__all__ = ["ALGORITHMS", "Refused", "WebhookMisconfigured", "WebhookRequest", "check_request", "evaluate"]

# Asymmetric JWS algorithms only (Camunda's connector takes RS* and ES*): never `none`, never HS*.
ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_HMAC: Final = {"sha_1": hashlib.sha1, "sha_256": hashlib.sha256, "sha_512": hashlib.sha512}
_LEEWAY_S: Final = 30


class Refused(Exception):
    """The request is refused with ``status``; ``detail`` is safe to answer (it quotes nothing secret)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class WebhookMisconfigured(Exception):
    """The model's configuration cannot be used (a missing secret, bad FEEL): logged, answered 503."""


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """The request as the webhook's expressions see it: ``request`` is ``{body, headers, params}``."""

    method: str
    raw_body: bytes
    headers: Mapping[str, str]  # names in lower case
    params: Mapping[str, str]
    body: Any

    def context(self) -> dict[str, Any]:
        return {"request": {"body": self.body, "headers": dict(self.headers), "params": dict(self.params)}}


def evaluate(source: str, variables: Mapping[str, Any], what: str) -> Any:
    """FEEL ``source`` (with or without its ``=``) over ``variables``, as JSON-like data."""
    try:
        return to_json(compile_expression(strip_marker(source)).evaluate(variables))
    except FeelError as exc:
        raise WebhookMisconfigured(f"{what} cannot be evaluated: {exc}") from None


class _Values:
    """The element's configured values with secrets put in and FEEL evaluated; remembers secrets to mask them."""

    def __init__(self, element: WebhookElement, secrets: SecretProvider) -> None:
        self.element = element
        self._resolver = SecretResolver(secrets, f"webhook '{element.webhook_id}' ({element.element_id})")

    def text(self, name: str, *, required: bool = True) -> str | None:
        raw = self.element.get(name)
        if raw is None:
            if required:
                raise WebhookMisconfigured(f"the property {name} is not set")
            return None
        try:
            value = self._resolver.text(raw, name)
        except InvalidTask as exc:
            raise WebhookMisconfigured(str(exc)) from None
        if is_expression(value):
            result = evaluate(value, {}, name)
            return None if result is None else str(result)
        return value


async def check_request(element: WebhookElement, request: WebhookRequest, secrets: SecretProvider,
                        keys: JwksCache) -> None:
    """Raise Refused unless ``request`` may go on to ``element``; WebhookMisconfigured when it cannot be told."""
    if element.method not in ("ANY", request.method.upper()):
        raise Refused(405, f"method {request.method} is not supported by this webhook")
    values = _Values(element, secrets)
    if element.hmac_enabled:
        _check_hmac(values, request)
    kind = element.auth_type
    if kind == "BASIC":
        _check_basic(values, request)
    elif kind == "APIKEY":
        _check_api_key(values, request)
    elif kind == "JWT":
        await _check_jwt(values, request, keys)
    elif kind != "NONE":
        raise WebhookMisconfigured(f"inbound.auth.type '{kind}' is not one of NONE, BASIC, APIKEY, JWT")


def _check_hmac(values: _Values, request: WebhookRequest) -> None:
    scopes = values.element.get("inbound.hmacScopes")
    if scopes is not None:
        listed = evaluate(scopes, {}, "inbound.hmacScopes")
        names = [str(s).upper() for s in (listed if isinstance(listed, list) else [listed]) if s is not None]
        if names and names != ["BODY"]:
            raise WebhookMisconfigured(f"inbound.hmacScopes {names} is not supported: only BODY is")
    algorithm = (values.text("inbound.hmacAlgorithm", required=False) or "sha_256").lower()
    digest = _HMAC.get(algorithm)
    if digest is None:
        raise WebhookMisconfigured(f"inbound.hmacAlgorithm '{algorithm}' is not one of {', '.join(_HMAC)}")
    secret = values.text("inbound.hmacSecret")
    header = values.text("inbound.hmacHeader")
    assert secret is not None and header is not None
    given = request.headers.get(header.lower(), "").strip()
    if not given:
        raise Refused(401, f"the HMAC signature header {header} is missing")
    mac = hmac.new(secret.encode(), request.raw_body, digest).digest()
    expected_hex, expected_b64 = mac.hex().encode(), base64.b64encode(mac)
    _, _, untagged = given.partition("=") if given.count("=") == 1 and not given.endswith("=") else ("", "", given)
    candidates = (given.encode(), untagged.encode())
    ok = False
    for candidate in candidates:  # every comparison is made: the time taken says nothing about which matched
        ok |= hmac.compare_digest(candidate.lower(), expected_hex)
        ok |= hmac.compare_digest(candidate, expected_b64)
    if not ok:
        raise Refused(401, "the HMAC signature does not match the body")


def _check_basic(values: _Values, request: WebhookRequest) -> None:
    username = values.text("inbound.auth.username") or ""
    password = values.text("inbound.auth.password") or ""
    scheme, _, encoded = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise Refused(401, "Basic authorization is missing")
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Refused(401, "Basic authorization is invalid") from None
    if not hmac.compare_digest(given, f"{username}:{password}".encode()):
        raise Refused(401, "Basic authorization is invalid")


def _check_api_key(values: _Values, request: WebhookRequest) -> None:
    expected = values.text("inbound.auth.apiKey") or ""
    locator = values.element.get("inbound.auth.apiKeyLocator") or '=split(request.headers.authorization, " ")[2]'
    try:
        found = to_json(compile_expression(strip_marker(locator)).evaluate(request.context()))
    except FeelError:
        found = None
    if not isinstance(found, str) or not found:
        raise Refused(401, "the API key is missing")
    if not expected or not hmac.compare_digest(found.encode(), expected.encode()):
        raise Refused(401, "the API key is invalid")


async def _check_jwt(values: _Values, request: WebhookRequest, keys: JwksCache) -> None:
    url = values.text("inbound.auth.jwt.jwkUrl")
    assert url is not None
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Refused(401, "a JWT bearer token is missing")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Refused(401, "the JWT is malformed") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise Refused(401, "the JWT's algorithm is not allowed")
    try:
        key = await keys.key(url, header.get("kid"))
    except JwksUnavailable as exc:
        raise WebhookMisconfigured(str(exc)) from None
    if key is None:
        raise Refused(401, "the JWT is not signed by a key of the webhook's JWKS")
    try:  # PyJWT also refuses a token whose alg is not the key's own
        claims: dict[str, Any] = jwt.decode(token, key=key, algorithms=[alg], leeway=_LEEWAY_S,
                                            options={"verify_aud": False, "verify_iss": False})
    except jwt.PyJWTError as exc:
        raise Refused(401, f"the JWT is not valid ({type(exc).__name__})") from None
    _check_roles(values, claims)


def _check_roles(values: _Values, claims: dict[str, Any]) -> None:
    required_source = values.element.get("inbound.auth.jwt.requiredPermissions")
    required = evaluate(required_source, {}, "inbound.auth.jwt.requiredPermissions") if required_source else None
    if not required:
        return
    wanted = [str(r) for r in (required if isinstance(required, list) else [required])]
    expression = values.element.get("inbound.auth.jwt.permissionsExpression")
    roles: Any = []
    if expression:
        try:  # Camunda evaluates it over the token's claims
            roles = to_json(compile_expression(strip_marker(expression)).evaluate(claims))
        except FeelError:
            roles = []
    held = {str(r) for r in (roles if isinstance(roles, list) else [roles]) if r is not None}
    if not set(wanted) <= held:
        raise Refused(403, "the JWT lacks a role this webhook requires")
