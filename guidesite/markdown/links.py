"""Links and images: each resolved through the page's RenderContext as it renders (another
page by its file, an image by its path in the repository), external links marked as such,
and any scheme but https, http, mailto and tel refused."""
from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING, Any

from ..i18n import language_name, text_direction
from .model import NeededId, Problem, RenderContext

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def links_plugin(md: MarkdownIt) -> None:
    """Resolution and rendering of links and images; problems go to env["ctx"]."""
    # markdown-it leaves a javascript:, vbscript: or data: link as plain text without a
    # word; letting every link through makes _resolve_href and the image resolver see
    # it, refuse it with an error and its line, and render it harmless ("#", "").
    md.validateLink = lambda url: True
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    md.add_render_rule("image", _image)


def _resolve_href(token: Token, ctx: RenderContext) -> None:
    href, line = str(token.attrGet("href") or ""), token.meta["line"]
    if _SCHEME.match(href):
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


def _link_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    _resolve_href(tokens[idx], env["ctx"])
    # Links cannot nest, so the next link_close belongs to this link_open.
    env["in_external_link"] = bool(tokens[idx].meta.get("external"))
    env["link_language"] = tokens[idx].meta.get("lang")
    return self.renderToken(tokens, idx, options, env)


def _link_close(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    if env.pop("in_external_link", False):
        hidden = escape(env["ctx"].gettext("(external link)"))
        return f'<span class="visually-hidden"> {hidden}</span></a>'
    if lang := env.pop("link_language", None):
        # The reader learns before following it that the page is in another language.
        name = escape(language_name(lang))
        return f' <span class="link-language">(<span lang="{lang}" dir="{text_direction(lang)}">{name}</span>)</span></a>'
    return "</a>"


def _image(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token, ctx = tokens[idx], env["ctx"]
    resolved = ctx.resolve_image(str(token.attrGet("src")))
    if resolved.problem:
        ctx.problems.append(Problem(token.meta["line"], resolved.problem))
    token.attrSet("src", resolved.url or "")
    if resolved.size:
        token.attrSet("width", str(resolved.size[0]))
        token.attrSet("height", str(resolved.size[1]))
    return self.image(tokens, idx, options, env)  # markdown-it's own rule, which adds the alt text
