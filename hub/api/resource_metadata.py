"""OAuth 2.0 Protected Resource Metadata (RFC 9728), as the MCP authorization spec asks of a server.

``GET /.well-known/oauth-protected-resource`` describes the hub as a
protected resource: ``resource`` is its canonical URL (``AGENTHUB_PUBLIC_URL``
or the address it is bound to), tokens go in the ``Authorization`` header,
and the scopes are the hub's token scopes. The path-suffixed form
``/.well-known/oauth-protected-resource/mcp`` describes the MCP endpoint
itself. Every 401 from the guard points at the first (``resource_metadata``
in ``WWW-Authenticate``). ``authorization_servers`` lists the OpenID Connect
issuer (``AGENTHUB_OIDC_ISSUER``), where MCP clients send people to sign in,
then the issuers set in ``AGENTHUB_AUTHORIZATION_SERVERS``; the hub's own API
tokens (``agenthub token create``) need none. The documents are public, like an agent card.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.settings import HubSettings
from registry.tokens import SCOPES

__all__ = ["METADATA_PATH", "metadata", "routes"]

METADATA_PATH = "/.well-known/oauth-protected-resource"
# The resources the hub describes besides itself: path -> what it is.
_RESOURCES = {"/mcp": "agenthub MCP endpoint"}


def metadata(settings: HubSettings, path: str = "") -> dict[str, Any]:
    """The metadata document of the resource at ``path`` under the hub's base URL."""
    document: dict[str, Any] = {
        "resource": settings.base_url + path,
        "resource_name": _RESOURCES.get(path, "agenthub"),
        "bearer_methods_supported": ["header"],
        "scopes_supported": list(SCOPES),
    }
    if settings.issuers:
        document["authorization_servers"] = list(settings.issuers)
    return document


def _settings(request: Request) -> HubSettings:
    settings: HubSettings = request.app.state.hub.settings
    return settings


async def _hub(request: Request) -> JSONResponse:
    return JSONResponse(metadata(_settings(request)), headers={"Cache-Control": "max-age=300"})


async def _mcp(request: Request) -> JSONResponse:
    return JSONResponse(metadata(_settings(request), "/mcp"), headers={"Cache-Control": "max-age=300"})


routes = [
    Route(METADATA_PATH, _hub, methods=["GET"]),
    Route(METADATA_PATH + "/mcp", _mcp, methods=["GET"]),
]
