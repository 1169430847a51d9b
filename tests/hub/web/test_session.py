"""Signing in to the console: the session cookie, CSRF on sign-out, redirects, and what a session may not do."""

from __future__ import annotations

from typing import Any

import httpx

from tests.hub.harness import LiveHub
from tests.hub.web.console import csrf_of, sign_in, signed_in_client


def test_a_page_without_a_session_redirects_to_the_login_form(live_hub: LiveHub) -> None:
    with httpx.Client(base_url=live_hub.url) as client:
        answer = client.get("/")
        assert answer.status_code == 303 and answer.headers["location"] == "/login"
        answer = client.get("/instances?state=active")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=%2Finstances%3Fstate%3Dactive"
        form = client.get("/login")
        assert form.status_code == 200 and 'name="token"' in form.text
        assert "text/html" in form.headers["content-type"]
        assert "script-src 'self'" in form.headers["content-security-policy"]
        # The API keeps answering in its own language.
        api = client.get("/api/v1/process-instances")
        assert api.status_code == 401 and api.headers["content-type"] == "application/problem+json"


def test_signing_in_with_a_token_sets_a_safe_cookie(live_hub: LiveHub) -> None:
    with httpx.Client(base_url=live_hub.url) as client:
        wrong = client.post("/login", data={"token": "ahk_00000000_" + "x" * 43})
        assert wrong.status_code == 401 and "not valid" in wrong.text and "set-cookie" not in wrong.headers
        answer = client.post("/login", data={"token": live_hub.admin, "next": "/tasks"})
        assert answer.status_code == 303 and answer.headers["location"] == "/tasks"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("agenthub_session=")
        attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
        assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
        assert "secure" not in attributes  # plain HTTP on 127.0.0.1: a Secure cookie would never come back
        assert live_hub.admin not in cookie
        home = client.get("/")
        assert home.status_code == 200 and "Welcome" in home.text


def test_next_never_leaves_the_hub(live_hub: LiveHub) -> None:
    with httpx.Client(base_url=live_hub.url) as client:
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
            answer = client.post("/login", data={"token": live_hub.admin, "next": target})
            assert answer.status_code == 303 and answer.headers["location"] == "/", target


def test_sign_out_needs_the_csrf_token_and_ends_the_session(live_hub: LiveHub) -> None:
    with signed_in_client(live_hub) as client:
        home = client.get("/")
        refused = client.post("/logout", data={"csrf": "forged"})
        assert refused.status_code == 403 and "CSRF" in refused.text
        assert client.get("/").status_code == 200  # still signed in
        cookie = client.cookies.get("agenthub_session")
        answer = client.post("/logout", data={"csrf": csrf_of(home.text)})
        assert answer.status_code == 303 and answer.headers["location"] == "/login"
        assert client.get("/").status_code == 303
    with httpx.Client(base_url=live_hub.url, cookies={"agenthub_session": cookie or ""}) as replay:
        assert replay.get("/").status_code == 303  # the old cookie signs no one in


def test_a_form_posted_from_another_site_is_refused(live_hub: LiveHub) -> None:
    with signed_in_client(live_hub) as client:
        csrf = csrf_of(client.get("/").text)
        answer = client.post("/logout", data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
        assert answer.status_code == 403
        assert client.get("/").status_code == 200


def test_revoking_the_token_ends_its_sessions(live_hub: LiveHub) -> None:
    token = live_hub.token("read")
    with signed_in_client(live_hub, token) as client:
        assert client.get("/").status_code == 200
        with live_hub.client() as admin:
            [info] = [t for t in admin.get("/api/v1/tokens").json()["items"] if t["name"] == "read"]
            assert admin.delete(f"/api/v1/tokens/{info['id']}").status_code in (200, 204)
        assert client.get("/").status_code == 303


def test_a_person_signs_in_with_the_browser(live_hub: LiveHub, page: Any) -> None:
    sign_in(page, live_hub)
    assert page.locator("h1").inner_text().startswith("Welcome")
    page.click("header .who button")  # sign out
    page.wait_for_url(live_hub.url + "/login")
    assert page.errors == []


def test_an_unknown_page_is_an_html_404_for_a_browser_and_problem_json_for_the_api(live_hub: LiveHub) -> None:
    with signed_in_client(live_hub) as client:
        page_404 = client.get("/no-such-page", headers={"Accept": "text/html"})
        assert page_404.status_code == 404 and "text/html" in page_404.headers["content-type"]
        assert "no page at /no-such-page" in page_404.text
        api_404 = client.get("/api/v1/no-such-thing", headers={"Authorization": f"Bearer {live_hub.admin}"})
        assert api_404.status_code == 404 and api_404.headers["content-type"] == "application/problem+json"
