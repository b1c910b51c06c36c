"""Headings: ids for every level (our slugs, or one the editor pins), and what is wrong with one."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..slugs import slugify
from .model import HEADINGS, Heading, line_of, report

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore

_PINNED_ID = re.compile(r"\s*\{#([a-z0-9][a-z0-9_-]*)\}\s*$")
_BRACES_AT_END = re.compile(r"\s*\{#[^{}]*\}\s*$")  # meant as a pinned id, valid or not


def headings_plugin(md: MarkdownIt) -> None:
    """Ids on h1–h6 (`## Aufwärmen {#warm-up}` pins one); the page's headings and their
    problems left in env under HEADINGS and PROBLEMS."""
    from mdit_py_plugins.anchors import anchors_plugin

    md.core.ruler.after("block", "pin_heading_ids", _pin_heading_ids)
    md.use(anchors_plugin, min_level=1, max_level=6, slug_func=slugify)
    md.core.ruler.push("collect_headings", _collect_headings)


def _pin_heading_ids(state: StateCore) -> None:
    """`## Aufwärmen {#warm-up}` keeps its id when the heading is reworded or translated."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[i + 1]
            match = _PINNED_ID.search(inline.content)
            if match:
                token.attrSet("id", match.group(1))
                token.meta["pinned"] = True  # the translation check compares pinned ids
                inline.content = inline.content[: match.start()]


def _collect_headings(state: StateCore) -> None:
    headings: list[Heading] = state.env.setdefault(HEADINGS, [])
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline, line = tokens[i + 1], line_of(token)
        text = "".join(c.content for c in inline.children or [] if c.type in ("text", "code_inline"))
        headings.append(Heading(int(token.tag[1]), str(token.attrGet("id")), text.strip(), line))
        if token.tag == "h1":
            report(state.env, line, "use ## for sections: the title is the page's only # heading")
        if not text.strip():
            report(state.env, line, "a heading needs text")
        if (braces := _BRACES_AT_END.search(inline.content)) and not _PINNED_ID.search(inline.content):
            report(state.env, line, f"'{braces.group().strip()}' is not an id: use a–z, 0–9, - and _ only, such as {{#warm-up}}")
