"""Reading content/<lang>/**/*.md: front matter checked against the schema, then plain Pages."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import SiteConfig
from .errors import ErrorList, did_you_mean
from .placeholders import is_placeholder
from .yamlfile import YamlProblem, parse_mapping, text_problem

CONTENT_DIR = "content"
MAX_FILE_BYTES = 1_000_000
LAYOUTS = ("page", "article", "home")
ARTICLE_FIELDS = ("published",)
# A medical review is recorded by `build.py reviewed`, which sets these four together.
REVIEW_FIELDS = ("reviewer", "last_reviewed", "next_review", "review_digest")
MAX_REVIEW_YEARS = 3  # the editor's guide promises a review at least this often
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SLUG = re.compile(r"^(?:[a-z0-9]+(?:-[a-z0-9]+)*)(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*$")
_FILE_NAME = re.compile(r"^[a-z0-9_][a-z0-9_-]*\.md$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Characters HTML does not allow in a page (control characters, noncharacters): pasted
# by accident, invisible in an editor, and a parse error in the reader's browser.
_FORBIDDEN_CHAR = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


@dataclass(frozen=True)
class TranslationOf:
    """Which page a translation was made from, and that page's digest at the time."""

    source: str  # "de/ursachen.md"
    digest: str


@dataclass(frozen=True)
class FrontMatter:
    title: str
    description: str
    key: str
    slug: str
    short_title: str | None = None
    layout: str = "page"
    parent: str | None = None
    nav: int | None = None
    draft: bool = False
    published: dt.date | None = None
    last_reviewed: dt.date | None = None
    next_review: dt.date | None = None
    reviewer: str | None = None
    review_digest: str | None = None  # the digest of the text the reviewer read
    about: str | None = None
    translation_of: TranslationOf | None = None
    # Differences from the original that a translation makes on purpose: what differs
    # (as the translation check names it, "figure 116117") -> why.
    differences: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Page:
    """One source file, validated; nothing rendered yet."""

    rel: str  # "de/vorbeugen/laufhaltung.md", relative to content/
    lang: str
    meta: FrontMatter
    body: str
    body_line: int  # the file's line number of the body's first line
    key_lines: dict[str, int]  # front-matter field -> line in the file
    digest: str  # of the body and the fields a translator translates

    @property
    def review_state(self) -> str:
        """'reviewed' while the reviewed text is unchanged and the reviewer is a real name;
        'changed' once the text differs from what was reviewed; 'never' without a review."""
        meta = self.meta
        if not meta.review_digest or not meta.reviewer or is_placeholder(meta.reviewer):
            return "never"
        return "reviewed" if meta.review_digest == self.digest else "changed"


def page_digest(title: str, description: str, body: str) -> str:
    """The digest of what a translator translates and a reviewer reviews: title, description, body."""
    material = "\0".join([title, description, body])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def _validate(values: dict[str, Any], lines: dict[str, int], report: Any) -> dict[str, Any] | None:
    """Check each field's type and form; return converted values or None after reporting."""
    ok = True

    def bad(key: str, message: str) -> None:
        nonlocal ok
        ok = False
        report(lines.get(key, 1), f"{key}: {message}")

    fields = {f for f in FrontMatter.__dataclass_fields__}
    for key in values.keys() - fields:
        bad(key, f"unknown field{did_you_mean(key, fields)}")
    required = ["title", "description", "key", "slug"]
    layout = values.get("layout", "page")
    if layout not in LAYOUTS:
        bad("layout", f"must be one of {', '.join(LAYOUTS)}")
    if layout == "article":
        required += list(ARTICLE_FIELDS)
    for key in required:
        if key not in values:
            ok = False
            # A missing field has no line of its own: point at the opening '---'.
            report(1, f"required field '{key}' is missing")
    out: dict[str, Any] = {}
    for key in ("title", "description", "short_title", "reviewer", "about"):
        if key in values:
            problem = text_problem(values[key])
            if problem:
                bad(key, problem)
            else:
                out[key] = " ".join(values[key].split())
    for key in ("key", "parent"):
        if key in values:
            if not isinstance(values[key], str) or not _KEY.match(values[key]):
                bad(key, "must be lower-case ASCII letters, digits and '-', such as 'warm-up'")
            else:
                out[key] = values[key]
    if "slug" in values:
        slug = values["slug"]
        if not isinstance(slug, str) or not (slug == "" or _SLUG.match(slug)):
            bad("slug", "must be lower-case ASCII words joined by '-' and '/', such as 'vorbeugen/laufhaltung'")
        elif (slug == "") != (layout == "home"):
            bad("slug", "only the home page (layout: home) has the empty slug")
        else:
            out["slug"] = slug
    if "layout" in values and layout in LAYOUTS:
        out["layout"] = layout
    if "nav" in values:
        if isinstance(values["nav"], bool) or not isinstance(values["nav"], int) or values["nav"] < 1:
            bad("nav", "must be a whole number from 1 (its position in the navigation)")
        else:
            out["nav"] = values["nav"]
    if "draft" in values:
        if not isinstance(values["draft"], bool):
            bad("draft", "must be true or false")
        else:
            out["draft"] = values["draft"]
    for key in ("published", "last_reviewed", "next_review"):
        if key in values:
            raw = values[key]
            try:
                if not isinstance(raw, str) or not _DATE.match(raw):
                    raise ValueError
                out[key] = dt.date.fromisoformat(raw)
            except ValueError:
                bad(key, f"'{raw}' is not a date: write YYYY-MM-DD, such as 2025-03-19")
    if "review_digest" in values:
        if not isinstance(values["review_digest"], str) or not re.fullmatch(r"[0-9a-f]{16}", values["review_digest"]):
            bad("review_digest", "is set by 'python build.py reviewed <file> --by \"…\"'; do not edit it by hand")
        else:
            out["review_digest"] = values["review_digest"]
    given = [key for key in REVIEW_FIELDS if key in values]
    if given and len(given) < len(REVIEW_FIELDS):
        missing = ", ".join(key for key in REVIEW_FIELDS if key not in values)
        bad(given[0], f"a review is recorded with all of {', '.join(REVIEW_FIELDS)} (missing: {missing}): "
                      "record it with 'python build.py reviewed <file> --by \"…\"'")
    if "differences" in values:
        raw = values["differences"]
        if not isinstance(raw, dict) or not raw or not all(isinstance(k, str) and k.strip() for k in raw):
            bad("differences", "must map each intended difference, as the translation check names it, to the reason, "
                               "such as 'figure 116117: the German number for urgent advice'")
        elif problems := [f"'{k}': {p}" for k, v in raw.items() if (p := text_problem(v))]:
            bad("differences", f"each difference needs its reason: {problems[0]}")
        else:
            out["differences"] = tuple((" ".join(k.split()), " ".join(v.split())) for k, v in raw.items())
    if "translation_of" in values:
        raw = values["translation_of"]
        if not (isinstance(raw, dict) and set(raw) == {"source", "digest"} and all(isinstance(v, str) for v in raw.values())):
            bad("translation_of", "must have source and digest; set it with 'python build.py translated <file>'")
        else:
            out["translation_of"] = TranslationOf(raw["source"], raw["digest"])
    if ok and out.get("last_reviewed") and out.get("next_review"):
        last, following = out["last_reviewed"], out["next_review"]
        if following <= last:
            bad("next_review", "must come after last_reviewed")
        elif following > years_later(last, MAX_REVIEW_YEARS):
            bad("next_review", f"must be at most {MAX_REVIEW_YEARS} years after last_reviewed ({last.isoformat()}), "
                               f"by {years_later(last, MAX_REVIEW_YEARS).isoformat()}")
    return out if ok else None


def years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def split_front_matter(text: str) -> tuple[str, str, int] | str:
    """Return (front matter, body, body's first line) or a message saying what is wrong."""
    if not text.strip():
        return "the file is empty: a page starts with front matter between two '---' lines"
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return "a page must start with front matter: a first line of '---'"
    for i, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    return "the front matter is not closed: add a line '---' after it"


def read_page(path: Path, rel: str, lang: str, errors: ErrorList, data: bytes | None = None) -> Page | None:
    """Read one file (or take its bytes as already read); on any problem report it with its
    line and return None."""
    def report(line: int, message: str) -> None:
        errors.add(path, line, message)

    if data is None:
        data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        report(1, f"the file is {len(data) // 1_000_000} MB; a page may be at most {MAX_FILE_BYTES // 1_000_000} MB")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report(data.count(b"\n", 0, exc.start) + 1, "the file is not UTF-8 text: save it as UTF-8")
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    forbidden = _FORBIDDEN_CHAR.search(text)
    if forbidden:
        char = f"U+{ord(forbidden.group()):04X}"
        report(text.count("\n", 0, forbidden.start()) + 1, f"the file contains the invisible control character {char}: delete it")
        return None
    split = split_front_matter(text)
    if isinstance(split, str):
        report(1, split)
        return None
    front, body, body_line = split
    try:
        mapping = parse_mapping(front)
    except YamlProblem as exc:
        report(exc.line + 1, exc.message)
        return None
    key_lines = {k: v + 1 for k, v in mapping.key_lines.items()}
    fields = _validate(mapping.values, key_lines, report)
    if fields is None:
        return None
    return Page(rel, lang, FrontMatter(**fields), body, body_line, key_lines, page_digest(str(mapping.values.get("title", "")), str(mapping.values.get("description", "")), body))


def _link_ok(path: Path, content_real: Path, errors: ErrorList) -> bool:
    """A symbolic link may only lead to a file or folder inside content/, and must lead somewhere."""
    if not path.is_symlink():
        return True
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link, or a loop
        errors.add(path, 1, "a symbolic link that leads nowhere: delete it or fix its target")
        return False
    if not target.is_relative_to(content_real):
        errors.add(path, 1, "a link to a file or folder outside the content folder is not allowed")
        return False
    return True


def discover(config: SiteConfig, errors: ErrorList) -> list[tuple[Path, str, str]]:
    """(path, rel, lang) for every page file; refuses odd names and links out of content/."""
    content = config.root / CONTENT_DIR
    found: list[tuple[Path, str, str]] = []
    if not content.is_dir():
        errors.add(content, 1, "the content folder is missing")
        return found
    content_real = content.resolve()
    for entry in sorted(content.iterdir()):
        if entry.is_dir() and entry.name not in config.codes and not editors_own(entry.name):
            errors.add(entry, 1, f"folder '{entry.name}' is not a language in site.yaml ({', '.join(config.codes)})")
    for lang in config.codes:
        base = content / lang
        if not base.is_dir():
            errors.add(base, 1, f"no content for language '{lang}'")
            continue
        if not _link_ok(base, content_real, errors):
            continue
        start = len(str(content)) + 1
        for item in sorted(_entries_below(base), key=lambda item: item.path.split(os.sep)):
            path = Path(item.path)
            rel = item.path[start:].replace(os.sep, "/")
            if item.is_symlink() and not _link_ok(path, content_real, errors):
                continue
            if item.is_dir() or item.name.startswith("_"):
                continue
            if not item.is_file():
                errors.add(path, 1, "not a regular file (a pipe or device?): only Markdown files belong in the content folder")
                continue
            if path.suffix.lower() != ".md":
                errors.add(path, 1, "only Markdown files (.md) belong in the content folder")
                continue
            bad_parts = [p for p in rel.split("/")[1:-1] if not re.match(r"^[a-z0-9-]+$", p)]
            if not _FILE_NAME.match(item.name) or bad_parts:
                errors.add(path, 1, "file and folder names use lower-case ASCII letters, digits and '-' only")
                continue
            found.append((path, rel, lang))
    return found


def editors_own(name: str) -> bool:
    """Whether a file or folder is one an editor's tools keep beside the pages, not a page:
    hidden ones (vim's .x.md.swp, .DS_Store, emacs's .#x.md lock), backups (x.md~), emacs's
    autosaves (#x.md#) and the file vim writes to test a folder before saving (4913).
    Refused as pages, they made every save in the preview an error while vim was open."""
    return name.startswith(".") or name.endswith("~") or (name.startswith("#") and name.endswith("#")) or name == "4913"


def _entries_below(folder: Path | str) -> Iterator[os.DirEntry[str]]:
    """Every entry below folder, as Path.rglob("*") finds them (not inside linked folders), but
    with the file type read along with the folder, not by one system call per file; without
    the editors' own files."""
    with os.scandir(folder) as entries:
        for item in entries:
            if editors_own(item.name):
                continue
            yield item
            if item.is_dir(follow_symlinks=False):
                yield from _entries_below(item.path)


def read_pages(found: list[tuple[Path, str, str]], errors: ErrorList) -> list[Page | None]:
    """read_page for each (path, rel, lang) that discover found."""
    return [read_page(path, rel, lang, errors) for path, rel, lang in found]


def load_pages(config: SiteConfig, include_drafts: bool,
               read: Callable[[list[tuple[Path, str, str]], ErrorList], list[Page | None]] = read_pages) -> list[Page]:
    """Every page of every language, validated one by one; raises BuildError listing all problems.

    `read` reads the files as read_pages does (the build cache passes one that remembers).
    """
    errors = ErrorList(config.root)
    pages = [page for page in read(discover(config, errors), errors) if page is not None and (include_drafts or not page.meta.draft)]
    errors.raise_if_any()
    return pages
