"""The Markdown step: our plugins, ids, quotes, links and the problems it reports."""
from __future__ import annotations

import unicodedata

import pytest
from bs4 import BeautifulSoup

from conftest import REPO
from guidesite.config import load_config
from guidesite.markdown import Markdown, RenderContext, Resolved
from guidesite.slugs import slugify

LABELS = {"if:": "wenn:", "Emergency:": "Notfall:", "Note": "Hinweis"}
QUOTES = {lang.code: lang.quotes for lang in load_config(REPO).languages}


def render(text: str, lang: str = "de", known=("wu2021", "nielsen2014")):
    md = Markdown(lang, QUOTES[lang])
    parsed = md.parse(text)
    ctx = RenderContext(
        resolve_link=lambda href: Resolved(url="/de/ursachen/#zerrung") if href.startswith("ursachen.md") else Resolved(problem=f"no page {href}"),
        resolve_image=lambda src: Resolved(url="/assets/img/x.123.svg"),
        known_citation=lambda key: key in known,
        gettext=(lambda s: LABELS.get(s, s)) if lang == "de" else (lambda s: s),
        publisher_html="<address>P</address>",
    )
    rendered = md.render(parsed, ctx)
    problems = [(p.line, p.message) for p in parsed.problems + rendered.problems]
    return BeautifulSoup(rendered.html, "html.parser"), problems, parsed, rendered


@pytest.mark.parametrize(
    ("heading", "slug"),
    [("Aufwärmen", "aufwaermen"), ("Große Übung", "grosse-uebung"), ("Öl & Süßes!", "oel-suesses"), ("Ärger", "aerger")],
)
def test_german_headings_get_ascii_ids(heading: str, slug: str) -> None:
    assert slugify(heading) == slug
    assert slugify(unicodedata.normalize("NFD", heading)) == slug


def test_ids_can_be_pinned_and_duplicates_differ() -> None:
    soup, problems, parsed, _ = render("## Aufwärmen {#warm-up}\n\n## Dehnen\n\n## Dehnen\n")
    assert [h["id"] for h in soup.find_all("h2")] == ["warm-up", "dehnen", "dehnen-1"]
    assert soup.h2.get_text() == "Aufwärmen"
    assert problems == []


@pytest.mark.parametrize(("lang", "quoted"), [("de", "„so“"), ("en", "“so”")])
def test_quotes_follow_the_language(lang: str, quoted: str) -> None:
    soup, *_ = render('Sag "so".', lang)
    assert quoted in soup.get_text()


def test_raw_html_is_an_error_and_never_rendered() -> None:
    soup, problems, *_ = render("Text\n\n<script>alert(1)</script>\n\nmore <b onclick=x>bold</b>\n")
    assert soup.find("script") is None and soup.find("b") is None
    assert (3, "raw HTML is not allowed: write Markdown instead") in problems
    assert (5, "raw HTML is not allowed: <b onclick=x>") in problems


def test_dangerous_and_unknown_schemes_are_not_links() -> None:
    soup, problems, *_ = render("[a](javascript:alert(1)) [b](ftp://x.org/f)\n")
    hrefs = [a.get("href") for a in soup.find_all("a")]
    assert not any(h and h.lower().startswith("javascript") for h in hrefs)
    assert (1, "links may only use https, http, mailto or tel: ftp://x.org/f") in problems


def test_a_phone_number_can_be_tapped_to_call() -> None:
    soup, problems, *_ = render("Im Notfall: [112](tel:112).\n")
    assert problems == []
    link = soup.find("a")
    assert (link["href"], link.get_text(), link.get("rel")) == ("tel:112", "112", None)


def test_internal_links_are_resolved_and_broken_ones_reported() -> None:
    soup, problems, *_ = render("[Ursachen](ursachen.md#zerrung)\n\nline\n[x](nowhere.md)\n")
    assert soup.find("a")["href"] == "/de/ursachen/#zerrung"
    assert (4, "no page nowhere.md") in problems


def test_external_links_are_marked() -> None:
    soup, *_ = render("[NHS](https://www.nhs.uk/)")
    link = soup.find("a")
    assert link["rel"] == ["external", "noopener", "noreferrer"]
    assert link.select_one(".visually-hidden").get_text(strip=True) == "(external link)"


def test_a_link_whose_text_starts_with_at_is_a_link_not_a_citation() -> None:
    soup, problems, _, rendered = render("Schreib [@physio_team](mailto:team@example.org) oder [@wu2021][ref].\n\n[ref]: https://example.org/\n")
    assert problems == [] and rendered.citations == []
    assert [(a["href"], a.get_text()) for a in soup.find_all("a")] == [
        ("mailto:team@example.org", "@physio_team"), ("https://example.org/", "@wu2021 (external link)")]


def test_citations_are_numbered_in_order_of_first_use() -> None:
    soup, problems, _, rendered = render("A [@nielsen2014]. B [@wu2021; @nielsen2014]. C [@nope].\n")
    assert rendered.citations == ["nielsen2014", "wu2021"]
    numbers = [a.get_text(" ", strip=True).split()[-1] for a in soup.select("sup.citation a")]
    assert numbers == ["1", "2", "1"]
    assert (1, "unknown source [@nope]: add it to content/sources.yaml") in problems


def test_callouts_are_asides_with_a_title() -> None:
    soup, problems, *_ = render("::: note\nText\n:::\n\n::: warning Vorsicht\nMehr\n:::\n")
    asides = soup.find_all("aside")
    assert [a["class"] for a in asides] == [["callout", "callout--note"], ["callout", "callout--warning"]]
    assert [a.find("p").get_text() for a in asides] == ["Hinweis", "Vorsicht"]
    assert problems == []


def test_care_card_renders_a_hidden_urgency_label() -> None:
    soup, problems, *_ = render("::: care emergency\n### Ruf 112, wenn:\n- a\n- b\n:::\n")
    card = soup.select_one("div.care-card.care-card--emergency")
    assert card.h3.select_one(".visually-hidden").get_text(strip=True) == "Notfall:"
    assert problems == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("::: care emergency\n\n### Ruf 112\n- a\n:::\n", "a care card's heading ends with 'wenn:'"),
        ("::: care emergency\n### Ruf 112, wenn:\n" + "- x\n" * 7 + ":::\n", "a care card has at most 6 bullets, this one has 7"),
        ("::: care soon\n### x wenn:\n- a\n:::\n", "a care card needs a level: '::: care emergency|urgent|doctor'"),
        ("::: spoiler\nx\n:::\n", "unknown block '::: spoiler' (use note, warning, care or publisher)"),
        ("![](assets/img/x.svg)\n", "an image needs a description (alt text): ![what it shows](…)"),
        ("# Zweiter Titel\n", "use ## for sections: the title is the page's only # heading"),
    ],
)
def test_structural_mistakes_are_reported(text: str, message: str) -> None:
    _, problems, *_ = render(text)
    # The care heading's problem points at the heading (line 3), the others at line 1.
    line = 3 if "heading ends" in message else 1
    assert (line, message) in problems


def test_words_in_another_language_carry_their_lang() -> None:
    soup, problems, *_ = render("Die [Nationale VersorgungsLeitlinie]{lang=de} und [Ursachen](ursachen.md){lang=de}.\n", "en")
    assert str(soup.span) == '<span lang="de">Nationale VersorgungsLeitlinie</span>'
    assert soup.a["lang"] == "de" and soup.a["href"] == "/de/ursachen/#zerrung"
    assert problems == []


def test_no_attribute_but_lang_can_be_set_and_lang_must_be_a_language_code() -> None:
    soup, problems, *_ = render('[a]{onclick="alert(1)" style="x" lang=de} [b]{lang="><b>x"}\n')
    assert [dict(s.attrs) for s in soup.find_all("span")] == [{"lang": "de"}, {"lang": "><b>x"}]
    assert soup.find("b") is None
    assert problems == [(1, "lang='><b>x' is not a language code such as de or en-GB")]


@pytest.mark.parametrize(("tag", "accepted"), [
    ("en-GB", True), ("sr-Latn", True), ("gsw", True), ("DE", False), ("deutsch", False), ("de_DE", False), ("de-", False),
])
def test_lang_takes_a_language_tag_as_sources_and_site_yaml_do(tag: str, accepted: bool) -> None:
    """One rule for language tags everywhere (guidesite.i18n): the language in lower case, then any subtags."""
    _, problems, *_ = render(f"[Wort]{{lang={tag}}}\n")
    assert problems == ([] if accepted else [(1, f"lang={tag!r} is not a language code such as de or en-GB")])


def test_tables_and_footnotes() -> None:
    soup, problems, *_ = render("| a | b |\n|---|---|\n| 1 | 2 |\n\nText[^1]\n\n[^1]: Fußnote\n")
    assert soup.find("table") and soup.select_one("section.footnotes")
    assert problems == []


def test_one_fresh_env_per_page() -> None:
    md = Markdown("en", QUOTES["en"])
    first = md.parse("Text[^1]\n\n[^1]: note\n")
    second = md.parse("Plain\n")
    assert first.env is not second.env and "footnotes" not in second.env


@pytest.mark.parametrize(("source", "expected"), [
    ("Text.\n\n::: note\nEin Hinweis.\n\nNoch einer.\n",
     (3, "'::: note' is never closed: end the block with a line of :::")),
    ("## \n\nText.\n", (1, "a heading needs text")),
    ("Text.\n\n## Wärme {#wärme}\n", (3, "'{#wärme}' is not an id: use a–z, 0–9, - and _ only, such as {#warm-up}")),
    ("Eine Zahl\naus der Studie[^9].\n", (2, "footnote [^9] has no text: add a line '[^9]: …' below the paragraph")),
], ids=["unclosed-block", "empty-heading", "bad-pinned-id", "footnote-without-text"])
def test_markdown_that_would_show_as_literal_text_is_an_error(source: str, expected: tuple[int, str]) -> None:
    """Each of these rendered without a word: the block swallowing the rest of the page, an
    empty heading in the table of contents, '{#wärme}' or '[^9]' printed for the reader."""
    _, problems, *_ = render(source)
    assert problems == [expected]
