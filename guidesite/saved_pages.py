"""The preview's first answer to a save: the saved pages alone, rendered against the last good build.

A full build of thousands of pages takes seconds even when it renders one page anew: it
stats every source, fingerprints every page, checks the links, rewrites the dashboard,
relinks the site and indexes search. An editor who saves wants to see that page. So, as
Hugo's fast render mode does, the preview first renders only the pages just saved, with
the site, templates and catalogs of its last good build, and serves them from memory; the
full build follows on a thread of its own and takes their place when it is done, errors
and all.

Anything this cannot render as the full build would — a page added, renamed or deleted,
a template, an asset, the configuration, the catalogs, the sources, a page with an error —
returns None, and the editor waits for the full build as before.
"""
from __future__ import annotations

from collections.abc import Iterable
import functools
from dataclasses import dataclass, replace
from pathlib import Path

from babel.support import Translations

from .assets import AssetMap
from .bibliography import Source
from .bodies import BodyRenderer
from .content import CONTENT_DIR, Page, editors_own, read_page
from .errors import BuildError, ContentError, ErrorList
from .preview import add_banner
from .site import Entry, Site, assemble
from .templates import Templates


@dataclass(frozen=True)
class LastBuild:
    """What a page needs to be rendered as the last good build rendered it."""

    site: Site
    translations: dict[str, Translations]
    assets: AssetMap
    sources: dict[str, Source]
    warnings: tuple[ContentError, ...]  # for the preview's banner: the saved page's are the last build's until the next one

    # Made once per build, for every save until the next: both take the site each page is
    # rendered against, and hold nothing of the site's pages themselves.
    @functools.cached_property
    def templates(self) -> Templates:
        return Templates(self.site, self.translations, self.assets)

    @functools.cached_property
    def bodies(self) -> BodyRenderer:
        return BodyRenderer(self.site, self.translations, self.assets, self.sources)


def render_saved(last: LastBuild, root: Path, changed: Iterable[str]) -> dict[str, bytes] | None:
    """The saved pages' HTML by path in the site, with the preview's banner; None if anything
    but existing pages changed, or a saved page has a problem (the full build reports it)."""
    content = (root / CONTENT_DIR).resolve()
    saved: dict[str, Path] = {}
    for name in changed:
        path = Path(name).resolve()
        if editors_own(path.name):
            continue  # a swap or backup file: not part of the site
        if not path.is_relative_to(content) or not path.is_file():
            return None
        rel = path.relative_to(content).as_posix()
        if rel not in last.site.by_rel:
            return None
        saved[rel] = path
    if not saved:
        return None
    config = last.site.config
    errors = ErrorList(root)
    pages = []
    for entry in last.site.entries:
        page = entry.page
        if page.rel in saved:
            page = read_page(saved[page.rel], page.rel, page.lang, errors)
            if page is None:
                return None
        pages.append(page)
    try:
        site = _with_text_changed(last.site, {p.rel: p for p in pages if p.rel in saved}) or assemble(config, pages)
        templates, bodies = last.templates, last.bodies
    except BuildError:
        return None
    files: dict[str, bytes] = {}
    for rel in sorted(saved):
        entry = site.by_rel.get(rel)
        if entry is None or entry.output != last.site.by_rel[rel].output:
            return None  # a new address: the full build moves the page and the links to it
        rendered = bodies.render(entry, site)
        if rendered.problems:
            return None
        try:
            html = templates.page(entry, rendered.body, site).encode("utf-8")
        except BuildError:
            return None
        found = [w for w in last.warnings if w.path == f"{CONTENT_DIR}/{rel}"]
        files[entry.output] = add_banner(site, html, found) if found else html
    return files



# What a page may change and keep its place: the site's structure (addresses, keys, the
# menu's tree and order, drafts) is made of the other fields.
_TEXT_FIELDS = ("title", "description", "short_title", "published", "last_reviewed", "next_review", "reviewer",
                "review_digest", "about", "translation_of", "differences")


def _with_text_changed(site: Site, saved: dict[str, Page]) -> Site | None:
    """The site with the saved pages in place of their old versions, made without assembling
    the site again (a tenth of a second at 5,000 pages) when each saved page changed only its
    text; None when one changed its place (then assemble() places it)."""
    for rel, page in saved.items():
        old = site.by_rel[rel].page
        if replace(old.meta, **{name: getattr(page.meta, name) for name in _TEXT_FIELDS}) != page.meta:
            return None
    moved = {rel: replace(site.by_rel[rel], page=page) for rel, page in saved.items()}

    def new(entry: Entry) -> Entry:
        return moved.get(entry.page.rel, entry)

    return replace(site, entries=[new(e) for e in site.entries],
                   by_key={k: new(e) for k, e in site.by_key.items()},
                   by_rel={k: new(e) for k, e in site.by_rel.items()},
                   children={k: [new(e) for e in group] for k, group in site.children.items()},
                   nav_position=dict(site.nav_position), warnings=list(site.warnings))
