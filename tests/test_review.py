"""Medical review as a fact the build can check: recorded by `reviewed`, bound to the text
that was reviewed, shown to readers only while it holds, and never a placeholder."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import BuiltSite
from guidesite.pipeline import BuildOptions, build
from guidesite.placeholders import find_placeholder
from guidesite.scaffold import mark_reviewed
from guidesite.status import collect_status, format_status
from robustness import make_small_site, run_build

TODAY = dt.date(2026, 12, 3)
ARTICLE = "content/de/artikel.md"
REVIEWER = "Dr. med. Jana Beispiel, Fachärztin für Orthopädie"


def article(lang: str) -> str:
    slug = "artikel" if lang == "de" else "article"
    care = ("::: care emergency\n### Ruf sofort den Notruf [112](tel:112), wenn:\n- beide Beine taub werden\n:::\n" if lang == "de" else
            "::: care emergency\n### Call [999](tel:999) now if:\n- both legs go numb\n:::\n")
    return (f"---\ntitle: Artikel {lang}\ndescription: Ein Artikel.\nkey: article\nslug: {slug}\nlayout: article\n"
            f"published: 2026-01-01\n---\n\nText.\n\n{care}")


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    root = make_small_site(tmp_path / "project")
    (root / ARTICLE).write_text(article("de"), "utf-8")
    (root / "content/en/article.md").write_text(article("en"), "utf-8")
    return root


def page(root: Path, rel: str) -> BeautifulSoup:
    return BeautifulSoup((root / "site" / rel).read_text("utf-8"), "lxml")


def json_ld(soup: BeautifulSoup) -> dict:
    return json.loads(soup.select_one('script[type="application/ld+json"]').string)


def warnings(root: Path, today: dt.date = TODAY) -> list[str]:
    return [str(w) for w in build(BuildOptions(root=root, out_dir=root / "site", write=False, today=today)).warnings]


def test_an_unreviewed_article_says_so_in_its_language_and_claims_no_review(site: Path) -> None:
    assert run_build(site).returncode == 0
    german, english = page(site, "de/artikel/index.html"), page(site, "en/article/index.html")
    assert "Diese Seite wurde noch nicht fachlich geprüft" in german.select_one(".review").get_text()
    assert "not yet been checked by a clinician" in english.select_one(".review").get_text()
    for soup in (german, english):
        assert soup.select_one("dl.review") is None
        assert "lastReviewed" not in json_ld(soup) and "reviewedBy" not in json_ld(soup)
    assert f"{ARTICLE}:1: no clinician has reviewed this article yet; after the review, run: " \
           f'python build.py reviewed {ARTICLE} --by "<name, qualification>"' in warnings(site)


def test_a_recorded_review_is_shown_until_the_text_changes(site: Path) -> None:
    message = mark_reviewed(site, ARTICLE, REVIEWER, TODAY, dt.date(2026, 12, 1))
    assert message == f"{ARTICLE}: reviewed by {REVIEWER} on 2026-12-01; next review due 2027-12-01"
    assert not [w for w in warnings(site) if w.startswith(ARTICLE)]
    assert run_build(site).returncode == 0
    soup = page(site, "de/artikel/index.html")
    review = soup.select_one("dl.review").get_text(" ", strip=True)
    assert REVIEWER in review and "1. Dezember 2026" in review and "1. Dezember 2027" in review
    data = json_ld(soup)
    assert data["lastReviewed"] == "2026-12-01" and data["reviewedBy"] == {"@type": "Person", "name": REVIEWER}

    path = site / ARTICLE
    path.write_text(path.read_text("utf-8").replace("Text.", "Ein geänderter Text."), "utf-8")
    assert run_build(site).returncode == 0
    soup = page(site, "de/artikel/index.html")
    assert soup.select_one("dl.review") is None
    assert "seit sie am 1. Dezember 2026 zuletzt fachlich geprüft wurde" in soup.select_one(".review").get_text()
    assert "lastReviewed" not in json_ld(soup) and "reviewedBy" not in json_ld(soup)
    line = next(n for n, text in enumerate(path.read_text("utf-8").split("\n"), start=1) if text.startswith("review_digest:"))
    assert any(w.startswith(f"{ARTICLE}:{line}: the text has changed since {REVIEWER} reviewed it on 2026-12-01") for w in warnings(site))
    strict = run_build(site, "check", "--strict")
    assert strict.returncode == 1 and f"{ARTICLE}:{line}: the text has changed since" in strict.stderr

    # A change to the review date alone is no change to the reviewed text.
    mark_reviewed(site, ARTICLE, REVIEWER, TODAY)
    assert not [w for w in warnings(site) if w.startswith(ARTICLE)]


def test_a_review_keeps_every_other_byte_of_the_file(site: Path) -> None:
    path = site / ARTICLE
    original = path.read_text("utf-8").replace("description:", "# a comment the editor wrote\ndescription:").replace("\n", "\r\n")
    path.write_bytes(original.encode("utf-8"))
    mark_reviewed(site, ARTICLE, REVIEWER, TODAY)
    text = path.read_bytes().decode("utf-8")
    assert text.startswith(original.split("---\r\n\r\n")[0]) and text.endswith(original.split("---\r\n", 2)[2])
    assert f'reviewer: "{REVIEWER}"\r\nlast_reviewed: 2026-12-03\r\nnext_review: 2027-12-03\r\nreview_digest: "' in text


@pytest.mark.parametrize(("args", "message"), [
    ([ARTICLE, "--by", ""], "--by: give the reviewer's name and qualification"),
    ([ARTICLE, "--by", "[Name, Qualifikation]"], "--by: '[Name, Qualifikation]' is a placeholder in square brackets, not a reviewer's name"),
    ([ARTICLE, "--by", REVIEWER, "--date", "2999-01-01"], "--date: 2999-01-01 is in the future; record a review once it has happened"),
    (["content/sources.yaml", "--by", REVIEWER], "not a page: name a Markdown file in content/<language>/"),
    (["content/de/nirgends.md", "--by", REVIEWER], "not a page: name a Markdown file in content/<language>/"),
    (["content/de/seite.md", "--by", REVIEWER], "only articles (layout: article) carry a medical review"),
    ([ARTICLE, "--by", REVIEWER, "--next", "2035-01-01"], "--next: the next review must fall after"),
])
def test_reviewed_refuses_with_one_line(site: Path, args: list[str], message: str) -> None:
    before = (site / ARTICLE).read_bytes()
    result = run_build(site, "reviewed", *args)
    assert result.returncode == 1 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert (site / ARTICLE).read_bytes() == before


def test_a_placeholder_reviewer_is_no_review(site: Path) -> None:
    mark_reviewed(site, ARTICLE, REVIEWER, TODAY)
    path = site / ARTICLE
    path.write_text(path.read_text("utf-8").replace(REVIEWER, "[Name, Qualifikation]"), "utf-8")
    assert run_build(site).returncode == 0
    soup = page(site, "de/artikel/index.html")
    assert "[" not in soup.select_one(".review").get_text() and "reviewedBy" not in json_ld(soup)
    found = warnings(site)
    assert f"{ARTICLE}:8: reviewer: the placeholder '[Name, Qualifikation]' must be replaced before the site goes live" in found
    assert f"{ARTICLE}:8: no clinician has reviewed this article yet" in "\n".join(found)


def test_next_review_more_than_three_years_after_the_review_is_an_error(site: Path) -> None:
    mark_reviewed(site, ARTICLE, REVIEWER, TODAY)
    path = site / ARTICLE
    path.write_text(path.read_text("utf-8").replace("next_review: 2027-12-03", "next_review: 2030-12-03"), "utf-8")
    result = run_build(site, "check")
    assert result.returncode == 1
    assert f"{ARTICLE}:10: next_review: must be at most 3 years after last_reviewed (2026-12-03), by 2029-12-03" in result.stderr


def test_review_fields_come_together(site: Path) -> None:
    path = site / ARTICLE
    path.write_text(path.read_text("utf-8").replace("published:", "reviewer: Dr. X\npublished:"), "utf-8")
    result = run_build(site, "check")
    assert result.returncode == 1
    assert (f"{ARTICLE}:7: reviewer: a review is recorded with all of reviewer, last_reviewed, next_review, review_digest "
            "(missing: last_reviewed, next_review, review_digest)") in result.stderr


def test_status_lists_unreviewed_changed_and_due_reviews(site: Path) -> None:
    english = site / "content/en/article.md"
    mark_reviewed(site, "content/en/article.md", REVIEWER, TODAY, dt.date(2026, 1, 10), dt.date(2026, 12, 20))
    report = format_status(collect_status(site, TODAY), TODAY)
    assert f"  {ARTICLE}: never reviewed by a clinician" in report
    assert "  content/en/article.md:10: due on 2026-12-20" in report
    later = dt.date(2027, 1, 2)
    assert "content/en/article.md:10: overdue since 2026-12-20" in format_status(collect_status(site, later), later)
    assert "content/en/article.md:10: review was due on 2026-12-20" in "\n".join(warnings(site, later))
    english.write_text(english.read_text("utf-8").replace("Text.", "Changed."), "utf-8")
    report = format_status(collect_status(site, TODAY), TODAY)
    assert "  content/en/article.md:11: changed since its review on 2026-01-10" in report


def test_no_placeholder_reaches_a_page_of_the_guide_but_the_legal_ones(guide: BuiltSite) -> None:
    """Text, <title>, meta tags and JSON-LD; the legal pages mark the publisher's missing details."""
    legal = ("impressum", "datenschutz", "imprint", "privacy")
    for rel in guide.html_files():
        if any(f"/{name}/" in rel for name in legal):
            continue
        soup = BeautifulSoup(str(guide.soup(rel)), "lxml")
        for reference in soup.select("sup"):  # citations and footnotes: "[1]"
            reference.decompose()
        visible = soup.body.get_text(" ") if soup.body else ""
        metas = " ".join(str(m.get("content", "")) for m in soup.find_all("meta"))
        scripts = " ".join(_strings([json.loads(s.string) for s in soup.select('script[type="application/ld+json"]')]))
        for where, text in (("text", visible), ("title", soup.title.get_text() if soup.title else ""), ("meta", metas), ("JSON-LD", scripts)):
            assert find_placeholder(text) is None, (rel, where, find_placeholder(text))


def _strings(value: object) -> list[str]:
    """Every string in parsed JSON, keys aside."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
