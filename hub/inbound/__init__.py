"""Inbound webhooks: Camunda's webhook connector (``io.camunda:webhook:1``) served by the hub at ``/inbound/{id}``.

Owns: reading a webhook's configuration from the deployed models
(``config``), which webhooks are active (``active``), the checks a request
must pass (``checks``, with the JWKS cache in ``jwks``), what an admitted
request does to the engine (``trigger``) and the routes (``endpoint``).
Does not know: bearer tokens and the Guard (which lets ``/inbound/`` through
to these checks), the engine's message rules (it publishes and starts through
``engine.Engine``), or where secrets live (``protocols.http.secrets``).

    routes = inbound_routes(settings)   # in hub/app.py's routes list
"""

from __future__ import annotations

import os

from starlette.routing import BaseRoute

from hub.inbound.active import active_webhooks
from hub.inbound.config import WEBHOOK_TYPE, WebhookElement, WebhookKind
from hub.inbound.endpoint import InboundWebhooks
from hub.settings import HubSettings
from protocols.http import EgressPolicy
from protocols.http.secrets import secret_provider

__all__ = ["WEBHOOK_TYPE", "InboundWebhooks", "WebhookElement", "WebhookKind", "active_webhooks", "inbound_routes"]


def inbound_routes(settings: HubSettings) -> list[BaseRoute]:
    """``/inbound/{webhookId}`` and ``GET /api/v1/inbound``; secrets from the hub's environment (and secrets file),
    JWKS fetched only where the http connector may connect (``AGENTHUB_HTTP_ALLOW``)."""
    return InboundWebhooks(secret_provider(os.environ), EgressPolicy.from_env(settings.http_allow)).routes
