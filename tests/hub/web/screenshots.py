"""The README's screenshots of the console, made the way a newcomer sees it: ``python -m tests.hub.web.screenshots``.

Starts ``agenthub serve --examples examples`` on a free port with a throwaway
database, starts the complaint example over REST, answers the customer's
question, and photographs the instance page (the agent waiting for finance's
approval) and the agent inspector in headless Chromium at 1280 px. Writes
``docs/images/console-instance.png`` and ``docs/images/console-agent.png``
(or into the folder given). Run it again when the console's look changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from registry import generate_token
from tests.browser import chromium_path
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[3]


def _wait(predicate: object, what: str, timeout: float = 60.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()  # type: ignore[operator]
        if found:
            return found
        time.sleep(0.3)
    raise SystemExit(f"gave up waiting for {what}")


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    port, admin = free_port(), generate_token()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "AGENTHUB_ADMIN_TOKEN": admin, "AGENTHUB_DB": f"sqlite:///{tmp}/hub.db"}
        server = subprocess.Popen([str(REPO / ".venv" / "bin" / "agenthub"), "serve", "--examples", "examples",
                                   "--port", str(port)], cwd=REPO, env=env)
        try:
            api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=30)
            _wait(lambda: _up(url), "the hub")
            started = api.post("/api/v1/process-instances", json={"processId": "complaint", "variables": {
                "customer": "ada", "orderId": "A-100", "complaint": "My kettle never arrived."}}).json()
            instance = started["instance"]

            def open_tasks() -> list[dict[str, object]]:
                items = api.get("/api/v1/user-tasks", params={"all": "true"}).json()["items"]
                return [t for t in items if t["instance"] == instance]

            question = _wait(open_tasks, "the customer's question")[0]  # type: ignore[index]
            api.post(f"/api/v1/user-tasks/{question['id']}/complete", json={"variables": {"choice": "refund"}})
            approval = _wait(lambda: [t for t in open_tasks() if t.get("kind") == "approval"],
                             "the approval")[0]  # type: ignore[index]
            agent = approval["agentElementInstance"]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url + "/login")
                page.fill("#token", admin)
                page.click("button[type=submit]")
                page.goto(f"{url}/instances/{instance}")
                page.wait_for_selector('[data-diagram][data-rendered="true"]')
                page.screenshot(path=str(out / "console-instance.png"))
                page.goto(f"{url}/instances/{instance}/agents/{agent}")
                page.screenshot(path=str(out / "console-agent.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"wrote {out / 'console-instance.png'} and {out / 'console-agent.png'}")


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "images")
