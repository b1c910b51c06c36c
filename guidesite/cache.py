"""The build cache in .cache/guidesite/: what a build may reuse from the builds before it.

Everything in it is keyed by digests (file times only tell whether a file's digest computed
by an earlier build still holds, see BuildCache.read_pages):

- a page's front matter by the SHA-256 of its source file;
- small derived data (interface catalogs, bibliography) by a digest of the files they
  come from;
- a page's HTML by its *fingerprint*: a digest of its source file, of every other page
  the page looked at while it was rendered (recorded through Site's lookups, see
  `recording_site`), and of the build's inputs — templates, site.yaml, catalogs,
  bibliography, assets, the generator's own code and the versions of its libraries.
  A page whose fingerprint is unchanged would be rendered to the same bytes, so its
  previous HTML is used as it is.

The HTML lives in objects/, one file per SHA-256 of its content, and is hard-linked into
the site; the previous site is kept in trees/ and becomes the next staging folder, so a
rebuild touches only the files that changed. The index is one file with a SHA-256 of its
content: a truncated or altered index is discarded with everything it describes, and an
object is used while its size, modification time, ctime and inode are those recorded
when it was written (any write to it, through the site's link too, changes its ctime),
or else once its bytes are read and found to have its digest.

Nothing in it names the project's path, and file stamps only spare reading files: a
cache copied with the project, or restored into a fresh clone elsewhere (new mtimes,
ctimes and inodes, as a CI cache restore gives), is checked by content once and reused.
A build takes the cache's lock, so two builds of one project take turns.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib
import os
import pickle
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import FileSystemBytecodeCache

from . import __version__
from .assets import AssetMap
from .content import FrontMatter, Page, read_page
from .errors import BuildError, ContentError, ErrorList
from .outline import EMPTY_OUTLINE, Outline
from .output import write_linked_site
from .parallel import map_in_workers
from .site import Entry, Site

try:
    import fcntl
except ImportError:  # Windows: no advisory locks there
    fcntl = None  # type: ignore[assignment]

CACHE_DIR = Path(".cache") / "guidesite"
FORMAT = b"guidesite-cache-4\n"
INPUTS = ("site.yaml", "templates", "translations", "content/sources.yaml")  # besides the pages
_LIBRARIES = ("jinja2", "markdown_it", "mdit_py_plugins", "babel", "yaml")  # modules with __version__
_T = TypeVar("_T")
_SETTLED_NS = 2_000_000_000  # a file's stat is trusted only this long after its last change
Stamp = tuple[int, int, int, int]  # an object file's size, mtime, ctime and inode
# Two digests of a page's front matter: of what other pages show of it (title, short
# title, address, place in the navigation, draft state: see shown_fields), and of all of it.
Fronts = tuple[str, str]
_NO_FRONTS: Fronts = ("", "")
_CTIME, _INODE = 2, 3


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_digest(paths: Sequence[Path], base: Path) -> str:
    """One digest over files' names (relative to base) and contents; folders are walked."""
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.relative_to(base).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(file.read_bytes()).digest())
            elif not file.exists():
                digest.update(file.relative_to(base).as_posix().encode() + b"\0missing\0")
    return digest.hexdigest()


def inputs_digest(root: Path, assets: AssetMap) -> str:
    """Everything besides the pages that any page's HTML may depend on.

    Not whether drafts are included: which pages a page looked up and found is part of its
    fingerprint, so the preview (with drafts) and build.py (without) share the cache.
    """
    files = files_digest([root / name for name in INPUTS], root)
    names = ",".join(f"{name}={asset.output}" for name, asset in sorted(assets.assets.items()))
    return sha256(f"{files}\0{names}".encode())


def code_digest() -> str:
    """The generator itself: its source files, Python's version and its libraries' versions."""
    package = Path(__file__).resolve().parent
    versions = [f"{name}={getattr(importlib.import_module(name), '__version__', '?')}" for name in _LIBRARIES]
    material = f"{__version__}\0{sys.version}\0{' '.join(versions)}\0{files_digest([package], package)}"
    return sha256(material.encode())


@dataclass(frozen=True)
class StoredPage:
    """What the cache keeps about one rendered page."""

    source: str  # SHA-256 of the page's source file
    fingerprint: str  # of everything its HTML depends on
    deps: tuple[str, ...]  # the lookups into Site it made while rendered (see recording_site)
    html: str  # SHA-256 of the HTML: the object's name
    citations: tuple[str, ...]  # keys of the sources it cites
    ids: str  # digest of its ids, which links from other pages may point to
    facts: str  # digest of what the link checks need, kept apart: see BuildCache.facts
    outline: Outline  # what the translation check compares


@dataclass
class _Index:
    code: str = ""  # code_digest() the index was written with
    inputs: str = ""  # the build-wide inputs digest of the stored pages
    # rel -> (digest of the file, digests of its front matter (see Fronts), where its body
    # starts, the Page's fields without body pickled apart (an index with one page changed is
    # written fast), and the file's size, mtime, ctime and inode when it was read (see read_pages)).
    sources: dict[str, tuple[str, Fronts, int, bytes, Stamp]] = field(default_factory=dict)
    memo: dict[str, tuple[str, Any]] = field(default_factory=dict)  # name -> (key, value)
    pages: dict[str, StoredPage] = field(default_factory=dict)  # rel -> page
    # The pages' facts for the link checks are seldom read, so they are not in the index
    # but appended to the file facts: digest -> (offset, length) there.
    facts: dict[str, tuple[int, int]] = field(default_factory=dict)
    facts_size: int = 0  # length of the file facts this index describes
    objects: dict[str, Stamp] = field(default_factory=dict)  # digest -> what the file must still match
    # The files without a source page: (fingerprint, dependencies, name -> object, pickled scans).
    extras: tuple[str, tuple[str, ...], dict[str, str], bytes] | None = None
    written: dict[str, str] = field(default_factory=dict)  # output folder -> digest of the files last written there
    links_state: str = ""  # ids and files of the last build whose link checks passed
    links_passed: dict[str, str] = field(default_factory=dict)  # rel -> digest of the HTML that passed then


class BuildCache:
    """One project's cache. Disabled (`enabled=False`), it stores and finds nothing."""

    def __init__(self, root: Path, enabled: bool = True):
        self.root = root
        self.enabled = enabled
        self.folder = root / CACHE_DIR
        self._objects = str(self.folder / "objects")
        self.trees = self.folder / "trees"
        self._index = _Index()
        self._source_digests: dict[str, str] = {}  # rel -> digest, for the pages of this build
        self._lock_fd: int | None = None
        self._used: set[str] = set()  # objects written or linked by this build
        self._fronts: dict[str, Fronts] = {}  # rel -> its front matter's digests
        self._dirty = False  # whether the index changed, and must be written
        self._new_facts: dict[str, bytes] = {}  # digest -> facts of the pages rendered now
        self._interned: dict[str, str] = {}

    # -- life cycle ------------------------------------------------------------------

    @contextlib.contextmanager
    def opened(self) -> Iterator[BuildCache]:
        """Hold the cache for one build: locked, loaded (or reset when unusable), saved after."""
        if not self.enabled:
            yield self
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.folder, os.O_RDONLY)
        try:
            if fcntl is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            self._load()
            try:
                yield self
            except BuildError:
                self.save()  # the pages that did render are worth keeping for the next try
                raise
            self.save()
        finally:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _load(self) -> None:
        code = code_digest()
        index = self._read_index()
        if index is None or index.code != code:
            # Nothing in the folder can be trusted without an index that describes it.
            for name in ("objects", "trees"):
                shutil.rmtree(self.folder / name, ignore_errors=True)
            index = _Index(code=code)
            self._dirty = True
        self._index = index

    def _read_index(self) -> _Index | None:
        try:
            data = (self.folder / "index").read_bytes()
        except OSError:
            return None
        head = len(FORMAT)
        if not data.startswith(FORMAT) or len(data) < head + 32:
            return None
        checksum, payload = data[head : head + 32], data[head + 32 :]
        if hashlib.sha256(payload).digest() != checksum:
            return None
        try:
            with _no_gc():
                index = pickle.loads(payload)
        except Exception:  # an index written by another version of the generator
            return None
        return index if isinstance(index, _Index) else None

    def save(self) -> None:
        """Write the index (atomically: a crash leaves the previous one)."""
        if not self.enabled or not self._dirty:
            return
        self._save_facts()
        with _no_gc():
            payload = pickle.dumps(self._index, protocol=pickle.HIGHEST_PROTOCOL)
        temporary = self.folder / f"index.{os.getpid()}.tmp"
        temporary.write_bytes(FORMAT + hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, self.folder / "index")

    # -- sources -----------------------------------------------------------------------

    def read_pages(self, found: list[tuple[Path, str, str]], errors: ErrorList) -> list[Page | None]:
        """content.read_pages, parsing and checking only the files not seen before (in parallel).

        A file whose size, times and inode are those recorded with its digest (which happens
        only for a file settled when read, see _read_stamped) has that digest still: its ctime
        would show any write since, and no program can set ctime. It is not even read. A
        page's body is read (and checked against the digest) only when the page is rendered.
        """
        pages: list[Page | None] = []
        unknown: list[tuple[int, Path, str, str]] = []
        for path, rel, lang in found:
            known = self._index.sources.get(rel) if self.enabled else None
            if known:
                with contextlib.suppress(OSError):
                    info = os.stat(path)
                    if _stamp(info) == known[4]:
                        self._source_digests[rel], self._fronts[rel] = known[0], known[1]
                        pages.append(_page(known, None, str(path)))
                        continue
                try:
                    data, stamp = _read_stamped(path)
                except OSError:  # gone since it was found: the worker reports it
                    data, stamp = b"", _UNTRUSTED
                if known[0] == sha256(data):  # touched, not changed
                    self._source_digests[rel], self._fronts[rel] = known[0], known[1]
                    pages.append(_page(known, data))
                    self._index.sources[rel] = (*known[:4], stamp)
                    self._dirty = True
                    continue
            unknown.append((len(pages), path, rel, lang))
            pages.append(None)
        # Each worker reads a file once: its digest and its page come from the same bytes,
        # even if an editor saves it meanwhile.
        for (index, path, rel, _), (page, problems, known) in zip(unknown, map_in_workers(_read_source, unknown, label="pages read")):
            errors.items.extend(problems)
            if known[0]:
                self._source_digests[rel], self._fronts[rel] = known[0], known[1]
            if known[2] >= 0:  # the worker sent what the page is made of, not the page
                pages[index] = _page(known, None, str(path))
                if self.enabled:
                    self._index.sources[rel] = known
                    self._dirty = True
            elif page is not None:
                pages[index] = page
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
            self._dirty = True
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
        self._dirty = True
        return dict(stored)

    def jinja_bytecode(self) -> FileSystemBytecodeCache | None:
        """Where Jinja keeps compiled templates between builds (it checks them against their source)."""
        if not self.enabled:
            return None
        (self.folder / "jinja").mkdir(exist_ok=True)
        return FileSystemBytecodeCache(str(self.folder / "jinja"))

    # -- pages ------------------------------------------------------------------------

    def use_inputs(self, inputs: str) -> None:
        """Set the build-wide inputs digest; pages stored under other inputs are dropped."""
        if self._index.inputs != inputs:
            self._dirty = True
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
        """Keep a rendered page; without the cache enabled, for this build only."""
        self._new_facts[page.facts] = facts
        if self.enabled and stamp is not None:
            # Most lookups and citations recur on many pages: one string each in the index.
            intern = self._interned.setdefault
            self._index.pages[rel] = replace(page, deps=tuple(intern(d, d) for d in page.deps),
                                             citations=tuple(intern(c, c) for c in page.citations))
            self._index.objects[page.html] = stamp
            self._dirty = True

    def facts(self, page: StoredPage) -> bytes | None:
        """A page's facts for the link checks, or None where they are lost or damaged."""
        data = self._new_facts.get(page.facts)
        place = self._index.facts.get(page.facts)
        if data is None and place is not None:
            with contextlib.suppress(OSError), open(self.folder / "facts", "rb") as file:
                file.seek(place[0])
                data = file.read(place[1])
        return data if data is not None and facts_digest(data) == page.facts else None

    def _save_facts(self) -> None:
        """Append the new facts to the file facts; start it anew when mostly dead or not as described."""
        index, path = self._index, self.folder / "facts"
        live = {page.facts for page in index.pages.values()}
        places = {digest: place for digest, place in index.facts.items() if digest in live}
        try:
            size = path.stat().st_size
        except OSError:
            size = -1
        dead = size - sum(length for _, length in places.values())
        if size != index.facts_size or dead > max(size // 2, 1 << 20):
            kept = {digest: self.facts(StoredPage("", "", (), "", (), "", digest, EMPTY_OUTLINE)) for digest in places}
            self._new_facts.update({digest: data for digest, data in kept.items() if data is not None})
            places, size = {}, 0
            path.write_bytes(b"")
        with open(path, "ab") as file:
            for digest in live - places.keys():
                data = self._new_facts.get(digest)
                if data is not None:
                    file.write(data)
                    places[digest] = (size, len(data))
                    size += len(data)
        index.pages = {rel: page for rel, page in index.pages.items() if page.facts in places}
        index.facts, index.facts_size = places, size

    @property
    def extras(self) -> tuple[str, tuple[str, ...], dict[str, str], bytes] | None:
        return self._index.extras if self.enabled else None

    @extras.setter
    def extras(self, value: tuple[str, tuple[str, ...], dict[str, str], bytes]) -> None:
        self._index.extras = value
        self._used.update(value[2].values())
        self._dirty = True

    def links_passed(self, state: str) -> dict[str, str]:
        """The pages (rel -> HTML digest) whose links passed when ids and files were in `state`."""
        return self._index.links_passed if self.enabled and state == self._index.links_state else {}

    def set_links_passed(self, state: str, pages: dict[str, str]) -> None:
        if (state, pages) != (self._index.links_state, self._index.links_passed):
            self._index.links_state, self._index.links_passed = state, pages
            self._dirty = True

    # -- objects ------------------------------------------------------------------------

    def object_path(self, digest: str) -> str:
        return f"{self._objects}/{digest[:2]}/{digest}"

    def put_object(self, data: bytes) -> tuple[str, Stamp]:
        """Store bytes under their digest; returns the digest and what to verify it by."""
        digest = sha256(data)
        self._used.add(digest)
        if self.object_intact(digest):
            return digest, self._index.objects[digest]
        path = self.object_path(digest)
        # Always a new inode: a file the site may share is never rewritten. A crash while
        # writing leaves a file no index describes, which the next build replaces.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        try:
            try:
                file = open(path, "xb")
            except FileNotFoundError:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                file = open(path, "xb")
            with file:
                file.write(data)
        except FileExistsError:  # another worker wrote the same page just now: the same bytes
            pass
        info = os.stat(path)
        self._index.objects[digest] = stamp = _stamp(info)
        self._dirty = True
        return digest, stamp

    def object_intact(self, digest: str, ignore_ctime: bool = False) -> bool:
        """True while the object holds the bytes it is named by.

        Fast: the file is the one that was written, with the same size, times and inode (any
        write to it, even one that restores its modification time, changes its ctime, which
        no program can set back). Otherwise, as in a cache copied or restored elsewhere,
        the file is read and its SHA-256 compared (see _verify_object). With ignore_ctime,
        only the first: for objects this build has just linked.
        """
        stamp = self._index.objects.get(digest)
        if stamp is None:
            return False
        try:
            now = _stamp(os.stat(self.object_path(digest)))
        except OSError:
            return False
        if ignore_ctime:
            return now[:_CTIME] + now[_CTIME + 1 :] == stamp[:_CTIME] + stamp[_CTIME + 1 :]
        return now == stamp or self._verify_object(digest)

    def _verify_object(self, digest: str) -> bool:
        """Whether the object's bytes still have its digest; if so, its stamp is noted anew.

        The stamp is taken before the bytes, as for sources (_read_stamped); its ctime is
        kept only once settled, so a file written just now is read again next time.
        """
        read_at = time.time_ns()
        try:
            with open(self.object_path(digest), "rb") as file:
                info = os.fstat(file.fileno())
                data = file.read()
        except OSError:
            return False
        if sha256(data) != digest:
            return False
        stamp = _stamp(info)
        if info.st_ctime_ns >= read_at - _SETTLED_NS:
            stamp = (*stamp[:_CTIME], 0, stamp[_INODE])  # no ctime matches: verified again next time
        self._index.objects[digest] = stamp
        self._dirty = True
        return True

    def read_object(self, digest: str) -> bytes:
        """An object's bytes, checked against its digest."""
        with open(self.object_path(digest), "rb") as file:
            data = file.read()
        if sha256(data) != digest:
            raise OSError(f"cache object {digest} is damaged")
        return data

    def write_site(self, out_dir: Path, files: Mapping[str, bytes | str]) -> None:
        """Write the site (bytes, or digests of objects) by linking objects into place.

        The site before the current one is kept in trees/ and becomes the next staging
        folder, so an unchanged page costs no write at all.
        """
        linked: dict[str, tuple[str, int]] = {}
        for name, content in files.items():
            digest = content if isinstance(content, str) else self.put_object(content)[0]
            linked[name] = (self.object_path(digest), self._index.objects[digest][_INODE])
        place = _place(self.root, out_dir)
        state = sha256(repr(sorted(linked.items())).encode())
        touched = write_linked_site(out_dir, linked, self.trees / place, self._index.written.get(place) == state)
        if self._index.written.get(place) != state:
            self._index.written[place] = state
            self._dirty = True
        # Linking and unlinking change an object's ctime: note the new one, or it would
        # look tampered with next time.
        by_inode = {stamp[_INODE]: digest for digest, stamp in self._index.objects.items()} if touched else {}
        for inode in touched:
            digest = by_inode.get(inode)
            with contextlib.suppress(OSError):
                if digest and self.object_intact(digest, ignore_ctime=True):
                    self._index.objects[digest] = _stamp(os.stat(self.object_path(digest)))
                    self._dirty = True

    def forget_unused(self, rels: set[str]) -> None:
        """Drop what this build did not use: sources and pages gone, objects no file links to."""
        for table in (self._index.sources, self._index.pages, self._index.links_passed):
            for rel in table.keys() - (self._source_digests.keys() if table is self._index.sources else rels):
                del table[rel]
                self._dirty = True
        keep = self._used | {page.html for page in self._index.pages.values()}
        if self._index.extras:
            keep |= set(self._index.extras[2].values())
        for digest in self._index.objects.keys() - keep:
            del self._index.objects[digest]
            self._dirty = True
            with contextlib.suppress(OSError):
                os.unlink(self.object_path(digest))


class SiteFiles(Mapping[str, bytes]):
    """The site's files by path, reading cache objects (checked against their digest) when asked for."""

    def __init__(self, files: Mapping[str, bytes | str], cache: BuildCache):
        self._files, self._cache = files, cache

    def __getitem__(self, name: str) -> bytes:
        content = self._files[name]
        return content if isinstance(content, bytes) else self._cache.read_object(content)

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """The cycle collector would walk the index's objects again and again while it loads."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _place(root: Path, out_dir: Path) -> str:
    """The name an output folder's kept tree goes by: relative to the project where it is
    inside it, so that a cache copied with the project to another path finds it."""
    folder, project = out_dir.resolve(), root.resolve()
    name = folder.relative_to(project).as_posix() if folder.is_relative_to(project) else str(folder)
    return sha256(name.encode())[:16]


def _stamp(info: os.stat_result) -> Stamp:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


_UNTRUSTED: Stamp = (-1, 0, 0, 0)  # matches no file: its digest is computed again next time
CHANGED_DURING_BUILD = "the file changed while the site was built: build again"


def _read_stamped(path: Path) -> tuple[bytes, Stamp]:
    """A source file's bytes, and the stamp a later build may know them by.

    The stamp is taken before the bytes, so a save while reading leaves the older stamp,
    which the saved file no longer matches. And it is kept only for a file settled when
    read: a save within the file system's clock tick of the last one could leave size and
    times as they were, but not one that comes seconds later.
    """
    read_at = time.time_ns()
    with open(path, "rb") as file:
        info = os.fstat(file.fileno())
        data = file.read()
    return data, _stamp(info) if info.st_ctime_ns < read_at - _SETTLED_NS else _UNTRUSTED


def facts_digest(data: bytes) -> str:
    """The digest StoredPage.facts names facts by."""
    return sha256(data)[:32]


def shown_fields() -> tuple[str, ...]:
    """The front matter fields other pages show of a page: in menus, breadcrumbs, previous and
    next links, language switchers and links (its address follows from lang, which is in rel,
    and slug). The rest (description, dates, review) shows on the page itself, and on the
    files that list every page's details, which depend on the whole front matter (ALL_FRONTS)."""
    return ("title", "short_title", "key", "slug", "parent", "nav", "draft")


def _read_source(item: tuple[int, Path, str, str]) -> tuple[Page | None, list[ContentError], tuple[str, Fronts, int, bytes, Stamp]]:
    """read_page, in a worker: its problems, and the page's entry for the index's sources.

    Sending the entry instead of the page spares pickling its body: the page reads it from
    the file when rendered, checked against the digest. Where the body cannot be cut from
    the file as read_page does (start -1), the page is sent.
    """
    _, path, rel, lang = item
    errors = ErrorList(path.parents[len(Path(rel).parts)])
    try:
        data, stamp = _read_stamped(path)
    except OSError:  # moved or deleted since the build found it
        errors.add(path, 1, CHANGED_DURING_BUILD)
        return None, errors.items, ("", _NO_FRONTS, -1, b"", _UNTRUSTED)
    page = read_page(path, rel, lang, errors, data)
    if page is None:
        return None, errors.items, ("", _NO_FRONTS, -1, b"", stamp)
    text = _normalised(data)
    start = len(text) - len(page.body)
    shown = tuple(getattr(page.meta, name) for name in shown_fields())
    digest = sha256(data)
    front = (sha256(repr((rel, shown)).encode())[:16], sha256(repr((rel, page.meta)).encode())[:16])
    if text[start:] != page.body:
        return page, errors.items, (digest, front, -1, b"", stamp)
    values = [getattr(page, f.name) for f in fields(Page)]
    values[_META], values[_BODY] = tuple(getattr(page.meta, f.name) for f in fields(FrontMatter)), ""
    return None, errors.items, (digest, front, start, pickle.dumps(values, pickle.HIGHEST_PROTOCOL), stamp)


def _page(known: tuple[Any, ...], data: bytes | None, path: str = "") -> Page:
    """A Page from its entry in the index's sources and the bytes of its file (or, without
    them, one that reads its body from path when first asked for it)."""
    values = pickle.loads(known[3])
    values[_META] = FrontMatter(*values[_META])
    if data is not None:
        values[_BODY] = _normalised(data)[known[2]:]
        return Page(*values)
    page = object.__new__(_LazyPage)
    page.__dict__.update((f.name, value) for f, value in zip(fields(Page), values) if f.name != "body")
    page.__dict__["_source"] = (path, known[2], known[0])
    return page


class _LazyPage(Page):
    """A Page whose body is read when first used: a rebuild renders few of its pages."""

    def __getattr__(self, name: str) -> Any:
        if name != "body":
            raise AttributeError(name)
        path, start, digest = self.__dict__["_source"]
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError:  # moved or deleted since the build found it
            data = b""
        if sha256(data) != digest:
            raise BuildError([ContentError(f"content/{self.rel}", 1, CHANGED_DURING_BUILD)])
        self.__dict__["body"] = body = _normalised(data)[start:]
        return body


def _normalised(data: bytes) -> str:
    """A source file's text as content.read_page sees it."""
    text = data.decode("utf-8-sig")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


_META, _BODY = (next(i for i, f in enumerate(fields(Page)) if f.name == name) for name in ("meta", "body"))


# -- what a page depends on -------------------------------------------------------------
#
# A page's HTML depends on other pages only through what it looks up in Site while it is
# rendered: its breadcrumb, menu, neighbours, translations, footer, the targets of its
# links. Rendering records each lookup as a dependency string; a later build computes the
# current value of each and compares. A lookup by key or in a navigation group depends on
# what pages show of the found ones (shown_fields: title, address, place, draft state), so
# a new description or review date re-renders that page alone; a lookup by content path
# (the original of a translation) on the whole page, except for a link in a body, which
# shows only the address; going through all pages, on all of them, and for the files that
# list every page with its details (A–Z, sitemap: fronts_only), on their whole front matter.

ALL = "*"
ALL_FRONTS = "*front"


class _RecordingMapping(Mapping[Any, Any]):
    def __init__(self, data: Mapping[Any, Any], deps: set[str], kind: str):
        self._data, self._deps, self._kind = data, deps, kind

    def _record(self, key: Any) -> None:
        self._deps.add(f"{self._kind}\0{key[0]}\0{key[1] or ''}" if isinstance(key, tuple) else f"{self._kind}\0{key}")

    def __getitem__(self, key: Any) -> Any:
        self._record(key)
        return self._data[key]

    def get(self, key: Any, default: Any = None) -> Any:
        self._record(key)
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        self._record(key)
        return key in self._data

    def __iter__(self) -> Iterator[Any]:
        self._deps.add(ALL)
        return iter(self._data)

    def __len__(self) -> int:
        self._deps.add(ALL)
        return len(self._data)


class _RecordingList(Sequence[Entry]):
    def __init__(self, data: list[Entry], deps: set[str], dep: str):
        self._data, self._deps, self._dep = data, deps, dep

    def __getitem__(self, index: Any) -> Any:
        self._deps.add(self._dep)
        return self._data[index]

    def __len__(self) -> int:
        self._deps.add(self._dep)
        return len(self._data)


def recording_site(site: Site, deps: set[str], links_only: bool = False, fronts_only: bool = False) -> Site:
    """A view of site that adds to deps every lookup made through it.

    links_only: for a page's body, whose links show other pages' addresses only.
    fronts_only: for what lists pages by title and address (sitemap, 404 pages).
    """
    return replace(
        site,
        entries=_RecordingList(site.entries, deps, ALL_FRONTS if fronts_only else ALL),  # type: ignore[arg-type]
        by_key=_RecordingMapping(site.by_key, deps, "key"),  # type: ignore[arg-type]
        by_rel=_RecordingMapping(site.by_rel, deps, "link" if links_only or fronts_only else "rel"),  # type: ignore[arg-type]
        children=_RecordingMapping(site.children, deps, "nav"),  # type: ignore[arg-type]
    )


class Dependencies:
    """The current value of each dependency string, computed once per build."""

    def __init__(self, site: Site, cache: BuildCache):
        self.site, self.cache = site, cache
        self._values: dict[str, str] = {}

    def _shown(self, entry: Entry | None) -> str:
        return "-" if entry is None else self.cache.shown_digest(entry.page.rel)

    def _front(self, entry: Entry | None) -> str:
        return "-" if entry is None else self.cache.front_digest(entry.page.rel)

    def _whole(self, entry: Entry | None) -> str:
        return "-" if entry is None else f"{entry.page.rel}:{self.cache.source_digest(entry.page.rel)}"

    def value(self, dep: str) -> str:
        known = self._values.get(dep)
        if known is not None:
            return known
        site = self.site
        kind, *key = dep.split("\0")
        if kind == "key":
            value = self._shown(site.by_key.get((key[0], key[1])))
        elif kind == "link":
            value = self._shown(site.by_rel.get(key[0]))
        elif kind == "rel":
            value = self._whole(site.by_rel.get(key[0]))
        elif kind == "nav":
            group = site.children.get((key[0], key[1] or None))
            value = "-" if group is None else ",".join(self._shown(e) for e in group)
        elif kind == ALL_FRONTS:
            value = sha256("\n".join(f"{e.page.rel}:{self._front(e)}" for e in site.entries).encode())
        else:
            value = sha256("\n".join(self._whole(e) for e in site.entries).encode())
        self._values[dep] = value
        return value

    def fingerprint(self, entry: Entry | None, deps: Sequence[str], inputs: str) -> str:
        """Of a page (or, for None, of the files without a source page)."""
        values = self._values
        parts = [inputs, entry.page.rel, self.cache.source_digest(entry.page.rel)] if entry else [inputs]
        parts += [dep + "=" + (values.get(dep) or self.value(dep)) for dep in deps]
        return sha256("\n".join(parts).encode())
