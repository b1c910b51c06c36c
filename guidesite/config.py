"""The site configuration (site.yaml): loaded once, validated completely, then plain data."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError

from .errors import ErrorList
from .i18n import is_language_tag, text_direction
from .yamlfile import YamlProblem, parse_mapping, text_problem

CONFIG_FILE = "site.yaml"
_PUBLISHER_KEYS = (
    "name", "street", "postal_code", "city", "country", "email", "phone",
    "responsible_person",
)
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Language:
    code: str  # "de": used in URLs and <html lang>
    locale: str  # "de_DE", "en_GB": used by Babel for dates and numbers
    title: str  # the site's title in this language
    # The numbers this edition's readers call, as written on its pages ("112", "NHS 111"):
    # where the edition's readers live decides them, not the language (a Turkish edition
    # for readers in Germany names 112 and 116 117).
    emergency: str
    urgent: str
    # Typographic quotation marks: primary open, close, secondary open, close. CLDR's
    # delimiters, which Babel does not carry: the configuration gives them per language.
    quotes: tuple[str, str, str, str]
    # Live with the pages it has: the others are the default language's, marked as such,
    # and a page it lacks is no warning (status shows its coverage).
    partial: bool = False

    @property
    def direction(self) -> str:
        """'rtl' or 'ltr', from CLDR through Babel."""
        return text_direction(self.locale)

    @property
    def emergency_digits(self) -> str:
        return phone_digits(self.emergency)

    @property
    def urgent_digits(self) -> str:
        return phone_digits(self.urgent)


@dataclass(frozen=True)
class CareNumbers:
    """What a care card of one edition must name, and must not."""

    emergency: str  # "112", as the edition writes it
    urgent: str
    foreign: tuple[str, ...]  # other editions' numbers that are not this edition's ("999", "NHS 111")


def phone_digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


@dataclass(frozen=True)
class SiteConfig:
    root: Path
    base_url: str  # absolute, ends with "/"
    base_path: str  # the path part of base_url, "/" or "/guide/"
    default_language: str
    languages: tuple[Language, ...]
    footer: tuple[str, ...]  # translation keys of pages linked from every footer
    care_page: str  # translation key of the page on when to see a doctor
    publisher: dict[str, str]

    @functools.cached_property
    def codes(self) -> tuple[str, ...]:
        return tuple(lang.code for lang in self.languages)

    def language(self, code: str) -> Language:
        return next(lang for lang in self.languages if lang.code == code)

    def care_numbers(self, code: str) -> CareNumbers:
        own = self.language(code)
        mine = {own.emergency_digits, own.urgent_digits}
        foreign = {n: None for lang in self.languages for n in (lang.emergency, lang.urgent) if phone_digits(n) not in mine}
        return CareNumbers(own.emergency, own.urgent, tuple(foreign))


def _quotes(value: object) -> tuple[str, str, str, str] | None:
    """Four quotation marks, as a string of four ("„“‚‘") or a list of four (French: "« ", " »")."""
    marks = list(value) if isinstance(value, str) else value
    if isinstance(marks, list) and len(marks) == 4 and all(isinstance(m, str) and m.strip() for m in marks):
        return (marks[0], marks[1], marks[2], marks[3])
    return None


def load_config(root: Path) -> SiteConfig:
    """Read and validate site.yaml; raise BuildError naming the file and key on any problem."""
    path = root / CONFIG_FILE
    errors = ErrorList(root)
    if not path.is_file():
        errors.add(path, 1, f"the site configuration {CONFIG_FILE} is missing")
        errors.raise_if_any()
    try:
        text = path.read_bytes().decode("utf-8-sig")
        data = parse_mapping(text, what="the configuration")
    except UnicodeDecodeError as exc:
        errors.add(path, 1, f"not UTF-8 text (byte {exc.start})")
        errors.raise_if_any()
    except YamlProblem as exc:
        errors.add(path, exc.line, exc.message)
        errors.raise_if_any()

    values = data.values

    def bad(key: str, message: str) -> None:
        errors.add(path, data.line(key), f"{key}: {message}")

    known = {"base_url", "default_language", "languages", "footer", "care_page", "publisher"}
    for key in values.keys() - known:
        bad(key, f"unknown key (expected one of {', '.join(sorted(known))})")
    for key in sorted(known - values.keys()):
        bad(key, "missing")

    base_url = values.get("base_url")
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if "base_url" in values and not (parts and parts.scheme in ("http", "https") and parts.netloc):
        bad("base_url", "must be an absolute http(s) URL such as https://example.org/")
        base_url = None
    elif isinstance(base_url, str) and not base_url.endswith("/"):
        base_url += "/"

    languages: list[Language] = []
    raw_langs = values.get("languages")
    if "languages" in values and (not isinstance(raw_langs, list) or not raw_langs):
        bad("languages", "must be a non-empty list of {code, title} entries")
        raw_langs = []
    for i, entry in enumerate(raw_langs or []):
        where = f"languages[{i}]"
        if not isinstance(entry, dict):
            bad(where, "must be a mapping with code and title")
            continue
        extra = entry.keys() - {"code", "title", "locale", "emergency", "urgent", "quotes", "partial"}
        if extra:
            bad(where, f"unknown key {', '.join(sorted(map(str, extra)))}")
        code, title = entry.get("code"), entry.get("title")
        locale = entry.get("locale", code)
        if not isinstance(code, str) or not is_language_tag(code, subtags=False):
            bad(f"{where}.code", "must be a lower-case language code such as 'de'")
            continue
        if not isinstance(title, str) or not title.strip():
            bad(f"{where}.title", "must be the site's title in this language")
            continue
        numbers = {}
        for kind in ("emergency", "urgent"):
            number = entry.get(kind)
            if not isinstance(number, str) or not phone_digits(number):
                bad(f"{where}.{kind}", f"must be the {kind} number this edition's readers call, in quotes, such as "
                    + ('"112"' if kind == "emergency" else '"116 117"'))
            else:
                numbers[kind] = number.strip()
        partial = entry.get("partial", False)
        if not isinstance(partial, bool):
            bad(f"{where}.partial", "must be true (live with some pages translated) or false")
        quotes = _quotes(entry.get("quotes"))
        if quotes is None:
            bad(f"{where}.quotes", "must be the language's four quotation marks, opening and closing, then the inner pair, "
                                   "such as \"„“‚‘\" for German (CLDR's values for many languages: README, 'Adding a language')")
        try:
            parsed = Locale.parse(str(locale))
        except (ValueError, UnknownLocaleError):
            bad(f"{where}.locale", f"'{locale}' is not a locale Babel knows")
            continue
        if parsed.language != code:
            bad(f"{where}.locale", f"'{locale}' is a locale of the language '{parsed.language}', not of '{code}'")
            continue
        if any(lang.code == code for lang in languages):
            bad(f"{where}.code", f"'{code}' is listed twice")
            continue
        languages.append(Language(code, str(locale), title.strip(), numbers.get("emergency", ""), numbers.get("urgent", ""),
                                  quotes or ("", "", "", ""), partial is True))

    codes = [lang.code for lang in languages]
    default = values.get("default_language")
    if "default_language" in values and default not in codes:
        bad("default_language", f"must be one of the languages ({', '.join(codes)})")

    footer = values.get("footer", [])
    if not isinstance(footer, list) or not all(isinstance(k, str) and _KEY.match(k) for k in footer):
        bad("footer", "must be a list of translation keys")
        footer = []

    care_page = values.get("care_page")
    if "care_page" in values and not (isinstance(care_page, str) and _KEY.match(care_page)):
        bad("care_page", "must be the key of the page that says when to see a doctor, such as see-a-doctor")

    publisher = values.get("publisher")
    if "publisher" in values:
        if not isinstance(publisher, dict):
            bad("publisher", "must be a mapping")
            publisher = {}
        for key in _PUBLISHER_KEYS:
            if key not in publisher:
                bad(f"publisher.{key}", "missing")
            elif problem := text_problem(publisher[key]):
                bad(f"publisher.{key}", problem)
        for key in publisher.keys() - set(_PUBLISHER_KEYS):
            bad(f"publisher.{key}", "unknown key")

    errors.raise_if_any()
    assert isinstance(base_url, str)
    return SiteConfig(
        root=root,
        base_url=base_url,
        base_path=urlsplit(base_url).path or "/",
        default_language=str(default),
        languages=tuple(languages),
        footer=tuple(footer),
        care_page=str(care_page),
        publisher={k: str(v) for k, v in publisher.items()},
    )
