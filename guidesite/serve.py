"""`serve`: the preview. Builds with drafts, serves the result on loopback, and reloads the
open browser tab after every rebuild.

Written on the standard library instead of the livereload package (as MkDocs and
sphinx-autobuild did): livereload injects its script only before a lower-case </head> in
the first 64 KiB, answers missing paths with tornado's own 404 page, builds on the
server's thread, drops reloads within 3 s of the previous one and rebuilds once per save.
Here each of those is a few lines of our own, with a test.

The preview builds into .cache/preview/, never into site/: it includes drafts, which must
not end up in the folder that gets published, and a build that runs while an editor
types must not touch it. The pipeline's atomic swap keeps .cache/preview/ complete, so a
failed build simply leaves the last good preview in place.
"""
from __future__ import annotations

import html
import ipaddress
import mimetypes
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs, unquote

from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import NullTranslations, Translations

from .config import load_config
from .errors import BuildError
from .i18n import catalog_path
from .pipeline import BuildOptions, build

PREVIEW_DIR = Path(".cache") / "preview"
WATCHED = ("content", "templates", "assets", "translations", "site.yaml", "babel.cfg")
POLL_SECONDS = 0.1
SETTLE_SECONDS = 0.25  # saves closer together than this give one rebuild (livereload: one per save)
WAIT_SECONDS = 20.0  # a reload poll answers at the latest after this, then the page asks again
RELOAD_PREFIX = "/__preview__/"  # cannot clash with a page: slugs have no '_'
LAST_GOOD = "last-good"  # query parameter: show the last good page instead of the build errors

# Served as a file, not inline: the site's Content-Security-Policy allows only 'self' scripts.
RELOAD_JS = b"""// Preview only: reload this page as soon as the server has a newer build than it came from.
(function () {
  var version = document.currentScript.getAttribute("data-version");
  function wait() {
    fetch("/__preview__/wait?version=" + encodeURIComponent(version), {cache: "no-store"})
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (now) { if (now !== version) { location.reload(); } else { wait(); } })
      .catch(function () { setTimeout(wait, 1000); });  // server restarting: ask again
  }
  wait();
})();
"""


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Modification time, size and inode of every watched file."""
    found = {}
    for name in WATCHED:
        base = root / name
        for path in ([base] if base.is_file() else base.rglob("*")):
            try:
                info = path.stat()
            except OSError:  # deleted meanwhile, or an editor's dangling lock link
                continue
            found[str(path)] = (info.st_mtime_ns, info.st_size, info.st_ino)
    return found


class Watcher:
    """Notices changed sources by polling, and reports them once saving has paused.

    Polling needs no watcher dependency and sees every way editors save (in place, or by
    writing a new file and renaming it). A change is reported only when nothing newer has
    appeared for SETTLE_SECONDS, so a burst of saves, or the several writes of one save,
    gives one rebuild.
    """

    def __init__(self, root: Path, settle: float = SETTLE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.root = root
        self.settle = settle
        self.clock = clock
        self.seen = snapshot(root)
        self.last_change: float | None = None

    def changed(self) -> bool:
        now = snapshot(self.root)
        if now != self.seen:
            self.seen, self.last_change = now, self.clock()
            return False
        if self.last_change is not None and self.clock() - self.last_change >= self.settle:
            self.last_change = None
            return True
        return False


def inject(page: bytes, version: str) -> bytes:
    """Add the reload script before the first </head> in any casing, or at the end without one."""
    tag = f'<script src="{RELOAD_PREFIX}reload.js" data-version="{version}"></script>\n'.encode()
    head = re.search(rb"</head\s*>", page, re.IGNORECASE)
    return page[: head.start()] + tag + page[head.start():] if head else page + tag


def locate(site_dir: Path, base_path: str, target: str) -> tuple[int, Path | str | None]:
    """Map a request target to a file inside site_dir.

    Returns (200, file), (301, the path with a trailing '/') for a folder, (403, None) for a
    link that leads out of site_dir, and (404, None) for anything else, including every
    path with '..', '.', '//', a backslash or an encoded '/', '\\' or NUL.
    """
    path = target.split("?", 1)[0].split("#", 1)[0]
    if re.search(r"%(?:2f|5c|00)", path, re.IGNORECASE):
        return 404, None
    path = unquote(path)
    if not path.startswith(base_path) or "\\" in path or "\0" in path:
        return 404, None
    parts = path[len(base_path):].split("/")
    if any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", ".."):
        return 404, None
    file = site_dir.joinpath(*parts)
    if file.is_dir():
        if parts[-1]:
            return 301, path + "/"
        file = file / "index.html"
    real = file.resolve()
    if not real.is_relative_to(site_dir.resolve()):
        return 403, None
    return (200, real) if real.is_file() else (404, None)


@dataclass(frozen=True)
class State:
    """What the last build left: replaced as a whole, so a request reads one consistent state."""

    version: str = field(default_factory=lambda: str(time.time_ns()))
    errors: tuple[str, ...] = ()  # "file:line: message" of the last build, if it failed
    base_path: str = "/"
    codes: tuple[str, ...] = ()
    default_language: str = "en"
    catalogs: dict[str, Translations | NullTranslations] = field(default_factory=dict)  # for the error page


class Preview:
    """The preview server: one build at start, then a rebuild after every pause in saving."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 8000, interval: float = POLL_SECONDS):
        self.root = root
        self.out_dir = root / PREVIEW_DIR
        self.interval = interval
        self.state = State()
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server = _Server((host, port), self)  # binds now: a busy port fails before any build

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def start(self) -> None:
        """Build once, then serve and watch in background threads."""
        watcher = Watcher(self.root)  # before the build: a save during it is seen
        self.rebuild()
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="preview-server"),
            threading.Thread(target=self._watch, args=(watcher,), name="preview-watcher"),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop watching and serving, release waiting reload polls, close the port."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._threads:  # shutdown() waits for serve_forever(), which only start() runs
            self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join()

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
        with self._changed:
            self.state = state
            self._changed.notify_all()

    def wait_for_change(self, version: str) -> str:
        """Block until there is a build newer than `version` (or WAIT_SECONDS pass); return the current one."""
        with self._changed:
            self._changed.wait_for(lambda: self.state.version != version or self._stopping.is_set(), WAIT_SECONDS)
            return self.state.version


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 made the kernel drop connections when many
    # arrive at once (a page with its assets, several tabs): 49 of 200 were reset after
    # 109 s in tests/test_serve_abuse.py. The kernel caps this at net.core.somaxconn.
    request_queue_size = socket.SOMAXCONN

    def __init__(self, address: tuple[str, int], preview: Preview):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.preview = preview
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):  # a closed tab, a stalled client
            super().handle_error(request, client_address)


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


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 60  # seconds a client may take to send its request (reload polls wait on the build, not on this)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the console is for build results."""

    def _answer(self, send_body: bool) -> None:
        preview = self.server.preview
        state = preview.state  # read before any file, so a page never claims a newer build than its content
        if self.path.startswith(RELOAD_PREFIX):
            return self._reload_endpoint(send_body)
        status, found = locate(preview.out_dir, state.base_path, self.path)
        query = parse_qs(self.path.partition("?")[2], keep_blank_values=True)
        if status == 301:
            return self._send(301, b"", "text/plain", send_body, {"Location": str(found)})
        is_page = status == 404 or (isinstance(found, Path) and found.suffix == ".html")
        if state.errors and is_page and LAST_GOOD not in query:
            return self._send(500, inject(error_page(state, self.path), state.version), "text/html", send_body)
        if status == 403:
            return self._send(403, b"Forbidden\n", "text/plain", send_body)
        if status == 404:
            first = unquote(self.path.split("?", 1)[0]).removeprefix(state.base_path).split("/", 1)[0]
            page = preview.out_dir / first / "404.html" if first in state.codes else preview.out_dir / "404.html"
            body = page.read_bytes() if page.is_file() else b"<!doctype html><title>404</title><h1>404</h1>\n"
            return self._send(404, inject(body, state.version), "text/html", send_body)
        assert isinstance(found, Path)
        body = found.read_bytes()
        kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        self._send(200, inject(body, state.version) if kind == "text/html" else body, kind, send_body)

    def _reload_endpoint(self, send_body: bool) -> None:
        name, _, query = self.path[len(RELOAD_PREFIX):].partition("?")
        if name == "reload.js":
            return self._send(200, RELOAD_JS, "text/javascript", send_body)
        if name == "wait":
            version = parse_qs(query).get("version", [""])[0]
            return self._send(200, self.server.preview.wait_for_change(version).encode(), "text/plain", send_body)
        self._send(404, b"Not found\n", "text/plain", send_body)

    def _send(self, status: int, body: bytes, kind: str, send_body: bool, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        text = kind.startswith("text/") or kind in ("image/svg+xml", "application/javascript", "application/xml")
        self.send_header("Content-Type", f"{kind}; charset=utf-8" if text else kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")  # a reload must fetch the new build
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)


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
    preview.start()
    print(f"Preview with drafts at {preview.url} – it reloads after every save. Ctrl+C stops it.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        preview.stop()
    return 0
