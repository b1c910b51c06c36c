"""Rendering every page's Markdown body, with links checked against every other page."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlsplit

from babel.support import Translations

from .assets import ASSETS_DIR, AssetMap
from .bibliography import Source
from .content import CONTENT_DIR
from .errors import ErrorList
from .markdown import Heading, Markdown, ParsedMarkdown, RenderContext, Resolved
from .site import Entry, Site


@dataclass(frozen=True)
class Body:
    """A page's rendered Markdown and what the templates show around it."""

    html: str
    headings: list[Heading]
    citations: list[Source]


def publisher_html(site: Site, gettext) -> str:
    """The publisher's details from site.yaml; [bracketed] values are marked as placeholders."""
    p = site.config.publisher

    def value(key: str) -> str:
        text = escape(p[key])
        if p[key].startswith("[") and p[key].endswith("]"):
            return f'<span class="placeholder">{text}</span>'
        return text

    email, phone = escape(gettext("Email")), escape(gettext("Phone"))
    responsible = escape(gettext("Responsible for the content"))
    rows = [
        value("name"),
        value("street"),
        f'{value("postal_code")} {value("city")}',
        value("country"),
        f"{email}: {value('email')}",
        f"{phone}: {value('phone')}",
        f"{responsible}: {value('responsible_person')}",
    ]
    return '<address class="publisher">\n' + "<br>\n".join(rows) + "\n</address>\n"


def render_bodies(
    site: Site,
    translations: dict[str, Translations],
    assets: AssetMap,
    sources: dict[str, Source],
) -> dict[str, Body]:
    """Parse all pages, then render each; returns bodies by content path or raises BuildError."""
    root = site.config.root
    errors = ErrorList(root)
    renderers = {code: Markdown(code) for code in site.config.codes}
    parsed: dict[str, ParsedMarkdown] = {}
    ids: dict[str, set[str]] = {}
    for entry in site.entries:
        result = renderers[entry.lang].parse(entry.page.body)
        parsed[entry.page.rel] = result
        ids[entry.page.rel] = {h.id for h in result.headings}
        for problem in result.problems:
            errors.add(root / CONTENT_DIR / entry.page.rel, entry.page.body_line + problem.line - 1, problem.message)

    bodies: dict[str, Body] = {}
    publisher = {code: publisher_html(site, translations[code].gettext) for code in site.config.codes}
    for entry in site.entries:
        ctx = RenderContext(
            resolve_link=lambda href, e=entry: _resolve_link(site, ids, e, href),
            resolve_image=lambda src, e=entry: _resolve_image(assets, e, src),
            known_citation=sources.__contains__,
            gettext=translations[entry.lang].gettext,
            publisher_html=publisher[entry.lang],
        )
        result = renderers[entry.lang].render(parsed[entry.page.rel], ctx)
        for problem in result.problems:
            errors.add(root / CONTENT_DIR / entry.page.rel, entry.page.body_line + problem.line - 1, problem.message)
        bodies[entry.page.rel] = Body(
            result.html, parsed[entry.page.rel].headings, [sources[k] for k in result.citations]
        )
    errors.raise_if_any()
    return bodies


def _resolve_link(site: Site, ids: dict[str, set[str]], entry: Entry, href: str) -> Resolved:
    parts = urlsplit(href)
    path, fragment = unquote(parts.path), unquote(parts.fragment)
    if not path:
        if fragment and fragment not in ids[entry.page.rel]:
            return Resolved(problem=f"no heading with id '#{fragment}' on this page")
        return Resolved(url=href)
    if path.startswith("/") or not path.endswith(".md"):
        return Resolved(problem=f"link to '{href}': link to another page by its file, such as 'ursachen.md'")
    target_rel = posixpath.normpath(posixpath.join(posixpath.dirname(entry.page.rel), path))
    target = site.by_rel.get(target_rel)
    if target is None:
        if (site.config.root / CONTENT_DIR / target_rel).is_file():
            return Resolved(problem=f"link to '{href}': content/{target_rel} is a draft and not in this build")
        return Resolved(problem=f"link to '{href}': there is no page content/{target_rel}")
    if fragment and fragment not in ids[target_rel]:
        return Resolved(problem=f"link to '{href}': content/{target_rel} has no heading with id '#{fragment}'")
    return Resolved(url=target.path + (f"#{fragment}" if fragment else ""))


def _resolve_image(assets: AssetMap, entry: Entry, src: str) -> Resolved:
    path = unquote(urlsplit(src).path)
    prefix = ASSETS_DIR + "/"
    if not path.startswith(prefix):
        return Resolved(problem=f"image '{src}': write its path in the repository, such as assets/img/plank.svg")
    name = path[len(prefix):]
    if name not in assets.assets:
        return Resolved(problem=f"image '{src}' does not exist")
    return Resolved(url=assets.url(name))
