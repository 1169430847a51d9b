"""AGENTHUB_HTTP_ROUTES: which URLs a route takes, where they go, and the entries refused."""

from __future__ import annotations

import pytest

from protocols.http.exceptions import EgressConfigError
from protocols.http.routes import HttpRoutes

ROUTES = HttpRoutes.from_env(
    "https://api.openai.com=http://127.0.0.1:9000, https://mcp.example.com/mcp=http://127.0.0.1:12002/mirror/mcp,"
    "https://mcp.example.com=http://127.0.0.1:12003"
)


@pytest.mark.parametrize(("url", "routed"), [
    # the host's route: path, query and fragment kept
    ("https://api.openai.com/v1/chat/completions?x=1#f", "http://127.0.0.1:9000/v1/chat/completions?x=1#f"),
    ("https://api.openai.com", "http://127.0.0.1:9000"),
    ("https://API.OpenAI.com:443/v1", "http://127.0.0.1:9000/v1"),  # host case and the default port
    # the longest matching FROM wins, at a path boundary only
    ("https://mcp.example.com/mcp", "http://127.0.0.1:12002/mirror/mcp"),
    ("https://mcp.example.com/mcp/", "http://127.0.0.1:12002/mirror/mcp/"),
    ("https://mcp.example.com/mcpx", "http://127.0.0.1:12003/mcpx"),
    ("https://mcp.example.com/other", "http://127.0.0.1:12003/other"),
    # not the same origin: unchanged
    ("http://api.openai.com/v1", "http://api.openai.com/v1"),
    ("https://api.openai.com:8443/v1", "https://api.openai.com:8443/v1"),
    ("https://api.openai.com.evil.example/v1", "https://api.openai.com.evil.example/v1"),
    ("https://evil.example/https://api.openai.com", "https://evil.example/https://api.openai.com"),
    ("not a url", "not a url"),
])
def test_a_url_takes_the_most_specific_route_of_its_origin(url: str, routed: str) -> None:
    assert ROUTES.route(url) == routed


def test_no_routes_change_nothing() -> None:
    assert not HttpRoutes.from_env(None) and not HttpRoutes.from_env(" , ")
    assert HttpRoutes.from_env("").route("https://api.openai.com/v1") == "https://api.openai.com/v1"


@pytest.mark.parametrize(("value", "says"), [
    ("api.openai.com=http://127.0.0.1:9", "FROM must be an absolute http:// or https:// URL"),
    ("https://api.openai.com", "is not FROM=TO"),
    ("https://api.openai.com=", "is not FROM=TO"),
    ("https://a.example=ftp://127.0.0.1", "TO must be an absolute http:// or https:// URL"),
    ("https://a.example?x=1=http://127.0.0.1", "may not carry a query"),
    ("https://a.example=http://user:pw@127.0.0.1", "may not carry a query, a fragment or credentials"),
    ("https://a.example:99999=http://127.0.0.1", "FROM is not a valid URL"),
    ("https://a.example/x=http://127.0.0.1,https://A.example:443/x/=http://127.0.0.2", "routes 'https://A.example"),
])
def test_a_malformed_entry_is_refused_with_the_entry_named(value: str, says: str) -> None:
    with pytest.raises(EgressConfigError, match="AGENTHUB_HTTP_ROUTES") as refused:
        HttpRoutes.from_env(value)
    assert says in str(refused.value)
