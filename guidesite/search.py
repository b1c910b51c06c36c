"""The search step: one Pagefind index per language, made from the rendered pages.

Pagefind's Python API (package `pagefind[bin]`, pinned) drives its indexer binary. Each
language's pages are linked into a folder of their own and indexed there with one request
(`add_directory`), and the bundle comes back in memory (`get_files`): the API's
`add_html_file` gets each answer only on its reader's next poll, a tenth of a second later,
which would be eight minutes for 5,000 pages. A language's
bundle is kept in the build cache under a digest of its pages' HTML, so a build in which no
page of a language changed does not index it again.

Only a page's article, marked data-pagefind-body by the templates, is indexed: menu,
footer and disclaimer are outside it, and a page without the mark (a 404 page, the A–Z
pages, a page with no text) is not given to the indexer at all. The bundle goes into
site/<lang>/pagefind/ among the site's other files, so the atomic write covers it.
"""
from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import json
import os
import signal
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from .a_z import check_a_z_free
from .cache import BuildCache
from .content import CONTENT_DIR
from .errors import ErrorList
from .site import Site

SEARCH_DIR = "pagefind"  # site/<lang>/pagefind/: Pagefind's script finds the site's pages from this name
# The attribute as the templates write it, last in the tag: in a page's text it would read
# 'data-pagefind-body&gt;', so text about it is not taken for the mark.
BODY_MARK = b" data-pagefind-body>"
# Inside the article but not what it says: its contents list, the next/previous links, review dates.
_EXCLUDE = [".toc", ".pager", ".review"]
# The bundle's own search interfaces and the highlighter: the site has a search script of its own.
_UNUSED = ("pagefind-ui.", "pagefind-component-ui.", "pagefind-modular-ui.", "pagefind-highlight.", "playground/")
_ANSWER_LIMIT = 1 << 30  # bytes of one answer from the indexer
_DEPENDENCY = "pyproject.toml"  # where the indexer is named (pinned in constraints.txt)
_SETUP = "run: bash scripts/setup.sh (it installs pagefind[bin] as pinned in constraints.txt)"


class IndexerFailed(Exception):
    """Pagefind could not index: the message says why, in one line."""


def search_bundle(site: Site, files: Mapping[str, bytes | str], cache: BuildCache, errors: ErrorList) -> dict[str, bytes | str]:
    """Each language's search bundle by path in site/ (bytes, or the digest of a cache object).

    A problem is added to errors; the caller stops the build then, so that no page is
    published with a search field that has no index behind it.
    """
    check_a_z_free(site, errors)
    pages: dict[str, dict[str, bytes | str]] = {code: {} for code in site.config.codes}
    for entry in site.entries:
        if entry.output.startswith(f"{entry.lang}/{SEARCH_DIR}/"):
            errors.add(site.config.root / CONTENT_DIR / entry.page.rel, 1,
                       f"the address {site.config.base_path}{entry.lang}/{SEARCH_DIR}/ is the search index's: give the page another file name")
        pages[entry.lang][entry.output] = files[entry.output]
    if errors.items:
        return {}
    bundle: dict[str, bytes | str] = {}
    todo: dict[str, str] = {}  # language -> key of its pages
    for code, language_pages in pages.items():
        key = _key(language_pages)
        known = cache.derived_files(f"search:{code}", key)
        if known is None:
            todo[code] = key
        else:
            bundle.update(known)
    if not todo:
        return bundle
    try:
        made = _index({code: pages[code] for code in todo}, cache)
    except IndexerFailed as exc:
        errors.add(site.config.root / _DEPENDENCY, 1, f"search: {exc}")
        return {}
    for code, key in todo.items():
        bundle.update(cache.store_derived_files(f"search:{code}", key, made[code]))
    return bundle


def _key(pages: Mapping[str, bytes | str]) -> str:
    """What a language's index is made from: the indexer's version and settings, each page's address and HTML."""
    digest = hashlib.sha256(f"{_version()}\0{_EXCLUDE}\0{BODY_MARK!r}\0{_UNUSED}".encode())
    for output in sorted(pages):
        content = pages[output]
        digest.update(f"\0{output}\0{content if isinstance(content, str) else hashlib.sha256(content).hexdigest()}".encode())
    return digest.hexdigest()


def _version() -> str:
    try:
        return importlib.metadata.version("pagefind")
    except importlib.metadata.PackageNotFoundError:
        return "-"


def _index(pages: dict[str, dict[str, bytes | str]], cache: BuildCache) -> dict[str, dict[str, bytes]]:
    """Index each language's pages; returns language -> its bundle's files by path in site/."""
    _check_executable()
    # Beside the cache's objects when there is a cache, so that pages are hard-linked, not copied.
    parent = cache.folder if cache.enabled else None
    with tempfile.TemporaryDirectory(prefix="search-", dir=parent) as work:
        folders = {code: _page_folder(Path(work) / code, code, language_pages, cache)
                   for code, language_pages in pages.items()}
        bundles: dict[str, list[dict]] = {}
        _run_in_thread(_index_folders(folders, bundles))
    return {code: _site_files(bundles[code], code) for code in pages}


def _check_executable() -> None:
    """IndexerFailed where Pagefind's Python API would find no indexer binary to run."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        raise IndexerFailed(f"Pagefind's Python package is not installed: {_SETUP}") from None
    try:
        found = get_executable()
    except (FileNotFoundError, OSError):
        found = None
    if found is None or not os.access(found, os.X_OK):
        where = f" ({found} is missing or not executable)" if found else ""
        raise IndexerFailed(f"Pagefind's indexer binary is not installed for this platform{where}: {_SETUP}")


def _page_folder(folder: Path, code: str, pages: Mapping[str, bytes | str], cache: BuildCache) -> Path:
    """A folder holding the language's pages that have an article, at their paths below site/<lang>/."""
    folder.mkdir(parents=True)
    prefix = f"{code}/"
    for output, content in pages.items():
        source = cache.object_path(content) if isinstance(content, str) else None
        data = content if isinstance(content, bytes) else Path(source).read_bytes()  # type: ignore[arg-type]
        if BODY_MARK not in data:
            continue
        target = folder / output.removeprefix(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if source is None:
                raise OSError
            os.link(source, target)
        except OSError:  # no cache, or another file system
            target.write_bytes(data)
    return folder


async def _index_folders(folders: dict[str, Path], bundles: dict[str, list[dict]]) -> None:
    """One indexer process, one index per language (each sees that language's pages only);
    each bundle's files are handed back in memory.

    Not written to disk by the indexer: it answers before its writes reach the files (they
    are still buffered), and it exits without finishing them when its input closes.
    """
    from pagefind.service import PagefindService

    try:
        service = await PagefindService().launch()
    except OSError as exc:
        raise IndexerFailed(f"Pagefind's indexer could not be started ({exc.strerror or exc}): {_SETUP}") from None
    # The API reads each answer whole, and a bundle of thousands of pages is one answer of
    # many megabytes: beyond the API's 2 MiB limit, its reader would stop.
    service._backend.stdout._limit = _ANSWER_LIMIT
    try:
        for code, folder in folders.items():
            config = {"exclude_selectors": _EXCLUDE, "keep_index_url": False}
            index = await _answer(service, service.create_index(config), code)  # type: ignore[arg-type]
            await _answer(service, index.add_directory(str(folder)), code)
            bundles[code] = await _answer(service, index.get_files(), code)
    except BaseException:
        await _stop(service)
        raise
    await service.close()


async def _answer(service, request, code: str):
    """The indexer's answer to a request; IndexerFailed if the indexer stops first.

    The API's reader ends when the indexer's output ends (it crashed, was killed) or is not
    its protocol (a panic message): its requests would then wait for ever.
    """
    task = asyncio.ensure_future(request)
    reader = service._poll_task  # the API's reader of the indexer's answers
    await asyncio.wait({task, reader}, return_when=asyncio.FIRST_COMPLETED)
    if task.done() and not isinstance(task.exception(), ConnectionError):  # not a request to a closed pipe
        try:
            return task.result()
        except Exception as exc:  # an error the indexer answered with
            raise IndexerFailed(f"Pagefind's indexer refused to index {code}: {_one_line(exc)}: {_SETUP}") from None
    task.cancel()
    if reader.done() and not isinstance(reader.exception(), asyncio.IncompleteReadError):
        stopped = "it wrote what is not Pagefind's protocol"
    else:  # its input or output closed: it is ending
        stopped = f"exit code {await service._backend.wait()}"
    raise IndexerFailed(f"Pagefind's indexer stopped while indexing {code} ({stopped}): build again; if it fails again, {_SETUP}")


async def _stop(service) -> None:
    """End the indexer without waiting for the answers it will never send (the API's close()
    would wait for them), and let it go while the event loop still runs."""
    service._poll_task.cancel()
    backend = service._backend
    if backend.returncode is None:
        backend.kill()
    await backend.wait()
    if backend.stdin is not None:
        backend.stdin.close()
    await asyncio.sleep(0)  # the transport closes on the loop's next turn


def _one_line(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return " ".join(text.split())[:300]


def _run_in_thread(coroutine) -> None:
    """Run the indexer's event loop on a thread of its own: the caller may be on a thread
    that runs one already (the preview server), and Ctrl+C stays the command line's."""
    failure: list[BaseException] = []

    def run() -> None:
        # The preview builds on a thread that blocks SIGINT and SIGTERM (guidesite/serve.py),
        # and a thread's mask is inherited by the processes it starts: the indexer would never
        # see the SIGTERM that ends it, and the build would wait for it for ever.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # handed to the calling thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="pagefind", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _site_files(bundle: list[dict], code: str) -> dict[str, bytes]:
    """The files of a bundle that the site's search needs, by path in site/."""
    contents = {str(file["path"]).replace(os.sep, "/"): file["content"] for file in bundle}
    if "pagefind-entry.json" not in contents:
        raise IndexerFailed(f"Pagefind's indexer made no index for {code}: build again; if it fails again, {_SETUP}")
    entry = json.loads(contents["pagefind-entry.json"])
    wasm = {f"wasm.{language['wasm']}.pagefind" for language in entry["languages"].values()} or {"wasm.unknown.pagefind"}
    return {f"{code}/{SEARCH_DIR}/{name}": data for name, data in sorted(contents.items())
            if not name.startswith(_UNUSED) and not (name.startswith("wasm.") and name not in wasm)}
