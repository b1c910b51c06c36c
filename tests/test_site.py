"""Site-wide properties of the real guide, checked on the built files."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po

from conftest import REPO, BuiltSite
from guidesite.config import load_config

CONFIG = load_config(REPO)
BASE = CONFIG.base_url


def _catalog(lang: str):
    with (REPO / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return read_po(fp)


def _translated(lang: str, msgid: str) -> str:
    message = _catalog(lang).get(msgid)
    return message.string or msgid


def test_every_internal_link_and_fragment_resolves(guide: BuiltSite) -> None:
    checked = 0
    for rel in guide.html_files():
        soup = guide.soup(rel)
        for tag, attr in (("a", "href"), ("link", "href"), ("img", "src"), ("script", "src")):
            for el in soup.find_all(tag, attrs={attr: True}):
                url = urlsplit(el[attr])
                if url.scheme or url.netloc:
                    continue
                target = rel if not url.path else guide.rel_for_path(url.path)
                assert (guide.root / target).is_file(), f"{rel}: {el[attr]} leads nowhere"
                if url.fragment and target.endswith(".html"):
                    assert guide.soup(target).find(id=url.fragment), f"{rel}: {el[attr]} has no target id"
                checked += 1
    assert checked > 500


def test_absolute_links_to_our_own_site_exist(guide: BuiltSite) -> None:
    for rel in guide.html_files():
        for el in guide.soup(rel).find_all("link", href=True):
            if el["href"].startswith(BASE):
                target = guide.rel_for_path("/" + el["href"][len(BASE):])
                assert (guide.root / target).is_file(), f"{rel}: {el['href']}"


@pytest.mark.parametrize("lang", CONFIG.codes)
def test_every_page_carries_the_disclaimer_in_its_language(guide: BuiltSite, lang: str) -> None:
    expected = _translated(lang, "This guide supports, but does not replace, the advice of a doctor or physiotherapist.")
    pages = [f for f in guide.html_files() if f.startswith(f"{lang}/")]
    assert len(pages) >= 17
    for rel in pages:
        aside = guide.soup(rel).find("aside", class_="disclaimer")
        assert aside is not None, rel
        assert aside.get("lang") == lang, rel
        assert expected in " ".join(aside.get_text().split()), rel


def test_root_pages_carry_the_disclaimer(guide: BuiltSite) -> None:
    for rel in ("index.html", "404.html"):
        assert guide.soup(rel).find("aside", class_="disclaimer"), rel


def test_html_lang_matches_the_url(guide: BuiltSite) -> None:
    for rel in guide.html_files():
        lang = rel.split("/")[0] if "/" in rel else CONFIG.default_language
        assert guide.soup(rel).html["lang"] == lang, rel


def test_head_has_title_description_canonical(guide: BuiltSite) -> None:
    for rel in guide.pages():
        soup = guide.soup(rel)
        assert soup.title and soup.title.string.strip(), rel
        assert soup.find("meta", attrs={"name": "description"})["content"].strip(), rel
        canonical = soup.find("link", rel="canonical")["href"]
        assert canonical == BASE + rel.removesuffix("index.html"), rel


def _alternates(guide: BuiltSite, rel: str) -> dict[str, str]:
    return {el["hreflang"]: el["href"] for el in guide.soup(rel).find_all("link", rel="alternate", hreflang=True)}


def test_hreflang_alternates_are_absolute_reciprocal_and_exist(guide: BuiltSite) -> None:
    for rel in guide.pages():
        alternates = _alternates(guide, rel)
        own = BASE + rel.removesuffix("index.html")
        lang = rel.split("/")[0]
        assert alternates[lang] == own, rel
        assert "x-default" in alternates, rel
        for code, url in alternates.items():
            assert url.startswith(BASE), (rel, url)
            target = guide.rel_for_path("/" + url[len(BASE):])
            assert (guide.root / target).is_file(), (rel, url)
            if code != "x-default" and code != lang:
                assert _alternates(guide, target).get(lang) == own, f"{target} does not point back to {rel}"


def test_language_switcher_leads_to_the_translation(guide: BuiltSite) -> None:
    for rel in guide.pages():
        soup = guide.soup(rel)
        alternates = _alternates(guide, rel)
        links = soup.select("nav.language-switcher a[hreflang]")
        assert links, rel
        for link in links:
            assert link["lang"] == link["hreflang"]
            assert BASE + link["href"].lstrip("/") == alternates[link["hreflang"]], rel


def test_sitemap_lists_every_page_with_alternates(guide: BuiltSite) -> None:
    from bs4 import BeautifulSoup

    sitemap = BeautifulSoup((guide.root / "sitemap.xml").read_text("utf-8"), "xml")
    locs = {url.find("loc").text: url for url in sitemap.find_all("url")}
    assert set(locs) == {BASE + rel.removesuffix("index.html") for rel in guide.pages()}
    for loc, url in locs.items():
        alternates = {link["hreflang"] for link in url.find_all("link")}
        assert set(CONFIG.codes) <= alternates, loc
    robots = (guide.root / "robots.txt").read_text("utf-8")
    assert f"Sitemap: {BASE}sitemap.xml" in robots


def test_root_chooser_offers_every_language_without_javascript(guide: BuiltSite) -> None:
    soup = guide.soup("index.html")
    links = {a["hreflang"]: a["href"] for a in soup.select("main a[hreflang]")}
    assert set(links) == set(CONFIG.codes)
    for code, href in links.items():
        assert (guide.root / guide.rel_for_path(href)).is_file()


def test_localised_404_pages(guide: BuiltSite) -> None:
    for code in CONFIG.codes:
        soup = guide.soup(f"{code}/404.html")
        assert soup.html["lang"] == code
        assert soup.h1.get_text(strip=True) == _translated(code, "Page not found")
    assert (guide.root / "404.html").is_file()


def test_dates_are_formatted_per_locale(tmp_path) -> None:
    """The review dates, on a copy of the guide with one article per language reviewed."""
    from babel.dates import format_date
    import datetime as dt

    from conftest import copy_project
    from guidesite.pipeline import BuildOptions, build
    from guidesite.scaffold import mark_reviewed

    project = copy_project(tmp_path / "project")
    for rel in ("content/de/ursachen.md", "content/en/causes.md"):
        mark_reviewed(project, rel, "Dr. med. Test", today=dt.date(2026, 3, 19))
    guide = BuiltSite(tmp_path / "site")
    build(BuildOptions(root=project, out_dir=guide.root))
    for code in CONFIG.codes:
        locale = CONFIG.language(code).locale
        times = [t for rel in guide.pages() if rel.startswith(code + "/") for t in guide.soup(rel).select("dl.review time")]
        assert len(times) == 2
        for t in times:
            assert t.get_text() == format_date(dt.date.fromisoformat(t["datetime"]), "long", locale=locale)


def test_assets_are_fingerprinted(guide: BuiltSite) -> None:
    import hashlib

    for el in guide.soup("en/index.html").select("link[rel~=stylesheet], link[rel~=icon]"):
        path = guide.root / el["href"].lstrip("/")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        assert digest in path.name
