"""Placing pages in the site: URLs, duplicates, navigation order, breadcrumbs."""
from __future__ import annotations

import pytest

from conftest import REPO
from guidesite.config import load_config
from guidesite.content import FrontMatter, Page
from guidesite.errors import BuildError
from guidesite.site import assemble, sitemap_urls

CONFIG = load_config(REPO)


def page(lang: str, rel: str, key: str, slug: str, **meta) -> Page:
    layout = "home" if key == "home" else meta.pop("layout", "page")
    fm = FrontMatter(title=key.title(), description="d", key=key, slug=slug, layout=layout, **meta)
    return Page(f"{lang}/{rel}", lang, fm, "", 6, {"slug": 5, "key": 4}, "0" * 16)


def minimal(lang: str) -> list[Page]:
    pages = [page(lang, "index.md", "home", "")]
    pages += [page(lang, f"{key}.md", key, key) for key in (*CONFIG.footer, CONFIG.care_page)]
    return pages


def test_urls_translations_breadcrumbs_and_siblings() -> None:
    pages = minimal("de") + minimal("en") + [
        page("de", "vorbeugen.md", "prevention", "vorbeugen", nav=1),
        page("de", "vorbeugen/b.md", "b", "vorbeugen/b", parent="prevention", nav=2),
        page("de", "vorbeugen/a.md", "a", "vorbeugen/a", parent="prevention", nav=1),
        page("en", "prevention.md", "prevention", "prevention", nav=1),
    ]
    site = assemble(CONFIG, pages)
    a = site.by_rel["de/vorbeugen/a.md"]
    assert a.path == "/de/vorbeugen/a/" and a.output == "de/vorbeugen/a/index.html"
    assert site.url(a) == CONFIG.base_url + "de/vorbeugen/a/"
    assert [e.key for e in site.breadcrumb(a)] == ["home", "prevention", "a"]
    assert site.siblings(a) == (None, site.by_rel["de/vorbeugen/b.md"])
    assert [e.lang for e in site.translations(site.by_rel["de/vorbeugen.md"])] == ["de", "en"]
    assert [e.key for e in site.menu("de")] == ["prevention"]
    assert "content/de/vorbeugen/a.md:4: no translation in en (no page there has key 'a')" in [str(w) for w in site.warnings]
    listed = {url["loc"]: url for url in sitemap_urls(site)}
    assert {"lang": "en", "url": CONFIG.base_url + "en/prevention/"} in listed[site.url(site.by_rel["de/vorbeugen.md"])]["alternates"]


def test_same_url_and_same_key_are_errors() -> None:
    pages = minimal("de") + minimal("en") + [
        page("de", "x.md", "x", "gleich"),
        page("de", "y.md", "y", "gleich"),
        page("de", "z.md", "x", "anders"),
    ]
    with pytest.raises(BuildError) as info:
        assemble(CONFIG, pages)
    messages = {str(e) for e in info.value.errors}
    assert "content/de/y.md:5: the URL /de/gleich/ is already used by content/de/x.md" in messages
    assert "content/de/z.md:4: key 'x' is already used in 'de' by content/de/x.md" in messages


def test_unknown_parent_and_missing_home_are_errors() -> None:
    pages = minimal("de")[1:] + minimal("en") + [page("de", "k.md", "k", "k", parent="nope")]
    with pytest.raises(BuildError) as info:
        assemble(CONFIG, pages)
    messages = {e.message for e in info.value.errors}
    assert "'de' has no home page (key: home, layout: home)" in messages
    assert "parent: no page with key 'nope' in 'de'" in messages


def test_a_loop_of_parents_is_an_error_at_each_page_on_it() -> None:
    pages = minimal("de") + minimal("en") + [
        page("de", "a.md", "a", "a", parent="b", nav=1),
        page("de", "b.md", "b", "b", parent="a", nav=1),
        page("de", "c.md", "c", "c", parent="a", nav=1),  # below the loop, not on it
    ]
    with pytest.raises(BuildError) as info:
        assemble(CONFIG, pages)
    loops = sorted((e.path, e.message) for e in info.value.errors if "leads back" in e.message)
    assert loops == [
        ("content/de/a.md", "parent: 'b' leads back to this page (a → b → a): a page cannot sit below itself"),
        ("content/de/b.md", "parent: 'a' leads back to this page (b → a → b): a page cannot sit below itself"),
    ]


def test_parent_home_puts_home_in_the_breadcrumb_once() -> None:
    pages = minimal("de") + minimal("en") + [page("de", "k.md", "k", "k", parent="home", nav=1)]
    site = assemble(CONFIG, pages)
    assert [e.key for e in site.breadcrumb(site.by_rel["de/k.md"])] == ["home", "k"]
