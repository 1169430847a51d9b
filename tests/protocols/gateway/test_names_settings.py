"""Federated names (``protocols.gateway.names``) and the gateway's settings from the environment."""

from __future__ import annotations

import pytest

from protocols.gateway import GatewaySettings, gateway_settings
from protocols.gateway.names import FederatedName, agent_tool_name, mcp_tool_name, parse


def test_an_upstream_tool_is_named_server_double_underscore_tool_and_parses_back() -> None:
    name = mcp_tool_name("files", "read_file")
    assert name == "files__read_file"
    assert parse(name) == FederatedName("files", "read_file")


def test_a_tool_name_with_a_double_underscore_keeps_it_after_the_first_separator() -> None:
    assert parse("files__read__all") == FederatedName("files", "read__all")


def test_an_agent_is_named_with_the_a2a_prefix_and_parses_back_as_an_agent() -> None:
    name = agent_tool_name("billing")
    assert name == "a2a__billing"
    parsed = parse(name)
    assert parsed is not None and parsed.is_agent and parsed.owner == "billing"


@pytest.mark.parametrize(("server", "tool"), [("a__b", "x"), ("a2a", "x"), ("files", "read file"),
                                              ("files", "x" * 130), ("files", "")])
def test_a_name_that_would_be_ambiguous_or_invalid_is_not_federated(server: str, tool: str) -> None:
    assert mcp_tool_name(server, tool) is None


@pytest.mark.parametrize("name", ["plain", "__tool", "server__", "bad name__x"])
def test_names_of_another_shape_are_not_federated(name: str) -> None:
    assert parse(name) is None


def test_nothing_is_federated_unless_the_environment_names_it() -> None:
    settings = gateway_settings({})
    assert settings == GatewaySettings()
    assert not settings.federates_server("files") and not settings.federates_agent("billing")


def test_the_environment_names_servers_agents_and_rates() -> None:
    settings = gateway_settings({"AGENTHUB_GATEWAY_SERVERS": "files, search", "AGENTHUB_GATEWAY_AGENTS": "*",
                                 "AGENTHUB_GATEWAY_PRINCIPAL_RATE": "30", "AGENTHUB_GATEWAY_RATE_BURST": "5"})
    assert settings.federates_server("search") and not settings.federates_server("other")
    assert settings.federates_agent("anyone")
    assert settings.principal_rate_per_minute == 30 and settings.rate_burst == 5


def test_the_environment_sets_the_daily_budgets() -> None:
    settings = gateway_settings({"AGENTHUB_GATEWAY_PRINCIPAL_DAILY_CALLS": "100",
                                 "AGENTHUB_GATEWAY_TOOL_DAILY_CALLS": "1000"})
    assert (settings.principal_daily_calls, settings.tool_daily_calls) == (100, 1000)


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("AGENTHUB_GATEWAY_TOOL_RATE", "fast", "must be a number"),
    ("AGENTHUB_GATEWAY_PRINCIPAL_RATE", "-1", "0 or more"),
    ("AGENTHUB_GATEWAY_RATE_BURST", "2.5", "whole number"),
    ("AGENTHUB_GATEWAY_RATE_BURST", "0", "at least 1"),
    ("AGENTHUB_GATEWAY_PRINCIPAL_DAILY_CALLS", "1.5", "whole number"),
    ("AGENTHUB_GATEWAY_TOOL_DAILY_CALLS", "-3", "0 or more"),
])
def test_a_wrong_setting_is_refused_by_name(variable: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"{variable}.*{message}"):
        gateway_settings({variable: value})
