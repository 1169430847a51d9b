"""Agent cards: one per exposed process, the hub's listing them all, public, cacheable, and the extended card."""

from __future__ import annotations

from typing import Any

import pytest
from a2a.types import GetExtendedAgentCardRequest
from a2a.utils.proto_utils import warn_on_missing_required_fields

pytestmark = pytest.mark.anyio


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
    }
    assert card["capabilities"] == {"streaming": True, "pushNotifications": False, "extendedAgentCard": True}
    assert card["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"] == "Bearer"
    assert card["securityRequirements"] == [{"schemes": {"bearer": {}}}]
    assert card["url"] == url and card["preferredTransport"] == "JSONRPC"  # the 0.3 fields, for older clients
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
