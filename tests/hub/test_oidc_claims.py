"""How an OpenID Connect token's claims become a principal, and the settings that configure sign-in.

The verifier runs against the test issuer directly (no hub), with a manual
clock where the interval between key fetches matters.
"""

from __future__ import annotations

from typing import Any

import pytest

from hub.oidc import OidcConfig, OidcVerifier, looks_like_jwt
from hub.settings import HubSettings, oidc_config
from registry import Principal, generate_token
from tests.oidc_issuer import Issuer

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_claims_map_to_a_person_with_groups_and_only_the_hubs_scopes(issuer: Issuer) -> None:
    verifier = OidcVerifier(OidcConfig(issuer=issuer.url, audience="agenthub"))
    token = issuer.token(sub="u-17", name="Ada Lovelace", groups=["finance", "ops"], scope="openid email start tasks")
    assert await verifier.verify(token) == Principal(
        name="u-17", scopes=frozenset({"start", "tasks"}), groups=frozenset({"finance", "ops"}), person=True,
        display_name="Ada Lovelace",
    )


async def test_configured_claims_name_the_principal_and_carry_groups_and_scopes_as_lists(issuer: Issuer) -> None:
    config = OidcConfig(issuer=issuer.url, audience="agenthub", name_claim="preferred_username",
                        groups_claim="roles", scopes_claim="scp")
    token = issuer.token(preferred_username="ada", roles=["admins"], scp=["read", "deploy", "x"])
    principal = await OidcVerifier(config).verify(token)
    assert principal is not None
    assert principal.name == "ada"
    assert principal.groups == frozenset({"admins"}) and principal.scopes == frozenset({"read", "deploy"})
    assert principal.display_name is None


@pytest.mark.parametrize("claims", [{"groups": [1, 2]}, {"groups": {"a": 1}}, {"scope": 7}, {"sub": ""}])
async def test_claims_of_the_wrong_shape_refuse_the_token(issuer: Issuer, claims: dict[str, Any]) -> None:
    verifier = OidcVerifier(OidcConfig(issuer=issuer.url, audience="agenthub"))
    assert await verifier.verify(issuer.token(**claims)) is None


async def test_keys_are_fetched_again_for_an_unknown_kid_only_after_the_interval(issuer: Issuer) -> None:
    now = [1000.0]
    verifier = OidcVerifier(OidcConfig(issuer=issuer.url, audience="agenthub", refresh_s=60), clock=lambda: now[0])
    assert await verifier.verify(issuer.token()) is not None
    issuer.rotate()
    rotated = issuer.token()
    assert await verifier.verify(rotated) is None  # too soon after the first fetch
    assert await verifier.verify(rotated) is None
    assert issuer.jwks_fetches == 1
    now[0] += 60
    assert await verifier.verify(rotated) is not None
    assert issuer.jwks_fetches == 2


def test_bearer_values_that_are_jwts_are_told_from_api_tokens() -> None:
    assert looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln")
    assert looks_like_jwt("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.")
    assert not looks_like_jwt(generate_token())
    assert not looks_like_jwt("a.b")


def test_sign_in_settings_are_read_from_the_environment() -> None:
    env = {"AGENTHUB_OIDC_ISSUER": "https://login.example.org/realms/hub", "AGENTHUB_OIDC_AUDIENCE": "agenthub",
           "AGENTHUB_OIDC_GROUPS_CLAIM": "roles", "AGENTHUB_OIDC_SCOPES_CLAIM": "scp",
           "AGENTHUB_OIDC_NAME_CLAIM": "preferred_username", "AGENTHUB_OIDC_ALGORITHMS": "RS256, ES256",
           "AGENTHUB_OIDC_REFRESH_S": "30"}
    assert oidc_config(env) == OidcConfig(
        issuer="https://login.example.org/realms/hub", audience="agenthub", groups_claim="roles", scopes_claim="scp",
        name_claim="preferred_username", algorithms=("RS256", "ES256"), refresh_s=30,
    )
    assert oidc_config({}) is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AGENTHUB_OIDC_ISSUER": "https://login.example.org"}, "AGENTHUB_OIDC_AUDIENCE must be set"),
        ({"AGENTHUB_OIDC_AUDIENCE": "agenthub"}, "AGENTHUB_OIDC_ISSUER is not"),
        ({"AGENTHUB_OIDC_ISSUER": "http://login.example.org", "AGENTHUB_OIDC_AUDIENCE": "a"}, "must be https"),
        ({"AGENTHUB_OIDC_ISSUER": "login.example.org", "AGENTHUB_OIDC_AUDIENCE": "a"}, "is not an issuer URL"),
        ({"AGENTHUB_OIDC_ISSUER": "https://l.example.org", "AGENTHUB_OIDC_AUDIENCE": "a",
          "AGENTHUB_OIDC_ALGORITHMS": "HS256"}, "'HS256' is not allowed"),
        ({"AGENTHUB_OIDC_ISSUER": "https://l.example.org", "AGENTHUB_OIDC_AUDIENCE": "a",
          "AGENTHUB_OIDC_ALGORITHMS": "none"}, "'none' is not allowed"),
        ({"AGENTHUB_OIDC_ISSUER": "https://l.example.org", "AGENTHUB_OIDC_AUDIENCE": "a",
          "AGENTHUB_OIDC_REFRESH_S": "soon"}, "AGENTHUB_OIDC_REFRESH_S must be a number"),
    ],
)
def test_wrong_sign_in_settings_say_what_to_fix(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        oidc_config(env)


def test_the_issuer_comes_first_among_the_authorization_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHUB_OIDC_ISSUER", "https://login.example.org")
    monkeypatch.setenv("AGENTHUB_OIDC_AUDIENCE", "agenthub")
    monkeypatch.setenv("AGENTHUB_AUTHORIZATION_SERVERS", "https://id.example.com, https://login.example.org")
    settings = HubSettings.from_env()
    assert settings.issuers == ("https://login.example.org", "https://id.example.com")
