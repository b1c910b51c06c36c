"""`status`: which translations exist, are missing or are outdated, and which reviews are due."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .config import load_config
from .content import load_pages
from .site import assemble

REVIEW_WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True)
class KeyStatus:
    """One translation key: per language 'ok', 'outdated' or 'missing'."""

    key: str
    states: dict[str, str]
    files: dict[str, str]  # language -> file relative to content/, for present languages


@dataclass(frozen=True)
class DueReview:
    rel: str
    line: int
    due: dt.date


@dataclass(frozen=True)
class Status:
    codes: tuple[str, ...]
    keys: list[KeyStatus]
    reviews: list[DueReview]  # next_review passed or within REVIEW_WINDOW, earliest first


def collect_status(root: Path, today: dt.date, drafts: bool = False) -> Status:
    """Read and assemble the pages (raising BuildError on content errors) and sum up their state."""
    config = load_config(root)
    site = assemble(config, load_pages(config, include_drafts=drafts))
    keys = []
    for key in sorted({e.key for e in site.entries}):
        states, files = {}, {}
        for code in config.codes:
            entry = site.by_key.get((code, key))
            if entry is None:
                states[code] = "missing"
                continue
            states[code] = "outdated" if site.changed_source(entry) else "ok"
            files[code] = entry.page.rel
        keys.append(KeyStatus(key, states, files))
    reviews = sorted(
        (DueReview(e.page.rel, e.page.key_lines.get("next_review", 1), e.page.meta.next_review)
         for e in site.entries
         if e.page.meta.next_review and e.page.meta.next_review <= today + REVIEW_WINDOW),
        key=lambda r: (r.due, r.rel),
    )
    return Status(config.codes, keys, reviews)


def format_status(status: Status, today: dt.date) -> str:
    """The report `status` prints: a table of keys by language, then the details to act on."""
    width = max([len("key")] + [len(k.key) for k in status.keys])
    lines = ["Translations:", ("  " + "key".ljust(width) + "".join(f"  {code:<9}" for code in status.codes)).rstrip()]
    for item in status.keys:
        lines.append("  " + item.key.ljust(width) + "".join(f"  {item.states[code]:<9}" for code in status.codes).rstrip())
    todo = [
        f"  content/{item.files[code]}: outdated; update it, then run: python build.py translated content/{item.files[code]}"
        for item in status.keys for code in status.codes if item.states[code] == "outdated"
    ] + [
        f"  {item.key}: missing in {code}; create it with: python build.py new {code} <path> --translation-of {next(iter(item.files.values()))}"
        for item in status.keys for code in status.codes if item.states[code] == "missing"
    ]
    lines += todo or ["  every page is translated and up to date"]
    lines.append(f"Reviews due by {(today + REVIEW_WINDOW).isoformat()}:")
    for review in status.reviews:
        when = "overdue since" if review.due < today else "due on"
        lines.append(f"  content/{review.rel}:{review.line}: {when} {review.due.isoformat()}")
    if not status.reviews:
        lines.append("  none")
    return "\n".join(lines)
