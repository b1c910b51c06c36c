"""Rendering a page's Markdown body, with its links resolved against every other page."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from html import escape
from urllib.parse import unquote, urlsplit

from babel.support import Translations

from .assets import ASSETS_DIR, AssetMap
from .bibliography import Source
from .content import CONTENT_DIR
from .errors import closest, did_you_mean
from .markdown import Heading, Markdown, NeededId, RenderContext, Resolved
from .outline import NumberReader, Outline, outline_of
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


@dataclass(frozen=True)
class RenderedBody:
    """One page's body, with its problems and the links whose targets must be checked later."""

    body: Body
    problems: list[tuple[int, str]]  # (line in the source file, message)
    needed_ids: tuple[NeededId, ...]  # links into other pages' headings
    outline: Outline  # what its translations must share with it


class BodyRenderer:
    """What every body shares (a Markdown instance and labels per language), made once per build."""

    def __init__(self, site: Site, translations: dict[str, Translations], assets: AssetMap, sources: dict[str, Source]):
        self.site, self.translations, self.assets, self.sources = site, translations, assets, sources
        self.markdown = {lang.code: Markdown(lang.code, lang.quotes, site.config.care_numbers(lang.code)) for lang in site.config.languages}
        self.numbers = {lang.code: NumberReader(lang) for lang in site.config.languages}
        self.publisher = {code: publisher_html(site, translations[code].gettext) for code in site.config.codes}

    def render(self, entry: Entry, site: Site | None = None) -> RenderedBody:
        """Parse and render one body; links to other pages' headings are left for a later check.

        `site` is the site as this page may see it (the render step passes a view that
        records what the page looks up); by default the whole site.
        """
        site = site or self.site
        markdown = self.markdown[entry.lang]
        parsed = markdown.parse(entry.page.body)
        own_ids = {h.id for h in parsed.headings}
        ctx = RenderContext(
            resolve_link=lambda href: resolve_link(site, entry, href, own_ids),
            resolve_image=lambda src: _resolve_image(self.assets, entry, src),
            known_citation=self.sources.__contains__,
            citation_hint=lambda key: did_you_mean(key, self.sources),
            gettext=self.translations[entry.lang].gettext,
            publisher_html=self.publisher[entry.lang],
        )
        # Before rendering, which turns links and images into the site's addresses.
        outline = outline_of(parsed.tokens, entry.page.rel, entry.page.body_line, self.numbers[entry.lang])
        result = markdown.render(parsed, ctx)
        first = entry.page.body_line - 1
        problems = [(first + p.line, p.message) for p in parsed.problems + result.problems]
        body = Body(result.html, parsed.headings, [self.sources[k] for k in result.citations])
        return RenderedBody(body, problems, result.needed_ids, outline)


def resolve_link(site: Site, entry: Entry, href: str, own_ids: set[str]) -> Resolved:
    """Where a link in entry's body leads: the target page's URL, or what is wrong with it."""
    parts = urlsplit(href)
    path, fragment = unquote(parts.path), unquote(parts.fragment)
    if not path:
        if fragment and fragment not in own_ids:
            return Resolved(problem=f"no heading with id '#{fragment}' on this page{did_you_mean(fragment, own_ids)}")
        return Resolved(url=href)
    if path.startswith("/") or not path.endswith(".md"):
        return Resolved(problem=f"link to '{href}': link to another page by its file, such as 'ursachen.md'")
    target_rel = posixpath.normpath(posixpath.join(posixpath.dirname(entry.page.rel), path))
    target = site.by_rel.get(target_rel)
    if target is None:
        if (site.config.root / CONTENT_DIR / target_rel).is_file():
            parts = target_rel.split("/")
            # Found by discover, a file in a language's folder is a page: left out, it is a draft.
            if len(parts) > 1 and parts[0] in site.config.codes and not any(p.startswith(("_", ".")) for p in parts):
                return Resolved(problem=f"link to '{href}': content/{target_rel} is a draft and not in this build")
            return Resolved(problem=f"link to '{href}': content/{target_rel} is not a page of the guide")
        return Resolved(problem=f"link to '{href}': there is no page content/{target_rel}{_closest_page(site, entry, target_rel)}")
    other = target.lang if target.lang != entry.lang else None
    if not fragment:
        return Resolved(url=target.path, lang=other)
    return Resolved(url=f"{target.path}#{fragment}", needs_id=(target_rel, fragment), lang=other)


def _closest_page(site: Site, entry: Entry, target_rel: str) -> str:
    """" (did you mean 'x.md'?)" for a page whose path is close, written as a link from entry's page."""
    # Compared below the language folder and without '.md', which every page shares.
    lang, _, below = target_rel.partition("/")
    pages = {rel.partition("/")[2].removesuffix(".md"): rel for rel in site.by_rel if rel.startswith(lang + "/")}
    close = closest(below.removesuffix(".md"), pages)
    if close is None:
        return ""
    return f" (did you mean '{posixpath.relpath(pages[close], posixpath.dirname(entry.page.rel) or '.')}'?)"


def _resolve_image(assets: AssetMap, entry: Entry, src: str) -> Resolved:
    path = unquote(urlsplit(src).path)
    prefix = ASSETS_DIR + "/"
    if not path.startswith(prefix):
        return Resolved(problem=f"image '{src}': write its path in the repository, such as assets/img/plank.svg")
    name = path[len(prefix):]
    if name not in assets.assets:
        return Resolved(problem=f"image '{src}' does not exist")
    return Resolved(url=assets.url(name), size=assets.assets[name].size)
