"""BuildCache: the one object through which a build reads and updates the cache (for
the pipeline's steps in steps.py).

It holds the index for one build (locked, loaded, saved after) and answers from it;
sources.py, objects.py, facts.py and dependencies.py do the work on files. Only the
process that opened the cache changes it: render workers are forked with a copy of it,
which they read, and in which nothing they changed would outlive them. They write objects
with write_object and return the stamps as plain data, which the main process records
(store); anything else that would change the cache in a worker raises (_changed).
"""
from __future__ import annotations

import contextlib
import copy
import functools
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..content import CONTENT_DIR, Page
from ..errors import BuildError, ErrorList
from ..output import write_linked_site
from ..parallel import Ahead, cores
from . import sources
from .digests import code_digest, in_threads, sha256
from .facts import FactsFile
from .index import Extras, Fronts, Index, StoredPage, locked, read_index, write_index, write_stamps
from .objects import ObjectStore, place_name
from .stamps import INODE, Stamp

if TYPE_CHECKING:
    from jinja2 import FileSystemBytecodeCache

CACHE_DIR = Path(".cache") / "guidesite"
# The site before the current one, in hard links to the objects: the next staging folder.
# Beside the cache, not in it: a CI cache step that copies the cache without its hard
# links (zip, cp) would carry a second copy of every page, which the next build deletes
# file by file (at 5,000 pages, seconds on a disk that trims what is deleted).
KEPT_DIR = Path(".cache") / "guidesite-kept"
_NOT_YET: dict[str, Stamp | None] = {}  # no object checked ahead (never changed: replaced when they are)
_T = TypeVar("_T")


class BuildCache:
    """One project's cache. Disabled (`enabled=False`), it stores and finds nothing."""

    def __init__(self, root: Path, enabled: bool = True):
        self.root = root
        self.enabled = enabled
        self.folder = root / CACHE_DIR
        self._objects = ObjectStore(self.folder / "objects")
        self._facts = FactsFile(self.folder / "facts")
        self.trees = root / KEPT_DIR
        self._index = Index()
        self._owner = os.getpid()  # the process that may change the cache: see _changed
        self._source_digests: dict[str, str] = {}  # rel -> digest, for the pages of this build
        self._fronts: dict[str, Fronts] = {}  # rel -> its front matter's digests
        self._used: set[str] = set()  # objects written or linked by this build
        self._dirty = False  # whether the index changed, and must be written
        self._restamped = False  # whether stamps changed, and nothing else (see index.py)
        self._interned: dict[str, str] = {}
        # Objects checked ahead of their use (see _check_all_objects): digest -> its stamp, or None.
        self._checked: dict[str, Stamp | None] = _NOT_YET
        self._restored = False  # whether the cache was restored or copied here (see _load)
        # A restored cache's objects being checked in another process: it, and what it was asked.
        self._ahead: tuple[Ahead, list[tuple[str, Stamp]]] | None = None
        # The sources it knows, hashed in a third: it, and their names (see read_pages).
        self._sources_ahead: tuple[Ahead, list[str]] | None = None

    # -- life cycle ------------------------------------------------------------------

    @contextlib.contextmanager
    def opened(self) -> Iterator[BuildCache]:
        """Hold the cache for one build: locked, loaded (or reset when unusable), saved after."""
        if not self.enabled:
            yield self
            return
        with locked(self.folder):
            self._owner = os.getpid()
            try:
                self._load()
                yield self
            except BuildError:
                self.save()  # the pages that did render are worth keeping for the next try
                raise
            finally:
                self._stop_checking_ahead()
            self.save()

    def _load(self) -> None:
        code = code_digest()
        index = read_index(self.folder)
        if index is None or index.code != code:
            # Nothing in the folder can be trusted without an index that describes it.
            for folder in (self.folder / "objects", self.trees, self.folder / "trees"):  # trees/: where versions before 5 kept them
                shutil.rmtree(folder, ignore_errors=True)
            index = Index(code=code)
            self._changed()
        self._index = index
        # A cache restored or copied elsewhere gives every object another stamp: one stat tells.
        first = next(iter(index.objects.items()), None)
        self._restored = first is not None and self._objects.stamp(first[0]) not in (None, first[1])
        if self._restored and Ahead.forks and cores() > 1:
            # Each file of a restored cache and of the checkout is read and hashed before it is
            # trusted: in other processes, on the other core, while this one finds the sources
            # and assembles the site (see read_pages, _check_all_objects).
            rels = list(index.sources)
            content = self.root / CONTENT_DIR
            # Where that process fails, each file is hashed here as needed (read_pages): no answer.
            self._sources_ahead = (Ahead(sources.hashed, [content / rel for rel in rels], here=lambda path: None), rels)
            asked = list(index.objects.items())
            self._ahead = (Ahead(lambda pair: self._objects.check(*pair), asked), asked)

    def save(self) -> None:
        """Write the index (atomically: a crash leaves the previous one), or only its stamps
        where nothing else changed."""
        if not self.enabled:
            return
        if self._dirty:
            self._facts.save(self._index)
            write_index(self.folder, self._index)
        elif self._restamped:
            write_stamps(self.folder, self._index)
        self._dirty = self._restamped = False

    def _changed(self) -> None:
        """Note that the index is to be written; refused outside the process that opened the cache."""
        self._owner_only()
        self._dirty = True

    def _restamp(self) -> None:
        """Note that stamps changed (see save)."""
        self._owner_only()
        self._restamped = True

    def _owner_only(self) -> None:
        if os.getpid() != self._owner:
            raise RuntimeError("a worker process changed the build cache it inherited: "
                               "workers write objects (write_object) and return their stamps")

    # -- sources -----------------------------------------------------------------------

    def read_pages(self, found: list[tuple[Path, str, str]], errors: ErrorList) -> list[Page | None]:
        """content.read_pages, parsing and checking only the files not seen before (see sources.py)."""
        hashed = None
        if self._sources_ahead is not None:
            ahead, rels = self._sources_ahead
            # Waited for only once a file is found with a new stamp: a cache restored over a
            # checkout that kept its files' stamps needs no answer.
            hashed = functools.cache(lambda: dict(zip(rels, ahead.result())))
        try:
            pages, digests, record = sources.read_pages(found, self._index.sources if self.enabled else {}, errors, hashed)
        finally:
            self._stop_checking_ahead(sources_only=True)
        for rel, (digest, fronts) in digests.items():
            self._source_digests[rel], self._fronts[rel] = digest, fronts
        if self.enabled and record:
            known = self._index.sources
            # Checked out anew, a file unchanged is known by a new stamp, and by nothing else new.
            if any(rel not in known or known[rel][:4] != entry[:4] for rel, entry in record.items()):
                self._changed()
            self._restamp()
            known.update(record)
        return pages

    def source_digest(self, rel: str) -> str:
        return self._source_digests[rel]

    def shown_digest(self, rel: str) -> str:
        """A digest of what other pages show of this one: its title, address and place."""
        return self._fronts[rel][0]

    def front_digest(self, rel: str) -> str:
        """A digest of the page's whole front matter: for what lists each page's details (A–Z, sitemap)."""
        return self._fronts[rel][1]

    # -- small derived data -------------------------------------------------------------

    def memo(self, name: str, key: str, compute: Callable[[], _T]) -> _T:
        """compute(), or its value from an earlier build with the same key."""
        known = self._index.memo.get(name)
        if self.enabled and known and known[0] == key:
            return known[1]
        value = compute()
        if self.enabled:
            self._index.memo[name] = (key, value)
            self._changed()
        return value

    def derived_files(self, name: str, key: str) -> dict[str, str] | None:
        """Files made from the pages (the search index), stored under `key`: path -> object
        digest, or None unless every one of them is intact."""
        known = self._index.memo.get(name) if self.enabled else None
        if not known or known[0] != key or not all(self.object_intact(d) for d in known[1].values()):
            return None
        self._used.update(known[1].values())
        return dict(known[1])

    def store_derived_files(self, name: str, key: str, files: dict[str, bytes]) -> dict[str, bytes | str]:
        """Keep files made from the pages as objects; returns them as the site's files name them."""
        if not self.enabled:
            return dict(files)
        stored = {path: self.put_object(data)[0] for path, data in files.items()}
        self._index.memo[name] = (key, stored)
        self._changed()
        return dict(stored)

    def jinja_bytecode(self) -> FileSystemBytecodeCache | None:
        """Where Jinja keeps compiled templates between builds (it checks them against their source)."""
        if not self.enabled:
            return None
        from jinja2 import FileSystemBytecodeCache  # only when a page is rendered

        (self.folder / "jinja").mkdir(exist_ok=True)
        return FileSystemBytecodeCache(str(self.folder / "jinja"))

    # -- pages ------------------------------------------------------------------------

    def use_inputs(self, inputs: str) -> None:
        """Set the build-wide inputs digest; pages stored under other inputs are dropped."""
        if self._index.inputs != inputs:
            self._stop_checking_ahead()  # no stored page is used: the core is the workers'
            self._changed()
            self._index.pages.clear()
            self._index.extras = None
            self._index.links_state, self._index.links_passed = "", {}
            self._index.inputs = inputs

    @property
    def inputs(self) -> str:
        return self._index.inputs

    def stored(self, rel: str) -> StoredPage | None:
        """The stored page for this source, if its source file is unchanged and its HTML intact."""
        page = self._index.pages.get(rel) if self.enabled else None
        if page is None or page.source != self._source_digests.get(rel) or not self.object_intact(page.html):
            return None
        return page

    def store(self, rel: str, page: StoredPage, stamp: Stamp | None, facts: bytes) -> None:
        """Keep a rendered page, its HTML written by write_object with this stamp; without the
        cache enabled, for this build only."""
        self._facts.add(page.facts, facts)
        if self.enabled and stamp is not None:
            # Most lookups and citations recur on many pages: one string each in the index.
            intern = self._interned.setdefault
            kept = copy.copy(page)  # not replace(): that would unpack the outline a worker sent packed
            kept.__dict__.update(deps=tuple(intern(d, d) for d in page.deps),
                                 citations=tuple(intern(c, c) for c in page.citations))
            self._index.pages[rel] = kept
            self._index.objects[page.html] = stamp
            self._checked.pop(page.html, None)
            self._changed()

    def rendered_state(self, rels: list[str], pages: Mapping[str, StoredPage]) -> str:
        """A digest of the build's inputs and of each page as rendered (its source file and its
        fingerprint), in this order: what is made of all pages together stays the same while it does."""
        digests = self._source_digests
        parts = [self._index.inputs, *(f"{rel} {digests[rel]} {pages[rel].fingerprint}" for rel in rels)]
        return sha256("\n".join(parts).encode())

    def facts(self, page: StoredPage) -> bytes | None:
        """A page's facts for the link checks, or None where they are lost or damaged."""
        return self._facts.read(page.facts, self._index)

    @property
    def extras(self) -> Extras | None:
        return self._index.extras if self.enabled else None

    @extras.setter
    def extras(self, value: Extras) -> None:
        self._index.extras = value
        self._used.update(value[2].values())
        self._changed()

    def links_passed(self, state: str) -> dict[str, str]:
        """The pages (rel -> HTML digest) whose links passed when ids and files were in `state`."""
        return self._index.links_passed if self.enabled and state == self._index.links_state else {}

    def set_links_passed(self, state: str, pages: dict[str, str]) -> None:
        if (state, pages) != (self._index.links_state, self._index.links_passed):
            self._index.links_state, self._index.links_passed = state, pages
            self._changed()

    # -- objects ------------------------------------------------------------------------

    def object_path(self, digest: str) -> str:
        return self._objects.path(digest)

    def write_object(self, data: bytes) -> tuple[str, Stamp]:
        """Store bytes as an object, changing nothing in the cache: what a render worker does.
        Returns the digest and the stamp the main process is to record (store)."""
        return self._objects.write(data, self._index.objects)

    def put_object(self, data: bytes) -> tuple[str, Stamp]:
        """Store bytes as an object, and record it; returns the digest and what to verify it by."""
        self._owner_only()
        digest, stamp = self.write_object(data)
        self._used.add(digest)
        self._record(digest, stamp)
        return digest, stamp

    def object_intact(self, digest: str) -> bool:
        """True while the object holds the bytes it is named by (see ObjectStore.check)."""
        recorded = self._index.objects.get(digest)
        if digest in self._checked:
            stamp = self._checked.pop(digest)
        else:
            stamp = self._objects.check(digest, recorded)
            if stamp is not None and stamp != recorded and self._checked is _NOT_YET:
                self._check_all_objects()
        if stamp is None:
            return False
        self._record(digest, stamp)
        return True

    def _check_all_objects(self) -> None:
        """An object with another stamp than recorded is read to be trusted, and seldom alone:
        in a cache restored or copied elsewhere every object is. The first such one has them
        all read and hashed at once (see in_threads), unless a process was checking them since
        the cache was found restored (_load): then its answers are taken. object_intact takes
        each answer once."""
        recorded = self._index.objects
        if self._ahead is not None:
            ahead, asked = self._ahead
            self._ahead = None
            # Only the answers about stamps still recorded: an object written since has another.
            self._checked = {digest: stamp for (digest, was), stamp in zip(asked, ahead.result())
                             if recorded.get(digest) == was}
            return
        digests = list(recorded)
        self._checked = dict(zip(digests, in_threads(lambda digest: self._objects.check(digest, recorded[digest]), digests)))

    def _stop_checking_ahead(self, sources_only: bool = False) -> None:
        if self._ahead is not None and not sources_only:
            self._ahead[0].close()
            self._ahead = None
        if self._sources_ahead is not None:
            self._sources_ahead[0].close()
            self._sources_ahead = None

    def _record(self, digest: str, stamp: Stamp) -> None:
        self._checked.pop(digest, None)  # an answer from before this write would be out of date
        known = self._index.objects.get(digest)
        if known != stamp:
            self._index.objects[digest] = stamp
            if known is None:
                self._changed()
            else:
                self._restamp()

    def read_object(self, digest: str) -> bytes:
        """An object's bytes, checked against its digest."""
        return self._objects.read(digest)

    def write_site(self, out_dir: Path, files: Mapping[str, bytes | str]) -> None:
        """Write the site (bytes, or digests of objects) by linking objects into place.

        The site before the current one is kept in KEPT_DIR and becomes the next staging
        folder, so an unchanged page costs no write at all.
        """
        linked: dict[str, tuple[str, int]] = {}
        for name, content in files.items():
            digest = content if isinstance(content, str) else self.put_object(content)[0]
            linked[name] = (self.object_path(digest), self._index.objects[digest][INODE])
        place = place_name(self.root, out_dir)
        state = sha256(repr(sorted(linked.items())).encode())
        # A cache restored or copied here (or whose objects all had to be read, see
        # _check_all_objects): most likely by a CI job, which builds once, so no staging folder
        # is made ahead for a next build there (that one would make it, if it changes anything).
        restored = self._restored or self._checked is not _NOT_YET
        touched = write_linked_site(out_dir, linked, self.trees / place, self._index.written.get(place) == state,
                                    keep_first=not restored)
        if self._index.written.get(place) != state:
            self._index.written[place] = state
            self._restamp()  # a record of what was written, checked anyway before it spares a write
        for digest, stamp in self._objects.relinked(touched, self._index.objects).items():
            self._record(digest, stamp)

    def forget_unused(self, rels: set[str]) -> None:
        """Drop what this build did not use: sources and pages gone, objects no file links to."""
        for table in (self._index.sources, self._index.pages, self._index.links_passed):
            for rel in table.keys() - (self._source_digests.keys() if table is self._index.sources else rels):
                del table[rel]
                self._changed()
        keep = self._used | {page.html for page in self._index.pages.values()}
        if self._index.extras:
            keep |= set(self._index.extras[2].values())
        for digest in self._index.objects.keys() - keep:
            del self._index.objects[digest]
            self._changed()
            self._objects.remove(digest)
