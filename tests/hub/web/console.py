"""Helpers of the console's tests: signing a browser or an HTTP client in the way a person does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.hub.harness import LiveHub

__all__ = ["csrf_of", "sign_in", "signed_in_client"]


@contextmanager
def signed_in_client(hub: LiveHub, token: str | None = None) -> Iterator[httpx.Client]:
    """An HTTP client with no bearer token that signed in through ``POST /login``: it holds the session cookie."""
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        answer = client.post("/login", data={"token": token or hub.admin})
        assert answer.status_code == 303, answer.text
        yield client


def csrf_of(html: str) -> str:
    """The CSRF token a page embeds in its forms."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(page: Any, hub: LiveHub, token: str | None = None) -> None:
    """Sign the browser in through the login form, as a person does."""
    page.goto(hub.url + "/")
    assert page.url.endswith("/login")
    page.fill("#token", token or hub.admin)
    page.click("button[type=submit]")
    page.wait_for_url(hub.url + "/")
