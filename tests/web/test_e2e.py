"""End to end in headless Chromium (Debian's package, driven by Playwright): the graph shows
nodes, an edit in the page changes the file on disk, the inspector shows the packet, the
benchmarks page draws charts. Screenshots go to tests/web/artifacts/ (git-ignored).

The tests skip where Chromium or Playwright is missing, except under CI, where `make test`
installs both and a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kenning.memory import parse_memory
from kenning.web.server import UIServer

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags Chromium needs on a machine with no GPU and no outside network.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MONEY = "money-is-integer-cents-b41a"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (make test installs it)"
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (make test installs it as root)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: UIServer) -> Iterator[Any]:
    """A logged-in page (the token URL traded for the cookie); fails on any script error."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.goto(server.url)
    assert tab.url == server.base + "/"  # the token left the address bar
    tab.wait_for_selector("#status-line .project")
    yield tab
    context.close()
    assert errors == []


def _settled(page: Any) -> None:
    page.wait_for_function(
        "() => { const c = document.querySelector('#graph-canvas');"
        " return c && Number(c.dataset.nodes) > 0 && c.dataset.settled === '1'; }",
        timeout=20_000,
    )


def _painted_pixels(page: Any) -> int:
    return int(
        page.evaluate(
            """() => {
              const c = document.querySelector('#graph-canvas');
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let n = 0;
              for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
              return n;
            }"""
        )
    )


def test_graph_page_shows_nodes_and_focuses_a_search_hit(page: Any, server: UIServer) -> None:
    page.goto(server.base + "/#/graph")
    _settled(page)
    assert int(page.get_attribute("#graph-canvas", "data-nodes")) > 100
    assert page.locator("#graph-top li").count() > 10
    assert _painted_pixels(page) > 5_000
    page.screenshot(path=ARTIFACTS / "graph-overview.png")

    page.fill("#graph-search", "money.py")
    page.click("#graph-results button.result >> nth=0")
    page.wait_for_function("() => location.hash.startsWith('#/graph/file')")
    page.wait_for_selector("#graph-selected:has-text('money.py')")
    _settled(page)
    assert "around money.py" in page.inner_text("#graph-stats")
    assert page.locator("#graph-panel .relation").count() >= 2
    page.screenshot(path=ARTIFACTS / "graph-focus.png")

    page.uncheck("#graph-kinds input[data-kind='symbol']")
    page.wait_for_function(
        "() => !document.querySelector('#graph-stats').textContent.includes('…')"
    )
    _settled(page)
    page.screenshot(path=ARTIFACTS / "graph-focus-no-symbols.png")


def test_editing_a_memory_in_the_page_changes_its_file(
    page: Any, server: UIServer, project: Path
) -> None:
    path = project / ".kenning" / "memories" / "decision" / f"{MONEY}.md"
    page.goto(server.base + f"/#/memories/{MONEY}")
    page.wait_for_selector("#memory-title:has-text('Money is integer cents')")
    assert "recorded by human" in page.inner_text("#memory-provenance")
    page.screenshot(path=ARTIFACTS / "memories-read.png")

    page.click("#memory-edit")
    page.fill("#edit-body", "Every amount is integer cents.\n\nEdited in the browser.")
    page.fill("#edit-tags", "money, billing, ui")
    page.screenshot(path=ARTIFACTS / "memories-edit.png")
    page.click("#edit-save")
    page.wait_for_selector("#memory-edit")
    page.wait_for_selector(".reader-body:has-text('Edited in the browser.')")

    on_disk = parse_memory(path.read_text(), path)
    assert on_disk.body == "Every amount is integer cents.\n\nEdited in the browser."
    assert on_disk.tags == ("money", "billing", "ui")
    page.screenshot(path=ARTIFACTS / "memories-saved.png")


def test_stale_memories_are_flagged_in_the_list(page: Any, server: UIServer) -> None:
    page.goto(server.base + "/#/memories")
    page.wait_for_selector("#memory-list .memory-card")
    page.check("#memory-stale")
    page.wait_for_selector(".list-head:has-text('1 memory')")
    assert page.locator("#memory-list .memory-card").count() == 1
    assert page.locator("#memory-list .memory-card .pill.stale").count() == 1
    page.click("#memory-list .memory-card")
    page.wait_for_selector("#memory-stale:has-text('retry_state.py')")
    page.screenshot(path=ARTIFACTS / "memories-stale.png")


def test_retiring_in_the_page_marks_the_file(page: Any, server: UIServer, project: Path) -> None:
    path = project / ".kenning" / "memories" / "decision" / f"{MONEY}.md"
    page.goto(server.base + f"/#/memories/{MONEY}")
    page.wait_for_selector("#memory-retire")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#memory-retire")
    page.wait_for_selector(".reader-head .pill.status-retired")
    assert parse_memory(path.read_text(), path).status == "retired"


def test_inspector_shows_the_packet_and_compares_two_budgets(page: Any, server: UIServer) -> None:
    page.goto(server.base + "/#/inspector")
    page.fill("#inspector-request", "fix the rounding of VAT on invoices")
    page.click("#inspector-run")
    page.wait_for_selector(".packet .packet-items li")
    assert page.inner_text(".packet-intent").lower() == "fix"
    assert page.locator(".packet-timings .seg").count() >= 4
    assert page.locator(".packet .packet-items li").count() >= 3
    assert "/ 2,000" in page.inner_text(".packet-tokens")
    page.click(".packet .packet-items li >> nth=0 >> button.item-head")
    page.wait_for_selector(".packet .item.open .item-text")
    page.screenshot(path=ARTIFACTS / "inspector.png", full_page=True)

    page.check("#inspector-compare")
    page.fill("#inspector-budget-b", "400")
    page.select_option("#inspector-intent-b", "explain")
    page.click("#inspector-run")
    page.wait_for_selector(".packets.two .packet >> nth=1")
    b = page.locator(".packet[data-tag='B']")
    assert "/ 400" in b.locator(".packet-tokens").inner_text()
    assert b.locator(".packet-intent").inner_text().lower() == "explain"
    page.screenshot(path=ARTIFACTS / "inspector-compare.png")


def test_bench_page_draws_the_latest_results(page: Any, server: UIServer, bench_dir: Path) -> None:
    result = {
        "suite": "retrieval",
        "machine": "2 cores, no GPU",
        "recall_at_k": {
            "kenning": {"recall@1": 0.52, "recall@5": 0.81, "recall@10": 0.9},
            "bm25": {"recall@1": 0.41, "recall@5": 0.66, "recall@10": 0.77},
        },
        "latency_ms": {"p50": 11.8, "p90": 23.0, "p99": 47.5},
        "by_intent": [
            {"intent": "fix", "recall": 0.84, "n": 40},
            {"intent": "implement", "recall": 0.79, "n": 55},
            {"intent": "explain", "recall": 0.88, "n": 31},
        ],
    }
    (bench_dir / "retrieval-2026-11-01.json").write_text(json.dumps(result))
    page.goto(server.base + "/#/bench")
    page.wait_for_selector(".bench-card figure.chart svg rect")
    assert page.locator(".bench-card figure.chart").count() >= 3
    assert "retrieval" in page.inner_text(".bench-card h2").lower()
    page.screenshot(path=ARTIFACTS / "bench.png", full_page=True)
