"""Light pages: every page with everything it loads stays under 60 KB, measured on the built guide."""
from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from conftest import BuiltSite

BUDGET = 60_000  # bytes, uncompressed: HTML + CSS + JavaScript + images + icons
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)""")


def _file(guide: BuiltSite, rel: str, url: str) -> str:
    """The site file a same-site URL names, relative to the site folder."""
    path = urlsplit(url).path
    if not path.startswith("/"):
        base = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
        path = "/" + base + path
    return guide.rel_for_path(path)


def page_weight(guide: BuiltSite, rel: str) -> dict[str, int]:
    """Each file a visit to the page loads, with its size: the page, its stylesheet and what that
    loads, scripts, images, the favicon and the manifest.

    Not counted: the home-screen icons (apple-touch-icon, the manifest's icons), which a
    browser fetches only when the page is saved to the home screen.
    """
    soup = guide.soup(rel)
    urls = [link["href"] for link in soup.select("link[href]") if {"stylesheet", "icon", "manifest"} & set(link.get("rel", []))]
    urls += [tag["src"] for tag in soup.select("script[src], img[src], source[src], iframe[src], video[src], audio[src]")]
    files = {rel} | {_file(guide, rel, url) for url in urls}
    for name in [f for f in files if f.endswith(".css")]:
        css = (guide.root / name).read_text("utf-8")
        files |= {_file(guide, name, url) for url in _CSS_URL.findall(css) if not url.startswith("data:")}
    return {name: (guide.root / name).stat().st_size for name in sorted(files)}


def test_home_screen_icons_are_small(guide: BuiltSite) -> None:
    for manifest in guide.root.glob("*/manifest.webmanifest"):
        for icon in json.loads(manifest.read_text("utf-8"))["icons"]:
            size = (guide.root / _file(guide, "", icon["src"])).stat().st_size
            assert size < 16_000, f"{icon['src']}: {size} bytes"


def test_every_page_with_all_it_loads_is_under_60_kb(guide: BuiltSite) -> None:
    weights = {rel: page_weight(guide, rel) for rel in guide.html_files()}
    totals = {rel: sum(files.values()) for rel, files in weights.items()}
    heaviest = max(totals, key=totals.get)
    print(f"\nheaviest page: {heaviest}, {totals[heaviest] / 1000:.1f} KB ({len(weights[heaviest])} files)")
    too_heavy = {rel: total for rel, total in totals.items() if total >= BUDGET}
    assert not too_heavy, f"pages at or over {BUDGET} bytes: {too_heavy}"


def test_every_page_loads_one_stylesheet_and_no_render_blocking_script(guide: BuiltSite) -> None:
    for rel in guide.html_files():
        head = guide.soup(rel).head
        assert len(head.select('link[rel~="stylesheet"]')) == 1, rel
        blocking = [s for s in head.select("script[src]") if not (s.has_attr("defer") or s.has_attr("async") or s.get("type") == "module")]
        assert not blocking, f"{rel}: render-blocking script {blocking}"


def test_css_and_javascript_are_minified_and_fingerprinted(guide: BuiltSite) -> None:
    for pattern in ("assets/css/*.css", "assets/js/*.js"):
        built = list(guide.root.glob(pattern))
        assert built, pattern
        for path in built:
            text = path.read_text("utf-8")
            assert re.fullmatch(r"[\w-]+\.[0-9a-f]{10}\.(css|js)", path.name), path.name
            assert "/*" not in text and "\n  " not in text, f"{path.name} is not minified"
