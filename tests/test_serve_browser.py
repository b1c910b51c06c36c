"""The preview in a real browser: a saved edit reloads the open tab by itself.

Debian's Chromium driven by Playwright against the preview server running over a copy of
the project on a free loopback port. The waits below are upper bounds for a slow machine,
not speed requirements; bench/preview_latency.py measures the speed.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from guidesite.serve import Preview

pytestmark = pytest.mark.browser

PATIENCE_MS = 30_000


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(service_workers="block")
    yield context.new_page()
    context.close()


def edit(preview: Preview, rel: str, old: str, new: str) -> None:
    path = preview.root / "content" / rel
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_a_saved_edit_reloads_the_open_page_by_itself(preview: Preview, page: Page) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.goto(preview.url + "de/ursachen/")
    heading = page.locator("h1")
    old = heading.inner_text()
    page.evaluate("window.notReloaded = true")

    edit(preview, "de/ursachen.md", f"title: {old}", f"title: {old} – neu gespeichert")
    expect(heading).to_have_text(f"{old} – neu gespeichert", timeout=PATIENCE_MS)
    assert page.evaluate("window.notReloaded") is None, "the page was loaded anew"
    assert problems == [], "livereload.js and its websocket run under the site's Content-Security-Policy"
    assert sockets and set(sockets) == {preview.url.replace("http://", "ws://") + "livereload"}, "same origin"


def test_a_broken_save_shows_the_errors_and_the_fix_brings_the_page_back(preview: Preview, page: Page) -> None:
    page.goto(preview.url + "en/causes/")
    title = page.locator("h1").inner_text()

    edit(preview, "en/causes.md", "description: ", "description:: ")
    expect(page.locator("h1")).to_have_text("The preview could not be built", timeout=PATIENCE_MS)
    expect(page.locator("li").first).to_contain_text("content/en/causes.md:")
    # The line the error is on, marked among its neighbours, visible without scrolling sideways.
    expect(page.locator("li mark").filter(has_text="description:: ")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    edit(preview, "en/causes.md", "description:: ", "description: ")
    expect(page.locator("h1")).to_have_text(title, timeout=PATIENCE_MS)
