"""Agent cards: one per exposed process, and the hub's card that lists them all as skills.

Cards are built from the engine's ``ToolSpec``s on every request, so a new
deployment shows at once; caches revalidate with the ``ETag`` (a hash of the
card). The public card names each skill and its description; the
authenticated extended card adds the inputs each skill takes.

A card is written in one of two shapes, never both in one document: the A2A
1.0 card (``card_json``), which the 1.0 JSON schema validates, and the 0.3
card (``card_json_03``: ``url``, ``preferredTransport``, ``security``...) for
0.3 clients, made from the same card by the SDK's converter. The SDK's own
``agent_card_to_dict`` merges the two into one document, which the 1.0 schema
refuses (it allows no extra fields); that is why it is not used here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from a2a.compat.v0_3.conversions import to_compat_agent_card
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from a2a.utils.constants import PROTOCOL_VERSION_0_3, PROTOCOL_VERSION_1_0, TransportProtocol
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]

from engine.canonical import canonical_hash
from engine.exposure import ToolSpec
from protocols.a2a._convert import JSON, TEXT

HUB_PATH = "/a2a"
"""The hub-level endpoint: a message there names its skill (a process id) in ``metadata.skillId``."""

CARD_PATH = "/.well-known/agent-card.json"
CARD_PATH_03 = "/.well-known/agent.json"
"""Where clients of A2A before 1.0 (the a2a-sdk 0.3 resolver's fallback, 0.2 clients) look for the card."""
CACHE_CONTROL = "public, max-age=60"
_BEARER = "bearer"
_MODES = [JSON, TEXT]
_JSONRPC = TransportProtocol.JSONRPC.value
_HTTP_JSON = TransportProtocol.HTTP_JSON.value
_GRPC = TransportProtocol.GRPC.value


def agent_path(process_id: str) -> str:
    return f"{HUB_PATH}/{process_id}"


def skill(spec: ToolSpec, *, extended: bool = False) -> AgentSkill:
    description = spec.description
    if extended and spec.inputs:
        listed = "; ".join(
            f"{i.name} ({i.type}{', required' if i.required else ''})" + (f": {i.description}" if i.description else "")
            for i in spec.inputs
        )
        description += f"\nInputs, as the entries of a JSON data part: {listed}."
    return AgentSkill(
        id=spec.process_id,
        name=spec.title or spec.process_id,
        description=description,
        tags=["bpmn-process"],
        input_modes=_MODES,
        output_modes=_MODES,
    )


def process_card(
    spec: ToolSpec, base_url: str, version: str, *, extended: bool = False, push: bool = False
) -> AgentCard:
    """The card of the agent at ``/a2a/{processId}``: one skill, the process; ``push``: push notifications offered."""
    url = base_url.rstrip("/") + agent_path(spec.process_id)
    card = _card(
        name=spec.title or spec.process_id,
        description=spec.description,
        url=url,
        base_url=base_url,
        version=version,
        skills=[skill(spec, extended=extended)],
        push=push,
    )
    # A process agent answers 0.3's HTTP+JSON routes too (``{url}/v1/...``): the 0.3 card lists them as an
    # additional interface, after its preferred JSON-RPC one. The hub's own endpoint has no 0.3 routes.
    card.supported_interfaces.append(
        AgentInterface(url=url, protocol_binding=_HTTP_JSON, protocol_version=PROTOCOL_VERSION_0_3))
    return card


def hub_card(
    specs: Sequence[ToolSpec], base_url: str, version: str, *, extended: bool = False, push: bool = False
) -> AgentCard:
    """The hub's card: every exposed process is a skill of the endpoint at ``/a2a``."""
    return _card(
        name="agenthub",
        description=(
            "BPMN processes as agent skills. Name the skill (a process id) in the message's"
            " metadata.skillId; each skill is also an agent of its own at /a2a/{skillId}."
        ),
        url=base_url.rstrip("/") + HUB_PATH,
        base_url=base_url,
        version=version,
        skills=[skill(spec, extended=extended) for spec in specs],
        push=push,
    )


def _card(
    *, name: str, description: str, url: str, base_url: str, version: str, skills: list[AgentSkill], push: bool
) -> AgentCard:
    return AgentCard(
        name=name,
        description=description,
        version=version,
        provider=AgentProvider(organization="agenthub", url=base_url.rstrip("/")),
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding=_JSONRPC, protocol_version=PROTOCOL_VERSION_1_0),
            AgentInterface(url=url, protocol_binding=_HTTP_JSON, protocol_version=PROTOCOL_VERSION_1_0),
            # Listed last, so 1.0 clients pick the interfaces above; the 0.3 card (card_json_03) takes its url and
            # preferredTransport from it. The same endpoint answers the 0.3 method names.
            AgentInterface(url=url, protocol_binding=_JSONRPC, protocol_version=PROTOCOL_VERSION_0_3),
        ],
        capabilities=AgentCapabilities(streaming=True, push_notifications=push, extended_agent_card=True),
        security_schemes={
            _BEARER: SecurityScheme(
                http_auth_security_scheme=HTTPAuthSecurityScheme(
                    scheme="Bearer", description="an agenthub API token (agenthub token create)"
                )
            )
        },
        security_requirements=[SecurityRequirement(schemes={_BEARER: StringList()})],
        default_input_modes=_MODES,
        default_output_modes=_MODES,
        skills=skills,
    )


def with_grpc(card: AgentCard, target: str, tenant: str) -> AgentCard:
    """``card`` offering the gRPC binding too: the hub's gRPC endpoint ``target`` (``host:port``), where requests
    name the agent by ``tenant`` (a process id or virtual agent's name; ``""``: the hub's own agent). Listed after
    the two HTTP bindings, so clients that prefer the first one keep JSON-RPC."""
    card.supported_interfaces.insert(
        2, AgentInterface(url=target, protocol_binding=_GRPC, protocol_version=PROTOCOL_VERSION_1_0, tenant=tenant)
    )
    return card


def card_json(card: AgentCard) -> tuple[dict[str, Any], str]:
    """The card as an A2A 1.0 document, nothing else in it, and its weak ETag (of the card without its
    signatures: an ES256 signature differs at every signing, the card it signs does not)."""
    data = MessageToDict(card)
    return data, _tagged({k: v for k, v in data.items() if k != "signatures"})[1]


def card_json_03(card: AgentCard) -> tuple[dict[str, Any], str]:
    """The card as an A2A 0.3 document, for 0.3 clients, and its weak ETag; unsigned (0.3 canonicalizes another
    document, so a 1.0 signature would not verify there)."""
    unsigned = AgentCard()
    unsigned.CopyFrom(card)
    unsigned.ClearField("signatures")
    # 0.3 has no tenants, and its gRPC service is another (a2a.v1): the 1.0 gRPC interface is not one for it
    kept = [i for i in unsigned.supported_interfaces if i.protocol_binding != _GRPC]
    del unsigned.supported_interfaces[:]
    unsigned.supported_interfaces.extend(kept)
    return _tagged(to_compat_agent_card(unsigned).model_dump(mode="json", by_alias=True, exclude_none=True))


def _tagged(data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    return data, f'W/"{canonical_hash(data)[:32]}"'
