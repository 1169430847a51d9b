"""The egress allow-list: which addresses ``public`` admits, what each entry form admits, and how names are checked.

Everything here is decided on addresses alone, with a fake resolver where a
name is involved: nothing connects anywhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence

import pytest

from protocols.http import EgressConfigError, EgressDenied, EgressPolicy, Resolver, address_kind


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def fake_resolver(answers: dict[str, list[str]], calls: list[str] | None = None) -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        if calls is not None:
            calls.append(host)
        return answers[host]

    return resolve


PUBLIC = ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
NOT_PUBLIC = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "::1": "loopback",
    "10.0.0.1": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",
    "fe80::1": "link-local",
    "fc00::1": "unique-local",
    "fd00:ec2::254": "unique-local",
    "100.64.0.1": "not globally routable",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "loopback (as 127.0.0.1)",
    "::ffff:169.254.169.254": "link-local (as 169.254.169.254)",
    "2002:a00:1::": "private (as 10.0.0.1)",
    "64:ff9b::a9fe:a9fe": "link-local (as 169.254.169.254)",
}


# Refused too; what each is called differs between Python versions' ipaddress tables.
ALSO_REFUSED = ["240.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1", "2001:db8::1"]


@pytest.mark.parametrize("address", PUBLIC)
def test_the_default_policy_admits_globally_routable_addresses(address: str) -> None:
    assert EgressPolicy.from_env(None).allows("example.com", ip(address))
    assert address_kind(ip(address)) == "public"


@pytest.mark.parametrize(("address", "kind"), NOT_PUBLIC.items())
def test_public_admits_no_private_loopback_link_local_or_special_address(address: str, kind: str) -> None:
    policy = EgressPolicy.parse(["public"])
    assert not policy.allows("example.com", ip(address))
    assert address_kind(ip(address)) == kind


@pytest.mark.parametrize("address", ALSO_REFUSED)
def test_public_admits_no_documentation_benchmark_or_reserved_address(address: str) -> None:
    assert not EgressPolicy.parse(["public"]).allows("example.com", ip(address))
    assert address_kind(ip(address)) != "public"


def test_no_entries_means_public() -> None:
    for value in (None, "", " , "):
        policy = EgressPolicy.from_env(value)
        assert policy.public and policy.entries == ("public",)


def test_an_address_entry_admits_that_address_and_no_other() -> None:
    policy = EgressPolicy.from_env("10.0.0.7")
    assert policy.allows("10.0.0.7", ip("10.0.0.7"))
    assert policy.allows("10.0.0.7", ip("::ffff:10.0.0.7"))
    assert not policy.allows("10.0.0.8", ip("10.0.0.8"))


def test_an_explicit_list_replaces_the_default_public() -> None:
    assert not EgressPolicy.from_env("10.0.0.7").allows("example.com", ip("8.8.8.8"))
    assert EgressPolicy.from_env("public, 10.0.0.7").allows("example.com", ip("8.8.8.8"))


def test_a_cidr_entry_admits_every_address_of_its_network() -> None:
    policy = EgressPolicy.from_env("public,10.1.0.0/16,fd00::/8")
    assert policy.allows("svc", ip("10.1.200.3"))
    assert policy.allows("svc", ip("fd00::5"))
    assert not policy.allows("svc", ip("10.2.0.1"))
    assert not policy.allows("svc", ip("169.254.169.254"))


def test_a_host_entry_admits_the_name_whatever_it_resolves_to() -> None:
    policy = EgressPolicy.from_env("Billing.Internal.")
    assert policy.allows("billing.internal", ip("10.9.9.9"))
    assert not policy.allows("other.internal", ip("10.9.9.9"))


def test_a_wildcard_admits_subdomains_but_not_the_domain_itself() -> None:
    policy = EgressPolicy.from_env("*.corp.example")
    assert policy.allows("api.corp.example", ip("10.0.0.1"))
    assert policy.allows("a.b.corp.example", ip("10.0.0.1"))
    assert not policy.allows("corp.example", ip("10.0.0.1"))
    assert not policy.allows("evilcorp.example", ip("10.0.0.1"))


@pytest.mark.parametrize("entry", ["example.com:8080", "https://example.com", "10.0.0.1/33", "10.0.0.1/8", "*", "a b"])
def test_a_malformed_entry_is_refused_naming_it(entry: str) -> None:
    with pytest.raises(EgressConfigError, match="AGENTHUB_HTTP_ALLOW entry") as raised:
        EgressPolicy.from_env(f"public,{entry}")
    assert entry in str(raised.value)


def test_every_address_a_name_resolves_to_is_checked() -> None:
    resolve = fake_resolver({"rebind.example": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(EgressDenied) as raised:
        asyncio.run(EgressPolicy.from_env(None).admit("rebind.example", 80, resolve))
    assert raised.value.refused == ("127.0.0.1",)
    assert "rebind.example: it resolves to 127.0.0.1 (loopback)" in str(raised.value)


def test_admit_returns_the_checked_addresses_from_one_lookup() -> None:
    calls: list[str] = []
    resolve = fake_resolver({"api.example": ["93.184.216.34", "2606:4700:4700::1111"]}, calls)
    addresses = asyncio.run(EgressPolicy.from_env(None).admit("api.example", 443, resolve))
    assert addresses == [ip("93.184.216.34"), ip("2606:4700:4700::1111")]
    assert calls == ["api.example"]


def test_an_address_in_the_url_is_checked_without_a_lookup() -> None:
    resolve = fake_resolver({})  # any lookup would raise KeyError
    with pytest.raises(EgressDenied, match=r"169\.254\.169\.254 \(link-local\)"):
        asyncio.run(EgressPolicy.from_env(None).admit("169.254.169.254", 80, resolve))
    assert asyncio.run(EgressPolicy.from_env("::1").admit("::1", 80, resolve)) == [ip("::1")]


def test_the_denial_says_what_to_add_to_the_allow_list() -> None:
    resolve = fake_resolver({"db.internal": ["10.0.0.5"]})
    with pytest.raises(EgressDenied) as raised:
        asyncio.run(EgressPolicy.from_env("public").admit("db.internal", 80, resolve))
    message = str(raised.value)
    assert "AGENTHUB_HTTP_ALLOW='public'" in message
    assert "add 'db.internal' or '10.0.0.5' to AGENTHUB_HTTP_ALLOW" in message
    assert "keep 'public'" in message
