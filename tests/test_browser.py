"""The built guide in a real browser: Debian's Chromium driven by Playwright, axe-core for WCAG.

One browser and one local server for the whole session; every page of both languages is
visited in a loop inside each test, and every problem is collected before asserting, so a
failure lists all pages at once.
"""
from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page

from conftest import REPO, BuiltSite

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO / "screenshots"  # git-ignored: for a person to look at
PHONE = {"width": 375, "height": 812}
SMALLEST = {"width": 320, "height": 640}  # 1280 px at 400 % zoom (WCAG 1.4.10 reflow)
DESKTOP = {"width": 1280, "height": 900}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
# A locale matching none of the guide's languages keeps the root chooser from redirecting.
NEUTRAL_LOCALE = "fr-FR"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml"}

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A browser that navigates on before a response is complete closes the connection: not our concern.
        pass


@pytest.fixture(scope="session")
def server(guide: BuiltSite) -> Iterator[str]:
    """The built guide over HTTP on a free loopback port: http://127.0.0.1:<port>"""
    handler = functools.partial(_QuietHandler, directory=str(guide.root))
    httpd = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


def _url_path(rel: str) -> str:
    """'de/ursachen/index.html' -> '/de/ursachen/'."""
    return "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


def all_pages(guide: BuiltSite) -> list[str]:
    """Every HTML file: the pages of both languages, their 404 pages and the root chooser."""
    return guide.html_files()


class Watcher:
    """Console errors, failed requests and requests to other hosts, per page."""

    def __init__(self, page: Page, origin: str):
        self.origin = origin
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed request: {r.url} ({r.failure})"))
        page.on("request", self._request)
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def _request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.problems.append(f"third-party request: {request.url}")

    def take(self) -> list[str]:
        found, self.problems = self.problems, []
        return found


def _context(browser: Browser, **options) -> BrowserContext:
    options.setdefault("locale", NEUTRAL_LOCALE)
    options.setdefault("viewport", DESKTOP)
    # Service workers and caches stay out: each page is measured as a first visit.
    return browser.new_context(service_workers="block", **options)


def _axe_violations(axe: Axe, page: Page, options: dict) -> list[str]:
    result = axe.run(page, options={"resultTypes": ["violations"], **options})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> " + "; ".join(n["target"][0] if isinstance(n["target"][0], str) else str(n["target"]) for n in v["nodes"][:5])
        for v in result.response["violations"]
    ]


def test_every_page_loads_cleanly_with_zero_axe_violations(guide: BuiltSite, server: str, browser: Browser, axe: Axe) -> None:
    """No console error, no failed or third-party request, and axe finds nothing (WCAG 2.2 A/AA + best practice)."""
    context = _context(browser)
    page = context.new_page()
    watcher = Watcher(page, server)
    problems: dict[str, list[str]] = {}
    pages = all_pages(guide)
    for rel in pages:
        page.goto(server + _url_path(rel), wait_until="load")
        found = watcher.take() + _axe_violations(axe, page, {"runOnly": {"type": "tag", "values": AXE_TAGS}})
        if found:
            problems[rel] = found
    context.close()
    print(f"\naxe-core: {len(pages)} pages tested, {sum(map(len, problems.values()))} problems")
    assert not problems, "\n".join(f"{rel}:\n  " + "\n  ".join(p) for rel, p in problems.items())
    assert len(pages) >= 34


def test_dark_scheme_has_zero_contrast_violations(guide: BuiltSite, server: str, browser: Browser, axe: Axe) -> None:
    context = _context(browser, color_scheme="dark")
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    for rel in all_pages(guide):
        page.goto(server + _url_path(rel))
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        channels = [int(c) for c in background[background.index("(") + 1: background.index(")")].split(",")[:3]]
        found = [] if max(channels) < 64 else [f"the dark scheme is not applied: body background is {background}"]
        found += _axe_violations(axe, page, {"runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]}})
        if found:
            problems[rel] = found
    context.close()
    assert not problems, "\n".join(f"{rel}:\n  " + "\n  ".join(p) for rel, p in problems.items())


@pytest.mark.parametrize(("viewport", "font_size"), [(PHONE, 16), (SMALLEST, 16), (PHONE, 32)],
                         ids=["375px", "320px", "375px-text-200%"])
def test_no_page_scrolls_sideways_on_a_phone(guide: BuiltSite, server: str, browser: Browser, viewport: dict, font_size: int) -> None:
    """Also with the browser's font size doubled, as a reader with low vision sets it
    (WCAG 1.4.4): rem and the media queries' em grow with that setting."""
    context = _context(browser, viewport=viewport, is_mobile=True, has_touch=True)
    page = context.new_page()
    context.new_cdp_session(page).send("Page.setFontSizes", {"fontSizes": {"standard": font_size, "fixed": font_size * 13 // 16}})
    too_wide = {}
    for rel in all_pages(guide):
        page.goto(server + _url_path(rel))
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if widths[0] > widths[1]:
            too_wide[rel] = widths
    context.close()
    assert not too_wide, f"scrollWidth > clientWidth at {viewport['width']} px: {too_wide}"


def test_language_switcher_leads_to_the_translated_page(guide: BuiltSite, server: str, browser: Browser) -> None:
    context = _context(browser)
    page = context.new_page()
    wrong = []
    checked = 0
    for rel in guide.pages():
        page.goto(server + _url_path(rel))
        lang = page.get_attribute("html", "lang")
        link = page.locator("nav.language-switcher a[hreflang]").first
        target_lang = link.get_attribute("hreflang")
        expected = page.locator(f'link[rel="alternate"][hreflang="{target_lang}"]').get_attribute("href")
        link.click()
        page.wait_for_load_state("load")
        arrived = urlsplit(page.url).path
        landed_lang = page.get_attribute("html", "lang")
        back = page.locator(f'link[rel="alternate"][hreflang="{lang}"]').get_attribute("href")
        if arrived != urlsplit(expected).path or landed_lang != target_lang or urlsplit(back).path != _url_path(rel):
            wrong.append(f"{rel}: switcher led to {arrived} (lang={landed_lang}), expected {urlsplit(expected).path}")
        checked += 1
    context.close()
    assert checked == len(guide.pages())
    assert not wrong, "\n".join(wrong)


def test_without_javascript_the_text_and_navigation_are_there(guide: BuiltSite, server: str, browser: Browser) -> None:
    context = _context(browser, java_script_enabled=False, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    missing = []
    for rel in guide.pages():
        page.goto(server + _url_path(rel))
        visible_nav = [a for a in page.locator("nav.site-nav a").all() if a.is_visible()]
        source = guide.soup(rel)
        expected_nav = len(source.select("nav.site-nav a"))
        text = page.locator("main article")
        expected_text = " ".join(source.select_one("main article").get_text(" ").split())
        if not page.locator("main h1").is_visible():
            missing.append(f"{rel}: the heading is not visible")
        if not text.is_visible() or len(" ".join(text.inner_text().split())) < 0.9 * len(expected_text):
            missing.append(f"{rel}: the article text is not all there")
        if expected_nav < 4 or len(visible_nav) != expected_nav:
            missing.append(f"{rel}: {len(visible_nav)} of {expected_nav} menu links visible")
        for a in visible_nav:
            box = a.bounding_box()
            if box is None or box["x"] < 0 or box["x"] + box["width"] > PHONE["width"]:
                missing.append(f"{rel}: menu link {a.inner_text()!r} lies outside the screen")
    page.goto(server + "/")
    if page.locator(".language-list a").count() != len(guide.soup("index.html").select(".language-list a")):
        missing.append("index.html: the language chooser's links are missing")
    context.close()
    assert not missing, "\n".join(missing)


def test_the_root_chooser_sends_a_browser_to_its_language(server: str, browser: Browser) -> None:
    for locale, lang in (("de-DE", "de"), ("en-GB", "en")):
        context = _context(browser, locale=locale)
        page = context.new_page()
        page.goto(server + "/")
        page.wait_for_url(f"{server}/{lang}/")
        assert page.get_attribute("html", "lang") == lang
        context.close()


def test_skip_link_is_the_first_stop_and_becomes_visible(guide: BuiltSite, server: str, browser: Browser) -> None:
    context = _context(browser, viewport=PHONE)
    page = context.new_page()
    rel = next(r for r in guide.pages() if guide.soup(r).select_one("body.layout-article"))
    page.goto(server + _url_path(rel))
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    box = page.locator(".skip-link").bounding_box()
    assert focused == "skip-link"
    assert box is not None and box["y"] >= 0 and box["height"] >= 24
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    context.close()


def _luminance(css_color: str) -> float:
    channels = [int(c) / 255 for c in css_color[css_color.index("(") + 1: css_color.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_focused_link_stands_out_and_stays_readable(guide: BuiltSite, server: str, browser: Browser, scheme: str) -> None:
    context = _context(browser, viewport=PHONE, color_scheme=scheme)
    page = context.new_page()
    rel = next(r for r in guide.pages() if guide.soup(r).select_one("nav.pager"))
    page.goto(server + _url_path(rel))
    style = ("e => { const s = getComputedStyle(e);"
             " return [s.color, s.backgroundColor, s.boxShadow, getComputedStyle(document.body).backgroundColor]; }")
    for selector in ("nav.site-nav a", "main article p a", "nav.pager a", "footer a"):
        link = page.locator(selector).first
        before = link.evaluate(style)
        link.focus()
        page.keyboard.press("Shift+Tab")  # focus by keyboard, so that :focus-visible applies
        page.keyboard.press("Tab")
        color, background, shadow, body = link.evaluate(style)
        # A yellow field with a dark bar under it (as GOV.UK): one of them stands out on any page.
        indicator = [background] + re.findall(r"rgba?\([^)]*\)", shadow)
        assert background != before[1], f"{selector}: focus changes nothing in {scheme}"
        assert max(_contrast(c, body) for c in indicator) >= 3, f"{selector}: focus hard to see in {scheme}"
        assert _contrast(color, background) >= 4.5, f"{selector}: focused text {color} on {background}"
    context.close()


def test_print_shows_the_article_without_the_site_around_it(guide: BuiltSite, server: str, browser: Browser) -> None:
    context = _context(browser)
    page = context.new_page()
    rel = next(r for r in guide.pages() if guide.soup(r).select_one("main img") and guide.soup(r).select_one("main a.external"))
    page.goto(server + _url_path(rel))
    page.emulate_media(media="print")
    hidden = page.evaluate("""() => ['.site-nav', '.language-switcher', '.site-footer nav', '.skip-link', '.pager', '.toc']
        .filter(s => document.querySelector(s))
        .map(s => [s, getComputedStyle(document.querySelector(s)).display])""")
    assert all(display == "none" for _, display in hidden), hidden
    assert page.locator("main h1").is_visible()
    for img in page.locator("main img").all():
        assert img.is_visible()
        box = img.bounding_box()
        assert box is not None and box["width"] > 50
    after = page.evaluate("getComputedStyle(document.querySelector('.prose a.external'), '::after').content")
    href = page.locator(".prose a.external").first.get_attribute("href")
    assert href in after
    context.close()


def _screenshot(browser: Browser, server: str, path: str, name: str, viewport: dict, **options) -> Path:
    context = _context(browser, viewport=viewport, is_mobile=viewport is not DESKTOP, **options)
    page = context.new_page()
    page.goto(server + path)
    SCREENSHOTS.mkdir(exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    context.close()
    return target


def test_screenshots_of_home_and_an_article_for_people_to_look_at(guide: BuiltSite, server: str, browser: Browser) -> None:
    home = "/de/"
    article = next(_url_path(r) for r in guide.pages() if r.startswith("de/") and guide.soup(r).select_one("main img"))
    shots = [
        _screenshot(browser, server, home, "home-phone", PHONE),
        _screenshot(browser, server, home, "home-desktop", DESKTOP),
        _screenshot(browser, server, article, "article-phone", PHONE),
        _screenshot(browser, server, article, "article-desktop", DESKTOP),
        _screenshot(browser, server, home, "home-phone-dark", PHONE, color_scheme="dark"),
        _screenshot(browser, server, article, "article-phone-dark", PHONE, color_scheme="dark"),
    ]
    for shot in shots:
        assert shot.stat().st_size > 10_000  # a real picture, not a blank page
