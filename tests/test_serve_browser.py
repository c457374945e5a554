"""The search page in a real browser: headless Chromium (Debian's package) driven by Playwright.

Skipped when Chromium or Playwright is missing. By default it runs on the tiny test index; set
``RELSEARCH_BROWSER_INDEX`` (and optionally ``RELSEARCH_BROWSER_PAIR``) to use another, and
``RELSEARCH_SCREENSHOT`` to keep the screenshot (the README's docs/serve-page.png is made so).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("playwright.sync_api")

from index_fixtures import *  # noqa: F403  (fixtures)
from playwright import sync_api
from serve_process import start_server, stop_server

from relsearch.index.relation_index import RelationIndex
from relsearch.pairs import format_pair

CHROMIUM = os.environ.get("RELSEARCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
K = 10
#: A new pair's first query loads the model in the server (seconds; more on busy cores).
FIRST_QUERY_MS = 180_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def served(tiny_index):
    index_dir = Path(os.environ.get("RELSEARCH_BROWSER_INDEX") or tiny_index)
    proc, base = start_server("-i", str(index_dir))
    yield index_dir, base
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def test_page_finds_the_first_hit_and_draws_the_picture(served, browser, tmp_path):
    index_dir, base = served
    pair = os.environ.get("RELSEARCH_BROWSER_PAIR", "barista:coffee")
    expected = RelationIndex.load(index_dir).search(pair, k=K)
    page = browser.new_page(viewport={"width": 1200, "height": 820})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(base)
    sync_api.expect(page.locator("#index-info")).to_contain_text("pairs over")
    page.fill("#q", pair)
    page.press("#q", "Enter")

    rows = page.locator("#hits tbody tr")
    sync_api.expect(rows).to_have_count(K, timeout=FIRST_QUERY_MS)
    first = rows.nth(0)
    sync_api.expect(first.locator("td.pair")).to_have_text(format_pair(expected[0].pair))
    assert first.locator("td.score").inner_text().strip() == f"{expected[0].score:.4f}"
    cells = [rows.nth(i).locator("td.pair").inner_text() for i in range(K)]
    assert cells == [format_pair(h.pair) for h in expected]

    # the picture: the query and its k hits, the query marked
    sync_api.expect(page.locator("#map g.point")).to_have_count(K + 1, timeout=FIRST_QUERY_MS)
    sync_api.expect(page.locator("#map g.query-point")).to_have_count(1)
    assert page.locator("#map g.query-point").get_attribute("data-pair") == pair
    box = page.locator("#map").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200

    shot = Path(os.environ.get("RELSEARCH_SCREENSHOT") or tmp_path / "serve-page.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

    # a hit's link re-queries it (and the address says so)
    second = format_pair(expected[1].pair)
    rows.nth(1).locator("a").click()
    sync_api.expect(page.locator("#hits-title")).to_have_text(f"pairs like {second}")
    assert "q=" in page.url
    assert errors == []


def test_page_filters_analogies_and_errors(served, browser):
    index_dir, base = served
    index = RelationIndex.load(index_dir)
    page = browser.new_page()
    page.goto(base)

    heads = [h for h, _ in index.table.pairs(range(len(index))) if h not in ("barista", "coffee")]
    head = heads[0]
    page.fill("#q", "barista:coffee")
    page.fill("#head", head)
    page.press("#q", "Enter")
    sync_api.expect(page.locator("#hits-title")).to_have_text(
        "pairs like barista:coffee", timeout=FIRST_QUERY_MS
    )
    shown = page.locator("#hits tbody td.pair").all_inner_texts()
    assert len(shown) == K and all(text.split(":")[0] == head for text in shown)

    page.fill("#head", "")
    c = heads[len(heads) // 2]
    page.fill("#q", f"barista:coffee {c}:?")
    page.press("#q", "Enter")
    sync_api.expect(page.locator("#hits-title")).to_have_text(f"barista:coffee :: {c}:?")
    expected = index.analogy("barista:coffee", c=c, k=K)
    sync_api.expect(page.locator("#hits tbody td.answer").first).to_have_text(expected[0].tail)

    page.fill("#q", "nocolon")
    page.press("#q", "Enter")
    sync_api.expect(page.locator("#error")).to_contain_text("'nocolon'")
    sync_api.expect(page.locator("#results")).to_be_hidden()
