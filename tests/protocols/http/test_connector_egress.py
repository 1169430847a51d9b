"""The connector under its egress policy: refused destinations are never contacted, names are checked by address."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from engine import Job
from protocols.http import EgressDenied, EgressPolicy, HttpConnector
from tests.protocols.http.server import EchoServer


def run(connector: HttpConnector, task_headers: dict[str, str], /, **variables: Any) -> dict[str, Any]:
    job = Job(key=1, type="http", variables=variables, headers=task_headers, retries=3, instance=1,
              element_id="CallApi", process_id="order")
    return asyncio.run(connector(job))


def test_loopback_is_refused_by_default_saying_what_to_add(http_server: EchoServer) -> None:
    before = len(http_server.hits)
    with pytest.raises(EgressDenied) as raised:
        run(HttpConnector(EgressPolicy.from_env(None)), {"url": f"{http_server.url}/echo"},
            headers={"Authorization": "Bearer do-not-print"})
    message = str(raised.value)
    assert "may not connect to 127.0.0.1 (loopback)" in message
    assert "add '127.0.0.1' to AGENTHUB_HTTP_ALLOW" in message
    assert "do-not-print" not in message
    assert len(http_server.hits) == before


def test_a_listed_loopback_address_is_allowed(http_server: EchoServer) -> None:
    result = run(HttpConnector(EgressPolicy.from_env("127.0.0.1")), {"url": f"{http_server.url}/echo"})
    assert result["response"]["status"] == 200


def test_a_cidr_entry_admits_the_server_in_its_network(http_server: EchoServer) -> None:
    result = run(HttpConnector(EgressPolicy.from_env("public,127.0.0.0/8")), {"url": f"{http_server.url}/echo"})
    assert result["response"]["status"] == 200


def test_localhost_is_resolved_and_its_address_checked(http_server: EchoServer) -> None:
    url = f"http://localhost:{http_server.port}/echo"
    with pytest.raises(EgressDenied, match=r"localhost: it resolves to 127\.0\.0\.1 \(loopback\)"):
        run(HttpConnector(EgressPolicy.from_env(None)), {"url": url})
    result = run(HttpConnector(EgressPolicy.from_env("localhost")), {"url": url})
    assert result["response"]["body"]["headers"]["host"] == f"localhost:{http_server.port}"


def test_the_connection_goes_to_the_checked_address_with_the_name_kept_in_host(http_server: EchoServer) -> None:
    calls: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return ["127.0.0.1"]  # a name no real resolver knows: the request can only reach the address we checked

    connector = HttpConnector(EgressPolicy.from_env("api.example.test"), resolve=resolve)
    result = run(connector, {"url": f"http://api.example.test:{http_server.port}/echo"})
    assert result["response"]["body"]["headers"]["host"] == f"api.example.test:{http_server.port}"
    assert calls == ["api.example.test"]


def test_a_name_with_one_refused_address_is_refused_before_connecting(http_server: EchoServer) -> None:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return ["127.0.0.1", "10.0.0.9"]

    before = len(http_server.hits)
    with pytest.raises(EgressDenied, match=r"10\.0\.0\.9 \(private\)"):
        run(HttpConnector(EgressPolicy.from_env("127.0.0.1"), resolve=resolve),
            {"url": f"http://twofaced.test:{http_server.port}/echo"})
    assert len(http_server.hits) == before


def test_every_redirect_hop_is_checked_again(http_server: EchoServer) -> None:
    url = f"{http_server.url}/redirect?to=http://169.254.169.254/latest/meta-data/"
    with pytest.raises(EgressDenied, match=r"169\.254\.169\.254 \(link-local\)"):
        run(HttpConnector(EgressPolicy.from_env("127.0.0.1")), {"url": url})
