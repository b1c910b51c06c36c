"""Any number of languages: a site in German, English, Arabic (right to left) and French
(live with its home page only), built once; direction, quotes, dates, fallbacks, hreflang."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from babel.dates import format_date
from bs4 import BeautifulSoup

from guidesite.config import load_config
from guidesite.i18n import language_name, text_direction
from guidesite.status import collect_status, format_status
from languages import make_four_language_site
from robustness import make_small_site, run_build


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_four_language_site(tmp_path_factory.mktemp("languages") / "project")
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    return root


def pages(project: Path) -> dict[str, BeautifulSoup]:
    site = project / "site"
    return {p.relative_to(site).as_posix(): BeautifulSoup(p.read_text("utf-8"), "lxml") for p in sorted(site.rglob("*.html"))}


def test_every_page_has_its_languages_direction_and_so_has_every_element_in_another(project: Path) -> None:
    config = load_config(project)
    soups = pages(project)
    assert {rel.split("/")[0] for rel in soups} >= {"de", "en", "ar", "fr"}
    for rel, soup in soups.items():
        code = rel.split("/")[0] if "/" in rel else config.default_language
        html = soup.html
        assert html["lang"] == code and html["dir"] == config.language(code).direction, rel
        for element in soup.select("[lang]"):
            if element["lang"] != code and text_direction(element["lang"]) != html["dir"]:
                assert element.get("dir") == text_direction(element["lang"]), (rel, str(element)[:120])
    assert soups["ar/index.html"].html["dir"] == "rtl" and soups["fr/index.html"].html["dir"] == "ltr"
    # German words in an Arabic page read left to right.
    assert soups["ar/seite/index.html"].select_one('span[lang="de"]')["dir"] == "ltr"


def test_quotes_come_from_the_configuration(project: Path) -> None:
    config = load_config(project)
    soups = pages(project)
    for code, word in (("ar", "اقتباس"), ("fr", "citation")):
        opening, closing = config.language(code).quotes[:2]
        assert f"{opening}{word}{closing}" in soups[f"{code}/index.html"].select_one("main").get_text(), code


def test_dates_follow_each_locale(project: Path) -> None:
    review = pages(project)["ar/artikel/index.html"].select("dl.review time")
    assert [t.get_text() for t in review] == [
        format_date(dt.date.fromisoformat(t["datetime"]), "long", locale=load_config(project).language("ar").locale) for t in review]
    assert review and not re.search(r"[A-Za-z]", review[0].get_text())


def test_pages_a_language_lacks_are_the_default_languages_marked_as_such(project: Path) -> None:
    soups = pages(project)
    french = soups["fr/index.html"]
    german = language_name("de")
    menu = french.select(".site-nav a")
    assert menu and all(a["href"].startswith("/de/") and a["hreflang"] == "de" and a["lang"] == "de" and f"({german})" in a.get_text()
                        for a in menu)
    arabic_menu = {a["href"]: a for a in soups["ar/index.html"].select(".site-nav a")}
    assert "hreflang" not in arabic_menu["/ar/seite/"].attrs  # translated: its own page
    assert arabic_menu["/de/nur-deutsch/"]["hreflang"] == "de"  # not yet: the German one, marked
    body_link = french.select_one('main a[href="/de/seite/"]')
    assert body_link["hreflang"] == "de" and body_link.select_one('.link-language [lang="de"]').get_text() == german


def test_hreflang_and_the_sitemap_name_only_pages_that_exist(project: Path) -> None:
    site = project / "site"
    soups = pages(project)
    alternates = {link["hreflang"] for link in soups["de/seite/index.html"].select('link[rel="alternate"][hreflang]')}
    assert alternates == {"de", "en", "ar", "x-default"}
    assert {link["hreflang"] for link in soups["fr/index.html"].select('link[rel="alternate"][hreflang]')} == {"de", "en", "ar", "fr", "x-default"}
    sitemap = (site / "sitemap.xml").read_text("utf-8")
    for url in re.findall(r'(?:<loc>|href=")https://example\.org/([^<"]*)', sitemap):
        assert (site / url / "index.html").is_file(), url
    assert "https://example.org/fr/seite/" not in sitemap


def test_status_shows_each_languages_coverage(project: Path) -> None:
    report = format_status(collect_status(project, dt.date(2026, 12, 3)), dt.date(2026, 12, 3))
    german = {p.name for p in (project / "content/de").glob("*.md")}
    counts = {code: len({p.name for p in (project / f"content/{code}").glob("*.md")}) for code in ("ar", "fr")}
    assert f"ar {counts['ar']}/{len(german)}" in report and f"fr {counts['fr']}/{len(german)}" in report


def test_a_partial_language_is_no_warning_a_missing_page_of_a_complete_one_is(project: Path, tmp_path: Path) -> None:
    result = run_build(project, "check")
    assert "no translation in fr" not in result.stderr and "no translation in ar" not in result.stderr
    assert "content/de/nur-deutsch.md:4: no translation in en (no page there has key 'german-only')" in result.stderr


@pytest.mark.parametrize(("change", "message"), [
    (("    locale: fr_FR", "    locale: de_DE"), "languages[3].locale: 'de_DE' is a locale of the language 'de', not of 'fr'"),
    (("    locale: fr_FR", "    locale: xx_YY"), "languages[3].locale: 'xx_YY' is not a locale Babel knows"),
    (("    quotes: ”“’‘\n", ""), "languages[2].quotes: must be the language's four quotation marks"),
    (("    quotes: ”“’‘\n", "    quotes: ”“\n"), "languages[2].quotes: must be the language's four quotation marks"),
])
def test_a_language_entry_that_is_wrong_names_its_key(tmp_path: Path, project: Path, change: tuple[str, str], message: str) -> None:
    root = tmp_path / "copy"
    shutil.copytree(project, root, ignore=shutil.ignore_patterns("site", ".cache"))
    config = root / "site.yaml"
    text = config.read_text("utf-8")
    assert change[0] in text
    config.write_text(text.replace(*change), "utf-8")
    result = run_build(root, "check")
    assert result.returncode == 1 and message in result.stderr


def test_a_content_folder_for_a_language_not_configured_is_an_error(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    (root / "content/tr").mkdir()
    (root / "content/tr/index.md").write_text("---\ntitle: Ana sayfa\ndescription: x.\nkey: home\nslug: \"\"\nlayout: home\n---\n", "utf-8")
    result = run_build(root, "check")
    assert result.returncode == 1 and "content/tr:1: folder 'tr' is not a language in site.yaml (de, en)" in result.stderr
