"""Words in another language: `[Leitlinie]{lang=de}` marks them (WCAG 3.1.2), and they carry
that language's text direction where it differs from the page's."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..i18n import text_direction

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore

# A language tag as BCP 47 writes it (de, en-GB, la): the only attribute editors may set.
_LANG_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


def is_language_tag(text: str) -> bool:
    return _LANG_TAG.fullmatch(text) is not None


def languages_plugin(md: MarkdownIt, lang: str) -> None:
    """`{lang=…}` after a span, link or image, for a page in `lang`; every other attribute is dropped."""
    from mdit_py_plugins.attrs import attrs_plugin

    md.use(attrs_plugin, spans=True, allowed=["lang"])
    direction = text_direction(lang)
    md.core.ruler.push("mark_direction", lambda state: _mark_direction(state, direction))


def _mark_direction(state: StateCore, direction: str) -> None:
    """Words marked as another language ({lang=ar}) carry that language's direction when it
    differs from the page's, so Arabic in an English page reads right to left."""
    for token in state.tokens:
        for child in token.children or []:
            tag = child.attrs.get("lang") if child.nesting >= 0 else None
            if isinstance(tag, str) and is_language_tag(tag) and (other := text_direction(tag)) not in (direction, "auto"):
                child.attrSet("dir", other)
