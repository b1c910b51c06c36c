"""site.yaml validation: every problem names the file and the key."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from guidesite.config import load_config
from guidesite.errors import BuildError

GOOD = (REPO / "site.yaml").read_text("utf-8")


def errors_for(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "site.yaml").write_text(text, "utf-8")
    with pytest.raises(BuildError) as info:
        load_config(tmp_path)
    return [str(e) for e in info.value.errors]


def test_the_repository_configuration_is_valid() -> None:
    config = load_config(REPO)
    assert config.codes == ("de", "en")
    assert config.default_language == "de"
    assert config.base_url.endswith("/") and config.base_path == "/"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as info:
        load_config(tmp_path)
    assert str(info.value.errors[0]) == "site.yaml:1: the site configuration site.yaml is missing"


@pytest.mark.parametrize(
    ("old", "new", "at", "expected"),
    [
        ("base_url: https://", "base_url: ftp://", "base_url:", "base_url: must be an absolute http(s) URL such as https://example.org/"),
        ("default_language: de", "default_language: fr", "default_language:", "default_language: must be one of the languages (de, en)"),
        ("  - code: en\n", "  - code: EN\n", "  - code: EN", "languages[1].code: must be a lower-case language code such as 'de'"),
        ("    locale: en_GB", "    locale: xx_YY", "    locale: xx_YY", "languages[1].locale: 'xx_YY' is not a locale Babel knows"),
        ("  email:", "  e_mail:", "publisher:", "publisher.email: missing"),
        ("footer:", "fotter:", "fotter:", "fotter: unknown key (expected one of base_url, care_page, default_language, footer, languages, publisher)"),
    ],
)
def test_wrong_values_name_the_key(tmp_path: Path, old: str, new: str, at: str, expected: str) -> None:
    """Each message names the key, at the line of the key (or of the mapping missing it)."""
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    line = next(n for n, content in enumerate(text.split("\n"), start=1) if content.startswith(at))
    assert f"site.yaml:{line}: {expected}" in errors_for(tmp_path, text)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    errors = errors_for(tmp_path, "base_url: [unclosed\n")
    assert errors[0].startswith("site.yaml:1: the configuration is not valid YAML")  # the line of the unclosed [
