"""Interface strings (gettext catalogs in translations/) and locale formatting (Babel)."""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale, UnknownLocaleError

from .errors import ErrorList

# Babel's catalog tools and Jinja are imported where they are used: a build whose catalogs
# come from the build cache compiles none, and a page's date formatting loads babel.dates.
if TYPE_CHECKING:
    from babel.support import Translations

# Interface strings are written in English in templates and code; English is their source.
SOURCE_LANGUAGE = "en"
TRANSLATIONS_DIR = "translations"
# A language tag as BCP 47 writes it: the language in lower case, then any subtags (de,
# en-GB, sr-Latn). The one form the guide takes anywhere: {lang=…} in Markdown, a source's
# language, and site.yaml's codes (there the language alone: it names folders and URLs).
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


@dataclass(frozen=True)
class LocaleFormat:
    """Formatting for one language, handed to templates as plain callables."""

    locale: str

    def date(self, value: dt.date) -> str:
        return _long_date(value, self.locale)

    def day_or_month(self, value: str) -> str:
        """'2020-12-11' as a long date, '2020-12' as month and year ('Dezember 2020')."""
        if len(value) == 7:
            from babel.dates import format_skeleton

            return format_skeleton("yMMMM", dt.date.fromisoformat(value + "-01"), locale=self.locale)
        return _long_date(dt.date.fromisoformat(value), self.locale)

    def plural_samples(self) -> list[tuple[str, int]]:
        """One whole number for each of the locale's plural categories (CLDR, through Babel):
        [("one", 1), ("other", 0)] in German, six in Arabic. A script that counts picks the
        category with Intl.PluralRules and the text translated for that number."""
        return _plural_samples(self.locale)

    def language_name(self, code: str) -> str:
        """A language's name in that language, from CLDR: 'Deutsch', 'English'."""
        return language_name(code)


@functools.lru_cache(maxsize=None)
def _plural_samples(locale: str) -> list[tuple[str, int]]:
    rule = Locale.parse(locale).plural_form
    samples: dict[str, int] = {}
    for n in range(0, 1000):
        samples.setdefault(rule(n), n)
    return sorted(samples.items())


@functools.lru_cache(maxsize=4096)
def _long_date(value: dt.date, locale: str) -> str:
    # Every page shows two dates, and the same few recur on thousands of pages.
    from babel.dates import format_date

    return format_date(value, "long", locale=locale)


@functools.lru_cache(maxsize=None)
def language_name(code: str) -> str:
    """A language's name in that language, from CLDR: 'Deutsch', 'English', 'العربية'."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def is_language_tag(text: str, subtags: bool = True) -> bool:
    """Whether text is a language tag (de, en-GB); with subtags=False, a language alone (de)."""
    return _LANGUAGE_TAG.fullmatch(text) is not None and (subtags or "-" not in text)


@functools.lru_cache(maxsize=None)
def text_direction(tag: str) -> str:
    """'rtl' or 'ltr' for a language tag (de, en-GB, ar) or locale (ar_EG), from CLDR through
    Babel; 'auto' (the browser decides) for a tag Babel does not know."""
    try:
        return Locale.parse(tag.replace("-", "_")).text_direction
    except (ValueError, UnknownLocaleError):
        return "auto"


def catalog_path(root: Path, lang: str) -> Path:
    return root / TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po"


def used_messages(root: Path) -> dict[str, tuple[str, int]]:
    """Every interface string in templates and the package, with where it is first used.

    The package's strings come from the package itself, so a site in another folder is
    checked against them too. A template the extractor cannot parse is a BuildError naming
    its file and line (Babel would raise from inside Jinja without the file's name).
    """
    from babel.messages.extract import extract_from_dir
    from jinja2 import TemplateSyntaxError

    package = Path(__file__).resolve().parent
    found: dict[str, tuple[str, int]] = {}
    preview = "preview_templates/**.html"  # the preview's error page; options as babel.cfg gives them
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(package), [("**.py", "python"), (preview, "jinja2")],
        options_map={preview: {"silent": "false", "trim_blocks": "true", "lstrip_blocks": "true"}},
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, (f"{package.name}/{filename}", lineno))
    current = {"file": "templates"}
    options = {"**.html": {"silent": "false", "trimmed": "true"}}  # as babel.cfg says for templates/
    try:
        # From templates/ itself: walking the whole project would visit every page in
        # content/ and every file in site/ (and a generated corpus) to find a few templates.
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(root / "templates"), [("**.html", "jinja2")], options_map=options,
            callback=lambda filename, _method, _options: current.update(file=f"templates/{filename}"),
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            found.setdefault(msgid, (f"templates/{filename}", lineno))
    except (TemplateSyntaxError, UnicodeDecodeError) as exc:
        errors = ErrorList(root)
        problem = exc.message if isinstance(exc, TemplateSyntaxError) else "not UTF-8 text"
        errors.add(root / current["file"], getattr(exc, "lineno", 1), f"template error: {problem}")
        errors.raise_if_any()
    return found


def load_translations(root: Path, codes: tuple[str, ...]) -> dict[str, Translations]:
    """Read each language's .po catalog; every used string must be translated, none fuzzy."""
    return translations_from(compile_catalogs(root, codes))


def translations_from(compiled: dict[str, bytes]) -> dict[str, Translations]:
    """Translations from compiled (.mo) catalogs, by language."""
    from babel.support import Translations

    return {lang: Translations(fp=BytesIO(data)) for lang, data in compiled.items()}


def compile_catalogs(root: Path, codes: tuple[str, ...]) -> dict[str, bytes]:
    """Each language's .po catalog, checked and compiled to .mo bytes; raises BuildError on any gap."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import PoFileError, read_po

    errors = ErrorList(root)
    used = used_messages(root)
    result: dict[str, bytes] = {}
    for lang in codes:
        path = catalog_path(root, lang)
        if not path.is_file():
            errors.add(path, 1, f"interface catalog for '{lang}' is missing: run pybabel init -l {lang}")
            continue
        try:
            with path.open("rb") as fp:
                catalog: Catalog = read_po(fp, locale=lang, abort_invalid=True)
        except (PoFileError, ValueError, UnicodeDecodeError) as exc:
            errors.add(path, getattr(exc, "lineno", 1), f"catalog cannot be read: {exc}")
            continue
        for msgid, (where, line) in sorted(used.items()):
            message = catalog.get(msgid)
            if message is None:
                errors.add(path, 1, f"interface string '{msgid}' (used in {where}:{line}) is not in the catalog: run pybabel update")
            elif lang != SOURCE_LANGUAGE and (message.fuzzy or not message.string):
                state = "marked fuzzy" if message.fuzzy else "untranslated"
                errors.add(path, message.lineno or 1, f"interface string '{msgid}' is {state}")
        for message, problems in catalog.check():
            for problem in problems:
                errors.add(path, message.lineno or 1, f"'{message.id}': {problem}")
        buffer = BytesIO()
        write_mo(buffer, catalog)
        result[lang] = buffer.getvalue()
    errors.raise_if_any()
    return result
