"""Accessibility promises that the built HTML shows without a browser: headings, languages, placeholders."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, BuiltSite
from guidesite.bibliography import load_bibliography
from guidesite.errors import BuildError

SOURCES = load_bibliography(REPO)


def test_every_page_has_one_h1_and_no_skipped_heading_level(guide: BuiltSite) -> None:
    problems = []
    for rel in guide.html_files():
        levels = [int(h.name[1]) for h in guide.soup(rel).select("h1, h2, h3, h4, h5, h6")]
        if levels.count(1) != 1 or levels[0] != 1:
            problems.append(f"{rel}: headings {levels} (one h1, first)")
        problems += [f"{rel}: h{a} followed by h{b}" for a, b in zip(levels, levels[1:]) if b > a + 1]
    assert not problems, "\n".join(problems)


def test_every_source_has_its_language() -> None:
    assert SOURCES
    assert {key for key, source in SOURCES.items() if not source.language} == set()


def test_a_source_title_in_the_other_language_is_marked_with_lang(guide: BuiltSite) -> None:
    checked = 0
    for rel in guide.pages():
        soup = guide.soup(rel)
        page_lang = soup.html["lang"]
        for item in soup.select(".sources li[id^=source-]"):
            source = SOURCES[item["id"].removeprefix("source-")]
            title = item.find(string=lambda s, t=source.title: t in s)
            marked = title.find_parent(attrs={"lang": True})
            assert marked is not None and marked["lang"] == (source.language or page_lang), f"{rel}: {source.key}"
            checked += source.language != page_lang
    assert checked > 0  # the guide does cite sources in the other language


def test_a_bad_source_language_is_an_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "sources.yaml").write_text(
        "wu2021:\n  authors: [Wu B]\n  title: T\n  journal: J\n  language: English\n", encoding="utf-8")
    with pytest.raises(BuildError) as raised:
        load_bibliography(tmp_path)
    assert [str(e) for e in raised.value.errors] == [
        "content/sources.yaml:5: wu2021: language must be a language code such as en or de"]


def test_a_reviewer_still_in_brackets_is_marked_as_a_placeholder(guide: BuiltSite) -> None:
    for rel in guide.pages():
        reviewer = guide.soup(rel).select_one("dl.review div:last-child dd")
        if reviewer is not None and reviewer.get_text().startswith("["):
            assert reviewer.select_one(".placeholder") is not None, rel


def test_text_in_the_other_language_in_the_page_frame_carries_lang(guide: BuiltSite) -> None:
    for rel in guide.html_files():
        soup = guide.soup(rel)
        page_lang = soup.html["lang"]
        for link in soup.select("nav.language-switcher a[hreflang]"):
            assert link.get("lang") == link["hreflang"] != page_lang, rel
