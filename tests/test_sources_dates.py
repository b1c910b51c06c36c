"""A guideline shows its last update and a web source the day its link was last checked;
a web source nobody has checked is a warning, and a date that is no date an error."""
from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from robustness import make_small_site, run_build

WEB_SOURCE = """web2020:
  authors: [A Guideline Body]
  title: A guideline on the web
  journal: Guideline
  year: 2016
  url: https://example.org/guideline
  language: en
"""


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    root = make_small_site(tmp_path / "project")
    for rel in ("content/de/seite.md", "content/en/page.md"):
        path = root / rel
        path.write_text(path.read_text("utf-8").replace("[@known2020]", "[@known2020; @web2020]"), "utf-8")
    return root


def add_source(root: Path, extra: str) -> int:
    """Append the web source (with extra fields); returns its first line."""
    path = root / "content/sources.yaml"
    text = path.read_text("utf-8")
    path.write_text(text + WEB_SOURCE + extra, "utf-8")
    return text.count("\n") + 1


def reference(root: Path) -> str:
    soup = BeautifulSoup((root / "site/de/seite/index.html").read_text("utf-8"), "lxml")
    return soup.select_one("#source-web2020").get_text(" ", strip=True)


def test_an_unchecked_web_source_is_a_warning_and_fails_strict(site: Path) -> None:
    line = add_source(site, "")
    built = run_build(site)
    warning = (f"content/sources.yaml:{line}: source 'web2020' links to a web page but does not say when the link was last "
               "checked: open it, make sure it still says what the guide cites it for, then add checked: YYYY-MM-DD")
    assert built.returncode == 0 and f"warning: {warning}" in built.stderr
    assert "zuletzt geprüft" not in reference(site)
    assert run_build(site, "check", "--strict").returncode == 1


def test_last_update_and_last_check_are_shown_in_the_pages_language(site: Path) -> None:
    add_source(site, "  updated: 2020-12\n  checked: 2026-11-30\n")
    built = run_build(site)
    assert built.returncode == 0 and "web2020" not in built.stderr
    assert "Zuletzt aktualisiert: Dezember 2020. Link zuletzt geprüft: 30. November 2026." in reference(site)
    english = BeautifulSoup((site / "site/en/page/index.html").read_text("utf-8"), "lxml")
    assert "Last updated: December 2020. Link checked: 30 November 2026." in english.select_one("#source-web2020").get_text(" ", strip=True)


@pytest.mark.parametrize(("extra", "message"), [
    ("  checked: 2026-11\n", "web2020: checked must be a date, YYYY-MM-DD, such as 2026-12-03"),
    ("  updated: December 2020\n", "web2020: updated must be a date, YYYY-MM or YYYY-MM-DD, such as 2020-12"),
    ("  checked: 2999-01-01\n", "web2020: checked is in the future: give the day the link was checked"),
])
def test_a_date_that_is_no_date_is_an_error_at_its_line(site: Path, extra: str, message: str) -> None:
    line = add_source(site, extra) + WEB_SOURCE.count("\n")
    result = run_build(site, "check")
    assert result.returncode == 1 and f"content/sources.yaml:{line}: {message}" in result.stderr
