"""What only the preview shows: a banner on each page with what needs work on it, and a
dashboard (/_preview/) of every page in every language with its state, worst first.

Both are made from the build's own findings after the pages are rendered, and only when
the preview builds: the published site never carries them, and the build cache keeps the
pages without them.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .content import CONTENT_DIR
from .errors import ContentError
from .status import REVIEW_WINDOW
from .site import Entry, Site

DASHBOARD = "_preview/index.html"
DASHBOARD_CSS = "_preview/dashboard.css"
_TEMPLATES = Path(__file__).parent / "preview_templates"
_MAIN = b'<main id="main" tabindex="-1">'


@dataclass(frozen=True)
class PageState:
    """One page in one language, as the dashboard shows it."""

    lang: str
    path: str
    title: str
    rel: str
    states: tuple[str, ...]  # "draft", "never reviewed", "outdated translation" …
    warnings: tuple[ContentError, ...]


def with_preview(site: Site, files: dict[str, bytes | str], read: Any, warnings: list[ContentError],
                 today: dt.date) -> dict[str, bytes | str]:
    """The site's files with a banner on every page that has warnings, and the dashboard.
    `read` turns a file's entry (bytes, or the digest of a cached object) into its bytes."""
    by_file: dict[str, list[ContentError]] = defaultdict(list)
    for warning in warnings:
        by_file[warning.path].append(warning)
    out = dict(files)
    for entry in site.entries:
        found = by_file.get(f"{CONTENT_DIR}/{entry.page.rel}")
        if found and entry.output in out:
            out[entry.output] = add_banner(site, read(out[entry.output]), found)
    out[DASHBOARD] = dashboard(site, by_file, warnings, today).encode("utf-8")
    out[DASHBOARD_CSS] = (_TEMPLATES / "dashboard.css").read_bytes()
    return out


def add_banner(site: Site, html: bytes, warnings: list[ContentError]) -> bytes:
    """A page's HTML with the banner listing its warnings at the start of its main content."""
    return html.replace(_MAIN, _MAIN + _banner(site, warnings), 1)


def _banner(site: Site, warnings: list[ContentError]) -> bytes:
    items = "".join(f"<li>line {w.line}: {escape(w.message)}</li>" for w in warnings)
    return (f'\n<aside class="preview-banner" role="note" lang="en" dir="ltr"><p><strong>Preview only:</strong> '
            f'{len(warnings)} warning{"s" if len(warnings) != 1 else ""} for this page '
            f'(<a href="{site.config.base_path}_preview/">all pages</a>)</p><ul>{items}</ul></aside>\n').encode("utf-8")


def _states(site: Site, entry: Entry, warnings: list[ContentError], today: dt.date) -> tuple[str, ...]:
    page, states = entry.page, []
    if page.meta.draft:
        states.append("draft")
    if page.meta.layout == "article":
        review = page.review_state
        states.append({"never": "never reviewed", "changed": "changed since review"}.get(review, ""))
        due = page.meta.next_review
        if review == "reviewed" and due and due < today:
            states.append("review overdue")
        elif review == "reviewed" and due and due <= today + REVIEW_WINDOW:
            states.append("review due")
    if site.changed_source(entry):
        states.append("outdated translation")
    if any("under differences in" in w.message for w in warnings):
        states.append("differs from its original")
    return tuple(s for s in states if s)


def dashboard(site: Site, by_file: dict[str, list[ContentError]], warnings: list[ContentError], today: dt.date) -> str:
    """Every page by translation key, one column per language, what needs work first."""
    codes = site.config.codes
    rows = []
    for key in sorted({e.key for e in site.entries}):
        cells = {}
        for code in codes:
            entry = site.by_key.get((code, key))
            if entry is None:
                cells[code] = None
                continue
            found = by_file.get(f"{CONTENT_DIR}/{entry.page.rel}", [])
            cells[code] = PageState(code, entry.path, entry.page.meta.title, entry.page.rel,
                                    _states(site, entry, found, today), tuple(found))
        missing = [code for code in codes if cells[code] is None and not site.config.language(code).partial]
        work = sum(len(c.warnings) + len(c.states) for c in cells.values() if c) + 3 * len(missing)
        rows.append({"key": key, "cells": cells, "missing": missing, "work": work})
    rows.sort(key=lambda row: (-row["work"], row["key"]))
    site_wide = [w for w in warnings if not w.path.startswith(f"{CONTENT_DIR}/") or w.path == f"{CONTENT_DIR}/sources.yaml"]
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("dashboard.html").render(
        rows=rows, codes=codes, site_wide=site_wide, today=today, base_path=site.config.base_path,
        total=len(warnings), pages=len(site.entries))
