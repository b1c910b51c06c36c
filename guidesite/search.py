"""The search step: each language's Pagefind index, in shards, made from the rendered pages.

Pagefind's Python API (package `pagefind[bin]`, pinned) drives its indexer binary. A
language's pages are split into shards of about PAGES_PER_SHARD pages, each page by a
stable hash of its address (one shard below 1.5 times that many pages, as for the guide
itself). Each shard is a Pagefind index of its own, kept in the build cache under a digest
of its own pages' HTML (shard_keys; guidesite/cache/steps.py keeps them): a build
re-indexes only the shards in which a page changed, so an edited article costs the
indexing of its shard, not of its language. The first shard is
the language's bundle in site/<lang>/pagefind/ (Pagefind's script, worker and WebAssembly,
for that language's stemming); the others hold only their index, in
site/<lang>/pagefind/shard-<n>/, listed in site/<lang>/pagefind/shards.json. The site's
search script (assets/js/search-ui.js) loads the first and merges the others into it with
Pagefind's `mergeIndex`: they are searched with the first one's WebAssembly, downloaded
once, and their results are ranked in one list. No shard holds another language's pages.

Each shard's pages are linked into a folder of their own and indexed there with one
request (`add_directory`), and its bundle comes back in memory (`get_files`). Handing the
pages over one request each (`add_html_file`) cost more CPU (8 s more in a cold build of
2,102 pages, measured once) and gave another index. The shards to index are asked for at
the same time, from one indexer process per core (indexer.py drives them).

Only a page's article, marked data-pagefind-body by the templates, is indexed: menu,
footer and disclaimer are outside it, and a page without the mark (a 404 page, the A–Z
pages, a page with no text) is not given to the indexer at all. The bundle goes into
site/<lang>/pagefind/ among the site's other files, so the atomic write covers it.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .a_z import check_a_z_free
from .cache.digests import installed_versions
from .content import CONTENT_DIR
from .errors import ErrorList
from .site import Site

SEARCH_DIR = "pagefind"  # site/<lang>/pagefind/: Pagefind's script finds the site's pages from this name
# About what one edit re-indexes. Fewer, larger shards cost a one-edit build more indexing;
# more, smaller ones cost a reader's first search more requests (each shard's metadata and
# the part of its index that holds the word).
PAGES_PER_SHARD = 250
SHARD_FOLDER = "shard-"  # site/<lang>/pagefind/shard-<n>/: the language's shards after the first
SHARDS_FILE = "shards.json"  # site/<lang>/pagefind/shards.json: those folders, for the search script
# The attribute as the templates write it, last in the tag: in a page's text it would read
# 'data-pagefind-body&gt;', so text about it is not taken for the mark.
BODY_MARK = b" data-pagefind-body>"
# Inside the article but not what it says: its contents list, the next/previous links, review dates.
_EXCLUDE = [".toc", ".pager", ".review"]
# The bundle's own search interfaces and the highlighter: the site has a search script of its own.
_UNUSED = ("pagefind-ui.", "pagefind-component-ui.", "pagefind-modular-ui.", "pagefind-highlight.", "playground/")
# What only the first shard needs: the others are searched by its script, worker and WebAssembly.
_FIRST_ONLY = ("pagefind.js", "pagefind-worker.js", "wasm.")
_DEPENDENCY = "pyproject.toml"  # where the indexer is named (pinned in constraints.txt)
SETUP_HINT = "run: bash scripts/setup.sh (it installs pagefind[bin] as pinned in constraints.txt)"


class IndexerFailed(Exception):
    """Pagefind could not index: the message says why, in one line."""


@dataclass(frozen=True, order=True)
class Shard:
    """One part of a language's index: shard 0 is the one the search script loads first."""

    lang: str
    number: int

    @property
    def folder(self) -> str:
        """Where its bundle goes in site/."""
        return f"{self.lang}/{SEARCH_DIR}/" + (f"{SHARD_FOLDER}{self.number}/" if self.number else "")


def shard_count(pages: int) -> int:
    """How many shards a language of this many pages is indexed in."""
    return max(1, round(pages / PAGES_PER_SHARD))


def shard_of(output: str, count: int, home: str) -> int:
    """The shard of the page at this path in site/: the same in every build while the count
    is. Numbered from the language's home page (`home`): the first shard, whose entry tells
    Pagefind the language (and so its stemming), holds it and is never empty."""
    return (_hash(output) - _hash(home)) % count


def _hash(output: str) -> int:
    return int.from_bytes(hashlib.sha256(output.encode()).digest()[:8], "big")


def search_shards(site: Site, files: Mapping[str, bytes | str], errors: ErrorList) -> dict[Shard, dict[str, bytes | str]]:
    """Each language's pages (path in site/ -> bytes, or the digest of a cache object) by the
    shard whose index they go into; none with a problem, which is added to errors.

    The caller stops the build then, so that no page is published with a search field that
    has no index behind it.
    """
    check_a_z_free(site, errors)
    pages: dict[str, dict[str, bytes | str]] = {code: {} for code in site.config.codes}
    for entry in site.entries:
        if entry.output.startswith(f"{entry.lang}/{SEARCH_DIR}/"):
            errors.add(site.config.root / CONTENT_DIR / entry.page.rel, 1,
                       f"the address {site.config.base_path}{entry.lang}/{SEARCH_DIR}/ is the search index's: give the page another file name")
        pages[entry.lang][entry.output] = files[entry.output]
    return {} if errors.items else _shards(pages)


def shard_keys(shards: Mapping[Shard, Mapping[str, bytes | str]]) -> dict[Shard, str]:
    """What each shard's index is made from, as a digest: an index made under the same key is the same."""
    version = installed_versions(["pagefind"])["pagefind"]
    return {shard: _key(shard, pages, version) for shard, pages in shards.items()}


def index_shards(site: Site, shards: dict[Shard, dict[str, bytes | str]], errors: ErrorList,
                 object_path: Callable[[str], str] | None = None, work_in: Path | None = None) -> dict[Shard, dict[str, bytes]]:
    """Each shard's bundle files by path in site/ (none for a shard after the first with no
    page to search); a problem is added to errors. `object_path` names the file of a page
    given as a cache object's digest, which is then hard-linked if `work_in`, a folder on
    the same file system, holds the indexer's pages."""
    try:
        return _index(shards, object_path, work_in)
    except IndexerFailed as exc:
        errors.add(site.config.root / _DEPENDENCY, 1, f"search: {exc}")
        return {}


def bundle(codes: tuple[str, ...], made: Mapping[Shard, Mapping[str, bytes | str]]) -> dict[str, bytes | str]:
    """The search bundle of every language, by path in site/, from each shard's files."""
    files: dict[str, bytes | str] = {}
    for shard in sorted(made):
        files.update(made[shard])
    for code in codes:
        first = Shard(code, 0).folder
        # A shard whose pages all lack an article has no index to merge.
        others = [shard.folder.removeprefix(first) for shard in sorted(made) if shard.lang == code and shard.number and made[shard]]
        files[first + SHARDS_FILE] = json.dumps(others).encode()
    return files


def _shards(pages: dict[str, dict[str, bytes | str]]) -> dict[Shard, dict[str, bytes | str]]:
    """Each language's pages (language -> path in site/ -> content) by the shard they go into."""
    shards: dict[Shard, dict[str, bytes | str]] = {}
    for code, language_pages in pages.items():
        count = shard_count(len(language_pages))
        shards[Shard(code, 0)] = {}  # even without pages: the search script loads the first shard
        for output, content in language_pages.items():
            shards.setdefault(Shard(code, shard_of(output, count, f"{code}/index.html")), {})[output] = content
    return shards


def _key(shard: Shard, pages: Mapping[str, bytes | str], version: str) -> str:
    """What a shard's index is made from: the indexer's version and settings, the shard's
    place, each of its pages' address and HTML."""
    digest = hashlib.sha256(f"{version}\0{_EXCLUDE}\0{BODY_MARK!r}\0{_UNUSED}\0{_FIRST_ONLY}\0{shard.folder}".encode())
    for output in sorted(pages):
        content = pages[output]
        digest.update(f"\0{output}\0{content if isinstance(content, str) else hashlib.sha256(content).hexdigest()}".encode())
    return digest.hexdigest()


def _index(shards: dict[Shard, dict[str, bytes | str]], object_path: Callable[[str], str] | None,
           work_in: Path | None) -> dict[Shard, dict[str, bytes]]:
    """Index each shard's pages; returns shard -> its bundle's files by path in site/ (none
    for a shard after the first with no page to search)."""
    _check_executable()
    with tempfile.TemporaryDirectory(prefix="search-", dir=work_in) as work:
        folders: dict[Shard, Path] = {}
        for shard, shard_pages in shards.items():
            folder = Path(work) / f"{shard.lang}-{shard.number}"
            if _page_folder(folder, shard.lang, shard_pages, object_path) or not shard.number:
                folders[shard] = folder
        # Here, not above: the indexer's driver loads asyncio, which a build with every shard
        # in the cache does without.
        from .indexer import index_folders

        bundles = index_folders(folders, _EXCLUDE)
    return {shard: _site_files(bundles[shard], shard) if shard in bundles else {} for shard in shards}


def _check_executable() -> None:
    """IndexerFailed where Pagefind's Python API would find no indexer binary to run."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        raise IndexerFailed(f"Pagefind's Python package is not installed: {SETUP_HINT}") from None
    try:
        found = get_executable()
    except (FileNotFoundError, OSError):
        found = None
    if found is None or not os.access(found, os.X_OK):
        where = f" ({found} is missing or not executable)" if found else ""
        raise IndexerFailed(f"Pagefind's indexer binary is not installed for this platform{where}: {SETUP_HINT}")


def _page_folder(folder: Path, code: str, pages: Mapping[str, bytes | str], object_path: Callable[[str], str] | None) -> int:
    """A folder holding those of the pages that have an article, at their paths below
    site/<lang>/ (so that every shard addresses its pages from there); returns how many."""
    folder.mkdir(parents=True)
    prefix = f"{code}/"
    linked = 0
    for output, content in pages.items():
        source = object_path(content) if isinstance(content, str) and object_path else None
        data = content if isinstance(content, bytes) else Path(source).read_bytes()  # type: ignore[arg-type]
        if BODY_MARK not in data:
            continue
        linked += 1
        target = folder / output.removeprefix(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if source is None:
                raise OSError
            os.link(source, target)
        except OSError:  # no cache, or another file system
            target.write_bytes(data)
    return linked


def _site_files(bundle: list[dict], shard: Shard) -> dict[str, bytes]:
    """The files of a shard's bundle that the site's search needs, by path in site/."""
    contents = {str(file["path"]).replace(os.sep, "/"): file["content"] for file in bundle}
    if "pagefind-entry.json" not in contents:
        raise IndexerFailed(f"Pagefind's indexer made no index for {shard.lang}: build again; if it fails again, {SETUP_HINT}")
    entry = json.loads(contents["pagefind-entry.json"])
    wasm = {f"wasm.{language['wasm']}.pagefind" for language in entry["languages"].values()} or {"wasm.unknown.pagefind"}
    return {f"{shard.folder}{name}": data for name, data in sorted(contents.items())
            if not name.startswith(_UNUSED) and not (name.startswith("wasm.") and name not in wasm)
            and not (shard.number and name.startswith(_FIRST_ONLY))}
