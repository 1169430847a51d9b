"""The journal's copy of variables: credential-named entries masked, everything else as it was."""

from __future__ import annotations

import pytest

from engine.redaction import REDACTED, is_credential_name, journaled


@pytest.mark.parametrize("name", ["Authorization", "proxy-authorization", "Cookie", "X-Api-Key", "api_key",
                                  "apiToken", "access_token", "clientSecret", "password", "X-Auth-Token"])
def test_names_that_say_credential_are_credential_names(name: str) -> None:
    assert is_credential_name(name)


@pytest.mark.parametrize("name", ["maxTokens", "inputTokens", "author", "key", "orderKey", "Accept", "tokenCount"])
def test_counts_and_ordinary_names_are_not(name: str) -> None:
    assert not is_credential_name(name)


def test_credential_named_entries_are_masked_at_any_depth_and_nothing_else_changes() -> None:
    values = {"apiToken": "t", "maxTokens": 5, "headers": {"X-Api-Key": "k", "Accept": "a"},
              "items": [{"password": {"nested": 1}, "name": "n"}], "author": "ann", "cookie": None}
    assert journaled(values) == {"apiToken": REDACTED, "maxTokens": 5,
                                 "headers": {"X-Api-Key": REDACTED, "Accept": "a"},
                                 "items": [{"password": REDACTED, "name": "n"}], "author": "ann", "cookie": None}
    assert values["apiToken"] == "t"  # the instance's own copy is untouched
