"""The cache's index, what it records, and the lock a build holds on the cache.

The index is one file with a SHA-256 of its content: a truncated or altered index is
discarded with everything it describes. It is written atomically, so a crash leaves the
previous one.

When only files' stamps changed (a cache restored into a fresh clone: every file is new
to the file system, none to the cache), the small file stamps takes them, and the index
(19 MB at 5,000 pages) is not written again. Each stamp there names the digest it was
found with, so whatever index it meets, it is only taken where it describes the same
bytes: a crash between the two files' writes costs hashing again, never a wrong page.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .digests import sha256
from .stamps import Stamp

if TYPE_CHECKING:  # an outline is unpickled, and outline.py loaded, only when one is read
    from ..outline import Outline

try:
    import fcntl
except ImportError:  # Windows: no advisory locks there
    fcntl = None  # type: ignore[assignment]

FORMAT = b"guidesite-cache-5\n"
# Two digests of a page's front matter: of what other pages show of it (title, short
# title, address, place in the navigation, draft state: see sources.shown_fields), and of all of it.
Fronts = tuple[str, str]
NO_FRONTS: Fronts = ("", "")
# What the index keeps of a source file: the digest of the file, the digests of its front
# matter, where its body starts, the Page's fields without body pickled apart (an index with
# one page changed is written fast), and the file's stamp when it was read (see sources.read_pages).
SourceEntry = tuple[str, Fronts, int, bytes, Stamp]
# The files without a source page: (fingerprint, dependencies, name -> object, pickled scans).
Extras = tuple[str, tuple[str, ...], dict[str, str], bytes]


@dataclass(frozen=True)
class StoredPage:
    """What the cache keeps about one rendered page."""

    source: str  # SHA-256 of the page's source file
    fingerprint: str  # of everything its HTML depends on
    deps: tuple[str, ...]  # the lookups into Site it made while rendered (see dependencies.recording_site)
    html: str  # SHA-256 of the HTML: the object's name
    citations: tuple[str, ...]  # keys of the sources it cites
    ids: str  # digest of its ids, which links from other pages may point to
    facts: str  # digest of what the link checks need, kept apart: see facts.py
    outline: Outline  # what the translation check compares

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as plain values, its outline as bytes of its own that are unpickled when
        # first read: a build with the warnings unchanged reads no outline, and an index
        # loaded and saved again does not rebuild or re-pickle thousands of them.
        values = tuple(self.__dict__[name] for name in _PLAIN)
        packed = self.__dict__.get("_outline")
        if packed is None:
            packed = pickle.dumps(self.outline, protocol=pickle.HIGHEST_PROTOCOL)
        return _stored_page, (values, packed)

    def __getattr__(self, name: str) -> Any:  # only for what __dict__ lacks: a packed outline
        if name != "outline" or "_outline" not in self.__dict__:
            raise AttributeError(name)
        outline = self.__dict__["outline"] = pickle.loads(self.__dict__["_outline"])
        return outline


_PLAIN = tuple(name for name in StoredPage.__dataclass_fields__ if name != "outline")


def _stored_page(values: tuple[Any, ...], packed: bytes) -> StoredPage:
    page = object.__new__(StoredPage)
    page.__dict__.update(zip(_PLAIN, values))
    page.__dict__["_outline"] = packed
    return page


def facts_digest(data: bytes) -> str:
    """The digest StoredPage.facts names facts by."""
    return sha256(data)[:32]


@dataclass
class Index:
    code: str = ""  # code_digest() the index was written with
    inputs: str = ""  # the build-wide inputs digest of the stored pages
    sources: dict[str, SourceEntry] = field(default_factory=dict)  # rel -> its source file
    memo: dict[str, tuple[str, Any]] = field(default_factory=dict)  # name -> (key, value)
    pages: dict[str, StoredPage] = field(default_factory=dict)  # rel -> page
    # The pages' facts for the link checks are seldom read, so they are not in the index
    # but appended to the file facts: digest -> (offset, length) there.
    facts: dict[str, tuple[int, int]] = field(default_factory=dict)
    facts_size: int = 0  # length of the file facts this index describes
    objects: dict[str, Stamp] = field(default_factory=dict)  # digest -> what the file must still match
    extras: Extras | None = None
    written: dict[str, str] = field(default_factory=dict)  # output folder -> digest of the files last written there
    links_state: str = ""  # ids and files of the last build whose link checks passed
    links_passed: dict[str, str] = field(default_factory=dict)  # rel -> digest of the HTML that passed then


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the cache folder's lock: two builds of one project take turns."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_index(folder: Path) -> Index | None:
    """The index in folder, with the newer stamps of the stamps file beside it, or None
    where there is none or it is damaged."""
    payload = _checked(folder / "index", FORMAT)
    if payload is None:
        return None
    try:
        with _no_gc():
            index = pickle.loads(payload)
    except Exception:  # an index written by another version of the generator
        return None
    if not isinstance(index, Index):
        return None
    read_stamps(folder, index)
    return index


def write_index(folder: Path, index: Index) -> None:
    """Write the index atomically: a crash leaves the previous one. It holds the stamps
    known now, so a stamps file beside it has nothing to add any more."""
    with _no_gc():
        payload = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
    _write(folder / "index", FORMAT, payload)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(folder / "stamps")


# The stamps file: rel -> (source digest, stamp), object digest -> stamp, and the index's
# `written`, which only spares writing a site whose files are checked anyway.
Stamps = tuple[dict[str, tuple[str, Stamp]], dict[str, Stamp], dict[str, str]]
_STAMPS = b"guidesite-stamps-1\n"


def write_stamps(folder: Path, index: Index) -> None:
    """Write the index's stamps alone, for an index that is otherwise as on disk."""
    stamps: Stamps = ({rel: (entry[0], entry[4]) for rel, entry in index.sources.items()}, index.objects, index.written)
    _write(folder / "stamps", _STAMPS, pickle.dumps(stamps, protocol=pickle.HIGHEST_PROTOCOL))


def read_stamps(folder: Path, index: Index) -> None:
    """Take into the index each stamp of the stamps file that describes what it records."""
    try:
        stamps: Stamps = pickle.loads(_checked(folder / "stamps", _STAMPS) or b"")
        sources, objects, written = stamps
    except Exception:  # none, damaged, or from another version: the index's own stamps stand
        return
    for rel, entry in index.sources.items():
        known = sources.get(rel)
        if known is not None and known[0] == entry[0]:
            index.sources[rel] = (*entry[:4], known[1])
    for digest in index.objects.keys() & objects.keys():
        index.objects[digest] = objects[digest]
    index.written.update(written)


def _write(path: Path, head: bytes, payload: bytes) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(head + hashlib.sha256(payload).digest() + payload)
    os.replace(temporary, path)


def _checked(path: Path, head: bytes) -> bytes | None:
    """The payload of a file written by _write, or None where it is missing or damaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(head) or len(data) < len(head) + 32:
        return None
    checksum, payload = data[len(head) : len(head) + 32], data[len(head) + 32 :]
    return payload if hashlib.sha256(payload).digest() == checksum else None


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
