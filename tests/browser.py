"""A real browser for the console's tests: Debian's ``chromium``, headless, driven by Playwright.

Playwright's own browser downloads are never used: the system Chromium is the
executable (``AGENTHUB_CHROMIUM`` overrides where it is). Under CI a missing
Chromium fails the test; elsewhere it skips with what to install. Each test
that uses a page saves a screenshot of it into the test's output folder
(``tmp_path``) when it ends, passed or failed, and names the file in the
test's report.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["browser", "chromium_path", "need_chromium", "page"]

_CANDIDATES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    configured = os.environ.get("AGENTHUB_CHROMIUM")
    if configured:
        return configured
    return next((found for name in _CANDIDATES if (found := shutil.which(name))), None)


def need_chromium() -> str:
    path = chromium_path()
    if path is None:
        message = "the console's browser tests need Chromium: apt-get install chromium (or set AGENTHUB_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium for one test.

    Not shared across tests: Playwright's sync API keeps an event loop running in the thread while it is open,
    which would break every asyncio test that runs after it in the same test process.
    """
    executable = need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page (its own cookies) at 1280 px wide; its screenshot lands in the test's output when it ends."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.errors = errors  # JavaScript errors the page raised, for tests to assert on
    try:
        yield opened
    finally:
        shot = tmp_path / f"{request.node.name}.png"
        try:
            opened.screenshot(path=str(shot), full_page=True)
            request.node.user_properties.append(("screenshot", str(shot)))
        except Exception as exc:  # a page that crashed still closes
            request.node.user_properties.append(("screenshot", f"none: {exc}"))
        context.close()
