"""Words in another language: `[Leitlinie]{lang=de}` marks them (WCAG 3.1.2), and they carry
that language's text direction where it differs from the page's."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..i18n import is_language_tag, text_direction

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore


def languages_plugin(md: MarkdownIt, lang: str) -> None:
    """`{lang=…}` after a span, link or image (a language tag: the only attribute editors may
    set), for a page in `lang`; every other attribute is dropped."""
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
