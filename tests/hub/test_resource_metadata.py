"""RELIABILITY M7: the hub publishes OAuth protected resource metadata (RFC 9728) and every 401 points at it.

An MCP client that meets a 401 reads ``resource_metadata`` from the
``WWW-Authenticate`` challenge, fetches the document without a token and
learns the resource's canonical URL, where its token goes, its scopes and,
where configured, the authorization servers that issue tokens for it. The
document the hub serves parses as the MCP SDK's own model.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from mcp.shared.auth import ProtectedResourceMetadata

from hub.settings import HubSettings
from registry import generate_token
from registry.tokens import SCOPES
from tests.hub.harness import LiveHub, start_hub
from tests.ports import free_port


def test_the_metadata_is_public_and_names_the_hub_as_the_resource(live_hub: LiveHub) -> None:
    with httpx.Client(base_url=live_hub.url, timeout=30) as http:
        root = http.get("/.well-known/oauth-protected-resource")
        mcp = http.get("/.well-known/oauth-protected-resource/mcp")
    assert root.status_code == 200 and mcp.status_code == 200
    assert root.json() == {
        "resource": live_hub.url,
        "resource_name": "agenthub",
        "bearer_methods_supported": ["header"],
        "scopes_supported": list(SCOPES),
    }
    assert mcp.json()["resource"] == f"{live_hub.url}/mcp"


@pytest.mark.parametrize("path", ["/mcp", "/api/v1/process-instances"])
def test_a_401_points_at_the_metadata_and_the_metadata_is_reachable_from_there(live_hub: LiveHub, path: str) -> None:
    with httpx.Client(base_url=live_hub.url, timeout=30) as http:
        refused = http.post(path, json={}) if path == "/mcp" else http.get(path)
        assert refused.status_code == 401
        challenge = refused.headers["www-authenticate"]
        assert challenge.startswith("Bearer ")
        [url] = re.findall(r'resource_metadata="([^"]+)"', challenge)
        resource = live_hub.url + ("/mcp" if path == "/mcp" else "")  # the MCP endpoint is a resource of its own
        assert url == f"{live_hub.url}/.well-known/oauth-protected-resource" + ("/mcp" if path == "/mcp" else "")
        assert http.get(url).json()["resource"] == resource


def test_configured_authorization_servers_are_listed_and_the_document_is_valid_for_mcp_clients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTHUB_AUTHORIZATION_SERVERS", "https://login.example.org/realms/hub, https://id.example.com")
    port = free_port()
    settings = HubSettings.from_env(db=f"sqlite:///{tmp_path / 'hub.db'}", port=port, admin_token=generate_token(),
                                    public_url="https://hub.example.net/")
    server, thread = start_hub(settings)
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp", timeout=30)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    document = ProtectedResourceMetadata.model_validate(answer.json())
    assert str(document.resource) == "https://hub.example.net/mcp"
    assert [str(a) for a in document.authorization_servers] == [
        "https://login.example.org/realms/hub", "https://id.example.com"
    ]


def test_an_authorization_server_that_is_not_an_issuer_url_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTHUB_AUTHORIZATION_SERVERS", "https://login.example.org/?tenant=1")
    with pytest.raises(ValueError, match=r"AGENTHUB_AUTHORIZATION_SERVERS: 'https://login\.example\.org/\?tenant=1'"):
        HubSettings.from_env()


def test_the_openid_connect_issuer_is_listed_first_among_the_authorization_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTHUB_OIDC_ISSUER", "https://login.example.org/realms/acme")
    monkeypatch.setenv("AGENTHUB_OIDC_AUDIENCE", "agenthub")
    monkeypatch.setenv("AGENTHUB_AUTHORIZATION_SERVERS", "https://id.example.com")
    port = free_port()
    settings = HubSettings.from_env(db=f"sqlite:///{tmp_path / 'hub.db'}", port=port, admin_token=generate_token())
    server, thread = start_hub(settings)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            root, mcp = (http.get(f"/.well-known/oauth-protected-resource{p}").json() for p in ("", "/mcp"))
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    for document in (root, mcp):
        parsed = ProtectedResourceMetadata.model_validate(document)
        assert [str(a) for a in parsed.authorization_servers or []] == [
            "https://login.example.org/realms/acme", "https://id.example.com"
        ]
    assert (root["resource"], mcp["resource"]) == (f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/mcp")
