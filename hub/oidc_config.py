"""What sign-in by OpenID Connect is configured with (``AGENTHUB_OIDC_*``), apart from the verifier.

``hub.settings`` reads these with every CLI command; the verifier (``hub.oidc``, with httpx and PyJWT) loads
only where tokens are checked.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ALGORITHMS", "OidcConfig"]

# Asymmetric JWS algorithms only; `none` and HS* are never accepted.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


@dataclass(frozen=True, slots=True)
class OidcConfig:
    """Where tokens come from and how their claims become a principal (AGENTHUB_OIDC_*)."""

    issuer: str
    audience: str
    groups_claim: str = "groups"
    scopes_claim: str = "scope"
    name_claim: str = "sub"
    algorithms: tuple[str, ...] = ALGORITHMS
    refresh_s: float = 60.0  # the least time between two fetches of the keys
    client_id: str | None = None  # the console's client at the issuer: sign-in in the browser (code flow + PKCE)
    client_secret: str | None = None  # for a confidential client; PKCE is used either way
