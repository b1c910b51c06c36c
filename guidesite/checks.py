"""Checks over the rendered site, before anything is written."""
from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

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
