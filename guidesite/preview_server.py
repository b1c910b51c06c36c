"""The preview's HTTP side: the tornado handlers that serve .cache/preview/ and tell the open
tabs to reload, and the addresses a preview can be reached at.

livereload's handlers do the work (its StaticFileHandler, its websocket protocol, its
livereload.js); each sharp edge of theirs (shared/notes/libraries.md) is worked around by
one subclass below, with a comment naming the edge. `application` puts them together for
one Preview (guidesite/serve.py), which owns the state they serve.
"""
from __future__ import annotations

import contextlib
import html
import ipaddress
import json
import os
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit

from babel.support import NullTranslations, Translations
from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler, StaticFileHandler
from tornado.httputil import split_host_and_port
from tornado.web import Application, HTTPError, RequestHandler
from tornado.websocket import WebSocketHandler

from .error_page import LAST_GOOD, Excerpt, error_page

if TYPE_CHECKING:
    from .serve import Preview

RELOAD = {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}  # liveCSS/liveImg off: the whole page, as a build may change any of it


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def http_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def reachable_urls(host: str, port: int) -> list[str]:
    """The addresses at which other devices on the network can open a preview on `host`."""
    if host not in ("0.0.0.0", "::", ""):
        return [http_url(host, port)]
    found: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        # Connecting a UDP socket sends nothing: the kernel only picks the interface that
        # leads out (192.0.2.1 is a documentation address), whose address a phone can reach.
        probe.connect(("192.0.2.1", 9))
        found.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        found += socket.gethostbyname_ex(socket.gethostname())[2]
    usable = [a for a in dict.fromkeys(found) if not ipaddress.ip_address(a).is_loopback and not ipaddress.ip_address(a).is_unspecified]
    return [http_url(address, port) for address in usable]


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


class Tabs(LiveReloadHandler):
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


def file_of(page: str, base_path: str) -> str:
    """The file in the site a page's path names: '/de/ursachen/' -> 'de/ursachen/index.html'."""
    name = page.removeprefix(base_path)
    return name + "index.html" if name == "" or name.endswith("/") else name


def application(preview: Preview) -> Application:
    """livereload's websocket and script handlers, and ours for the files, for one preview."""
    return Application([
        (r"/livereload", Tabs, {"preview": preview}),
        (r"/livereload\.js", LiveReloadJSHandler),
        (r"/(.*)", _Files, {"preview": preview}),
    ], default_handler_class=_NotFound, default_handler_args={"preview": preview},
        log_function=lambda handler: None)  # quiet: the console is for build results
