"""`status`: which translations exist, are missing or are outdated; which articles no clinician
has reviewed, have changed since, or are due for review; which differences are declared."""
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
    drafts: frozenset[str] = frozenset()  # languages whose page is still a draft


@dataclass(frozen=True)
class DueReview:
    rel: str
    line: int
    due: dt.date


@dataclass(frozen=True)
class Declared:
    """A difference a translation makes on purpose (front matter `differences`)."""

    rel: str
    line: int
    what: str
    why: str


@dataclass(frozen=True)
class Status:
    codes: tuple[str, ...]
    keys: list[KeyStatus]
    reviews: list[DueReview]  # next_review passed or within REVIEW_WINDOW, earliest first
    unreviewed: list[str]  # articles no clinician has reviewed, by content path
    changed: list[DueReview]  # articles changed since their review: (path, line, day of the review)
    declared: list[Declared]
    coverage: dict[str, tuple[int, int]]  # language -> (pages of the default language's it has, how many there are)


def collect_status(root: Path, today: dt.date) -> Status:
    """Read and assemble the pages (raising BuildError on content errors) and sum up their state.

    Drafts count: a translation in progress is what an editor most needs to see here."""
    config = load_config(root)
    site = assemble(config, load_pages(config, include_drafts=True))
    keys = []
    for key in sorted({e.key for e in site.entries}):
        states, files, drafts = {}, {}, set()
        for code in config.codes:
            entry = site.by_key.get((code, key))
            if entry is None:
                states[code] = "missing"
                continue
            states[code] = "outdated" if site.changed_source(entry) else "ok"
            files[code] = entry.page.rel
            if entry.page.meta.draft:
                drafts.add(code)
        keys.append(KeyStatus(key, states, files, frozenset(drafts)))
    articles = [e.page for e in site.entries if e.page.meta.layout == "article"]
    reviews = sorted(
        (DueReview(p.rel, p.key_lines["next_review"], p.meta.next_review) for p in articles
         if p.review_state == "reviewed" and p.meta.next_review and p.meta.next_review <= today + REVIEW_WINDOW),
        key=lambda r: (r.due, r.rel),
    )
    unreviewed = [p.rel for p in articles if p.review_state == "never"]
    changed = [DueReview(p.rel, p.key_lines["review_digest"], p.meta.last_reviewed) for p in articles  # type: ignore[arg-type]
               if p.review_state == "changed"]
    declared = [Declared(e.page.rel, e.page.key_lines["differences"], what, why)
                for e in site.entries for what, why in e.page.meta.differences]
    originals = {e.key for e in site.entries if e.lang == config.default_language}
    coverage = {code: (len({e.key for e in site.entries if e.lang == code} & originals), len(originals)) for code in config.codes}
    return Status(config.codes, keys, reviews, unreviewed, changed, declared, coverage)


def format_status(status: Status, today: dt.date) -> str:
    """The report `status` prints: a table of keys by language, then the details to act on."""
    cells = {(item.key, code): item.states[code] + (" (draft)" if code in item.drafts else "")
             for item in status.keys for code in status.codes}
    width = max([len("key")] + [len(k.key) for k in status.keys])
    column = max([9] + [len(cell) for cell in cells.values()])
    lines = ["Coverage: " + ", ".join(f"{code} {done}/{total}" for code, (done, total) in status.coverage.items()),
             "Translations:", ("  " + "key".ljust(width) + "".join(f"  {code:<{column}}" for code in status.codes)).rstrip()]
    for item in status.keys:
        lines.append("  " + item.key.ljust(width) + "".join(f"  {cells[item.key, code]:<{column}}" for code in status.codes).rstrip())
    todo = [
        f"  content/{item.files[code]}: outdated; update it, then run: python build.py translated content/{item.files[code]}"
        for item in status.keys for code in status.codes if item.states[code] == "outdated"
    ] + [
        f"  {item.key}: missing in {code}; create it with: python build.py new {code} <path> --translation-of {next(iter(item.files.values()))}"
        for item in status.keys for code in status.codes if item.states[code] == "missing"
    ]
    lines += todo or ["  every page is translated and up to date"]
    lines.append("Medical review:")
    lines += [f"  content/{rel}: never reviewed by a clinician" for rel in status.unreviewed]
    lines += [f"  content/{item.rel}:{item.line}: changed since its review on {item.due.isoformat()}" for item in status.changed]
    if status.unreviewed or status.changed:
        lines.append('  after a review, run: python build.py reviewed <file> --by "<name, qualification>"')
    else:
        lines.append("  every article is reviewed as it stands")
    lines.append(f"Reviews due by {(today + REVIEW_WINDOW).isoformat()}:")
    for review in status.reviews:
        when = "overdue since" if review.due < today else "due on"
        lines.append(f"  content/{review.rel}:{review.line}: {when} {review.due.isoformat()}")
    if not status.reviews:
        lines.append("  none")
    lines.append("Differences declared by translations:")
    lines += [f"  content/{d.rel}:{d.line}: {d.what}: {d.why}" for d in status.declared] or ["  none"]
    return "\n".join(lines)
