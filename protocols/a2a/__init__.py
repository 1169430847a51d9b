"""A2A both ways: the hub's A2A server (processes as agents) and fetching remote agents' cards.

The server (``A2AEndpoint``, in ``protocols.a2a.server``) owns turning A2A
requests into engine calls: every exposed process is an agent at
``/a2a/{processId}`` with its own card, the hub's card lists them all as
skills, and an A2A task is a process instance, read from the engine on every
request. It does not know tokens, Host or Origin: the hub's guard checks them
and hands over a ``registry.Principal``.

    endpoint = A2AEndpoint(engine, base_url=lambda: "http://127.0.0.1:8600", call_timeout_s=30)
    app = Starlette(routes=[*endpoint.routes, ...])  # the lifespan may enter endpoint.lifespan()

The client side: ``fetch_card`` (``protocols.a2a.cards``) to register an
agent, and ``A2ACallTask`` (``protocols.a2a.call_task``), the handler of
``a2a`` service tasks, which sends a message to a registered agent and waits
durably for its task (``protocols.a2a.client`` does the A2A part). What is
exposed, how to call it, and how processes call remote agents: ``docs/A2A.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from protocols.a2a.cards import CardError, card_url, fetch_card

if TYPE_CHECKING:
    from protocols.a2a.call_task import A2ACallTask
    from protocols.a2a.server import A2AEndpoint

__all__ = ["A2ACallTask", "A2AEndpoint", "CardError", "card_url", "fetch_card"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the A2A SDK's server side takes a while to import, and the registry's card
    # fetching (``fetch_card``), which the CLI uses, should not pay for it.
    if name == "A2AEndpoint":
        from protocols.a2a.server import A2AEndpoint

        return A2AEndpoint
    if name == "A2ACallTask":
        from protocols.a2a.call_task import A2ACallTask

        return A2ACallTask
    raise AttributeError(name)
