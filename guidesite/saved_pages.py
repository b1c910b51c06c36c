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
from dataclasses import dataclass
from pathlib import Path

from babel.support import Translations

from .assets import AssetMap
from .bibliography import Source
from .bodies import BodyRenderer
from .content import CONTENT_DIR, editors_own, read_page
from .errors import BuildError, ContentError, ErrorList
from .preview import add_banner
from .site import assemble, Site
from .templates import Templates


@dataclass(frozen=True)
class LastBuild:
    """What a page needs to be rendered as the last good build rendered it."""

    site: Site
    translations: dict[str, Translations]
    assets: AssetMap
    sources: dict[str, Source]
    warnings: tuple[ContentError, ...]  # for the preview's banner: the saved page's are the last build's until the next one


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
        site = assemble(config, pages)
        templates = Templates(site, last.translations, last.assets)
    except BuildError:
        return None
    bodies = BodyRenderer(site, last.translations, last.assets, last.sources)
    files: dict[str, bytes] = {}
    for rel in sorted(saved):
        entry = site.by_rel.get(rel)
        if entry is None or entry.output != last.site.by_rel[rel].output:
            return None  # a new address: the full build moves the page and the links to it
        rendered = bodies.render(entry)
        if rendered.problems:
            return None
        try:
            html = templates.page(entry, rendered.body).encode("utf-8")
        except BuildError:
            return None
        found = [w for w in last.warnings if w.path == f"{CONTENT_DIR}/{rel}"]
        files[entry.output] = add_banner(site, html, found) if found else html
    return files

