"""Markdown to HTML with markdown-it-py: our plugins, link resolution and source lines.

`parse` reports what is wrong in a page by itself; `render` resolves its links and
renders it. A link to another page's heading can only be checked once every page is
known, so `render` returns it as a NeededId for the render step to check at the end.
markdown-it is imported when the first Markdown instance is made: a rebuild that renders
no page does not load it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from .care_cards import check_care_card, mark_care_headings
from .config import CareNumbers
from .i18n import language_name, text_direction
from .placeholders import PLACEHOLDER
from .slugs import slugify

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

CALLOUTS = ("note", "warning")
_PINNED_ID = re.compile(r"\s*\{#([a-z0-9][a-z0-9_-]*)\}\s*$")
_BRACES_AT_END = re.compile(r"\s*\{#[^{}]*\}\s*$")  # meant as a pinned id, valid or not
_LOST_FOOTNOTE = re.compile(r"\[\^[^\]\s]+\]")  # left as text by the plugin: no definition
_CITATION = re.compile(r"\[(@[A-Za-z0-9][\w-]*(?:\s*;\s*@[A-Za-z0-9][\w-]*)*)\]")


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str
    line: int = 1  # 1-based line in the Markdown body


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based line in the Markdown body
    message: str


@dataclass
class ParsedMarkdown:
    """The token stream of one page plus what other pages need to know about it."""

    tokens: list[Token]
    env: dict[str, Any]
    headings: list[Heading]
    problems: list[Problem]


@dataclass(frozen=True)
class Resolved:
    """What a link target became: a URL, or a problem to report."""

    url: str | None = None
    problem: str | None = None
    # A link into another page's heading: (content path, id). Whether that page has the id
    # is known only once every page is rendered, so the render step checks it afterwards.
    needs_id: tuple[str, str] | None = None
    size: tuple[int, int] | None = None  # an image's width and height: the page keeps its place
    lang: str | None = None  # a page in another language than this one's (one not translated yet)


@dataclass(frozen=True)
class NeededId:
    """A link to a heading of another page, to check once all pages are known."""

    line: int  # 1-based line in the Markdown body
    href: str
    target: str  # content path of the linked page
    id: str


@dataclass
class RenderContext:
    """Per-page callbacks and labels the renderer needs; given by the render step."""

    resolve_link: Callable[[str], Resolved]  # "ursachen.md#zerrung" -> URL
    resolve_image: Callable[[str], Resolved]  # "assets/img/plank.svg" -> URL
    known_citation: Callable[[str], bool]
    gettext: Callable[[str], str]
    publisher_html: str
    citation_hint: Callable[[str], str] = lambda key: ""  # " (did you mean …?)" for an unknown key
    citations: list[str] = field(default_factory=list)  # keys, in order of first citation
    problems: list[Problem] = field(default_factory=list)
    needed_ids: list[NeededId] = field(default_factory=list)


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    citations: list[str]
    problems: list[Problem]
    needed_ids: tuple[NeededId, ...] = ()


_LINE_BREAKS = ("softbreak", "hardbreak")
# A language tag as BCP 47 writes it (de, en-GB, la): the only attribute editors may set.
_LANG_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


def _line_of(token: Token) -> int:
    return (token.map[0] + 1) if token.map else 1


def _pin_heading_ids(state: Any) -> None:
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


def _container_validate(name: str) -> Callable[[str, str], bool]:
    return lambda params, _markup: params.strip().split(" ", 1)[0] == name


def _any_other_container(params: str, _markup: str) -> bool:
    first = params.strip().split(" ", 1)[0]
    return first not in (*CALLOUTS, "care", "publisher")


class Markdown:
    """One configured markdown-it instance per language, reused for every page."""

    def __init__(self, lang: str, quotes: tuple[str, str, str, str], numbers: CareNumbers | None = None):
        """quotes: the language's quotation marks (site.yaml); numbers: what this edition's care
        cards must name (none: not checked)."""
        self.lang, self.numbers = lang, numbers
        from markdown_it import MarkdownIt
        from mdit_py_plugins.anchors import anchors_plugin
        from mdit_py_plugins.attrs import attrs_plugin
        from mdit_py_plugins.container import container_plugin
        from mdit_py_plugins.footnote import footnote_plugin

        md = MarkdownIt(
            "commonmark",
            # Raw HTML is parsed (not passed through) so that we can report it as an error.
            {"html": True, "typographer": True, "quotes": list(quotes)},
        )
        md.enable(["table", "strikethrough", "replacements", "smartquotes"])
        # markdown-it leaves a javascript:, vbscript: or data: link as plain text without a
        # word; letting every link through makes _resolve_href and the image resolver see
        # it, refuse it with an error and its line, and render it harmless ("#", "").
        md.validateLink = lambda url: True
        md.use(footnote_plugin)
        for name in CALLOUTS:
            md.use(container_plugin, name=name, validate=_container_validate(name))
        md.use(container_plugin, name="care", validate=_container_validate("care"))
        md.use(container_plugin, name="publisher", validate=_container_validate("publisher"))
        md.use(container_plugin, name="unknown", validate=_any_other_container)
        md.core.ruler.after("block", "pin_heading_ids", _pin_heading_ids)
        md.use(anchors_plugin, min_level=1, max_level=6, slug_func=slugify)
        # `[Leitlinie]{lang=de}` marks words in another language (WCAG 3.1.2): a span, or a
        # link or image the braces follow. Every other attribute is dropped.
        md.use(attrs_plugin, spans=True, allowed=["lang"])
        md.inline.ruler.before("link", "citation", _citation_rule)
        direction = text_direction(lang)
        md.core.ruler.push("mark_direction", lambda state: _mark_direction(state, direction))
        self._install_renderers(md)
        self.md = md

    def parse(self, body: str) -> ParsedMarkdown:
        """Tokenise a page body and report what is wrong in it independently of other pages."""
        env: dict[str, Any] = {}
        tokens = self.md.parse(body, env)
        problems: list[Problem] = []
        headings: list[Heading] = []
        blocks: list[Token] = []  # the ::: blocks open at this point
        for i, token in enumerate(tokens):
            if token.type.startswith("container_"):
                if token.nesting == 1:
                    blocks.append(token)
                elif blocks:
                    opening = blocks.pop()
                    if not token.markup:  # closed by the end of the page, not by a line of :::
                        problems.append(Problem(_line_of(opening), f"'{opening.markup} {opening.info.strip()}' is never closed: end the block with a line of :::"))
            if token.type == "heading_open":
                inline = tokens[i + 1]
                text = "".join(c.content for c in inline.children or [] if c.type in ("text", "code_inline"))
                headings.append(Heading(int(token.tag[1]), str(token.attrGet("id")), text.strip(), _line_of(token)))
                if token.tag == "h1":
                    problems.append(Problem(_line_of(token), "use ## for sections: the title is the page's only # heading"))
                if not text.strip():
                    problems.append(Problem(_line_of(token), "a heading needs text"))
                if (braces := _BRACES_AT_END.search(inline.content)) and not _PINNED_ID.search(inline.content):
                    problems.append(Problem(_line_of(token), f"'{braces.group().strip()}' is not an id: use a–z, 0–9, - and _ only, such as {{#warm-up}}"))
            elif token.type == "html_block":
                problems.append(Problem(_line_of(token), "raw HTML is not allowed: write Markdown instead"))
            elif token.type == "container_unknown_open":
                name = token.info.strip().split(" ", 1)[0] or "(none)"
                problems.append(Problem(_line_of(token), f"unknown block '::: {name}' (use note, warning, care or publisher)"))
            elif token.type == "container_care_open":
                problems.extend(Problem(line, message) for line, message in check_care_card(tokens, i, self.numbers))
            elif token.type == "inline":
                line = _line_of(token)
                for child in token.children or []:
                    if child.type in _LINE_BREAKS:
                        line += 1
                    elif child.type == "html_inline":
                        problems.append(Problem(line, f"raw HTML is not allowed: {child.content[:40]}"))
                    elif child.type == "image" and not child.children:
                        problems.append(Problem(line, "an image needs a description (alt text): ![what it shows](…)"))
                    elif child.type == "text" and "[^" in child.content and (note := _LOST_FOOTNOTE.search(child.content)):
                        problems.append(Problem(line, f"footnote {note.group()} has no text: add a line '{note.group()}: …' below the paragraph"))
                    if child.nesting >= 0 and "lang" in child.attrs and not _LANG_TAG.fullmatch(str(child.attrs["lang"])):
                        problems.append(Problem(line, f"lang={child.attrs['lang']!r} is not a language code such as de or en-GB"))
        return ParsedMarkdown(tokens, env, headings, problems)

    def render(self, parsed: ParsedMarkdown, ctx: RenderContext) -> RenderedMarkdown:
        """Resolve links, images and citations, then render; problems carry body lines."""
        env = dict(parsed.env)
        env["ctx"] = ctx
        for i, token in enumerate(parsed.tokens):
            if token.type == "heading_open":
                self._check_care_heading(parsed.tokens, i, ctx)
            if token.type != "inline":
                continue
            # Counting line breaks as they pass keeps this linear in a paragraph's length.
            line = _line_of(token)
            for child in token.children or []:
                if child.type in _LINE_BREAKS:
                    line += 1
                elif child.type == "link_open":
                    self._resolve_href(child, line, ctx)
                elif child.type == "image":
                    resolved = ctx.resolve_image(str(child.attrGet("src")))
                    if resolved.problem:
                        ctx.problems.append(Problem(line, resolved.problem))
                    child.attrSet("src", resolved.url or "")
                    if resolved.size:
                        child.attrSet("width", str(resolved.size[0]))
                        child.attrSet("height", str(resolved.size[1]))
                elif child.type == "citation":
                    for key in child.meta["keys"]:
                        if not ctx.known_citation(key):
                            ctx.problems.append(Problem(line, f"unknown source [@{key}]{ctx.citation_hint(key)}: add it to content/sources.yaml"))
                        elif key not in ctx.citations:
                            ctx.citations.append(key)
        html = self.md.renderer.render(parsed.tokens, self.md.options, env)
        return RenderedMarkdown(html, list(ctx.citations), list(ctx.problems), tuple(ctx.needed_ids))

    def _check_care_heading(self, tokens: list[Token], index: int, ctx: RenderContext) -> None:
        heading = tokens[index]
        level = heading.meta.get("care_level")
        if not level:
            return
        inline = tokens[index + 1]
        ending = ctx.gettext("if:")
        if not inline.content.rstrip().endswith(ending):
            ctx.problems.append(Problem(_line_of(heading), f"a care card's heading ends with '{ending}'"))

    @staticmethod
    def _resolve_href(token: Token, line: int, ctx: RenderContext) -> None:
        href = str(token.attrGet("href") or "")
        if re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I):
            if not href.lower().startswith(("http:", "https:", "mailto:", "tel:")):
                ctx.problems.append(Problem(line, f"links may only use https, http, mailto or tel: {href[:40]}"))
                token.attrSet("href", "#")
                return
            if href.lower().startswith("http"):
                token.attrSet("rel", "external noopener noreferrer")
                token.attrSet("class", "external")
                token.meta["external"] = True
            return
        resolved = ctx.resolve_link(href)
        if resolved.lang:
            token.attrSet("hreflang", resolved.lang)
            token.meta["lang"] = resolved.lang
        if resolved.problem:
            ctx.problems.append(Problem(line, resolved.problem))
        if resolved.needs_id:
            ctx.needed_ids.append(NeededId(line, href, *resolved.needs_id))
        token.attrSet("href", resolved.url or "#")

    def _install_renderers(self, md: MarkdownIt) -> None:
        rules = md.add_render_rule

        def html_dropped(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
            # Reported as an error by parse(); never rendered, even if a caller ignores errors.
            return escape(tokens[idx].content)

        def callout(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
            token = tokens[idx]
            if token.nesting == -1:
                return "</aside>\n"
            kind = token.type.removeprefix("container_").removesuffix("_open")
            title = token.info.strip().split(" ", 1)
            gettext = env["ctx"].gettext
            default = gettext("Note") if kind == "note" else gettext("Warning")
            label = title[1].strip() if len(title) > 1 else default
            return (
                f'<aside class="callout callout--{kind}">\n'
                f'<p class="callout__title"><strong>{escape(label)}</strong></p>\n'
            )

        def care(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
            token = tokens[idx]
            if token.nesting == -1:
                return "</div>\n"
            level = (token.info.split() + ["", ""])[1]
            return f'<div class="care-card care-card--{escape(level)}">\n'

        def heading_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
            token = tokens[idx]
            out = self.renderToken(tokens, idx, options, env)
            level = token.meta.get("care_level")
            if level:
                gettext = env["ctx"].gettext
                labels = {
                    "emergency": gettext("Emergency:"),
                    "urgent": gettext("Urgent:"),
                    "doctor": gettext("Non-urgent:"),
                }
                out += f'<span class="visually-hidden">{escape(labels[level])} </span>'
            return out

        def publisher(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
            return env["ctx"].publisher_html if tokens[idx].nesting == 1 else ""

        def unknown(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
            return '<div class="unknown-block">\n' if tokens[idx].nesting == 1 else "</div>\n"

        def citation(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
            cited: list[str] = env["ctx"].citations
            hidden = escape(env["ctx"].gettext("Source"))
            links = [
                f'<a href="#source-{escape(key)}"><span class="visually-hidden">{hidden} </span>{cited.index(key) + 1}</a>'
                for key in tokens[idx].meta["keys"]
                if key in cited
            ]
            return f'<sup class="citation">[{", ".join(links)}]</sup>' if links else ""

        def link_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
            # Links cannot nest, so the next link_close belongs to this link_open.
            env["in_external_link"] = bool(tokens[idx].meta.get("external"))
            env["link_language"] = tokens[idx].meta.get("lang")
            return self.renderToken(tokens, idx, options, env)

        def link_close(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
            if env.pop("in_external_link", False):
                hidden = escape(env["ctx"].gettext("(external link)"))
                return f'<span class="visually-hidden"> {hidden}</span></a>'
            if lang := env.pop("link_language", None):
                # The reader learns before following it that the page is in another language.
                name = escape(language_name(lang))
                return f' <span class="link-language">(<span lang="{lang}" dir="{text_direction(lang)}">{name}</span>)</span></a>'
            return "</a>"

        from markdown_it.common.utils import escapeHtml

        def text(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
            content = escapeHtml(tokens[idx].content)  # as markdown-it's own rule does
            if "[" not in content:  # nearly every text: no placeholder to look for
                return content
            # A placeholder left in the text ("[Datum]") is marked as one, never passed off as
            # real text; the build warns about it, and `check --strict` fails.
            return PLACEHOLDER.sub(lambda m: f'<span class="placeholder">{m.group()}</span>', content)

        rules("text", text)
        rules("html_block", html_dropped)
        rules("html_inline", html_dropped)
        for name in CALLOUTS:
            rules(f"container_{name}_open", callout)
            rules(f"container_{name}_close", callout)
        rules("container_care_open", care)
        rules("container_care_close", care)
        rules("container_publisher_open", publisher)
        rules("container_publisher_close", publisher)
        rules("container_unknown_open", unknown)
        rules("container_unknown_close", unknown)
        rules("heading_open", heading_open)
        rules("citation", citation)
        rules("link_open", link_open)
        rules("link_close", link_close)
        md.core.ruler.push("mark_care_headings", mark_care_headings)


def _mark_direction(state: Any, direction: str) -> None:
    """Words marked as another language ({lang=ar}) carry that language's direction when it
    differs from the page's, so Arabic in an English page reads right to left."""
    for token in state.tokens:
        for child in token.children or []:
            tag = child.attrs.get("lang") if child.nesting >= 0 else None
            if isinstance(tag, str) and _LANG_TAG.fullmatch(tag) and (other := text_direction(tag)) not in (direction, "auto"):
                child.attrSet("dir", other)
