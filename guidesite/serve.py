"""`serve`: the preview. Builds with drafts, serves the result on loopback, and reloads the
open browser tab after every rebuild.

Served by the livereload package: tornado serves the files (livereload's StaticFileHandler),
livereload's websocket protocol (LiveReloadHandler) tells the tabs to reload, and its own
livereload.js runs in them, loaded from the same origin. livereload has sharp edges
(shared/notes/libraries.md, and its source); each is worked around by one subclass or
handler, with a comment naming the edge:

- its Server blocks on the process-wide IOLoop, cannot be stopped from another thread and
  injects an inline script our Content-Security-Policy blocks: `Preview` runs a tornado
  Application with livereload's handlers on a thread of its own, with its own event loop;
- its watcher polls every file, runs the build on the server's thread, rebuilds once per
  save and sees only modification times: `Watcher` (guidesite/watcher.py) has the operating
  system report changes (through watchfiles), and the build runs on a thread of its own;
- it drops a reload within 3 s of the previous one, and a tab that connects after a build
  finished never hears of it: `Tabs` (guidesite/preview_server.py) sends each reload at
  once and tells an older tab;
- it injects its script only before a lower-case </head> in the first 64 KiB, sends pages
  without a charset, answers a missing path with tornado's 404 page, and a failed build
  leaves the browser on the old page: `_Files` (guidesite/preview_server.py), which shows
  the build's errors instead (guidesite/error_page.py).

The preview builds into .cache/preview/, never into site/: it includes drafts, which must
not end up in the folder that gets published, and a build that runs while an editor
types must not touch it. The pipeline's atomic swap keeps .cache/preview/ complete, so a
failed build simply leaves the last good preview in place.

On a site of SAVED_PAGES_FIRST_FROM pages or more, a save is answered twice: at once with
the saved pages alone, rendered against the last good build and served from memory
(guidesite/saved_pages.py), then by the full build on the builder's thread. Each save is
counted; a build publishes only while no newer save has come, and a newer one cancels it
between its steps, so a tab never goes back to an older text.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import sys
import threading
import time
import traceback
import webbrowser
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.text import Text
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets

from .cache.sources import CHANGED_DURING_BUILD
from .config import load_config
from .console import changed_files, console, print_errors, print_warnings, progress, rebuild_line, saved_line
from .error_page import Excerpt, excerpt, lenient_catalog
from .errors import BuildCancelled, BuildError, ContentError
from .output import PREVIEW_DIR
from .pipeline import BuildOptions, build
from .preview_server import RELOAD, State, Tabs, application, file_of, http_url, inject, is_loopback, reachable_urls
from .saved_pages import LastBuild, render_saved
from .watcher import WATCHED, Watcher

# Imported from here by tests and bench, though some of it now lives in the modules serve.py was split into.
__all__ = ["PREVIEW_DIR", "WATCHED", "Preview", "PreviewStopped", "Watcher", "inject", "is_loopback", "reachable_urls", "serve"]

PORT_TRIES = 20  # a busy port: the preview tries this many ports from it on
# From this many pages on, a full rebuild keeps an editor waiting (half a second at a few
# hundred pages, seconds at thousands): the saved pages are rendered and shown first, while
# the full build runs (guidesite/saved_pages.py). Below it, one reload per save is quicker.
SAVED_PAGES_FIRST_FROM = 100
BUILDER_NICENESS = 10  # added to the full builds' scheduling niceness (see _build_newest)
REBUILD_TRIES = 3  # builds for one save whose sources keep changing while they are read


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
        self.tabs: set[Tabs] = set()  # the open tabs' websockets, touched on the server's thread only
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
        return http_url(self._sockets[0].getsockname()[0], self.port)

    @property
    def local_url(self) -> str:
        """The address to open on this machine: loopback for a preview on every interface."""
        host = self._sockets[0].getsockname()[0]
        return http_url({"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host), self.port)

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
        # refuses. So: its handlers in an Application of ours (preview_server.application), on
        # this thread's own loop.
        self._loop, self._stopped = IOLoop.current(), asyncio.Event()
        server = HTTPServer(application(self), idle_connection_timeout=60, body_timeout=60)
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
        # Behind the saved pages, the full build is background work: at a lower priority (on
        # Linux per thread, and inherited by the workers and the indexer it starts), the
        # server, the saved pages and the editor's browser get the cores first.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BUILDER_NICENESS)
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
        for attempt in range(1, REBUILD_TRIES + 1):
            try:
                result = build(BuildOptions(root=self.root, out_dir=self.out_dir, drafts=True, preview=True, cancelled=newer))
                errors: tuple[Excerpt, ...] = ()
            except BuildCancelled:
                return False
            except BuildError as exc:
                # A save while the build read the sources (an editor saving again, seen by the
                # watcher a moment later): build again, as the message asks, rather than show it.
                if generation is not None and attempt < REBUILD_TRIES and all(e.message == CHANGED_DURING_BUILD for e in exc.errors):
                    continue
                errors = tuple(excerpt(self.root, error) for error in exc.errors)
            except Exception as exc:  # a bug in the generator must not end the preview; shown like an error
                traceback.print_exc()
                errors = (Excerpt(f"internal error in the generator (traceback in the console): {exc!r}"),)
            break
        try:  # the configuration may be fine even when the build is not: then the error page knows the languages
            config = load_config(self.root)
            base_path, codes, default = config.base_path, config.codes, config.default_language
        except BuildError:
            base_path, codes, default = self.state.base_path, self.state.codes, self.state.default_language
        catalogs = {code: lenient_catalog(self.root, code) for code in codes} if errors else {}
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
            reload_if = (lambda name: not (name in before and _read(self.out_dir / name) == before[name])) if before and not errors else None
            self._publish(State(errors=errors, base_path=base_path, codes=codes, default_language=default, catalogs=catalogs), reload_if)
        if not errors and result.last is not None and len(result.last.site.entries) >= self.saved_pages_first_from:
            result.last.templates, result.last.bodies  # made now, while the editor reads, not on the next save
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
                if reload is None or tab.page is None or reload(file_of(tab.page, state.base_path)):
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


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


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
