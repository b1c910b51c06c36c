"""A placeholder left in the text ("[Datum]") is marked as one, never passed off as real
text; the build warns about it, and `check --strict` fails."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..placeholders import PLACEHOLDER

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


def placeholders_plugin(md: MarkdownIt) -> None:
    """Text renders as markdown-it's own rule does, with each placeholder in a marked span."""
    from markdown_it.common.utils import escapeHtml

    def text(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        content = escapeHtml(tokens[idx].content)
        if "[" not in content:  # nearly every text: no placeholder to look for
            return content
        return PLACEHOLDER.sub(lambda m: f'<span class="placeholder">{m.group()}</span>', content)

    md.add_render_rule("text", text)
