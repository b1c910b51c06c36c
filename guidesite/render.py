"""The render step: each page's Markdown body, its template and the checks on the page alone.

Pages are rendered in worker processes (guidesite/parallel.py), each of which has the
site, the Markdown and the Jinja environments from the start and sends back plain data.
Which pages to render, and what the others are, is the build cache's decision
(guidesite/cache/steps.py): this step renders what it is given and hands each page's HTML
to `keep`, which stores it. The link checks that need every page run afterwards, over
what each page's scan found.
"""
from __future__ import annotations

import functools
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from babel.support import Translations

from .assets import AssetMap
from .bibliography import Source
from .cache import StoredPage, facts_digest, recording_site, sha256
from .checks import PageScan, check_disclaimer, check_links, check_loads, check_repeated_ids, own_host, scan_page
from .content import CONTENT_DIR
from .errors import BuildError, ContentError, ErrorList, did_you_mean
from .markdown import Heading, NeededId
from .parallel import map_in_workers
from .site import Entry, Site

if TYPE_CHECKING:  # loaded by render_pages when a page is to be rendered (see there)
    from .bodies import BodyRenderer
    from .templates import Templates


@dataclass(frozen=True)
class PageFacts:
    """What the site-wide checks need to know about one built page."""

    heading_ids: frozenset[str]  # for links from other pages' bodies to this one's headings
    needed_ids: tuple[NeededId, ...]  # this body's links to other pages' headings
    scan: PageScan  # without the URLs it loads: check_loads, which needs them, is done

    def pack(self) -> bytes:
        """Pickled as plain tuples, which load several times faster than dataclasses."""
        needed = tuple((n.line, n.href, n.target, n.id) for n in self.needed_ids)
        return pickle.dumps((tuple(self.heading_ids), needed, tuple(self.scan.ids), self.scan.refs), pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def unpack(data: bytes) -> PageFacts:
        heading_ids, needed, ids, refs = pickle.loads(data)
        return PageFacts(frozenset(heading_ids), tuple(NeededId(*n) for n in needed), PageScan(frozenset(ids), refs, ()))


@dataclass(frozen=True)
class RenderedSite:
    """Every file of the site, and what the checks and warnings need from the pages."""

    files: dict[str, bytes | str]  # path in site/ -> its bytes, or the digest of its cache object
    cited: frozenset[str]  # keys of the sources some page cites
    pages: dict[str, StoredPage]  # by content path
    fresh: frozenset[str]  # content paths of the pages rendered in this build
    extra_scans: dict[str, PageScan]  # the HTML files without a source page, by path in site/


# Stores a page's HTML: returns the name it is stored by (its SHA-256) and the stamp the
# build cache is to record, or None for a build without the cache, whose pages keep their bytes.
Keep = Callable[[bytes], tuple[str, tuple[int, int, int] | None]]
# What a page rendered with these lookups (dependency strings) is stored under: the digest
# of its source file and its fingerprint.
StoredAs = Callable[[Entry, tuple[str, ...]], tuple[str, str]]


@dataclass(frozen=True)
class RenderedPage:
    """A worker's answer for one page: how it is stored (with its bytes without a cache), or its problems."""

    rel: str
    heading_ids: frozenset[str]
    needed_ids: tuple[NeededId, ...]
    problems: tuple[ContentError, ...] = ()
    stored: StoredPage | None = None
    facts: bytes = b""  # pickled PageFacts of a stored page
    stamp: tuple[int, int, int] | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class MadeExtras:
    """The files without a source page (404 pages, sitemap, …), as made in this build."""

    files: dict[str, bytes]
    scans: dict[str, PageScan]  # of the HTML ones, for the link check
    deps: tuple[str, ...]  # the lookups into Site they made (fronts only)


@dataclass(frozen=True)
class Rendering:
    """What render_pages made: the pages it was given (those with problems unstored), the
    extras when asked for them and without problems, and every problem found."""

    pages: list[RenderedPage]
    extras: MadeExtras | None
    errors: ErrorList


class _Job:
    """Everything a worker needs to render a page, set up before the workers start; the
    Markdown and Jinja environments only when a page is to be rendered (a rebuild that
    renders nothing neither makes them nor loads their libraries)."""

    def __init__(self, site: Site, translations: dict[str, Translations], assets: AssetMap,
                 sources: dict[str, Source], keep: Keep, stored_as: StoredAs, bytecode: Callable[[], Any]):
        self.site, self.keep, self.stored_as, self.bytecode = site, keep, stored_as, bytecode
        self.translations, self.assets, self.sources = translations, assets, sources
        self.host = own_host(site.config.base_url)

    @functools.cached_property
    def templates(self) -> Templates:
        from .templates import Templates

        return Templates(self.site, self.translations, self.assets, self.bytecode())

    @functools.cached_property
    def bodies(self) -> BodyRenderer:
        from .bodies import BodyRenderer

        return BodyRenderer(self.site, self.translations, self.assets, self.sources)

    def check(self, output: str, text: str, errors: ErrorList, entry: Entry | None = None,
              headings: tuple[Heading, ...] = ()) -> PageScan:
        """The checks on one page alone; returns its scan for the link check."""
        scan = scan_page(text)
        check_disclaimer(output, text, self.templates.disclaimers, errors)
        check_loads(output, scan, self.host, errors)
        if scan.repeated and entry is not None:
            scan = replace(scan, repeated=_repeated_heading_ids(entry, headings, scan.repeated, self.site, errors))
        check_repeated_ids(output, scan, errors)
        return scan

    def render(self, index: int) -> RenderedPage:
        entry = self.site.entries[index]
        rel = entry.page.rel
        errors = ErrorList(self.site.config.root)
        # Body and template see the site through a view that records every lookup, so the
        # page's fingerprint covers each other page they looked at.
        deps: set[str] = set()
        rendered = self.bodies.render(entry, recording_site(self.site, deps, links_only=True))
        heading_ids = frozenset(h.id for h in rendered.body.headings)
        failed = RenderedPage(rel, heading_ids, rendered.needed_ids)  # with the problems added below
        for line, message in rendered.problems:
            errors.add(self.site.config.root / CONTENT_DIR / rel, line, message)
        if errors.items:
            return replace(failed, problems=tuple(errors.items))
        try:
            text = self.templates.page(entry, rendered.body, recording_site(self.site, deps))
        except BuildError as exc:
            return replace(failed, problems=tuple(exc.errors))
        scan = self.check(entry.output, text, errors, entry, tuple(rendered.body.headings))
        if errors.items:
            return replace(failed, problems=tuple(errors.items))
        data = text.encode("utf-8")
        facts = PageFacts(heading_ids, rendered.needed_ids, scan).pack()
        ordered = tuple(sorted(deps))
        digest, stamp = self.keep(data)
        source, fingerprint = self.stored_as(entry, ordered)
        stored = StoredPage(
            source=source,
            fingerprint=fingerprint,
            deps=ordered,
            html=digest,
            citations=tuple(s.key for s in rendered.body.citations),
            ids=_ids_digest(heading_ids, scan.ids),
            facts=facts_digest(facts),
            outline=rendered.outline,
        )
        return replace(failed, stored=stored, facts=facts, stamp=stamp, data=None if stamp else data)


def _repeated_heading_ids(entry: Entry, headings: tuple[Heading, ...], repeated: tuple[tuple[str, int], ...],
                          site: Site, errors: ErrorList) -> tuple[tuple[str, int], ...]:
    """Report an id a heading shares with another heading or with the template at the
    heading's line in the Markdown; returns the repeated ids that are no heading's."""
    path = site.config.root / CONTENT_DIR / entry.page.rel
    lines: dict[str, list[int]] = {}
    for heading in headings:
        lines.setdefault(heading.id, []).append(entry.page.body_line + heading.line - 1)
    for value in dict.fromkeys(value for value, _ in repeated if value in lines):
        first, *others = lines[value]
        for line in others:
            errors.add(path, line, f"the heading on line {first} has the id '{value}' already: pin another with {{#…}}")
        if not others:
            errors.add(path, first, f"the page template uses the id '{value}' too: pin another for this heading with {{#…}}")
    return tuple((value, line) for value, line in repeated if value not in lines)


def _ids_digest(heading_ids: frozenset[str], ids: frozenset[str]) -> str:
    return sha256("\n".join(sorted(ids) + ["#"] + sorted(heading_ids)).encode())[:16]


def render_pages(site: Site, translations: dict[str, Translations], assets: AssetMap, sources: dict[str, Source],
                 todo: Sequence[int], extras: bool, *, keep: Keep, stored_as: StoredAs, bytecode: Callable[[], Any],
                 facts_of: Callable[[str], PageFacts]) -> Rendering:
    """Render the pages at these indexes into site.entries in parallel, and the files without
    a source page if `extras`. A page with problems is not stored; the caller keeps the others
    (worth keeping for the next try) and then raises Rendering.errors. `bytecode` gives Jinja's
    bytecode cache, `facts_of` the facts of a page not rendered here (for a failed page's links)."""
    job = _Job(site, translations, assets, sources, keep, stored_as, bytecode)
    if todo:  # made once, before the workers fork, and inherited by each (not made once a process)
        _ = job.templates, job.bodies
    # The files without a source page are made here while the workers render.
    extra_errors = ErrorList(site.config.root)
    made: list[MadeExtras] = []
    outcomes: list[RenderedPage] = map_in_workers(
        job.render, todo, meanwhile=lambda: made.append(_extras(job, extra_errors)) if extras else None, label="pages rendered")
    errors = ErrorList(site.config.root)
    for outcome in outcomes:
        errors.items.extend(outcome.problems)
    if errors.items:
        # A page with problems is not stored: its links to other pages' headings are checked
        # here, so that the editor sees them with the rest.
        heading_ids = {o.rel: o.heading_ids for o in outcomes}
        for outcome in outcomes:
            if outcome.stored is None:
                _check_needed_ids(site, outcome.rel, outcome.needed_ids,
                                  lambda rel: heading_ids[rel] if rel in heading_ids else facts_of(rel).heading_ids, errors)
    errors.items.extend(extra_errors.items)
    return Rendering(outcomes, made[0] if made and not extra_errors.items else None, errors)


def _extras(job: _Job, errors: ErrorList) -> MadeExtras:
    """The files without a source page, and the scans of the HTML ones."""
    deps: set[str] = set()
    files = job.templates.extras(recording_site(job.site, deps, fronts_only=True))
    scans = {name: job.check(name, data.decode("utf-8"), errors) for name, data in files.items() if name.endswith(".html")}
    return MadeExtras(dict(files), scans, tuple(sorted(deps)))


def check_site_links(site: Site, rendered: RenderedSite, existing: set[str], check: Sequence[str],
                     facts_of: Callable[[str], PageFacts], errors: ErrorList) -> None:
    """Links between pages: the bodies' links to headings, and every href and src in the HTML
    of the pages in `check` (content paths) and of the files without a source page.
    `facts_of` gives a page's facts by its content path."""
    outputs = {e.page.rel: e.output for e in site.entries}
    reported: set[tuple[str, str]] = set()  # (page, URL): its missing heading reported at its Markdown line
    for rel in check:
        missing = _check_needed_ids(site, rel, facts_of(rel).needed_ids, lambda target: facts_of(target).heading_ids, errors)
        reported.update((outputs[rel], url) for url in missing)
    rel_of = {output: rel for rel, output in outputs.items()}

    def ids(output: str) -> frozenset[str] | None:
        if output in rendered.extra_scans:
            return rendered.extra_scans[output].ids
        rel = rel_of.get(output)
        return facts_of(rel).scan.ids if rel else None

    scans = [(outputs[rel], facts_of(rel).scan) for rel in check] + sorted(rendered.extra_scans.items())
    check_links(scans, ids, existing, site.config.base_path, errors, reported)


def facts_from_html(html: bytes) -> PageFacts:
    """What a page's HTML itself tells the link checks, where its facts are lost: its ids and
    links (the links from its body to headings are then checked in the HTML)."""
    scan = scan_page(html.decode("utf-8"))
    return PageFacts(scan.ids, (), scan)


def _check_needed_ids(site: Site, rel: str, links: tuple[NeededId, ...],
                      heading_ids: Callable[[str], frozenset[str]], errors: ErrorList) -> set[str]:
    """Report each link from this page's body to a heading id the linked page does not have;
    returns the URLs those links became in the HTML."""
    entry = site.by_rel[rel]
    missing: set[str] = set()
    for link in links:
        if link.id not in heading_ids(link.target):
            errors.add(site.config.root / CONTENT_DIR / rel, entry.page.body_line + link.line - 1,
                       f"link to '{link.href}': content/{link.target} has no heading with id '#{link.id}'"
                       + did_you_mean(link.id, heading_ids(link.target)))
            missing.add(f"{site.by_rel[link.target].path}#{link.id}")
    return missing
