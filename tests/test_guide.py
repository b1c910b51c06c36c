"""The guide's own promises: trust details, citations, care cards, one-to-one translations."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from conftest import REPO, BuiltSite
from guidesite.bibliography import load_bibliography
from guidesite.config import load_config
from guidesite.content import load_pages
from guidesite.placeholders import is_placeholder

CONFIG = load_config(REPO)
PAGES = load_pages(CONFIG, include_drafts=False)
ARTICLES = [p for p in PAGES if p.meta.layout == "article"]
STUDY_WORDS = re.compile(r"\b(Studie|Befragung|Übersichtsarbeit|study|survey|review of)\b", re.I)
# The care numbers each language's readers must see, by card level.
CARE_NUMBERS = {
    "de": {"emergency": ["112"], "urgent": ["116 117"]},
    "en": {"emergency": ["999"], "urgent": ["111"]},
}


def _output(page) -> str:
    return f"{page.lang}/{page.meta.slug + '/' if page.meta.slug else ''}index.html"


def _label(lang: str, msgid: str) -> str:
    with (REPO / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return read_po(fp).get(msgid).string or msgid


def test_pages_correspond_one_to_one_through_their_keys() -> None:
    keys = {code: {p.meta.key for p in PAGES if p.lang == code} for code in CONFIG.codes}
    assert keys["de"] == keys["en"]
    assert len(keys["de"]) >= 17


@pytest.mark.parametrize("page", ARTICLES, ids=lambda p: p.rel)
def test_articles_say_honestly_whether_a_clinician_reviewed_them(guide: BuiltSite, page) -> None:
    """Reviewer and dates only for a review recorded for the text as it stands; otherwise
    words saying that no clinician has checked it (yet, or since it changed)."""
    soup = guide.soup(_output(page))
    review = soup.select_one("dl.review")
    if page.review_state == "reviewed":
        assert [t["datetime"] for t in review.select("time")] == [
            page.meta.last_reviewed.isoformat(), page.meta.next_review.isoformat()]
        assert page.meta.reviewer in review.get_text()
    else:
        assert review is None
        notice = soup.select_one("p.review--pending")
        assert notice is not None and notice.get_text(strip=True)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.rel)
def test_study_findings_are_cited(guide: BuiltSite, page) -> None:
    soup = guide.soup(_output(page))
    prose = soup.select_one("main article")
    text = prose.get_text(" ")
    # A study finding: a paragraph or bullet naming a study together with a figure.
    for block in prose.select("p, li"):
        if block.find_parent(["nav", "header"]) or block.find_parent("section", class_="sources") or block.find(["p", "li"]):
            continue
        words = block.get_text(" ")
        if STUDY_WORDS.search(words) and re.search(r"\d", words):
            assert block.select("sup.citation a"), f"{page.rel}: uncited finding: {words[:80]}"
    for link in soup.select("sup.citation a"):
        entry = soup.find(id=link["href"][1:])
        assert entry is not None and entry.name == "li", link
        assert entry.find_parent("section", class_="sources")
    assert "777" not in text


def test_every_source_is_cited_and_doi_links_work(guide: BuiltSite) -> None:
    sources = load_bibliography(REPO)
    cited = set()
    for page in PAGES:
        for item in guide.soup(_output(page)).select("section.sources li[id^=source-]"):
            key = item["id"].removeprefix("source-")
            cited.add(key)
            if sources[key].doi:
                assert item.find("a", href=f"https://doi.org/{sources[key].doi}")
    assert cited == set(sources)


def test_references_are_punctuated_once(guide: BuiltSite) -> None:
    """Vancouver style puts a full stop after the authors and after the title, unless they
    end in one already ("… Gianola S, et al.", a title asking a question)."""
    doubled = {
        item.get_text(" ", strip=True)[:80]
        for page in PAGES
        for item in guide.soup(_output(page)).select("section.sources li[id^=source-]")
        if re.search(r"\.\.|[?!]\.", item.get_text())
    }
    assert not doubled


def test_care_cards_have_hidden_labels_and_the_right_numbers(guide: BuiltSite) -> None:
    labels = {"emergency": "Emergency:", "urgent": "Urgent:", "doctor": "Non-urgent:"}
    seen = {code: set() for code in CONFIG.codes}
    for page in PAGES:
        for card in guide.soup(_output(page)).select("div.care-card"):
            level = next(c.removeprefix("care-card--") for c in card["class"] if c.startswith("care-card--"))
            heading = card.find(re.compile("^h[2-4]$"))
            hidden = heading.select_one(".visually-hidden")
            assert hidden.get_text(strip=True) == _label(page.lang, labels[level])
            assert heading.get_text().rstrip().endswith(_label(page.lang, "if:"))
            bullets = card.find("ul").find_all("li", recursive=False)
            assert 1 <= len(bullets) <= 6
            for number in CARE_NUMBERS[page.lang].get(level, []):
                assert number in card.get_text(), (page.rel, level, number)
            seen[page.lang].add((page.meta.key, level))
    for code in CONFIG.codes:
        for key in ("home", "relief", "see-a-doctor"):
            assert (key, "emergency") in seen[code], (code, key)
        assert {("see-a-doctor", "urgent"), ("see-a-doctor", "doctor")} <= seen[code]


@pytest.mark.parametrize("page", ARTICLES, ids=lambda p: p.rel)
def test_articles_carry_medical_web_page_json_ld(guide: BuiltSite, page) -> None:
    script = guide.soup(_output(page)).find("script", type="application/ld+json")
    data = json.loads(script.string)
    assert data["@type"] == "MedicalWebPage"
    assert data["inLanguage"] == page.lang
    assert data["name"] == page.meta.title and data["description"] == page.meta.description
    if page.review_state == "reviewed":
        assert data["lastReviewed"] == page.meta.last_reviewed.isoformat()
        assert data["reviewedBy"]["name"] == page.meta.reviewer
    else:  # search engines are told of no review that did not happen
        assert "lastReviewed" not in data and "reviewedBy" not in data
    assert data["datePublished"] == page.meta.published.isoformat()
    assert data["medicalAudience"]["audienceType"] == "Patient"
    if is_placeholder(CONFIG.publisher["name"]):
        assert "publisher" not in data
    else:
        assert data["publisher"]["name"] == CONFIG.publisher["name"]
    assert data["about"]["name"] == page.meta.about
    cited = guide.soup(_output(page)).select("section.sources li")
    assert len(data.get("citation", [])) == len(cited)


def test_open_graph_on_every_page(guide: BuiltSite) -> None:
    for page in PAGES:
        soup = guide.soup(_output(page))
        assert soup.find("meta", property="og:title")["content"] == page.meta.title
        assert soup.find("meta", property="og:description")["content"] == page.meta.description


def test_the_switcher_on_a_not_found_page_leads_to_the_other_languages_not_found_page(guide: BuiltSite) -> None:
    for lang in ("de", "en"):
        links = guide.soup(f"{lang}/404.html").select("nav.language-switcher a[hreflang]")
        targets = {a["hreflang"]: guide.rel_for_path(a["href"]) for a in links}
        assert targets == {other: f"{other}/404.html" for other in ("de", "en") if other != lang}
        assert all((guide.root / target).is_file() for target in targets.values())


@pytest.mark.parametrize("rel", ["index.html", "404.html"])
def test_the_pages_at_the_root_speak_every_language(guide: BuiltSite, rel: str) -> None:
    """The language chooser and the root 404 (which hosts serve for any missing address)
    carry the disclaimer and the legal pages of every language, not the default's alone."""
    config = load_config(REPO)
    soup = guide.soup(rel)
    disclaimers = {aside["lang"]: aside.get_text(" ", strip=True) for aside in soup.select("aside.disclaimer")}
    links = {a["href"] for a in soup.select("footer a[href]")}
    for code in config.codes:
        own = guide.soup(f"{code}/index.html")
        assert disclaimers.get(code) == own.select_one("aside.disclaimer").get_text(" ", strip=True)
        assert {a["href"] for a in own.select("footer a[href]")} <= links
    assert len(soup.select("#disclaimer")) == 1


def test_no_title_names_the_site_twice(guide: BuiltSite) -> None:
    """'Ursachen von Rückenschmerzen beim Laufen – Rückenschmerzen beim Laufen' was read out
    twice in every tab a screen reader announced."""
    config = load_config(REPO)
    twice = [rel for rel in guide.html_files()
             for language in config.languages
             if guide.soup(rel).title.get_text().count(language.title) > 1]
    assert not twice


def test_footer_links_legal_pages_in_the_page_language(guide: BuiltSite) -> None:
    by_key = {(p.lang, p.meta.key): p for p in PAGES}
    for page in PAGES:
        hrefs = {a["href"] for a in guide.soup(_output(page)).select("footer.site-footer a")}
        for key in ("imprint", "privacy", "about"):
            target = by_key[(page.lang, key)]
            assert f"/{page.lang}/{target.meta.slug}/" in hrefs, (page.rel, key)


def test_legal_pages_show_the_publisher_from_the_configuration(guide: BuiltSite) -> None:
    for code in CONFIG.codes:
        for key in ("imprint", "privacy"):
            page = next(p for p in PAGES if p.lang == code and p.meta.key == key)
            address = guide.soup(_output(page)).select_one("address.publisher")
            assert CONFIG.publisher["name"] in address.get_text()
            assert address.select(".placeholder"), "placeholders must be marked"


def test_guide_is_written_in_our_own_words() -> None:
    tool = REPO.parent / "shared" / "tools" / "overlap.py"
    result = subprocess.run([sys.executable, str(tool), str(REPO / "content")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
