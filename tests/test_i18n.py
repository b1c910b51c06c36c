"""Interface catalogs and locale formatting."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import copy_project
from guidesite.errors import BuildError
from guidesite.i18n import LocaleFormat, load_translations, used_messages

DISCLAIMER = "This guide supports, but does not replace, the advice of a doctor or physiotherapist."


def test_dates_and_language_names_follow_the_locale() -> None:
    de, en = LocaleFormat("de_DE"), LocaleFormat("en_GB")
    assert de.date(dt.date(2025, 3, 19)) == "19. März 2025"
    assert en.date(dt.date(2025, 3, 19)) == "19 March 2025"
    assert (de.language_name("de"), de.language_name("en")) == ("Deutsch", "English")


def test_templates_and_code_strings_are_extracted(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    used = used_messages(project)
    assert DISCLAIMER in used and "Emergency:" in used
    assert used["Emergency:"][0].startswith("guidesite/")
    assert used["The preview could not be built"][0] == "guidesite/preview_templates/error.html"


def _break_catalog(project: Path, msgid: str, replacement: str) -> None:
    po = project / "translations/de/LC_MESSAGES/messages.po"
    text = po.read_text("utf-8")
    start = text.index(f'msgid "{msgid}"')
    end = text.index("\n\n", start)
    po.write_text(text[:start] + replacement + text[end:], "utf-8")


@pytest.mark.parametrize(
    ("replacement", "state"),
    [('msgid "Draft"\nmsgstr ""', "untranslated"), ('#, fuzzy\nmsgid "Draft"\nmsgstr "Entwurf"', "marked fuzzy")],
)
def test_an_untranslated_or_fuzzy_string_fails_naming_it(tmp_path: Path, replacement: str, state: str) -> None:
    project = copy_project(tmp_path / "p")
    _break_catalog(project, "Draft", replacement)
    with pytest.raises(BuildError) as info:
        load_translations(project, ("de", "en"))
    messages = [e.message for e in info.value.errors]
    assert f"interface string 'Draft' is {state}" in messages


def test_a_string_missing_from_the_catalog_fails(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    _break_catalog(project, "Draft", "")
    with pytest.raises(BuildError) as info:
        load_translations(project, ("de", "en"))
    assert any("'Draft'" in e.message and "not in the catalog" in e.message for e in info.value.errors)
