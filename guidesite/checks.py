"""Checks over the rendered site, before anything is written."""
from __future__ import annotations

import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .assets import AssetMap
from .errors import ErrorList


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id":
                self.ids.add(value)
            elif (name == "href" and tag in ("a", "link")) or (name == "src" and tag in ("img", "script")):
                self.refs.append((value, self.getpos()[0]))


def check_disclaimers(files: dict[str, bytes], disclaimers: dict[str, str], errors: ErrorList) -> None:
    """Every HTML page must carry the medical disclaimer in its own language."""
    for rel, data in sorted(files.items()):
        if not rel.endswith(".html"):
            continue
        lang = rel.split("/", 1)[0] if "/" in rel else None
        expected = [disclaimers[lang]] if lang in disclaimers else list(disclaimers.values())
        text = data.decode("utf-8")
        if not any(snippet.strip() in text for snippet in expected):
            errors.add(f"site/{rel}", 1, "the page lacks the medical disclaimer in its language (templates/partials/disclaimer.html)")


def check_links(files: dict[str, bytes], asset_outputs: set[str], base_path: str, errors: ErrorList) -> None:
    """Every internal href and src must name a built file, and every #fragment an id on it."""
    parsed: dict[str, _Collector] = {}
    for rel, data in files.items():
        if rel.endswith(".html"):
            collector = _Collector()
            collector.feed(data.decode("utf-8"))
            parsed[rel] = collector
    existing = set(files) | asset_outputs
    for rel in sorted(parsed):
        for ref, line in parsed[rel].refs:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc:
                continue
            if not parts.path:
                target = rel
            elif parts.path.startswith(base_path):
                target = unquote(parts.path[len(base_path):])
                if target == "" or target.endswith("/"):
                    target += "index.html"
            else:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), unquote(parts.path)))
            if target not in existing:
                errors.add(f"site/{rel}", line, f"link to {ref}: no such file in the site")
            elif parts.fragment and target in parsed and unquote(parts.fragment) not in parsed[target].ids:
                errors.add(f"site/{rel}", line, f"link to {ref}: no element with that id")


# Attributes through which an element makes the browser fetch something as the page loads
# (or, for ping, when a link is followed). <link> is handled apart: its rel decides.
_RESOURCE_ATTRS: dict[str, tuple[str, ...]] = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "object": ("data",),
    "embed": ("src",),
    "input": ("src",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
    "feimage": ("href", "xlink:href"),
    "a": ("ping",),
    "area": ("ping",),
}
# <link> relations that fetch or connect: anything else (canonical, alternate, prev, …) is a mere reference.
_LOADING_RELS = {
    "stylesheet", "icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon", "manifest",
    "preload", "modulepreload", "prefetch", "prerender", "preconnect", "dns-prefetch",
}
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.I | re.S)


class _ResourceCollector(HTMLParser):
    """The URLs a page loads, with their lines: resource attributes, inline style url()s, <style> blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, int, str]] = []  # (url, line, what)
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        values = {name: value for name, value in attrs if value is not None}
        names = _RESOURCE_ATTRS.get(tag, ())
        if tag == "link" and _LOADING_RELS & set(values.get("rel", "").lower().split()):
            names = ("href", "imagesrcset")
        for name in names:
            if name not in values:
                continue
            urls = _srcset_urls(values[name]) if name.endswith("srcset") else values[name].split() if name == "ping" else [values[name]]
            self.urls += [(url, line, f"<{tag} {name}>") for url in urls]
        if "style" in values:
            self.urls += [(url, line + offset, f"<{tag} style>") for url, offset in _css_urls(values["style"])]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += [(url, self.getpos()[0] + offset, "<style>") for url, offset in _css_urls(data)]


def _srcset_urls(value: str) -> list[str]:
    return [candidate.split()[0] for candidate in value.split(",") if candidate.strip()]


def _css_urls(css: str) -> list[tuple[str, int]]:
    """Each url(…) and @import in a piece of CSS, with the number of lines before it."""
    return [
        ((m.group(2) if m.group(2) is not None else m.group(4)).strip(), css.count("\n", 0, m.start()))
        for m in _CSS_URL.finditer(css)
    ]


def _foreign_host(url: str, own_host: str) -> str | None:
    """The other host a URL points to, or None for the site's own files (relative, same host, data:)."""
    parts = urlsplit(url.strip())
    if parts.netloc:
        host = (parts.hostname or parts.netloc).lower()
        return None if host == own_host else host
    if parts.scheme.lower() in ("http", "https"):
        # "https:evil.example" has no netloc for urlsplit, but a browser may still go there.
        return parts.path.lstrip("/").split("/", 1)[0].lower() or parts.scheme
    return None


def _template_lines(folder: Path) -> list[tuple[Path, int, str]]:
    return [
        (path, number, text)
        for path in sorted(folder.rglob("*.html"))
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
    ]


def check_third_party(files: dict[str, bytes], assets: AssetMap, base_url: str, errors: ErrorList) -> None:
    """No page or stylesheet may load anything from another host: no fonts, scripts, images or trackers."""
    own_host = (urlsplit(base_url).hostname or "").lower()
    templates = _template_lines(errors.root / "templates")
    for rel, data in sorted(files.items()):
        if not rel.endswith(".html"):
            continue
        collector = _ResourceCollector()
        collector.feed(data.decode("utf-8"))
        for url, line, what in collector.urls:
            host = _foreign_host(url, own_host)
            if host:
                # Name the template that holds the address where one does; else the built page.
                origin = next(((path, n) for path, n, text in templates if url in text), (f"site/{rel}", line))
                errors.add(origin[0], origin[1], f"{what} loads {url} from another host ({host}): serve it from assets/ instead")
    for asset in assets.assets.values():
        if asset.source.suffix.lower() != ".css":
            continue
        for url, offset in _css_urls(asset.source.read_text(encoding="utf-8")):
            host = _foreign_host(url, own_host)
            if host:
                errors.add(asset.source, offset + 1, f"loads {url} from another host ({host}): serve it from assets/ instead")
