"""The four-language site in Chromium: right-to-left pages mirror their layout, never scroll
sideways on a phone, and axe finds nothing on them."""
from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser

from languages import make_four_language_site
from robustness import run_build
from test_browser import AXE_TAGS, SMALLEST, _axe_violations, _context, _QuietHandler, _Server, axe  # noqa: F401 (axe: the fixture)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_four_language_site(tmp_path_factory.mktemp("languages") / "project")
    assert run_build(root).returncode == 0
    return root / "site"


@pytest.fixture(scope="module")
def origin(site: Path) -> Iterator[str]:
    httpd = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def paths(site: Path, lang: str) -> list[str]:
    return ["/" + p.parent.relative_to(site).as_posix() + "/" for p in sorted((site / lang).rglob("index.html"))]


def test_right_to_left_pages_do_not_scroll_sideways_at_320_px(site: Path, origin: str, browser: Browser) -> None:
    context = _context(browser, viewport=SMALLEST, is_mobile=True, has_touch=True)
    page = context.new_page()
    too_wide = {}
    for path in paths(site, "ar") + paths(site, "fr"):
        page.goto(origin + path)
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if widths[0] > widths[1]:
            too_wide[path] = widths
    context.close()
    assert not too_wide


def test_right_to_left_layout_is_mirrored(site: Path, origin: str, browser: Browser) -> None:
    """What starts on the left in German starts on the right in Arabic: the text, the menu,
    the breadcrumb and the direction its separators point."""
    context = _context(browser)
    page = context.new_page()
    measure = """() => {
        const box = (el) => el.getBoundingClientRect();
        const crumbs = [...document.querySelectorAll('.breadcrumb li')];
        const text = document.querySelector('main p');
        const separator = crumbs.length > 1 ? getComputedStyle(crumbs[1], '::before') : null;
        return {
            crumbs: crumbs.map(c => box(c).left),
            textStart: getComputedStyle(text).textAlign,
            callout: (() => { const a = document.querySelector('.callout'); if (!a) return null;
                             const s = getComputedStyle(a); return [parseFloat(s.borderLeftWidth), parseFloat(s.borderRightWidth)]; })(),
            separator: separator ? separator.transform : null,
        };
    }"""
    page.goto(origin + "/ar/seite/")
    arabic = page.evaluate(measure)
    page.goto(origin + "/de/seite/")
    german = page.evaluate(measure)
    page.goto(origin + "/ar/artikel/")
    arabic_card = page.evaluate(measure)["callout"]
    page.goto(origin + "/de/artikel/")
    german_card = page.evaluate(measure)["callout"]
    context.close()
    assert len(arabic["crumbs"]) == len(german["crumbs"]) >= 2
    assert german["crumbs"] == sorted(german["crumbs"]) and arabic["crumbs"] == sorted(arabic["crumbs"], reverse=True)
    assert german_card[0] > german_card[1] and arabic_card[1] > arabic_card[0]  # a callout's rule is at the start of the line
    assert german["separator"] != arabic["separator"]  # the breadcrumb's arrow points the other way


def test_right_to_left_pages_have_zero_axe_violations(site: Path, origin: str, browser: Browser, axe: Axe) -> None:
    context = _context(browser)
    page = context.new_page()
    problems = {}
    for path in paths(site, "ar") + paths(site, "fr")[:1]:
        page.goto(origin + path)
        found = _axe_violations(axe, page, {"runOnly": {"type": "tag", "values": AXE_TAGS}})
        if found:
            problems[path] = found
    context.close()
    assert not problems
