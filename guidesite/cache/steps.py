"""The build cache as one layer: the pipeline's steps that reuse what earlier builds made.

The pipeline (guidesite/pipeline.py) calls the cache here and nowhere else, and the steps
themselves (content, render, search) are never given the cache object: each is given
what it is to make, and plain functions to read sources, store HTML or name a page's
fingerprint (which the render workers call; they change nothing in the cache, see
build_cache.py). Each method below decides what can be reused, has the step make the
rest, and records it:

- read_pages: the sources, parsed only where a file changed (sources.py);
- memo: small derived data (catalogs, bibliography, image sizes, warnings) by a key;
- render: the pages whose fingerprint is unchanged come from the cache, the others are
  rendered, and so are the files without a source page;
- check_links: a page whose links passed with the same HTML and the same ids and files
  around it passes again unchecked;
- search: the shards whose pages are unchanged keep their index;
- write: the site is written by hard-linking the objects into place.

Disabled, the same layer stores and finds nothing: the steps then make everything, and
pages keep their bytes. When the build succeeds, what it no longer used is forgotten.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import pickle
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .. import search
from ..assets import AssetMap
from ..errors import ErrorList
from ..output import write_site
from ..render import PageFacts, RenderedSite, check_site_links, facts_from_html, render_pages
from .build_cache import BuildCache
from .dependencies import Dependencies
from .digests import inputs_digest, sha256
from .index import StoredPage

if TYPE_CHECKING:
    from babel.support import Translations

    from ..bibliography import Source
    from ..content import Page
    from ..site import Entry, Site

_T = TypeVar("_T")


class CachedSteps:
    """One build's steps through one project's cache (`enabled=False`: through none)."""

    def __init__(self, root: Path, enabled: bool = True):
        self.cache = BuildCache(root, enabled=enabled)
        self._pages: dict[str, StoredPage] = {}  # the pages of this build by content path, once rendered
        self._facts: dict[str, PageFacts] = {}
        self._rels: set[str] | None = None  # the pages of this build: what the cache keeps after it

    @contextlib.contextmanager
    def opened(self) -> Iterator[CachedSteps]:
        """Hold the cache for one build; what the build did not use is dropped if it succeeds."""
        with self.cache.opened():
            yield self
            if self._rels is not None:
                self.cache.forget_unused(self._rels)

    def read_pages(self, found: list[tuple[Path, str, str]], errors: ErrorList) -> list[Page | None]:
        """For content.load_pages: see BuildCache.read_pages."""
        return self.cache.read_pages(found, errors)

    def memo(self, name: str, key: str, compute: Callable[[], _T]) -> _T:
        return self.cache.memo(name, key, compute)

    def render(self, site: Site, translations: dict[str, Translations], assets: AssetMap,
               sources: dict[str, Source]) -> RenderedSite:
        """Every file of the site made from pages and templates: the pages whose fingerprint
        is unchanged from the cache, the others rendered (see render.render_pages)."""
        cache = self.cache
        cache.use_inputs(inputs_digest(site.config.root, assets))
        inputs = cache.inputs
        dependencies = Dependencies(site, cache)
        pages = self._pages
        todo: list[int] = []
        for index, entry in enumerate(site.entries):
            known = cache.stored(entry.page.rel)
            if known and known.fingerprint == dependencies.fingerprint(entry, known.deps, inputs):
                pages[entry.page.rel] = known
            else:
                todo.append(index)
        extras = cache.extras
        if not (extras and extras[0] == dependencies.fingerprint(None, extras[1], inputs)
                and all(cache.object_intact(digest) for digest in extras[2].values())):
            extras = None

        def stored_as(entry: Entry, deps: tuple[str, ...]) -> tuple[str, str]:
            return cache.source_digest(entry.page.rel), dependencies.fingerprint(entry, deps, inputs)

        made = render_pages(site, translations, assets, sources, todo, extras is None,
                            keep=cache.write_object if cache.enabled else lambda data: (sha256(data), None),
                            stored_as=stored_as, bytecode=cache.jinja_bytecode, facts_of=self.facts_of)
        # What did render is stored even when other pages failed: the next try renders only those.
        data: dict[str, bytes] = {}
        for outcome in made.pages:
            if outcome.stored is not None:
                pages[outcome.rel] = outcome.stored
                cache.store(outcome.rel, outcome.stored, outcome.stamp, outcome.facts)
                if outcome.data is not None:
                    data[outcome.rel] = outcome.data
        extra_files: dict[str, bytes | str] = dict(extras[2]) if extras else {}
        if made.extras is not None:
            extra_files = dict(made.extras.files)
            if cache.enabled:
                extra_files = {name: cache.put_object(content)[0] for name, content in made.extras.files.items()}
                cache.extras = (dependencies.fingerprint(None, made.extras.deps, inputs), made.extras.deps, dict(extra_files),
                                pickle.dumps(made.extras.scans, pickle.HIGHEST_PROTOCOL))
        made.errors.raise_if_any()
        files: dict[str, bytes | str] = {
            e.output: data[e.page.rel] if e.page.rel in data else pages[e.page.rel].html for e in site.entries
        }
        files.update(extra_files)
        extra_scans = made.extras.scans if made.extras is not None else pickle.loads(extras[3])  # type: ignore[index]
        self._rels = {e.page.rel for e in site.entries}
        cited = frozenset(key for page in pages.values() for key in page.citations)
        return RenderedSite(files, cited, pages, frozenset(o.rel for o in made.pages), extra_scans)

    def facts_of(self, rel: str) -> PageFacts:
        """What the link checks need of a page of this build, rendered now or before."""
        if rel not in self._facts:
            page = self._pages[rel]
            data = self.cache.facts(page)
            self._facts[rel] = PageFacts.unpack(data) if data is not None else facts_from_html(self.cache.read_object(page.html))
        return self._facts[rel]

    def check_links(self, site: Site, rendered: RenderedSite, existing: set[str], errors: ErrorList) -> None:
        """render.check_site_links, over the pages it has not passed before.

        When no page's ids and no file name changed since the last build whose links passed,
        a page that passed then with the same HTML passes again: only the others are checked.
        """
        pages = rendered.pages
        rels = sorted(e.page.rel for e in site.entries)
        state = sha256("\n".join([f"{rel} {pages[rel].ids}" for rel in rels] + sorted(existing)).encode())
        passed = self.cache.links_passed(state)
        before = len(errors.items)
        check_site_links(site, rendered, existing, [rel for rel in rels if passed.get(rel) != pages[rel].html],
                         self.facts_of, errors)
        if len(errors.items) == before:
            self.cache.set_links_passed(state, {rel: pages[rel].html for rel in rels})

    def search(self, site: Site, files: Mapping[str, bytes | str], errors: ErrorList) -> dict[str, bytes | str]:
        """Each language's search bundle (see guidesite/search.py): a shard whose key is
        unchanged keeps its index, the others are indexed together."""
        cache = self.cache
        shards = search.search_shards(site, files, errors)
        if errors.items:
            return {}
        keys = search.shard_keys(shards)
        made: dict[search.Shard, Mapping[str, bytes | str]] = {}
        for shard, key in keys.items():
            known = cache.derived_files(_shard_name(shard), key)
            if known is not None:
                made[shard] = known
        todo = {shard: pages for shard, pages in shards.items() if shard not in made}
        if todo:
            # Beside the cache's objects when there is a cache, so that pages are hard-linked, not copied.
            indexed = search.index_shards(site, todo, errors, cache.object_path if cache.enabled else None,
                                          cache.folder if cache.enabled else None)
            if errors.items:
                return {}
            for shard in todo:
                made[shard] = cache.store_derived_files(_shard_name(shard), keys[shard], indexed[shard])
        return search.bundle(site.config.codes, made)

    def warnings(self, site: Site, rendered: RenderedSite, today: dt.date, find: Callable[[], list[Any]]) -> list[Any]:
        """find(): the warnings, which follow from the pages as rendered, site.yaml, the
        bibliography and the day; the same as the last build's while those are."""
        state = self.cache.rendered_state([e.page.rel for e in site.entries], rendered.pages)
        return list(self.memo("warnings", f"{state} {today.isoformat()}", find))

    def read(self, content: bytes | str) -> bytes:
        """A file's bytes from its entry in the site's files: bytes, or the digest of an object."""
        return content if isinstance(content, bytes) else self.cache.read_object(content)

    def files(self, files: Mapping[str, bytes | str]) -> SiteFiles:
        """The site's files by path, read from the cache when asked for."""
        return SiteFiles(files, self.read)

    def write(self, out_dir: Path, files: Mapping[str, bytes | str], assets: AssetMap) -> None:
        """Write the whole site atomically: with the cache, by linking its objects into place."""
        if self.cache.enabled:
            self.cache.write_site(out_dir, {**files, **{a.output: a.data for a in assets.assets.values()}})
        else:
            write_site(out_dir, {name: content for name, content in files.items() if isinstance(content, bytes)}, assets)


class SiteFiles(Mapping[str, bytes]):
    """The site's files by path, each read (an object checked against its digest) when asked for."""

    def __init__(self, files: Mapping[str, bytes | str], read: Callable[[bytes | str], bytes]):
        self._files, self._read = files, read

    def __getitem__(self, name: str) -> bytes:
        return self._read(self._files[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


def _shard_name(shard: search.Shard) -> str:
    return f"search:{shard.lang}:{shard.number}"
