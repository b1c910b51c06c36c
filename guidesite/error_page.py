"""The page the preview answers with while its last build failed: every error, each with the
lines of its file around it, in the language of the page asked for.

Its markup is preview_templates/error.html, rendered with autoescape on; its three interface
strings come from the language's catalog, read as far as it can be (the build may have
failed because of the catalog itself).
"""
from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader

from .errors import ContentError
from .i18n import catalog_path

if TYPE_CHECKING:
    from .preview_server import State

EXCERPT_LINES = 3  # the error page shows this many lines before and after an error's line
EXCERPT_WIDTH = 200  # characters of each line
EXCERPT_MAX_BYTES = 2_000_000  # a larger file (a minified bundle) is not read for an excerpt
LAST_GOOD = "last-good"  # query parameter: show the last good page instead of the build errors
# One environment for every preview in the process: gettext is passed with each page, not
# installed in it, as each page has its own language and previews render on threads of their own.
_ENVIRONMENT = Environment(loader=FileSystemLoader(Path(__file__).parent / "preview_templates"), autoescape=True,
                           trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


@dataclass(frozen=True)
class Excerpt:
    """An error as the error page shows it: its `file:line: message`, and the lines of the
    file around that line, as they were when the build failed."""

    text: str
    line: int = 0
    lines: tuple[tuple[int, str], ...] = ()  # (number, text), the error's line among them

    def rows(self) -> list[tuple[bool, str]]:
        """Each line after a gutter with its number, and whether it is the error's line, which
        the gutter marks with '>': in words and weight as well as colour (as Hugo's error
        overlay shows a template error)."""
        width = len(str(self.lines[-1][0])) if self.lines else 0
        return [(number == self.line, f"{'>' if number == self.line else ' '} {number:>{width}} | {text}")
                for number, text in self.lines]


def excerpt(root: Path, error: ContentError, around: int = EXCERPT_LINES) -> Excerpt:
    """The error with the lines around it, if it names a text file of the project."""
    path = root / error.path
    try:
        inside = path.resolve().is_relative_to(root.resolve())
        if not inside or not path.is_file() or path.stat().st_size > EXCERPT_MAX_BYTES:
            return Excerpt(str(error), error.line)
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return Excerpt(str(error), error.line)
    lines = text.splitlines()
    first, last = max(error.line - around, 1), min(error.line + around, len(lines))
    shown = tuple((number, lines[number - 1][:EXCERPT_WIDTH]) for number in range(first, last + 1))
    return Excerpt(str(error), error.line, shown)


def lenient_catalog(root: Path, lang: str) -> Translations | NullTranslations:
    """A language's catalog as far as it can be read: the build may have failed because of it."""
    try:
        with catalog_path(root, lang).open("rb") as fp:
            catalog = read_po(fp, locale=lang)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(fp=buffer)
    except (OSError, ValueError, PoFileError):
        return NullTranslations()


def error_page(state: State, path: str) -> bytes:
    """The build errors, in the language of the requested page where its catalog can be read."""
    first = path.removeprefix(state.base_path).split("/", 1)[0]
    lang = first if first in state.codes else state.default_language
    gettext = state.catalogs.get(lang, NullTranslations()).gettext
    if lang not in state.catalogs:
        lang = "en"
    return _ENVIRONMENT.get_template("error.html").render(
        lang=lang, _=gettext, errors=state.errors, last_good=path.split("?", 1)[0] + "?" + LAST_GOOD,
    ).encode("utf-8")
