"""The Discover pages in a real browser: the inventory of a seeded hub, one process's brief with its plots and the
bottleneck map on the diagram, and the agents' own decisions (tests/hub/discover_seed.py).

Each test saves a screenshot of its page (``tests.browser``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hub.discover_seed import CLAIMS, seed_discover
from tests.hub.harness import LiveHub, serve_hub
from tests.hub.web.console import sign_in


@pytest.fixture(scope="module")
def seeded_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    folder: Path = tmp_path_factory.mktemp("discover-console")
    seed_discover(folder / "hub.db")
    with serve_hub(folder) as hub:
        yield hub


def test_the_inventory_lists_each_process_with_its_counts_and_links_to_its_brief(
    seeded_hub: LiveHub, page: Any
) -> None:
    sign_in(page, seeded_hub)
    page.click("nav[aria-label=Console] a:has-text('Discover')")
    page.wait_for_url(seeded_hub.url + "/discover")
    rows = page.locator("table.inventory tbody tr")
    assert [rows.nth(i).get_attribute("data-process-id") for i in range(rows.count())] == ["claim", "support_agent"]
    claim = page.locator("tr[data-process-id=claim] td")
    assert [claim.nth(i).inner_text() for i in (2, 3)] == [str(CLAIMS.instances), str(CLAIMS.completed)]
    page.click("tr[data-process-id=claim] a")
    page.wait_for_url(seeded_hub.url + "/discover/claim")
    assert page.errors == []


def test_the_brief_draws_its_plots_and_the_bottleneck_map_on_the_diagram(seeded_hub: LiveHub, page: Any) -> None:
    sign_in(page, seeded_hub)
    page.goto(seeded_hub.url + "/discover/claim")
    for name in ("Instances of claim started per day (UTC)", "Cycle times of the completed instances of claim",
                 "Where the instances of claim spend their time"):  # each plot is an image named by its title
        assert page.get_by_role("img", name=name).count() == 1
    assert page.locator("svg[data-plot=histogram] rect.bar").count() == 10
    assert "Review the claim" in (page.locator("svg[data-plot=bars]").text_content() or "")
    page.wait_for_selector("[data-diagram][data-rendered='true']")
    review = page.locator(".state-overlay.bottleneck[data-element-id=review]")
    assert review.count() == 1 and review.inner_text().endswith("%")
    weights = {o.get_attribute("data-element-id"): int(o.get_attribute("data-weight") or 0)
               for o in page.locator(".state-overlay.bottleneck").all()}
    assert max(weights, key=lambda k: weights[k]) == "review"
    assert page.locator("ol.opportunities li").first.get_attribute("data-element-id") == "review"
    assert page.errors == []


def test_the_brief_of_an_agent_process_shows_what_its_agent_decides(seeded_hub: LiveHub, page: Any) -> None:
    sign_in(page, seeded_hub)
    missing = page.goto(seeded_hub.url + "/discover/nope")
    assert missing is not None and missing.status == 404
    page.goto(seeded_hub.url + "/discover/support_agent")
    region = page.locator("section.agent-region[data-element-id=Support]")
    assert "4 runs" in region.inner_text()
    assert region.locator("[data-rate=deny]").inner_text() == "11% denied by policy"
    assert region.locator("table.tool-graph tr[data-from='lookup_order'][data-to='refund'] td.num").inner_text() == "2"
    assert region.locator("table.loops tr[data-tool=lookup_order] td").nth(1).inner_text() == "2"
    drift = region.locator("table.drift[data-split=byModel] tbody tr")
    assert [drift.nth(i).get_attribute("data-group") for i in range(drift.count())] == [
        "anthropic/claude-sonnet", "openai/gpt-4o"]
    assert page.errors == []
