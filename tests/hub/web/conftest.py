"""Fixtures of the console's tests: a real headless Chromium (``tests.browser``) and the hub's ``live_hub``."""

from tests.browser import browser, page

__all__ = ["browser", "page"]
