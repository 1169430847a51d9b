"""A stock MCP client signs in by itself, as the MCP spec's authorization section asks of an HTTP server.

The official ``mcp`` client with its OAuth support (what the MCP Inspector and
desktop assistants do): ``/mcp`` answers 401 with ``resource_metadata``; the
client reads the protected resource metadata, finds the issuer, reads its
metadata, registers itself (RFC 7591), sends the person to the issuer's
authorization endpoint with PKCE, exchanges the code for a token and retries
with it. The "browser" here is an HTTP client following the issuer's
redirect: the test issuer signs its configured person in without a page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.hub.harness import LiveHub, oidc_hub
from tests.oidc_issuer import Issuer

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def hub(tmp_path: Path, issuer: Issuer) -> Iterator[LiveHub]:
    with oidc_hub(tmp_path, issuer) as live:
        yield live


class _Memory(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def _provider(hub: LiveHub, storage: _Memory, seen: list[str]) -> OAuthClientProvider:
    location: dict[str, str] = {}

    async def redirect_handler(url: str) -> None:
        seen.append(url)
        async with httpx.AsyncClient() as browser:
            answer = await browser.get(url)  # the person signs in at the issuer, which sends the browser back
        assert answer.status_code == 302, answer.text
        location["url"] = answer.headers["location"]

    async def callback_handler() -> AuthorizationCodeResult:
        query = parse_qs(urlsplit(location["url"]).query)
        return AuthorizationCodeResult(code=query["code"][0], state=query.get("state", [None])[0])

    metadata = OAuthClientMetadata(redirect_uris=["http://127.0.0.1:9/callback"], client_name="a stock assistant",
                                   scope="read start")
    return OAuthClientProvider(server_url=f"{hub.url}/mcp", client_metadata=metadata, storage=storage,
                               redirect_handler=redirect_handler, callback_handler=callback_handler)


async def test_a_stock_mcp_client_discovers_the_issuer_signs_in_and_calls_a_process(
    hub: LiveHub, issuer: Issuer
) -> None:
    hub.deploy("straight.bpmn", expose=True)
    issuer.person = {"sub": "ada", "name": "Ada", "groups": ["ops"], "scope": "read start"}
    storage, seen = _Memory(), []
    async with (
        httpx2.AsyncClient(auth=_provider(hub, storage, seen), timeout=30) as http,
        Client(streamable_http_client(f"{hub.url}/mcp", http_client=http)) as client,
    ):
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert "straight" in tools
        done = await client.call_tool("straight", {"amount": 4})
        assert not done.is_error and done.structured_content is not None
        assert done.structured_content["doubled"] == 8
    [authorize] = seen  # one sign-in: the token was reused for every request after it
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(issuer.url + "/authorize?")
    assert query["code_challenge_method"] == ["S256"] and query["resource"] == [f"{hub.url}/mcp"]
    assert storage.client is not None and storage.client.client_id in issuer.registered  # it registered itself
    assert storage.tokens is not None
    with hub.client() as admin:  # the hub recorded the signed-in person as the instance's starter
        [started] = admin.get("/api/v1/process-instances", params={"processId": "straight"}).json()["items"]
    assert started["startedBy"] == "ada"


async def test_a_token_the_issuer_made_for_another_resource_is_refused(hub: LiveHub, issuer: Issuer) -> None:
    token = issuer.token(aud="some-other-api", scope="read start")
    async with httpx2.AsyncClient(timeout=30) as http:
        answer = await http.post(f"{hub.url}/mcp", headers={"Authorization": f"Bearer {token}",
                                 "Accept": "application/json, text/event-stream"},
                                 json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert answer.status_code == 401
    assert 'resource_metadata="' in answer.headers["www-authenticate"]
