"""The safety rules the editor's guide promises, enforced from site.yaml: each edition's care
cards name its own numbers and no other edition's, and every article says where to get help."""
from __future__ import annotations

from pathlib import Path

import pytest

from robustness import make_small_site, run_build

GERMAN = """---
title: Ein Artikel
description: Ein Artikel.
key: article
slug: artikel
layout: article
published: 2026-01-01
---

Text.

::: care {level}
### {heading}, wenn:
- beide Beine taub werden
:::
"""


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    return make_small_site(tmp_path / "project")


def german(site: Path, level: str, heading: str) -> str:
    (site / "content/de/artikel.md").write_text(GERMAN.format(level=level, heading=heading), "utf-8")
    return "content/de/artikel.md"


@pytest.mark.parametrize(("level", "heading", "errors"), [
    ("emergency", "Ruf sofort den Notruf [999](tel:999) an", [
        "content/de/artikel.md:12: an emergency card names this edition's emergency number, 112 (site.yaml)",
        "content/de/artikel.md:12: this care card names 999, which is another edition's number: readers of this edition "
        "call 112 in an emergency and 116 117 for urgent advice (site.yaml)"]),
    ("emergency", "Ruf sofort einen Krankenwagen", [
        "content/de/artikel.md:12: an emergency card names this edition's emergency number, 112 (site.yaml)"]),
    ("urgent", "Ruf heute die [112](tel:112) an", [
        "content/de/artikel.md:12: an urgent care card names this edition's number for urgent advice, 116 117 (site.yaml)"]),
    ("urgent", "Ruf heute NHS 111 an", [
        "content/de/artikel.md:12: an urgent care card names this edition's number for urgent advice, 116 117 (site.yaml)",
        "content/de/artikel.md:12: this care card names NHS 111, which is another edition's number: readers of this edition "
        "call 112 in an emergency and 116 117 for urgent advice (site.yaml)"]),
])
def test_a_care_card_with_the_wrong_number_is_an_error(site: Path, level: str, heading: str, errors: list[str]) -> None:
    german(site, level, heading)
    result = run_build(site, "check")
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("content/")] == errors


def test_the_numbers_come_from_the_configuration(site: Path) -> None:
    """An edition for readers in Germany in another language names 112 too: the numbers
    follow site.yaml, not the language."""
    german(site, "urgent", "Ruf [116 117](tel:116117) an")
    assert run_build(site, "check").returncode == 0
    config = site / "site.yaml"
    config.write_text(config.read_text("utf-8").replace('urgent: "116 117"', 'urgent: "0800 123"'), "utf-8")
    result = run_build(site, "check")
    assert result.returncode == 1
    assert "content/de/artikel.md:12: an urgent care card names this edition's number for urgent advice, 0800 123 (site.yaml)" in result.stderr


def test_the_disclaimer_names_the_editions_numbers(site: Path) -> None:
    assert run_build(site).returncode == 0
    german_page = (site / "site/de/index.html").read_text("utf-8")
    english_page = (site / "site/en/index.html").read_text("utf-8")
    assert '<a href="tel:112">112</a>' in german_page and '<a href="tel:116117">116 117</a>' in german_page
    assert '<a href="tel:999">999</a>' in english_page and '<a href="tel:111">NHS 111</a>' in english_page
    assert "tel:999" not in german_page.split('lang="en"')[0]


def test_an_article_without_a_care_card_or_a_link_to_help_is_a_warning(site: Path) -> None:
    (site / "content/de/artikel.md").write_text(GERMAN.split("::: care")[0], "utf-8")
    built = run_build(site)
    warning = ("content/de/artikel.md:1: an article that gives advice says where to get help: "
               "add a care card or a link to content/de/index.md")  # care_page: home in the small site
    assert built.returncode == 0 and f"warning: {warning}" in built.stderr
    strict = run_build(site, "check", "--strict")
    assert strict.returncode == 1 and warning in strict.stderr
    (site / "content/de/artikel.md").write_text(GERMAN.split("::: care")[0] + "[Wann zum Arzt](index.md)\n", "utf-8")
    assert warning not in run_build(site).stderr


@pytest.mark.parametrize(("old", "new", "error"), [
    ('    emergency: "112"\n', "", "languages[0].emergency: must be the emergency number this edition's readers call"),
    ('urgent: "NHS 111"', "urgent: 111", "languages[1].urgent: must be the urgent number this edition's readers call"),
    ("care_page: home", "care_page: Home Page", "care_page: must be the key of the page that says when to see a doctor"),
])
def test_the_numbers_and_the_care_page_are_validated(site: Path, old: str, new: str, error: str) -> None:
    config = site / "site.yaml"
    text = config.read_text("utf-8")
    assert old in text
    config.write_text(text.replace(old, new), "utf-8")
    result = run_build(site, "check")
    assert result.returncode == 1 and error in result.stderr and len(result.stderr.splitlines()) == 2  # the error, the count
