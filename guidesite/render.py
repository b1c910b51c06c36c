"""The render step: each page's Markdown body, its template and the checks on the page alone.

Pages are rendered in worker processes (guidesite/parallel.py), each of which has the
site, the Markdown and the Jinja environments from the start and sends back plain data.
A page whose fingerprint the build cache knows is not rendered at all: its HTML from the
previous build is the same (see guidesite/cache/). The link checks that need every page
run afterwards, over what each page's scan found.
"""
from __future__ import annotations

import functools
import pickle
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from babel.support import Translations

from .assets import AssetMap
from .bibliography import Source
from .cache import BuildCache, Dependencies, StoredPage, facts_digest, recording_site, sha256
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


@dataclass(frozen=True)
class _Outcome:
    """A worker's answer for one page: how it is stored (with its bytes without a cache), or its problems."""

    rel: str
    heading_ids: frozenset[str]
    needed_ids: tuple[NeededId, ...]
    problems: tuple[ContentError, ...] = ()
    stored: StoredPage | None = None
    facts: bytes = b""  # pickled PageFacts of a stored page
    stamp: tuple[int, int, int] | None = None
    data: bytes | None = None


class _Job:
    """Everything a worker needs to render a page, set up before the workers start; the
    Markdown and Jinja environments only when a page is to be rendered (a rebuild that
    renders nothing neither makes them nor loads their libraries)."""

    def __init__(self, site: Site, translations: dict[str, Translations], assets: AssetMap,
                 sources: dict[str, Source], cache: BuildCache):
        self.site, self.cache, self.inputs = site, cache, cache.inputs
        self.translations, self.assets, self.sources = translations, assets, sources
        self.dependencies = Dependencies(site, cache)
        self.host = own_host(site.config.base_url)

    @functools.cached_property
    def templates(self) -> Templates:
        from .templates import Templates

        return Templates(self.site, self.translations, self.assets, self.cache.jinja_bytecode())

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

    def render(self, index: int) -> _Outcome:
        entry = self.site.entries[index]
        rel = entry.page.rel
        errors = ErrorList(self.site.config.root)
        # Body and template see the site through a view that records every lookup, so the
        # page's fingerprint covers each other page they looked at.
        deps: set[str] = set()
        rendered = self.bodies.render(entry, recording_site(self.site, deps, links_only=True))
        heading_ids = frozenset(h.id for h in rendered.body.headings)
        failed = _Outcome(rel, heading_ids, rendered.needed_ids)  # with the problems added below
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
        digest, stamp = self.cache.write_object(data) if self.cache.enabled else (sha256(data), None)
        stored = StoredPage(
            source=self.cache.source_digest(rel),
            fingerprint=self.dependencies.fingerprint(entry, ordered, self.inputs),
            deps=ordered,
            html=digest,
            citations=tuple(s.key for s in rendered.body.citations),
            ids=_ids_digest(heading_ids, scan.ids),
            facts=facts_digest(facts),
            outline=rendered.outline,
        )
        return replace(failed, stored=stored, facts=facts, stamp=stamp, data=None if self.cache.enabled else data)


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


def render_pages(site: Site, translations: dict[str, Translations], assets: AssetMap,
                 sources: dict[str, Source], cache: BuildCache) -> RenderedSite:
    """Render the pages the cache cannot supply, in parallel; raises BuildError with every problem."""
    job = _Job(site, translations, assets, sources, cache)
    pages: dict[str, StoredPage] = {}
    todo: list[int] = []
    for index, entry in enumerate(site.entries):
        known = cache.stored(entry.page.rel)
        if known and known.fingerprint == job.dependencies.fingerprint(entry, known.deps, job.inputs):
            pages[entry.page.rel] = known
        else:
            todo.append(index)
    if todo:  # made once, before the workers fork, and inherited by each (not made once a process)
        _ = job.templates, job.bodies
    # The files without a source page are made here while the workers render.
    extra_errors = ErrorList(site.config.root)
    made: list[tuple[dict[str, bytes | str], dict[str, PageScan]]] = []
    outcomes = map_in_workers(job.render, todo, meanwhile=lambda: made.append(_extras(job, extra_errors)), label="pages rendered")

    errors = ErrorList(site.config.root)
    data: dict[str, bytes] = {}
    for outcome in outcomes:
        errors.items.extend(outcome.problems)
        if outcome.stored is not None:
            pages[outcome.rel] = outcome.stored
            cache.store(outcome.rel, outcome.stored, outcome.stamp, outcome.facts)
            if outcome.data is not None:
                data[outcome.rel] = outcome.data
    if errors.items:
        # A page with problems is not stored: its links to other pages' headings are checked
        # here, so that the editor sees them with the rest.
        heading_ids = {o.rel: o.heading_ids for o in outcomes}
        for outcome in outcomes:
            if outcome.stored is None:
                _check_needed_ids(site, outcome.rel, outcome.needed_ids,
                                  lambda rel: heading_ids[rel] if rel in heading_ids else _facts(cache, pages[rel]).heading_ids, errors)
    extras, extra_scans = made[0]
    errors.items.extend(extra_errors.items)
    errors.raise_if_any()
    files: dict[str, bytes | str] = {
        e.output: data[e.page.rel] if e.page.rel in data else pages[e.page.rel].html for e in site.entries
    }
    files.update(extras)
    cited = frozenset(key for page in pages.values() for key in page.citations)
    return RenderedSite(files, cited, pages, frozenset(o.rel for o in outcomes), extra_scans)


def _extras(job: _Job, errors: ErrorList) -> tuple[dict[str, bytes | str], dict[str, PageScan]]:
    """The files without a source page, and the scans of the HTML ones; from the cache if it can."""
    cache = job.cache
    known = cache.extras
    if known and known[0] == job.dependencies.fingerprint(None, known[1], job.inputs) \
            and all(cache.object_intact(digest) for digest in known[2].values()):
        return dict(known[2]), pickle.loads(known[3])
    deps: set[str] = set()
    extras: dict[str, bytes | str] = dict(job.templates.extras(recording_site(job.site, deps, fronts_only=True)))
    scans = {name: job.check(name, data.decode("utf-8"), errors) for name, data in extras.items() if name.endswith(".html")}
    if cache.enabled and not errors.items:
        extras = {name: cache.put_object(data)[0] for name, data in extras.items()}  # type: ignore[arg-type]
        ordered = tuple(sorted(deps))
        cache.extras = (job.dependencies.fingerprint(None, ordered, job.inputs), ordered, dict(extras),
                        pickle.dumps(scans, pickle.HIGHEST_PROTOCOL))
    return extras, scans


def check_site_links(site: Site, rendered: RenderedSite, existing: set[str], cache: BuildCache, errors: ErrorList) -> None:
    """Links between pages: the bodies' links to headings, and every href and src in the HTML.

    When no page's ids and no file name changed since the last build whose links passed,
    a page that passed then with the same HTML passes again: only the others are checked.
    """
    pages = rendered.pages
    outputs = {e.page.rel: e.output for e in site.entries}
    state = sha256("\n".join([f"{rel} {pages[rel].ids}" for rel in sorted(outputs)] + sorted(existing)).encode())
    passed = cache.links_passed(state)
    check = sorted(rel for rel in outputs if passed.get(rel) != pages[rel].html)
    facts: dict[str, PageFacts] = {}

    def facts_of(rel: str) -> PageFacts:
        if rel not in facts:
            facts[rel] = _facts(cache, pages[rel])
        return facts[rel]

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
    if not errors.items:
        cache.set_links_passed(state, {rel: pages[rel].html for rel in outputs})


def _facts(cache: BuildCache, page: StoredPage) -> PageFacts:
    data = cache.facts(page)
    if data is not None:
        return PageFacts.unpack(data)
    # Lost from the cache: what the HTML itself tells (its links are then checked there).
    scan = scan_page(cache.read_object(page.html).decode("utf-8"))
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
