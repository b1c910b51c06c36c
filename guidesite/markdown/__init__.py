"""Markdown to HTML with markdown-it-py: our plugins, link resolution and source lines.

Each extension is a markdown-it plugin of its own (`plugin(md, **options)`), registering its
rules: `headings` (ids), `containers` (callouts, care cards, the publisher), `languages`
(words in another language), `citations`, `links` (links and images), `placeholders` and
`lint` (what an editor may not write). `parse` reports what is wrong in a page by itself;
`render` resolves its links and renders it. A link to another page's heading can only be
checked once every page is known, so `render` returns it as a NeededId for the render step
to check at the end. markdown-it is imported when the first Markdown instance is made: a
rebuild that renders no page does not load it.
"""
from __future__ import annotations

from typing import Any

from ..config import CareNumbers
from .citations import citations_plugin
from .containers import CALLOUTS, containers_plugin
from .headings import headings_plugin
from .languages import languages_plugin
from .links import links_plugin
from .lint import lint_plugin
from .model import (HEADINGS, PROBLEMS, Heading, NeededId, ParsedMarkdown, Problem, RenderContext, RenderedMarkdown,
                    Resolved, mark_source_lines)
from .placeholders import placeholders_plugin

__all__ = ["CALLOUTS", "Heading", "Markdown", "NeededId", "ParsedMarkdown", "Problem", "RenderContext",
           "RenderedMarkdown", "Resolved"]


class Markdown:
    """One configured markdown-it instance per language, reused for every page."""

    def __init__(self, lang: str, quotes: tuple[str, str, str, str], numbers: CareNumbers | None = None):
        """quotes: the language's quotation marks (site.yaml); numbers: what this edition's care
        cards must name (none: not checked)."""
        from markdown_it import MarkdownIt
        from mdit_py_plugins.footnote import footnote_plugin

        md = MarkdownIt(
            "commonmark",
            # Raw HTML is parsed (not passed through) so that we can report it as an error.
            {"html": True, "typographer": True, "quotes": list(quotes)},
        )
        md.enable(["table", "strikethrough", "replacements", "smartquotes"])
        md.use(links_plugin)
        md.use(footnote_plugin)
        # After every rule that makes or moves inline tokens (footnote_tail, text_join),
        # before every rule below that reports a problem at a line.
        md.core.ruler.push("source_lines", mark_source_lines)
        md.use(headings_plugin)
        md.use(containers_plugin, numbers=numbers)
        md.use(languages_plugin, lang=lang)
        md.use(citations_plugin)
        md.use(placeholders_plugin)
        md.use(lint_plugin)
        self.md = md

    def parse(self, body: str) -> ParsedMarkdown:
        """Tokenise a page body and report what is wrong in it independently of other pages."""
        env: dict[str, Any] = {}
        tokens = self.md.parse(body, env)
        problems: list[Problem] = env.pop(PROBLEMS, [])
        # By line; on one line, in the order the plugins' rules ran (headings, containers, lint).
        problems.sort(key=lambda p: p.line)
        return ParsedMarkdown(tokens, env, env.pop(HEADINGS, []), problems)

    def render(self, parsed: ParsedMarkdown, ctx: RenderContext) -> RenderedMarkdown:
        """Resolve links, images and citations while rendering; problems carry body lines."""
        env = dict(parsed.env)
        env["ctx"] = ctx
        html = self.md.renderer.render(parsed.tokens, self.md.options, env)
        return RenderedMarkdown(html, list(ctx.citations), list(ctx.problems), tuple(ctx.needed_ids))
