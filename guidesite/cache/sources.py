"""The pages' source files through the cache: front matter parsed and checked only for the
files not seen before, and a page's body read only when the page is rendered.

A file whose stamp is the one recorded with its digest (see stamps.py) has that digest
still, and is not even read. The files to parse are read in worker processes, which
return what the index is to record; the caller records it.
"""
from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from ..content import MAX_FILE_BYTES, FrontMatter, Page, read_page
from ..errors import BuildError, ContentError, ErrorList
from .digests import in_threads, sha256
from .index import NO_FRONTS, Fronts, SourceEntry
from .stamps import UNTRUSTED, Stamp, read_stamped, stamp_of

_T = TypeVar("_T")
CHANGED_DURING_BUILD = "the file changed while the site was built: build again"


def shown_fields() -> tuple[str, ...]:
    """The front matter fields other pages show of a page: in menus, breadcrumbs, previous and
    next links, language switchers and links (its address follows from lang, which is in rel,
    and slug). The rest (description, dates, review) shows on the page itself, and on the
    files that list every page's details, which depend on the whole front matter (dependencies.ALL_FRONTS)."""
    return ("title", "short_title", "key", "slug", "parent", "nav", "draft")


def read_pages(found: list[tuple[Path, str, str]], known: Mapping[str, SourceEntry], errors: ErrorList,
               hashed: Callable[[], Mapping[str, Hashed | None]] | None = None,
               ) -> tuple[list[Page | None], dict[str, tuple[str, Fronts]], dict[str, SourceEntry]]:
    """content.read_pages, parsing and checking only the files not known (in parallel, in
    worker processes). `hashed` gives what another process found of known files (see
    hashed()), asked for at the first file with a new stamp, and taken for each file that
    still has the stamp it had then.

    Returns the pages; each read page's digests (of its file, of its front matter: rel ->
    (digest, fronts)); and what the index is to record anew (rel -> entry).
    """
    pages: list[Page | None] = []
    digests: dict[str, tuple[str, Fronts]] = {}
    record: dict[str, SourceEntry] = {}
    unknown: list[tuple[int, Path, str, str]] = []
    touched: list[tuple[int, Path, str, str]] = []  # known files with another stamp: their digest decides
    answered: list[tuple[int, Path, str, str]] = []  # the same, hashed already (`hashed`)
    answers: list[tuple[str, Stamp]] = []
    for path, rel, lang in found:
        entry = known.get(rel)
        if entry:
            now = None
            with contextlib.suppress(OSError):
                now = stamp_of(os.stat(path))
                if now == entry[4]:
                    digests[rel] = entry[0], entry[1]
                    pages.append(_page(entry, str(path)))
                    continue
            answer = hashed().get(rel) if hashed else None
            if answer is not None and answer[1] == now:
                answered.append((len(pages), path, rel, lang))
                answers.append((answer[0], _later(*answer[1:])))
            else:
                touched.append((len(pages), path, rel, lang))
        else:
            unknown.append((len(pages), path, rel, lang))
        pages.append(None)
    # Every file of a project checked out anew, or copied, has a new stamp: its digest decides.
    for item, (digest, stamp) in zip(answered + touched, answers + in_threads(_digest, [item[1] for item in touched])):
        index, path, rel, _ = item
        entry = known[rel]
        if digest == entry[0]:  # touched, not changed: its body is read if the page is rendered
            digests[rel] = entry[0], entry[1]
            pages[index] = _page(entry, str(path))
            record[rel] = (*entry[:4], stamp)
        else:
            unknown.append(item)
    # Each worker reads a file once: its digest and its page come from the same bytes,
    # even if an editor saves it meanwhile.
    from ..parallel import map_in_workers  # here: a build with every source known starts no worker

    for (index, path, rel, _), (page, problems, entry) in zip(unknown, map_in_workers(_read_source, unknown, label="pages read")):
        errors.items.extend(problems)
        if entry[0]:
            digests[rel] = entry[0], entry[1]
        if entry[2] >= 0:  # the worker sent what the page is made of, not the page
            pages[index] = _page(entry, str(path))
            record[rel] = entry
        elif page is not None:
            pages[index] = page
    return pages, digests, record


Hashed = tuple[str, Stamp, bool]  # a file's digest, its stamp before it was read, whether it was settled


def hashed(path: Path) -> Hashed | None:
    """What a build may know a file by, found ahead of its use (in another process): None
    where it cannot be read, or is no page file. The path comes from the last build's index,
    before discover has looked at it: a pipe or a device put in a page's place (a link to
    /dev/zero) is not read, for discover to refuse."""
    try:
        data, stamp, settled = read_stamped(path, MAX_FILE_BYTES)
    except OSError:
        return None
    return sha256(data), stamp, settled


def _digest(path: Path) -> tuple[str, Stamp]:
    """A source file's SHA-256 and the stamp a later build may know it by; "" where it is gone
    or no page file (the worker that parses it reports that)."""
    found = hashed(path)
    return ("", UNTRUSTED) if found is None else (found[0], _later(*found[1:]))


def _read(path: Path) -> tuple[bytes, Stamp]:
    """A source file's bytes, and the stamp a later build may know them by."""
    data, stamp, settled = read_stamped(path)
    return data, _later(stamp, settled)


def _later(stamp: Stamp, settled: bool) -> Stamp:
    """The stamp a later build may know a file by: none for one changed just before it was read."""
    return stamp if settled else UNTRUSTED


def _read_source(item: tuple[int, Path, str, str]) -> tuple[Page | None, list[ContentError], SourceEntry]:
    """read_page, in a worker: its problems, and the page's entry for the index's sources.

    Sending the entry instead of the page spares pickling its body: the page reads it from
    the file when rendered, checked against the digest. Where the body cannot be cut from
    the file as read_page does (start -1), the page is sent.
    """
    _, path, rel, lang = item
    errors = ErrorList(path.parents[len(Path(rel).parts)])
    try:
        data, stamp = _read(path)
    except OSError:  # moved or deleted since the build found it
        errors.add(path, 1, CHANGED_DURING_BUILD)
        return None, errors.items, ("", NO_FRONTS, -1, b"", UNTRUSTED)
    page = read_page(path, rel, lang, errors, data)
    if page is None:
        return None, errors.items, ("", NO_FRONTS, -1, b"", stamp)
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


def _page(entry: SourceEntry, path: str) -> Page:
    """A Page from its entry in the index's sources, which reads its body from path when first
    asked for it. Made without __init__, whose frozen fields cost a call each: a build makes
    one for every page."""
    values = pickle.loads(entry[3])
    page = object.__new__(_LazyPage)
    values[_META] = _frozen(FrontMatter, _FRONT_FIELDS, values[_META])
    page.__dict__.update(zip(_PAGE_FIELDS, values))
    del page.__dict__["body"]
    page.__dict__["_source"] = (path, entry[2], entry[0])
    return page


def _frozen(cls: type[_T], names: tuple[str, ...], values: Iterable[Any]) -> _T:
    made = object.__new__(cls)
    made.__dict__.update(zip(names, values))
    return made


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


_PAGE_FIELDS = tuple(f.name for f in fields(Page))
_FRONT_FIELDS = tuple(f.name for f in fields(FrontMatter))
_META, _BODY = _PAGE_FIELDS.index("meta"), _PAGE_FIELDS.index("body")
