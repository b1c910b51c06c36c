"""Citations: `[@wu2021]` or `[@wu2021; @nielsen2014]` point into content/sources.yaml and
render as numbers, in order of first citation, linking to the page's list of sources."""
from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING, Any

from .model import Problem

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

_CITATION = re.compile(r"\[(@[A-Za-z0-9][\w-]*(?:\s*;\s*@[A-Za-z0-9][\w-]*)*)\]")


def citations_plugin(md: MarkdownIt) -> None:
    """The `citation` token and its rendering; an unknown key is a problem in env["ctx"]."""
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.add_render_rule("citation", _render_citation)


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[" or state.src.startswith("[^", state.pos):
        return False
    match = _CITATION.match(state.src, state.pos)
    # `[@physio_team](https://…)` is a link whose text starts with @, as in pandoc.
    if not match or state.src.startswith(("(", "["), match.end()):
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.meta = {"keys": [k.strip().lstrip("@") for k in match.group(1).split(";")]}
    state.pos = match.end()
    return True


def _render_citation(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    ctx = env["ctx"]
    token = tokens[idx]
    for key in token.meta["keys"]:
        if not ctx.known_citation(key):
            ctx.problems.append(Problem(token.meta["line"], f"unknown source [@{key}]{ctx.citation_hint(key)}: add it to content/sources.yaml"))
        elif key not in ctx.citations:
            ctx.citations.append(key)
    cited: list[str] = ctx.citations
    hidden = escape(ctx.gettext("Source"))
    links = [
        f'<a href="#source-{escape(key)}"><span class="visually-hidden">{hidden} </span>{cited.index(key) + 1}</a>'
        for key in token.meta["keys"]
        if key in cited
    ]
    return f'<sup class="citation">[{", ".join(links)}]</sup>' if links else ""
