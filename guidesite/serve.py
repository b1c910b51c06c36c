"""`serve`: the preview. Builds with drafts, serves the result on loopback, and reloads the
open browser tab after every rebuild.

Served by the livereload package: tornado serves the files (livereload's StaticFileHandler),
livereload's websocket protocol (LiveReloadHandler) tells the tabs to reload, and its own
livereload.js runs in them, loaded from the same origin. livereload has sharp edges
(shared/notes/libraries.md, and its source); each is worked around by one subclass or
handler below, with a comment naming the edge:

- its Server blocks on the process-wide IOLoop, cannot be stopped from another thread and
  injects an inline script our Content-Security-Policy blocks: `Preview` runs a tornado
  Application with livereload's handlers on a thread of its own, with its own event loop;
- its watcher polls every file, runs the build on the server's thread, rebuilds once per
  save and sees only modification times: `Watcher` has the operating system report changes
  (through watchfiles), and the build runs on a thread of its own;
- it drops a reload within 3 s of the previous one, and a tab that connects after a build
  finished never hears of it: `_Tabs` sends each reload at once and tells an older tab;
- it injects its script only before a lower-case </head> in the first 64 KiB, sends pages
  without a charset, answers a missing path with tornado's 404 page, and a failed build
  leaves the browser on the old page: `_Files`.

The preview builds into .cache/preview/, never into site/: it includes drafts, which must
not end up in the folder that gets published, and a build that runs while an editor
types must not touch it. The pipeline's atomic swap keeps .cache/preview/ complete, so a
failed build simply leaves the last good preview in place.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import html
import ipaddress
import json
import os
import queue
import re
import signal
import socket
import sys
import threading
import time
import traceback
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import watchfiles
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import NullTranslations, Translations
from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler, StaticFileHandler
from rich.console import Console
from rich.text import Text
from tornado.httpserver import HTTPServer
from tornado.httputil import split_host_and_port
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler
from tornado.websocket import WebSocketHandler

from .config import load_config
from .console import changed_files, console, print_errors, print_warnings, progress, rebuild_line, saved_line
from .errors import BuildCancelled, BuildError, ContentError
from .i18n import catalog_path
from .output import PREVIEW_DIR
from .pipeline import BuildOptions, build
from .saved_pages import LastBuild, render_saved

WATCHED_FOLDERS = ("content", "templates", "assets", "translations")
WATCHED = (*WATCHED_FOLDERS, "site.yaml", "babel.cfg")
SETTLE_SECONDS = 0.1  # saves closer together than this give one rebuild
MAX_GROUPING_MS = 1000  # changes that go on longer (a git checkout) are reported after this
PORT_TRIES = 20  # a busy port: the preview tries this many ports from it on
READY_MS = 100  # how soon a new watch answers, with nothing, to say it is in place
EXCERPT_LINES = 3  # the error page shows this many lines before and after an error's line
EXCERPT_WIDTH = 200  # characters of each line
EXCERPT_MAX_BYTES = 2_000_000  # a larger file (a minified bundle) is not read for an excerpt
LAST_GOOD = "last-good"  # query parameter: show the last good page instead of the build errors
# From this many pages on, a full rebuild keeps an editor waiting (half a second at a few
# hundred pages, seconds at thousands): the saved pages are rendered and shown first, while
# the full build runs (guidesite/saved_pages.py). Below it, one reload per save is quicker.
SAVED_PAGES_FIRST_FROM = 100
RELOAD = {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}  # liveCSS/liveImg off: the whole page, as a build may change any of it


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Watcher:
    """Which sources changed, told by the operating system (inotify on Linux) through watchfiles.

    livereload's watcher polled every file ten times a second, so the idle preview's work
    grew with the number of pages (6 ms a poll at 581 files). Here the kernel reports each
    change and watchfiles groups the events of one save, and of saves close together, until
    `settle` seconds pass without one: idle, nothing runs but a timer every `settle` seconds.

    Two watches feed one queue: the source folders with everything below them, and the
    project folder alone for site.yaml and babel.cfg. A watch on a file follows its inode,
    which an editor that saves by writing a new file and renaming it over the old one (vim,
    many IDEs) replaces; the folder sees every such save. Watching the whole project instead
    would watch .venv/ and .cache/, which the preview itself rewrites. A source folder created
    or replaced while the preview runs restarts the folders' watch, so that it covers it.
    """

    def __init__(self, root: Path, settle: float = SETTLE_SECONDS):
        self.root = root
        self.settle = settle
        self._queue: queue.SimpleQueue[set[str] | BaseException | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._restart = threading.Event()
        ready = [threading.Event(), threading.Event()]
        self._threads = [
            threading.Thread(target=self._guard, args=(self._watch_folders, ready[0]), name="preview-watch-folders", daemon=True),
            threading.Thread(target=self._guard, args=(self._watch_top, ready[1]), name="preview-watch-top", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        for event in ready:  # the watches are in place: every later save is seen
            while not event.wait(0.1):
                if not any(thread.is_alive() for thread in self._threads):
                    break

    def next_changes(self, timeout: float | None = None) -> set[str] | None:
        """The paths changed since the last call, once saving has paused; an empty set if
        `timeout` seconds pass without a change, None once stopped."""
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return set()
        changed: set[str] = set()
        item: set[str] | BaseException | None = first
        while True:
            if item is None:
                return None
            if isinstance(item, BaseException):
                raise item
            changed |= item
            try:  # the other watch's part of the same save, if it has arrived
                item = self._queue.get(timeout=self.settle / 2)
            except queue.Empty:
                return changed

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join()
        self._queue.put(None)

    def _guard(self, watch: Callable[[threading.Event], None], ready: threading.Event) -> None:
        try:
            watch(ready)
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that rebuilds
            self._queue.put(exc)
        finally:
            ready.set()

    def _watch_folders(self, ready: threading.Event) -> None:
        while not self._stopping.is_set():
            self._restart.clear()
            folders = [self.root / name for name in WATCHED_FOLDERS if (self.root / name).is_dir()]
            if not folders:
                ready.set()
                self._until(self._restart)
                continue
            self._follow(folders, True, watchfiles.DefaultFilter(), ready, _AnyOf(self._stopping, self._restart))

    def _watch_top(self, ready: threading.Event) -> None:
        def named(change: watchfiles.Change, path: str) -> bool:
            name = os.path.basename(path)
            if name in WATCHED_FOLDERS and (change == watchfiles.Change.deleted or os.path.isdir(path)):
                self._restart.set()  # a source folder created, moved in or removed
            return name in WATCHED

        self._follow([self.root], False, named, ready, self._stopping)

    def _follow(self, paths: list[Path], recursive: bool, keep: Callable[[watchfiles.Change, str], bool],
                ready: threading.Event, stop: threading.Event | _AnyOf) -> None:
        # yield_on_timeout: the first (empty) answer comes once the watch is in place.
        for changes in watchfiles.watch(*paths, watch_filter=keep, recursive=recursive, stop_event=stop,
                                        step=round(self.settle * 1000), debounce=MAX_GROUPING_MS,
                                        rust_timeout=READY_MS, yield_on_timeout=True, raise_interrupt=False):
            ready.set()
            if changes:
                self._queue.put({path for _, path in changes})

    def _until(self, event: threading.Event) -> None:
        while not (event.wait(0.5) or self._stopping.is_set()):
            pass


class _AnyOf:
    """Set when either event is: watchfiles takes any object with is_set()."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


@dataclass(frozen=True)
class Excerpt:
    """An error as the error page shows it: its `file:line: message`, and the lines of the
    file around that line, as they were when the build failed."""

    text: str
    line: int = 0
    lines: tuple[tuple[int, str], ...] = ()  # (number, text), the error's line among them


def excerpt(root: Path, error: ContentError, around: int = EXCERPT_LINES) -> Excerpt:
    """The error with the lines around it, if it names a text file of the project."""
    path = root / error.path
    try:
        inside = path.resolve().is_relative_to(root.resolve())
        if not inside or not path.is_file() or path.stat().st_size > EXCERPT_MAX_BYTES:
            return Excerpt(str(error), error.line)
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return Excerpt(str(error), error.line)
    lines = text.splitlines()
    first, last = max(error.line - around, 1), min(error.line + around, len(lines))
    shown = tuple((number, lines[number - 1][:EXCERPT_WIDTH]) for number in range(first, last + 1))
    return Excerpt(str(error), error.line, shown)


@dataclass(frozen=True)
class State:
    """What the last build left: replaced as a whole, so a request reads one consistent state."""

    # Not a number: livereload.js turns numeric options into JavaScript numbers, which round.
    version: str = field(default_factory=lambda: f"v{time.time_ns()}")
    errors: tuple[Excerpt, ...] = ()  # of the last build, if it failed
    base_path: str = "/"
    codes: tuple[str, ...] = ()
    default_language: str = "en"
    catalogs: dict[str, Translations | NullTranslations] = field(default_factory=dict)  # for the error page
    # Pages just saved, rendered ahead of the full build that is on its way (guidesite/saved_pages.py):
    # served instead of their files in the preview's folder, by path in it.
    saved: dict[str, bytes] = field(default_factory=dict)


class PreviewStopped(Exception):
    """The server's or the watcher's thread has ended with an error."""


class Preview:
    """The preview server: one build at start, then a rebuild after every pause in saving.

    The build runs on the watcher's thread; the server, its handlers and every change of
    `state` run on the server's thread, so a tab is told of each build exactly once.
    """

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 8000, out: Console | None = None):
        self.root = root
        self.host = host
        self.out_dir = root / PREVIEW_DIR
        self.out = out or console()
        self.errors_out = console(stderr=True)
        self._watcher: Watcher | None = None
        self.state = State()
        self.tabs: set[_Tabs] = set()  # the open tabs' websockets, touched on the server's thread only
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._loop: IOLoop | None = None
        self._stopped: asyncio.Event | None = None
        # Saves and full builds, counted: a build publishes only if no save came after its start.
        self._work = threading.Condition()
        self._generation = self._built = self._published = 0
        self._pending: set[str] = set()  # changed since the last full build began
        self._since_good: set[str] = set()  # changed since the last good build, whose pages `_last` holds
        self._last: LastBuild | None = None
        self._closing = False
        self._publishing = threading.Lock()  # one state at a time, in the order of the saves
        self.saved_pages_first_from = SAVED_PAGES_FIRST_FROM
        # Bound now: a busy port fails before any build. The kernel caps the backlog at
        # net.core.somaxconn; a short one resets connections when many arrive at once.
        self._sockets = bind_sockets(port, host, backlog=socket.SOMAXCONN)
        self.port = self._sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return _http_url(self._sockets[0].getsockname()[0], self.port)

    @property
    def local_url(self) -> str:
        """The address to open on this machine: loopback for a preview on every interface."""
        host = self._sockets[0].getsockname()[0]
        return _http_url({"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host), self.port)

    def start(self) -> None:
        """Build once, then serve and watch in background threads."""
        # Threads inherit the signal mask: with Ctrl+C and SIGTERM blocked in them, the kernel
        # delivers both to the main thread, whose sleep they then interrupt. Otherwise a
        # signal that lands on a background thread waits for the main thread to wake up.
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        try:
            self._watcher = Watcher(self.root)  # before the build: a save during it is seen
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        with progress(self.out):
            self.rebuild()
        serving = threading.Event()
        self._threads = [
            threading.Thread(target=asyncio.run, args=(self._serve(serving),), name="preview-server"),
            threading.Thread(target=self._watch, args=(self._watcher,), name="preview-watcher"),
        ]
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        try:
            self._threads[0].start()
            # The watcher's first build publishes through the server's loop: wait for it, or
            # for the thread's end, should setting up the server fail.
            while not serving.wait(0.1):
                if not self._threads[0].is_alive():
                    raise PreviewStopped("the preview server could not start (the error is above)")
            self._threads[1].start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def running(self) -> bool:
        """Whether the server and the watcher both still run: an error in either ends its thread."""
        return bool(self._threads) and all(thread.is_alive() for thread in self._threads)

    def stop(self) -> None:
        """Stop watching (letting a build finish), then close the tabs' websockets and the port."""
        self._stopping.set()
        if self._watcher:
            self._watcher.stop()
        if self._threads:
            server, watcher = self._threads
            if watcher.ident is not None:  # not started if start() was interrupted
                watcher.join()
            if server.is_alive():
                assert self._loop and self._stopped
                self._loop.add_callback(self._stopped.set)
                server.join()
        for sock in self._sockets:  # unless the server took them over and closed them already
            sock.close()

    async def _serve(self, serving: threading.Event) -> None:
        # Sharp edge: livereload's Server.serve() blocks on the process-wide IOLoop, cannot be
        # stopped from another thread and injects an inline script that script-src 'self'
        # refuses. So: its handlers in an Application of ours, on this thread's own loop.
        self._loop, self._stopped = IOLoop.current(), asyncio.Event()
        app = Application([
            (r"/livereload", _Tabs, {"preview": self}),
            (r"/livereload\.js", LiveReloadJSHandler),
            (r"/(.*)", _Files, {"preview": self}),
        ], default_handler_class=_NotFound, default_handler_args={"preview": self},
            log_function=lambda handler: None)  # quiet: the console is for build results
        server = HTTPServer(app, idle_connection_timeout=60, body_timeout=60)
        server.add_sockets(self._sockets)
        serving.set()
        await self._stopped.wait()
        server.stop()
        for tab in list(self.tabs):
            tab.close()
        await server.close_all_connections()

    def _watch(self, watcher: Watcher) -> None:
        """Answer each save: the saved pages at once where a full build would keep the editor
        waiting, and a full build on the builder's thread, which a newer save cancels."""
        builder = threading.Thread(target=self._build_newest, name="preview-builder")
        builder.start()
        try:
            while (changed := watcher.next_changes()) is not None:
                if self._stopping.is_set():
                    return
                with self._work:
                    self._generation += 1
                    generation = self._generation
                    self._pending |= changed
                    self._since_good |= changed
                    since_good, last = set(self._since_good), self._last
                    self._work.notify()
                if last is not None and len(last.site.entries) >= self.saved_pages_first_from:
                    self._show_saved(last, since_good, changed, generation)
        finally:
            with self._work:
                self._closing = True
                self._work.notify()
            builder.join()

    def _build_newest(self) -> None:
        """The builder's thread: a full build for the newest saves, until the preview stops."""
        while True:
            with self._work:
                while self._built == self._generation and not self._closing:
                    self._work.wait()
                if self._closing:
                    return
                generation, changed = self._generation, self._pending
                self._built, self._pending = generation, set()
            if not self.rebuild(changed, generation):
                with self._work:  # cancelled, or overtaken: its saves are the next build's news too
                    self._pending |= changed

    def _show_saved(self, last: LastBuild, since_good: set[str], changed: set[str], generation: int) -> None:
        started = time.perf_counter()
        try:
            saved = render_saved(last, self.root, since_good)
        except Exception:  # a bug here must not end the preview: the full build follows anyway
            traceback.print_exc()
            saved = None
        if saved is None:
            return
        with self._publishing:
            if self._published < generation and not self.state.errors:
                # Only the tabs that show a saved page: the others would come back the same.
                self._publish(replace(self.state, version=State().version, saved=saved), reload=saved.__contains__)
                self.out.print(saved_line(changed_files(self.root, changed), len(saved), time.perf_counter() - started))

    def rebuild(self, changed: set[str] | None = None, generation: int | None = None) -> bool:
        """Build with drafts; on failure keep the last good preview and show the errors instead.
        Returns whether this build was published: not if a newer save cancelled or overtook the
        save `generation` it was started for (a build without one always is).

        Prints one line: the time, the files that changed, what was rebuilt and how long it took."""
        what = changed_files(self.root, changed) if changed else None
        newer = lambda: generation is not None and self._generation != generation  # noqa: E731 - an int, set under the lock
        try:
            result = build(BuildOptions(root=self.root, out_dir=self.out_dir, drafts=True, preview=True, cancelled=newer))
            errors: tuple[Excerpt, ...] = ()
        except BuildCancelled:
            return False
        except BuildError as exc:
            errors = tuple(excerpt(self.root, error) for error in exc.errors)
        except Exception as exc:  # a bug in the generator must not end the preview; shown like an error
            traceback.print_exc()
            errors = (Excerpt(f"internal error in the generator (traceback in the console): {exc!r}"),)
        try:  # the configuration may be fine even when the build is not: then the error page knows the languages
            config = load_config(self.root)
            base_path, codes, default = config.base_path, config.codes, config.default_language
        except BuildError:
            base_path, codes, default = self.state.base_path, self.state.codes, self.state.default_language
        catalogs = {code: _lenient_catalog(self.root, code) for code in codes} if errors else {}
        with self._publishing:
            if newer():
                return False
            if errors:
                self.errors_out.print(rebuild_line(what, 0, 0, 0, errors=len(errors)))
                print_errors(self.errors_out, (error.text for error in errors))
            else:
                self.out.print(rebuild_line(what, sum(result.pages.values()), result.rendered, result.seconds))
                self._report_warnings(result.warnings, changed)
                with self._work:
                    self._last, self._since_good = result.last, set()
            self._published = self._generation if generation is None else generation
            before = self.state.saved
            # A tab showing a saved page that the full build made the same is spared a second reload.
            changed = (lambda name: not (name in before and _read(self.out_dir / name) == before[name])) if before and not errors else None
            self._publish(State(errors=errors, base_path=base_path, codes=codes, default_language=default, catalogs=catalogs), changed)
        return True

    def _report_warnings(self, warnings: list[ContentError], changed: set[str] | None) -> None:
        """In full on the first build and for the files just saved; the rest as a count and the
        address of the dashboard that lists them, so a save does not scroll pages of them past."""
        if not warnings:
            return
        saved = {Path(p).resolve().relative_to(self.root.resolve()).as_posix() for p in changed
                 if Path(p).resolve().is_relative_to(self.root.resolve())} if changed else None
        shown = [w for w in warnings if saved is None or w.path in saved]
        print_warnings(self.errors_out, shown)
        others = len(warnings) - len(shown)
        self.errors_out.print(f"{len(warnings)} warning(s){f' ({others} on files not just saved)' if others and shown else ''}: "
                              f"every page's state is at {self.local_url}_preview/")

    def _publish(self, state: State, reload: Callable[[str], bool] | None = None) -> None:
        """Make `state` the current one and reload the tabs, on the server's thread; return once done.

        With `reload`, a tab whose page livereload.js named is reloaded only if reload(its file
        in the site) says so; a tab that has not named its page always is."""
        def publish() -> None:
            self.state = state
            for tab in list(self.tabs):
                if reload is None or tab.page is None or reload(_file_of(tab.page, state.base_path)):
                    tab.send_message(RELOAD)
            done.set()

        done = threading.Event()
        if self._loop is None or self._stopped is None or self._stopped.is_set():
            return publish()  # not serving: no tab to tell
        self._loop.add_callback(publish)
        while not done.wait(0.5):
            if not self._threads[0].is_alive():  # publish will never run: there is no tab to tell
                self.state = state
                return


class _Tabs(LiveReloadHandler):
    """livereload's websocket protocol, for the tabs of one preview, aware of build versions.

    Sharp edges: LiveReloadHandler keeps the tabs of every server in one class-wide set
    (two previews in one process would reload each other's tabs, from the wrong thread);
    it drops a reload within 3 s of the previous one (DEFAULT_RELOAD_TIME, applied by its
    polling loop, which is not used here: each build sends its reload at once); it accepts
    websockets from any origin; and a tab whose page was served before a build finished but
    connects after it would never be told. livereload.js sends its `snipver` option (from
    the script's URL, which carries the page's build version) in its hello: a tab with an
    older build is told to reload at once.
    """

    def initialize(self, preview: Preview) -> None:
        self.preview = preview
        self.page: str | None = None  # the path of the page the tab shows, once its `info` came

    def prepare(self) -> None:
        refuse_other_hosts(self)

    def check_origin(self, origin: str) -> bool:
        return WebSocketHandler.check_origin(self, origin)  # tornado's same-origin check

    def on_message(self, message: str | bytes) -> None:
        try:
            hello = json.loads(message)
        except ValueError:
            hello = None
        if not isinstance(hello, dict):  # not livereload.js: nothing to say to it
            return self.close()
        if hello.get("command") == "hello":
            super().on_message(message)  # livereload's handshake
            # Told of every build from its hello on: one that ends before the client's
            # `info` (a round trip later) must reach it too.
            self.preview.tabs.add(self)
            if str(hello.get("snipver")) != self.preview.state.version:
                self.send_message(RELOAD)
        elif hello.get("command") == "info" and isinstance(hello.get("url"), str):
            self.page = unquote(urlsplit(hello["url"]).path)  # which page the tab shows

    def on_close(self) -> None:
        self.preview.tabs.discard(self)


def _file_of(page: str, base_path: str) -> str:
    """The file in the site a page's path names: '/de/ursachen/' -> 'de/ursachen/index.html'."""
    name = page.removeprefix(base_path)
    return name + "index.html" if name == "" or name.endswith("/") else name


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def refuse_other_hosts(handler: RequestHandler) -> None:
    """A preview on loopback answers only requests addressed to a loopback name.

    Otherwise a web page elsewhere could rebind its own host name to 127.0.0.1 and read the
    preview, drafts included, as same-origin: the Host header is what such a request
    cannot hide. With --allow-remote the address is meant to be reached by other names."""
    if is_loopback(handler.preview.host) and not is_loopback(handler.request.host_name):
        raise HTTPError(403)


def inject(page: bytes, src: str) -> bytes:
    """Add the reload script before the first </head> in any casing, or at the end without one."""
    tag = f'<script src="{html.escape(src)}"></script>\n'.encode()
    head = re.search(rb"</head\s*>", page, re.IGNORECASE)
    return page[: head.start()] + tag + page[head.start():] if head else page + tag


class _Site(RequestHandler):
    """What every answer of the preview shares: headers, and pages with the reload script."""

    def initialize(self, preview: Preview) -> None:
        self.preview = preview
        self.state = preview.state  # read once, before any file: a page never claims a newer build than its content

    def prepare(self) -> None:
        refuse_other_hosts(self)

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")  # a reload must fetch the new build
        self.set_header("X-Content-Type-Options", "nosniff")

    def send_page(self, status: int, page: bytes) -> None:
        """Sharp edge: livereload injects only before a lower-case </head> in a page's first
        64 KiB, and sends pages without a charset. Here: every page, with its build version."""
        # The host and port the browser used, which a port forward (ssh -L, docker -p) makes
        # differ from ours: livereload.js opens its websocket there.
        port = split_host_and_port(self.request.host)[1] or (443 if self.request.protocol == "https" else 80)
        src = "/livereload.js?" + urlencode({"host": self.request.host_name, "port": port, "snipver": self.state.version})
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(inject(page, src))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, HTTPError):  # quiet about refused requests; bugs still get a traceback
            super().log_exception(typ, value, tb)

    def showing_errors(self) -> bool:
        return bool(self.state.errors) and LAST_GOOD not in self.request.query_arguments

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Sharp edge: tornado answers a missing path with its own 404 page, not the site's,
        # and a failed build leaves the browser on the old page: show the errors instead.
        path = unquote(self.request.path)
        if status_code == 404 and self.showing_errors():
            return self.send_page(500, error_page(self.state, path))
        if status_code != 404:
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            return self.finish(f"{status_code} {self._reason}\n")
        first = path.removeprefix(self.state.base_path).split("/", 1)[0]
        page = self.preview.out_dir / first / "404.html" if first in self.state.codes else self.preview.out_dir / "404.html"
        self.send_page(404, page.read_bytes() if page.is_file() else b"<!doctype html><title>404</title><h1>404</h1>\n")


class _NotFound(_Site):
    """Anything outside the site's paths."""

    def prepare(self) -> None:
        super().prepare()
        raise HTTPError(404)


class _Files(_Site, StaticFileHandler):
    """livereload's file handler (no 304s: a reload always gets the new build) over .cache/preview/.

    tornado refuses paths out of the folder, symlinks that lead out included (≥ 6.5.9),
    redirects a folder without its '/' and answers ranges; pages go through send_page.
    """

    def initialize(self, preview: Preview) -> None:  # type: ignore[override]
        _Site.initialize(self, preview)
        StaticFileHandler.initialize(self, str(preview.out_dir), default_filename="index.html")

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        try:
            return super().decode_argument(value, name)
        except HTTPError:  # not UTF-8, such as an overlong '%c0%ae': no file has that name
            raise HTTPError(404) from None

    def parse_url_path(self, url_path: str) -> str:
        # Refused before tornado resolves them, as no page links that way: a path outside the
        # site's base path, '.', '..' or empty segments, a backslash, NUL (tornado's symlink
        # check fails on it with a 500) and an encoded '/', '\\' or NUL.
        base = self.state.base_path.lstrip("/")
        parts = url_path[len(base):].split("/")
        if (not url_path.startswith(base) or "\\" in url_path or "\0" in url_path
                or re.search(r"%(?:2f|5c|00)", self.request.path, re.IGNORECASE)
                or any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", "..")):
            raise HTTPError(404)
        return super().parse_url_path(url_path[len(base):])

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        found = super().validate_absolute_path(root, absolute_path)
        if found is not None and found.endswith(".html"):
            if self.showing_errors():
                self.send_page(500, error_page(self.state, unquote(self.request.path)))
            else:
                saved = self.state.saved.get(os.path.relpath(found, os.path.abspath(root)).replace(os.sep, "/")) if self.state.saved else None
                self.send_page(200, saved if saved is not None else Path(found).read_bytes())
            return None  # answered: tornado's get() stops here
        return found

    def compute_etag(self) -> str | None:
        # Sharp edge: livereload's version hash reads and hashes the whole file on every
        # request (its cache swaps times and hashes); every answer is no-store anyway.
        return None

    def get_content_type(self) -> str:
        kind = super().get_content_type()
        text = kind.startswith("text/") or kind in ("image/svg+xml", "application/javascript", "application/xml")
        return f"{kind}; charset=utf-8" if text else kind


def _lenient_catalog(root: Path, lang: str) -> Translations | NullTranslations:
    """A language's catalog as far as it can be read: the build may have failed because of it."""
    try:
        with catalog_path(root, lang).open("rb") as fp:
            catalog = read_po(fp, locale=lang)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(fp=buffer)
    except (OSError, ValueError, PoFileError):
        return NullTranslations()


def error_page(state: State, path: str) -> bytes:
    """The build errors, in the language of the requested page where its catalog can be read."""
    first = path.removeprefix(state.base_path).split("/", 1)[0]
    lang = first if first in state.codes else state.default_language
    _ = state.catalogs.get(lang, NullTranslations()).gettext
    if lang not in state.catalogs:
        lang = "en"
    # Messages are looked up outside the f-string: Babel's extractor does not read f-strings.
    title = html.escape(_("The preview could not be built"))
    advice = html.escape(_("Fix these problems and save: this page reloads by itself."))
    last_good = html.escape(_("Show the last good version of this page"))
    items = "".join(f"<li>{_error_html(error)}</li>\n" for error in state.errors)
    link = html.escape(path.split("?", 1)[0] + "?" + LAST_GOOD)
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>body{{font:1.1rem/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}}
li{{margin:1rem 0}}code,pre{{font-family:ui-monospace,monospace;white-space:pre-wrap}}
pre{{margin:.5rem 0;padding:.5rem;border:1px solid #8886;border-radius:.25rem;overflow-x:auto;font-size:.9rem}}
pre span{{display:block}}pre mark{{display:block;font-weight:bold;background:#fd06;color:inherit}}</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p>{advice}</p>
<ol lang="en">
{items}</ol>
<p><a href="{link}">{last_good}</a></p>
</main>
</body>
</html>
""".encode("utf-8")


def _http_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _listen(root: Path, host: str, port: int, out: Console) -> Preview:
    """A preview on `port`, or on the next free port after it when that one is taken (by
    another preview, say), saying so."""
    for candidate in range(port, min(port + PORT_TRIES, 65536)) if port else [0]:
        try:
            preview = Preview(root, host, candidate, out=out)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or candidate == min(port + PORT_TRIES, 65536) - 1:
                raise
            continue
        if candidate != port:
            out.print(f"serve: port {port} is in use, so the preview takes port {candidate}.")
        return preview
    raise AssertionError("unreachable: the loop returns or raises")


def reachable_urls(host: str, port: int) -> list[str]:
    """The addresses at which other devices on the network can open a preview on `host`."""
    if host not in ("0.0.0.0", "::", ""):
        return [_http_url(host, port)]
    found: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        # Connecting a UDP socket sends nothing: the kernel only picks the interface that
        # leads out (192.0.2.1 is a documentation address), whose address a phone can reach.
        probe.connect(("192.0.2.1", 9))
        found.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        found += socket.gethostbyname_ex(socket.gethostname())[2]
    usable = [a for a in dict.fromkeys(found) if not ipaddress.ip_address(a).is_loopback and not ipaddress.ip_address(a).is_unspecified]
    return [_http_url(address, port) for address in usable]


def _error_html(error: Excerpt) -> str:
    """The error's message, then its file's lines around it with its own line marked, in
    words and weight as well as colour (as Hugo's error overlay shows a template error)."""
    message = f"<code>{html.escape(error.text)}</code>"
    if not error.lines:
        return message
    width = len(str(error.lines[-1][0]))
    rows = []
    for number, text in error.lines:
        gutter = f"{'>' if number == error.line else ' '} {number:>{width}} | "
        row = html.escape(gutter + text)
        rows.append(f"<mark>{row}</mark>" if number == error.line else f"<span>{row}</span>")
    return f'{message}\n<pre class="excerpt">{"".join(rows)}</pre>'


def serve(root: Path, host: str, port: int, allow_remote: bool, open_browser: bool = False) -> int:
    """`build.py serve`: preview until Ctrl+C; prints where to look, and opens it if asked."""
    if not (is_loopback(host) or allow_remote):
        print(f"serve: {host} can be reached from other machines; add --allow-remote to listen there anyway", file=sys.stderr)
        return 2
    out = console()
    try:
        preview = _listen(root, host, port, out)
    except OSError as exc:
        print(f"serve: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly, as on Ctrl+C
    try:
        preview.start()
        local = preview.local_url
        out.print(Text.assemble("Preview with drafts at ", (local, "bold cyan"), " – it reloads after every save. Ctrl+C stops it."))
        if not is_loopback(host):
            others = reachable_urls(host, preview.port)
            if others:
                out.print("On a phone or another computer on the same network: " + "  ".join(others))
            else:
                out.print("This machine has no network address that other devices could open.")
        if open_browser and not webbrowser.open(local):
            out.print(f"serve: found no browser to open; open {local} yourself.")
        while preview.running():
            time.sleep(1)  # Ctrl+C and SIGTERM cut it short
        raise PreviewStopped("the preview stopped after an internal error (the error is above)")
    except PreviewStopped as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl+C while a build finishes must not cut the stop short: the server's
        # thread would then keep the process alive.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        preview.stop()
    return 0
