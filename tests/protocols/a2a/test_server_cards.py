"""Agent cards: one per exposed process, the hub's listing them all, public, cacheable, and the extended card.

The public card is an A2A 1.0 document that the 1.0 JSON schema validates
(``schema/agent-card-1.0.json``, the AgentCard of the spec's ``a2a.json``);
0.3 clients get the 0.3 document at ``agent.json`` or by asking with
``A2A-Version: 0.3``. Cards are readable from any origin (CORS).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.types import GetExtendedAgentCardRequest
from a2a.utils.proto_utils import warn_on_missing_required_fields
from jsonschema import Draft202012Validator

pytestmark = pytest.mark.anyio

CARD_SCHEMA = Draft202012Validator(json.loads((Path(__file__).parent / "schema" / "agent-card-1.0.json").read_text()))


async def test_each_exposed_process_has_a_public_card_at_its_agent_path(a2a_hub: Any) -> None:
    async with a2a_hub.http(token=None) as http:
        response = await http.get("/a2a/greet/.well-known/agent-card.json")
    assert response.status_code == 200
    card = response.json()
    assert card["name"] == "Greet"
    assert card["description"] == "Greet someone by name."
    assert card["version"] == "1"
    assert [s["id"] for s in card["skills"]] == ["greet"]
    skill = card["skills"][0]
    assert skill["inputModes"] == skill["outputModes"] == ["application/json", "text/plain"]
    url = a2a_hub.agent_url("greet")
    assert {(i["url"], i["protocolBinding"], i["protocolVersion"]) for i in card["supportedInterfaces"]} == {
        (url, "JSONRPC", "1.0"),
        (url, "HTTP+JSON", "1.0"),
        (url, "JSONRPC", "0.3"),
        (url, "HTTP+JSON", "0.3"),  # a process agent answers 0.3's HTTP+JSON routes too (test_server_rest_03.py)
    }
    assert card["capabilities"] == {"streaming": True, "pushNotifications": False, "extendedAgentCard": True}
    assert card["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"] == "Bearer"
    assert card["securityRequirements"] == [{"schemes": {"bearer": {}}}]
    assert not {"url", "preferredTransport", "protocolVersion", "security"} & card.keys()  # no 0.3 fields
    assert "max-age" in response.headers["cache-control"]
    assert response.headers["etag"].startswith('W/"')


async def test_a_card_revalidates_with_its_etag(a2a_hub: Any) -> None:
    async with a2a_hub.http(token=None) as http:
        first = await http.get("/a2a/greet/.well-known/agent-card.json")
        etag = first.headers["etag"]
        again = await http.get("/a2a/greet/.well-known/agent-card.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]


async def test_a_process_that_is_not_exposed_or_not_deployed_has_no_card_and_no_endpoint(a2a_hub: Any) -> None:
    async with a2a_hub.http() as http:
        for process_id in ("internal", "nothing"):
            assert (await http.get(f"/a2a/{process_id}/.well-known/agent-card.json")).status_code == 404
            response = await http.post(f"/a2a/{process_id}", json={"jsonrpc": "2.0", "id": 1, "method": "ListTasks"})
            assert response.status_code == 404
            assert process_id in response.json()["error"]["message"]


async def test_the_hub_card_lists_every_exposed_process_as_a_skill_of_the_hub_endpoint(a2a_hub: Any) -> None:
    async with a2a_hub.http(token=None) as http:
        response = await http.get("/.well-known/agent-card.json")
    card = response.json()
    assert card["name"] == "agenthub"
    assert sorted(s["id"] for s in card["skills"]) == ["confirm", "greet", "review", "route"]
    assert {i["url"] for i in card["supportedInterfaces"]} == {a2a_hub.base + "/a2a"}


async def test_the_cards_are_spec_compliant_for_the_sdk(a2a_hub: Any) -> None:
    async with a2a_hub.client("greet") as client:
        card = await client.get_extended_agent_card(GetExtendedAgentCardRequest())
    assert warn_on_missing_required_fields(card, "test")
    assert "name (string, required): Who to greet" in card.skills[0].description  # the extended card adds inputs


async def test_the_extended_card_needs_a_token(a2a_hub: Any) -> None:
    async with a2a_hub.http(token=None) as http:
        rest = await http.get("/a2a/greet/extendedAgentCard")
        rpc = await http.post("/a2a/greet", json={"jsonrpc": "2.0", "id": 1, "method": "GetExtendedAgentCard"})
    for response in (rest, rpc):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/.well-known/agent-card.json", "/a2a/greet/.well-known/agent-card.json"])
async def test_the_public_cards_validate_against_the_a2a_1_0_schema(a2a_hub: Any, path: str) -> None:
    async with httpx.AsyncClient(base_url=a2a_hub.base) as http:  # discovery comes before any version is agreed
        plain = (await http.get(path)).json()
        asked = (await http.get(path, headers={"A2A-Version": "1.0"})).json()
    assert plain == asked
    assert [e.message for e in CARD_SCHEMA.iter_errors(plain)] == []


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ("/a2a/greet/.well-known/agent.json", "1.0"),
        ("/a2a/greet/.well-known/agent-card.json", "0.3"),
        ("/a2a/greet/.well-known/agent-card.json", "0.3.0"),
    ],
)
async def test_0_3_clients_get_the_0_3_card_at_agent_json_or_by_asking_for_0_3(
    a2a_hub: Any, path: str, version: str
) -> None:
    async with a2a_hub.http(token=None) as http:
        response = await http.get(path, headers={"A2A-Version": version})
    assert response.status_code == 200
    card = response.json()
    url = a2a_hub.agent_url("greet")
    assert card["url"] == url and card["preferredTransport"] == "JSONRPC" and card["protocolVersion"] == "0.3"
    assert card["security"] == [{"bearer": []}] and card["securitySchemes"]["bearer"]["type"] == "http"
    assert card["supportsAuthenticatedExtendedCard"] is True
    assert "supportedInterfaces" not in card and "securityRequirements" not in card  # no 1.0 fields
    assert response.headers["vary"] == "A2A-Version"


async def test_the_1_0_and_0_3_cards_have_different_etags(a2a_hub: Any) -> None:
    async with a2a_hub.http(token=None) as http:
        new = await http.get("/.well-known/agent-card.json")
        old = await http.get("/.well-known/agent.json")
        again = await http.get("/.well-known/agent.json", headers={"If-None-Match": new.headers["etag"]})
    assert old.json()["url"] == a2a_hub.base + "/a2a"
    assert new.headers["etag"] != old.headers["etag"]
    assert again.status_code == 200  # the 1.0 card's tag does not revalidate the 0.3 one


@pytest.mark.parametrize("path", ["/.well-known/agent-card.json", "/a2a/greet/.well-known/agent.json"])
async def test_a_card_can_be_read_from_any_origin_without_credentials(a2a_hub: Any, path: str) -> None:
    async with a2a_hub.http(token=None) as http:
        read = await http.get(path, headers={"Origin": "https://elsewhere.example"})
        preflight = await http.options(
            path,
            headers={
                "Origin": "https://elsewhere.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "a2a-version",
            },
        )
    assert read.status_code == 200 and read.headers["access-control-allow-origin"] == "*"
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "GET"
    assert "a2a-version" in preflight.headers["access-control-allow-headers"].lower()
    assert 0 < int(preflight.headers["access-control-max-age"]) <= 3600
    for response in (read, preflight):
        assert "access-control-allow-credentials" not in response.headers


async def test_the_endpoints_send_no_cors_headers(a2a_hub: Any) -> None:
    async with a2a_hub.http() as http:
        response = await http.post("/a2a/greet", json={"jsonrpc": "2.0", "id": 1, "method": "ListTasks"})
    assert "access-control-allow-origin" not in response.headers
