"""Front matter: the schema, its error messages and the lines they point at."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from guidesite.content import read_page, split_front_matter
from guidesite.errors import ErrorList
from guidesite.yamlfile import YamlProblem, parse_mapping

ARTICLE = """---
title: Aufwärmen
description: Sechs Übungen.
key: warm-up
slug: vorbeugen/aufwaermen
layout: article
published: 2025-03-19
last_reviewed: 2026-11-20
next_review: 2027-11-20
reviewer: Dr. X
review_digest: "0123456789abcdef"
---
## Text
"""


def read(tmp_path: Path, text: str | bytes) -> tuple[object, list[str]]:
    path = tmp_path / "page.md"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    errors = ErrorList(tmp_path)
    page = read_page(path, "de/page.md", "de", errors)
    return page, [str(e) for e in errors.items]


def test_a_valid_article(tmp_path: Path) -> None:
    page, errors = read(tmp_path, ARTICLE)
    assert errors == []
    assert page.meta.published == dt.date(2025, 3, 19)
    assert page.meta.slug == "vorbeugen/aufwaermen"
    assert page.body_line == 13 and page.body == "## Text\n"


def test_bom_and_windows_line_endings_are_accepted(tmp_path: Path) -> None:
    page, errors = read(tmp_path, b"\xef\xbb\xbf" + ARTICLE.replace("\n", "\r\n").encode("utf-8"))
    assert errors == [] and page.meta.title == "Aufwärmen"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("title: Aufwärmen\n", ""), "page.md:1: required field 'title' is missing"),
        (("published: 2025-03-19\n", ""), "page.md:1: required field 'published' is missing"),
        (("reviewer: Dr. X\n", ""), "page.md:8: last_reviewed: a review is recorded with all of reviewer, last_reviewed, "
                                     "next_review, review_digest (missing: reviewer): record it with 'python build.py reviewed <file> --by \"…\"'"),
        (("next_review: 2027-11-20", "next_review: 2029-11-21"), "page.md:9: next_review: must be at most 3 years after last_reviewed (2026-11-20), by 2029-11-20"),
        (('review_digest: "0123456789abcdef"', "review_digest: abc"), "page.md:11: review_digest: is set by 'python build.py reviewed <file> --by \"…\"'; do not edit it by hand"),
        (("key: warm-up", "key: Warm Up"), "page.md:4: key: must be lower-case ASCII letters, digits and '-', such as 'warm-up'"),
        (("layout: article", "layout: article\nnav: first"), "page.md:7: nav: must be a whole number from 1 (its position in the navigation)"),
        (("layout: article", "layout: article\ndraft: yes please"), "page.md:7: draft: must be true or false"),
        (("layout: article", "layout: article\ntitel: x"), "page.md:7: titel: unknown field (did you mean 'title'?)"),
        (("published: 2025-03-19", "published: 2025-02-30"), "page.md:7: published: '2025-02-30' is not a date: write YYYY-MM-DD, such as 2025-03-19"),
        (("published: 2025-03-19", "published: 19.3.2025"), "page.md:7: published: '19.3.2025' is not a date: write YYYY-MM-DD, such as 2025-03-19"),
        (("next_review: 2027-11-20", "next_review: 2020-01-01"), "page.md:9: next_review: must come after last_reviewed"),
        (("slug: vorbeugen/aufwaermen", "slug: Vorbeugen/Aufwärmen"), "page.md:5: slug: must be lower-case ASCII words joined by '-' and '/', such as 'vorbeugen/laufhaltung'"),
        (("title: Aufwärmen", "title: [a, b]"), "page.md:2: title: must be text, not a list: put text that starts with [ or { in quotes"),
        (("description: Sechs Übungen.", "description: Sechs: Übungen: x"), "page.md:3: front matter is not valid YAML: mapping values are not allowed here (put text that contains ': ' in quotes)"),
        (("key: warm-up\n", "key: warm-up\nkey: again\n"), "page.md:5: 'key' is given twice"),
    ],
)
def test_each_mistake_is_named_with_its_line(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert change[0] in ARTICLE
    page, errors = read(tmp_path, ARTICLE.replace(*change, 1))
    assert page is None
    assert expected in errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "page.md:1: the file is empty: a page starts with front matter between two '---' lines"),
        ("# Title\n", "page.md:1: a page must start with front matter: a first line of '---'"),
        ("---\ntitle: x\n", "page.md:1: the front matter is not closed: add a line '---' after it"),
        ("---\n- a\n- b\n---\n", "page.md:2: front matter must be key: value pairs, found a list"),
        ("---\njust text\n---\n", "page.md:2: front matter must be key: value pairs, found a string"),
    ],
)
def test_broken_front_matter(tmp_path: Path, text: str, expected: str) -> None:
    assert read(tmp_path, text) == (None, [expected])


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    page, errors = read(tmp_path, ARTICLE.encode("utf-8") + b"caf\xe9\n")
    assert errors == ["page.md:14: the file is not UTF-8 text: save it as UTF-8"]


def test_split_front_matter_counts_the_body_line() -> None:
    assert split_front_matter("---\na: 1\n---\nbody") == ("a: 1", "body", 4)


def test_yaml_1_1_surprises_stay_text() -> None:
    """A volume:page pair is not a base-60 number, a postcode with a leading 0 not octal."""
    mapping = parse_mapping("details: 21:34\npostcode: 01067\nyear: 2021\n")
    assert mapping.values == {"details": "21:34", "postcode": "01067", "year": 2021}


def test_a_key_given_twice_below_the_top_is_refused() -> None:
    with pytest.raises(YamlProblem) as info:
        parse_mapping("publisher:\n  name: A\n  city: B\n  name: C\n")
    assert (info.value.line, info.value.message) == (4, "'publisher.name' is given twice")
