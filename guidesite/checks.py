"""Checks over the rendered site, before anything is written.

Each page is read once, by `scan_page`, into what the checks need (its ids, the links it
makes, the URLs it loads); the checks on one page alone run right after it is rendered,
and the link check runs over the scans of all pages at the end.
"""
from __future__ import annotations

import functools
import html
import posixpath
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .assets import AssetMap
from .errors import ErrorList

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
# Links the site must contain: href of <a> and <link>, src of <img> and <script>.
_LINK_ATTRS = {("a", "href"), ("link", "href"), ("img", "src"), ("script", "src")}

# A tokenizer for the HTML we write, as html.parser reads it: comments skipped, the text of
# <script> and <style> not taken for markup, names lower-cased, values unescaped. Regular
# expressions do the scanning, so a page costs a fraction of what HTMLParser takes.
# A start tag without attributes (<p>, <li>: almost half of a page's tags) tells the checks
# nothing and holds no "<" at which anything else could start, so the search passes over it
# without stopping (the lookahead, with the name taken whole). Only <script> and <style>,
# whose text is skipped, and a name with "<" in it, which html.parser reads as one tag, are
# matched as such (group 3).
# An attribute name starts only after a space, "/" or quote (and may itself start with "="
# or a quote), as in html.parser. Without that, a run of name characters could be split into
# names in exponentially many ways, and a never-closed tag ("<a b" repeated) stalled the search.
_VALUE = r"""(?:"[^"]*"|'[^']*'|[^\s"'>]*)"""
_NAME = r"[a-zA-Z][^\t\n\r\f />]*"
_WHOLE_NAME = _NAME + "+"  # possessive (*+): the lookahead may not try shorter names
_TAG = re.compile(
    r"<!--.*?-->"
    r"|<(?!" + _WHOLE_NAME + r"[\s/]*>)(" + _NAME + r")((?:[\s/]*(?<=[\s/\"'])[^\s/>][^\s/>\"'=]*(?:\s*=\s*" + _VALUE + r")?)*)[\s/]*>"
    r"|<((?i:script|style)|" + _NAME + r"<[^\t\n\r\f />]*)[\s/]*>",
    re.S,
)
_ATTR = re.compile(r"""((?<=[\s/"'])[^\s/>][^\s/>"'=]*|[^\s/>"'=]+)(\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]*)))?""")
_RAW_END = {"script": re.compile(r"</script", re.I), "style": re.compile(r"</style", re.I)}
# Only tags with one of these attributes matter to the checks; the rest are skipped unread.
_WANTED = re.compile(r"(?<![-\w:.])(?:id|href|src|srcset|imagesrcset|style|data|poster|ping|xlink:href)\s*=", re.I)
_TAG_MEMO = 16384  # distinct tags remembered by _read_tag: the frame's and the commonest links


@dataclass(frozen=True)
class PageScan:
    """What the checks need from one built page."""

    ids: frozenset[str]
    refs: tuple[tuple[str, int], ...]  # (href or src, line): must name a file of the site
    loads: tuple[tuple[str, int, str], ...]  # (URL, line, what): fetched as the page loads
    repeated: tuple[tuple[str, int], ...] = ()  # (id, line) of an id given before on the page


def scan_page(text: str) -> PageScan:
    """Read a page's ids, links and loaded URLs in one pass."""
    ids: set[str] = set()
    repeated: list[tuple[str, int]] = []
    refs: list[tuple[str, int]] = []
    loads: list[tuple[str, int, str]] = []
    pos, line, counted = 0, 1, 0
    search, read_tag, count = _TAG.search, _read_tag, text.count
    while (match := search(text, pos)) is not None:
        pos = match.end()
        name, attributes, bare_name = match.groups()
        if name is None:
            if bare_name is None:  # a comment
                continue
            name = bare_name
        tag = name.lower()
        if attributes and (facts := read_tag(tag, attributes)) is not None:
            start = match.start()
            line += count("\n", counted, start)
            counted = start
            tag_ids, tag_refs, tag_loads = facts
            for value in tag_ids:
                if value in ids:
                    repeated.append((value, line))
                ids.add(value)
            refs += [(value, line) for value in tag_refs]
            if tag_loads:
                loads += [(url, line + offset, what) for url, offset, what in tag_loads]
        if tag in _RAW_END:
            end = _RAW_END[tag].search(text, pos)
            stop = end.start() if end else len(text)
            if tag == "style":
                start = line + count("\n", counted, pos)
                loads += [(url, start + offset, "<style>") for url, offset in _css_urls(text[pos:stop])]
            pos = stop
    return PageScan(frozenset(ids), tuple(refs), tuple(loads), tuple(repeated))


def check_repeated_ids(rel: str, scan: PageScan, errors: ErrorList) -> None:
    """An id may be given once per page: a second one breaks the links to it (the skip
    link to #main, the table of contents) for everyone, and screen readers' navigation."""
    for value, line in scan.repeated:
        errors.add(f"site/{rel}", line, f"the id '{value}' is given twice on the page")


@functools.lru_cache(maxsize=_TAG_MEMO)
def _read_tag(tag: str, attributes: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, int, str], ...]] | None:
    """A start tag's ids, link targets and loaded URLs (each with its line offset in the tag),
    or None if it has none of them.

    It depends on the tag alone, and most tags (the frame's, the same links and classes)
    recur on many pages: remembered, they are read once per worker.
    """
    if not _WANTED.search(attributes):
        return None
    ids: list[str] = []
    refs: list[str] = []
    loads: list[tuple[str, int, str]] = []
    values: dict[str, str] = {}
    for key, assigned, double, single, bare in _ATTR.findall(attributes):
        if not assigned:
            continue
        value = double or single or bare
        if "&" in value:
            value = html.unescape(value)
        key = key.lower()
        values[key] = value
        if key == "id":
            ids.append(value)
        elif (tag, key) in _LINK_ATTRS:
            refs.append(value)
    if tag == "link" or "style" in values or any(n in values for n in _RESOURCE_ATTRS.get(tag, ())):
        _resource_urls(tag, values, 0, loads)
    return (tuple(ids), tuple(refs), tuple(loads)) if ids or refs or loads else None


def _resource_urls(tag: str, values: dict[str, str], line: int, loads: list[tuple[str, int, str]]) -> None:
    names = _RESOURCE_ATTRS.get(tag, ())
    if tag == "link" and _LOADING_RELS & set(values.get("rel", "").lower().split()):
        names = ("href", "imagesrcset")
    for name in names:
        if name not in values:
            continue
        urls = _srcset_urls(values[name]) if name.endswith("srcset") else values[name].split() if name == "ping" else [values[name]]
        loads += [(url, line, f"<{tag} {name}>") for url in urls]
    if "style" in values:
        loads += [(url, line + offset, f"<{tag} style>") for url, offset in _css_urls(values["style"])]


def check_disclaimer(rel: str, text: str, disclaimers: dict[str, str], errors: ErrorList) -> None:
    """A page must carry the medical disclaimer in its own language."""
    lang = rel.split("/", 1)[0] if "/" in rel else None
    expected = [disclaimers[lang]] if lang in disclaimers else list(disclaimers.values())
    if not any(snippet.strip() in text for snippet in expected):
        errors.add(f"site/{rel}", 1, "the page lacks the medical disclaimer in its language (templates/partials/disclaimer.html)")


def check_links(
    scans: Iterable[tuple[str, PageScan]],
    ids: Callable[[str], frozenset[str] | None],
    existing: set[str],
    base_path: str,
    errors: ErrorList,
    reported: Collection[tuple[str, str]] = (),
) -> None:
    """Every internal href and src must name a built file, and every #fragment an id on it.

    `ids(rel)` gives the ids of any HTML file of the site (None for other files). A URL that
    means the same on every page (external, or from the site's root) is judged once, so
    the check stays linear in the number of links and cheap per link. `reported` holds the
    (page, URL) pairs whose problem has been reported already, at their source.
    """
    verdicts: dict[str, str | None] = {}  # such a URL -> what is wrong with it, or None
    for rel, scan in scans:
        for ref, line in scan.refs:
            if reported and (rel, ref) in reported:
                continue
            if ref in verdicts:
                problem = verdicts[ref]
            elif ref.startswith("#") and "%" not in ref:  # the commonest: an id on the page itself
                problem = None if len(ref) == 1 or ref[1:] in scan.ids else "no element with that id"
            else:
                problem, everywhere = _link_problem(ref, rel, scan, ids, existing, base_path)
                if everywhere:
                    verdicts[ref] = problem
            if problem:
                errors.add(f"site/{rel}", line, f"link to {ref}: {problem}")


def _link_problem(ref: str, rel: str, scan: PageScan, ids: Callable[[str], frozenset[str] | None],
                  existing: set[str], base_path: str) -> tuple[str | None, bool]:
    """What is wrong with a link on page rel (or None), and whether it is the same on every page."""
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc:
        return None, True
    if not parts.path:
        target, everywhere = rel, False
    elif parts.path.startswith(base_path):
        target, everywhere = unquote(parts.path[len(base_path):]), True
        if target == "" or target.endswith("/"):
            target += "index.html"
    else:
        target, everywhere = posixpath.normpath(posixpath.join(posixpath.dirname(rel), unquote(parts.path))), False
    if target not in existing:
        return "no such file in the site", everywhere
    fragment = unquote(parts.fragment)
    if fragment:
        target_ids = scan.ids if not everywhere and target == rel else ids(target)
        if target_ids is not None and fragment not in target_ids:
            return "no element with that id", everywhere
    return None, everywhere


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


def own_host(base_url: str) -> str:
    return (urlsplit(base_url).hostname or "").lower()


def check_loads(rel: str, scan: PageScan, host: str, errors: ErrorList) -> None:
    """A page may load nothing from another host: no fonts, scripts, images or trackers."""
    templates: list[tuple[Path, int, str]] | None = None
    for url, line, what in scan.loads:
        foreign = _foreign_host(url, host)
        if foreign:
            # Name the template that holds the address where one does; else the built page.
            templates = _template_lines(errors.root / "templates") if templates is None else templates
            origin = next(((path, n) for path, n, text in templates if url in text), (f"site/{rel}", line))
            errors.add(origin[0], origin[1], f"{what} loads {url} from another host ({foreign}): serve it from assets/ instead")


def check_asset_loads(assets: AssetMap, host: str, errors: ErrorList) -> None:
    """A stylesheet may load nothing from another host either."""
    for asset in assets.assets.values():
        if asset.source.suffix.lower() != ".css":
            continue
        for url, offset in _css_urls(asset.source.read_text(encoding="utf-8")):
            foreign = _foreign_host(url, host)
            if foreign:
                errors.add(asset.source, offset + 1, f"loads {url} from another host ({foreign}): serve it from assets/ instead")

