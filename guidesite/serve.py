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
- its watcher runs the build on the server's thread, rebuilds once per save and sees only
  modification times: `Watcher`, and the build runs on the watcher's thread;
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
import html
import ipaddress
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import NullTranslations, Translations
from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler, StaticFileHandler
from livereload.watcher import Watcher as LiveReloadWatcher
from tornado.httpserver import HTTPServer
from tornado.httputil import split_host_and_port
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler
from tornado.websocket import WebSocketHandler

from .config import load_config
from .errors import BuildError
from .i18n import catalog_path
from .output import PREVIEW_DIR
from .pipeline import BuildOptions, build

WATCHED = ("content", "templates", "assets", "translations", "site.yaml", "babel.cfg")
POLL_SECONDS = 0.1
SETTLE_SECONDS = 0.25  # saves closer together than this give one rebuild
LAST_GOOD = "last-good"  # query parameter: show the last good page instead of the build errors
RELOAD = {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}  # liveCSS/liveImg off: the whole page, as a build may change any of it


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Watcher(LiveReloadWatcher):
    """livereload's polling watcher over the sources, reporting a change once saving has paused.

    Sharp edge: livereload rebuilds on every poll that sees a change, so two saves 0.2 s
    apart (or the several writes of one save) give two full builds. Here a change is
    reported only when nothing newer has appeared for `settle` seconds.
    """

    def __init__(self, root: Path, settle: float = SETTLE_SECONDS, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        for name in WATCHED:
            self.watch(str(root / name))
        self.settle = settle
        self.clock = clock
        self.last_change: float | None = None
        self.primed = False
        self.examine()  # notes what is there now: only later saves count
        self.primed = True

    def changed(self) -> bool:
        if self.examine()[0] is not None:  # the file livereload saw change, if any
            self.last_change = self.clock()
            return False
        if self.last_change is not None and self.clock() - self.last_change >= self.settle:
            self.last_change = None
            return True
        return False

    def is_file_changed(self, path: str, ignore: Callable[[str], bool] | None = None) -> bool:
        # Sharp edge: livereload compares modification times only, so a second save within
        # one tick of the file system's clock (a few ms) goes unseen, and a file deleted
        # between its listing and its stat raises. Size and inode count too here.
        if not os.path.isfile(path) or self.ignore(path) or (ignore and ignore(path)):
            return False
        try:
            info = os.stat(path)
        except OSError:  # deleted meanwhile: the next poll sees it gone
            return False
        known = self._task_mtimes.get(path)
        self._new_mtimes[path] = (info.st_mtime_ns, info.st_size, info.st_ino)
        # A path first seen after the first look is new, whatever its time: a file moved in or
        # unpacked keeps an old one (livereload compares it with its start time).
        if known == self._new_mtimes[path] or (known is None and not self.primed):
            return False  # unchanged, or there before watching began
        self.filepath = path
        return True


@dataclass(frozen=True)
class State:
    """What the last build left: replaced as a whole, so a request reads one consistent state."""

    # Not a number: livereload.js turns numeric options into JavaScript numbers, which round.
    version: str = field(default_factory=lambda: f"v{time.time_ns()}")
    errors: tuple[str, ...] = ()  # "file:line: message" of the last build, if it failed
    base_path: str = "/"
    codes: tuple[str, ...] = ()
    default_language: str = "en"
    catalogs: dict[str, Translations | NullTranslations] = field(default_factory=dict)  # for the error page


class PreviewStopped(Exception):
    """The server's or the watcher's thread has ended with an error."""


class Preview:
    """The preview server: one build at start, then a rebuild after every pause in saving.

    The build runs on the watcher's thread; the server, its handlers and every change of
    `state` run on the server's thread, so a tab is told of each build exactly once.
    """

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 8000, interval: float = POLL_SECONDS):
        self.root = root
        self.host = host
        self.out_dir = root / PREVIEW_DIR
        self.interval = interval
        self.state = State()
        self.tabs: set[_Tabs] = set()  # the open tabs' websockets, touched on the server's thread only
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._loop: IOLoop | None = None
        self._stopped: asyncio.Event | None = None
        # Bound now: a busy port fails before any build. The kernel caps the backlog at
        # net.core.somaxconn; a short one resets connections when many arrive at once.
        self._sockets = bind_sockets(port, host, backlog=socket.SOMAXCONN)
        self.port = self._sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        host = self._sockets[0].getsockname()[0]
        return f"http://[{host}]:{self.port}/" if ":" in host else f"http://{host}:{self.port}/"

    def start(self) -> None:
        """Build once, then serve and watch in background threads."""
        watcher = Watcher(self.root)  # before the build: a save during it is seen
        self.rebuild()
        serving = threading.Event()
        self._threads = [
            threading.Thread(target=asyncio.run, args=(self._serve(serving),), name="preview-server"),
            threading.Thread(target=self._watch, args=(watcher,), name="preview-watcher"),
        ]
        # Threads inherit the signal mask: with Ctrl+C and SIGTERM blocked in them, the kernel
        # delivers both to the main thread, whose sleep they then interrupt. Otherwise a
        # signal that lands on a background thread waits for the main thread to wake up.
        stop_signals = {signal.SIGINT, signal.SIGTERM}
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
        while not self._stopping.wait(self.interval):
            if watcher.changed():
                self.rebuild()

    def rebuild(self) -> None:
        """Build with drafts; on failure keep the last good preview and show the errors instead."""
        try:
            result = build(BuildOptions(root=self.root, out_dir=self.out_dir, drafts=True))
            errors: tuple[str, ...] = ()
            print(f"built {sum(result.pages.values())} pages in {result.seconds:.2f} s", flush=True)
        except BuildError as exc:
            errors = tuple(str(e) for e in exc.errors)
        except Exception as exc:  # a bug in the generator must not end the preview; shown like an error
            traceback.print_exc()
            errors = (f"internal error in the generator (traceback in the console): {exc!r}",)
        for error in errors:
            print(error, file=sys.stderr)
        if errors:
            print(f"{len(errors)} error(s); the preview shows them and keeps the last good site.", file=sys.stderr, flush=True)
        try:  # the configuration may be fine even when the build is not: then the error page knows the languages
            config = load_config(self.root)
            base_path, codes, default = config.base_path, config.codes, config.default_language
        except BuildError:
            base_path, codes, default = self.state.base_path, self.state.codes, self.state.default_language
        catalogs = {code: _lenient_catalog(self.root, code) for code in codes} if errors else {}
        self._publish(State(errors=errors, base_path=base_path, codes=codes, default_language=default, catalogs=catalogs))

    def _publish(self, state: State) -> None:
        """Make `state` the current one and reload every tab, on the server's thread; return once done."""
        def publish() -> None:
            self.state = state
            for tab in list(self.tabs):
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

    def on_close(self) -> None:
        self.preview.tabs.discard(self)


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
                self.send_page(200, Path(found).read_bytes())
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
    items = "".join(f"<li>{html.escape(error)}</li>\n" for error in state.errors)
    link = html.escape(path.split("?", 1)[0] + "?" + LAST_GOOD)
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>body{{font:1.1rem/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}}
li{{font-family:ui-monospace,monospace;white-space:pre-wrap;margin:.5rem 0}}</style>
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


def serve(root: Path, host: str, port: int, allow_remote: bool) -> int:
    """`build.py serve`: preview until Ctrl+C. Opens no browser; prints where to look."""
    if not (is_loopback(host) or allow_remote):
        print(f"serve: {host} can be reached from other machines; add --allow-remote to listen there anyway", file=sys.stderr)
        return 2
    try:
        preview = Preview(root, host, port)
    except OSError as exc:
        print(f"serve: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly, as on Ctrl+C
    try:
        preview.start()
        print(f"Preview with drafts at {preview.url} – it reloads after every save. Ctrl+C stops it.", flush=True)
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
