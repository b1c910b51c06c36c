"""What an editor may not write: raw HTML, an image without a description, a footnote
without text, a language attribute that is no language tag. Each is an error with its line;
raw HTML is also rendered as text, in case a caller ignores the error."""
from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING, Any

from ..i18n import is_language_tag
from .model import line_of, report

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

_LOST_FOOTNOTE = re.compile(r"\[\^[^\]\s]+\]")  # left as text by the plugin: no definition


def lint_plugin(md: MarkdownIt) -> None:
    """Problems left in env under PROBLEMS; needs inline tokens' meta["line"] (mark_source_lines)."""
    md.core.ruler.push("lint", _lint)
    md.add_render_rule("html_block", _html_dropped)
    md.add_render_rule("html_inline", _html_dropped)


def _lint(state: StateCore) -> None:
    env = state.env
    for token in state.tokens:
        if token.type == "html_block":
            report(env, line_of(token), "raw HTML is not allowed: write Markdown instead")
        elif token.type == "inline":
            for child in token.children or []:
                if child.type == "html_inline":
                    report(env, child.meta["line"], f"raw HTML is not allowed: {child.content[:40]}")
                elif child.type == "image" and not child.children:
                    report(env, child.meta["line"], "an image needs a description (alt text): ![what it shows](…)")
                elif child.type == "text" and "[^" in child.content and (note := _LOST_FOOTNOTE.search(child.content)):
                    report(env, child.meta["line"], f"footnote {note.group()} has no text: add a line '{note.group()}: …' below the paragraph")
                if child.nesting >= 0 and "lang" in child.attrs and not is_language_tag(str(child.attrs["lang"])):
                    report(env, child.meta["line"], f"lang={child.attrs['lang']!r} is not a language code such as de or en-GB")


def _html_dropped(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    # Reported as an error by the lint rule; never rendered, even if a caller ignores errors.
    return escape(tokens[idx].content)
