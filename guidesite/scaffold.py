"""`new`, `translated` and `reviewed`: the commands that write front matter for editors.

Editors never compute a digest by hand: `new --translation-of` records the source page and
its digest, `translated` rewrites that digest once the translation has caught up, and
`reviewed` records who reviewed which text when, with the digest of that text.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import yaml
from babel.support import NullTranslations, Translations

from .config import SiteConfig, load_config
from .content import CONTENT_DIR, MAX_REVIEW_YEARS, Page, discover, read_page, years_later
from .errors import BuildError, ContentError, ErrorList
from .placeholders import find_placeholder
from .i18n import load_translations

NEW_LAYOUTS = ("article", "page")
DEFAULT_PORT = 8000  # the preview's (build.py serve --port)
_PATH = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*$")
# Any of the line endings read_page accepts: \n, \r\n and a lone \r (classic Mac).
_FRONT_START = re.compile(r"\ufeff?---[ \t]*(?:\r\n|\r|\n)")
_FRONT_END = re.compile(r"(?:^|(?<=[\r\n]))(?:---|\.\.\.)[ \t]*(?=[\r\n]|$)")


def _fail(path: str, line: int, message: str) -> BuildError:
    return BuildError([ContentError(path, line, message)])


def _content_rel(root: Path, name: str) -> str | None:
    """A page named as 'de/x.md', 'content/de/x.md' or a path from here -> 'de/x.md'."""
    content = (root / CONTENT_DIR).resolve()
    for candidate in (content / name, root / name, Path.cwd() / name):
        candidate = candidate.resolve()
        if candidate.is_file() and candidate.is_relative_to(content):
            return candidate.relative_to(content).as_posix()
    return None


def _read(root: Path, rel: str) -> Page:
    errors = ErrorList(root)
    page = read_page(root / CONTENT_DIR / rel, rel, rel.split("/", 1)[0], errors)
    errors.raise_if_any()
    assert page is not None
    return page


def _placeholders(root: Path, lang: str) -> Translations | NullTranslations:
    """The page language's interface catalog, for placeholders; English if it cannot be read."""
    try:
        return load_translations(root, (lang,))[lang]
    except BuildError:
        return NullTranslations()


def new_page(root: Path, lang: str, path: str, translation_of: str | None = None,
             layout: str | None = None, today: dt.date | None = None) -> str:
    """Create content/<lang>/<path>.md with every required field; return its name. Never overwrites."""
    path = path.removesuffix(".md")
    rel = f"{lang}/{path}.md"
    shown = f"{CONTENT_DIR}/{rel}"
    config = load_config(root)
    if lang not in config.codes:
        raise _fail(shown, 1, f"'{lang}' is not a language in site.yaml ({', '.join(config.codes)})")
    if not _PATH.match(path):
        raise _fail(shown, 1, "the path uses lower-case ASCII letters, digits and '-' between '/', such as vorbeugen/neues-thema")
    target = root / CONTENT_DIR / rel
    if target.exists():
        raise _fail(shown, 1, "the file already exists; new never overwrites a page")
    source = None
    if translation_of is not None:
        source_rel = _content_rel(root, translation_of)
        if source_rel is None:
            raise _fail(translation_of, 1, "--translation-of: no such page in content/")
        source = _read(root, source_rel)
        if source.lang == lang:
            raise _fail(translation_of, 1, f"--translation-of: this page is already in '{lang}'")
        if existing := _translation_in(root, config, lang, source.meta.key):
            raise _fail(translation_of, 1, f"--translation-of: this page has a translation in '{lang}' already: "
                                           f"{CONTENT_DIR}/{existing} (key '{source.meta.key}')")
    layout = layout or (source.meta.layout if source else "article")
    # A new language starts with its home page: the translation of the default language's.
    if layout == "home" and path != "index":
        raise _fail(shown, 1, "a language's home page is content/<language>/index.md: give the path index")
    if layout not in NEW_LAYOUTS and layout != "home":
        raise _fail(shown, 1, f"new creates the layouts {' and '.join(NEW_LAYOUTS)}; every language has its home page already")
    parent = source.meta.parent if source else _folder_key(root, lang, path)
    today = today or dt.date.today()
    _ = _placeholders(root, lang).gettext
    fields: list[tuple[str, object]] = [
        ("title", path.rsplit("/", 1)[-1].replace("-", " ").capitalize()),
        ("description", _("[One or two sentences for search results and link previews]")),
        ("key", source.meta.key if source else path.rsplit("/", 1)[-1]),
        ("slug", "" if layout == "home" else path),
        ("layout", layout),
        ("parent", parent),
        ("nav", source.meta.nav if source else None),
        # Drafts are shown by the preview but never published: placeholders cannot go live.
        ("draft", True),
    ]
    if layout == "article":
        fields += [
            ("published", today),
            # No review fields: a page is reviewed when `reviewed` records it, never by default.
            ("about", source.meta.about if source else None),
        ]
    lines = ["---"] + [f"{key}: {_yaml_value(value)}" for key, value in fields if value is not None]
    if source:
        lines += ["translation_of:", f"  source: {source.rel}", f'  digest: "{source.digest}"']
    lines += ["---", "", ""]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8") as fp:
        fp.write("\n".join(lines))
    return shown


def _translation_in(root: Path, config: SiteConfig, lang: str, key: str) -> str | None:
    """The page in `lang` with translation key `key`, drafts included, if there is one."""
    errors = ErrorList(root)  # a page that cannot be read is the build's to report, not new's
    for path, rel, page_lang in discover(config, errors):
        if page_lang == lang and (page := read_page(path, rel, lang, errors)) is not None and page.meta.key == key:
            return rel
    return None


def preview_hint(root: Path, shown: str) -> str:
    """Where a page that new created appears in the preview (it is a draft: only there)."""
    config = load_config(root)
    lang, path = shown.removeprefix(f"{CONTENT_DIR}/").removesuffix(".md").split("/", 1)
    address = f"{lang}/" if path == "index" else f"{lang}/{path}/"  # a language's home page is its folder
    return (f"see it in the preview at http://127.0.0.1:{DEFAULT_PORT}{config.base_path}{address}"
            " (start the preview with: python build.py serve)")


def _yaml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML string
    return str(value)  # whole numbers, and dates as YYYY-MM-DD


def _folder_key(root: Path, lang: str, path: str) -> str | None:
    """For vorbeugen/x, the key of content/<lang>/vorbeugen.md: the natural parent."""
    if "/" not in path:
        return None
    folder_rel = f"{lang}/{path.rsplit('/', 1)[0]}.md"
    if not (root / CONTENT_DIR / folder_rel).is_file():
        return None
    return _read(root, folder_rel).meta.key


def mark_translated(root: Path, name: str) -> str:
    """Set translation_of.digest to the source's current digest, changing nothing else in the file."""
    rel = _content_rel(root, name)
    if rel is None:
        raise _fail(name, 1, "no such page in content/")
    page = _read(root, rel)
    shown = f"{CONTENT_DIR}/{rel}"
    origin = page.meta.translation_of
    if origin is None:
        raise _fail(shown, 1, "this page has no translation_of; create translations with: python build.py new <lang> <path> --translation-of <page>")
    if _content_rel(root, origin.source) != origin.source:
        raise _fail(shown, page.key_lines["translation_of"], f"translation_of: the source content/{origin.source} does not exist")
    digest = _read(root, origin.source).digest
    if digest == origin.digest:
        return f"{shown} is already up to date with content/{origin.source}"
    path = root / CONTENT_DIR / rel
    text = path.read_bytes().decode("utf-8")
    path.write_bytes(_replace_digest(text, digest).encode("utf-8"))
    return f"{shown} marked as up to date with content/{origin.source}"


def _replace_digest(text: str, digest: str) -> str:
    """Rewrite only the characters of the translation_of.digest value, found by YAML's own marks.

    Working on the parser's positions keeps every other byte (comments, quoting, line
    endings, a BOM) as the editor wrote it, in block style and in flow style alike.
    """
    start = _FRONT_START.match(text)
    end = _FRONT_END.search(text, start.end()) if start else None
    assert start and end, "read_page accepted the front matter"
    node = yaml.compose(text[start.end():end.start()], Loader=yaml.SafeLoader)
    origin = next(v for k, v in node.value if k.value == "translation_of")
    value = next(v for k, v in origin.value if k.value == "digest")
    begin, finish = start.end() + value.start_mark.index, start.end() + value.end_mark.index
    return text[:begin] + f'"{digest}"' + text[finish:]


def mark_reviewed(root: Path, name: str, reviewer: str, today: dt.date, day: dt.date | None = None,
                  next_review: dt.date | None = None) -> str:
    """Record a medical review of an article as it stands now: reviewer, date, next review due
    and the digest of the reviewed text; changes nothing else in the file."""
    reviewer = " ".join(reviewer.split())
    if not reviewer:
        raise _fail(name, 1, "--by: give the reviewer's name and qualification, such as --by \"Dr. med. Jana Beispiel, Orthopädin\"")
    if find_placeholder(reviewer):
        raise _fail(name, 1, f"--by: '{reviewer}' is a placeholder in square brackets, not a reviewer's name")
    day = day or today
    if day > today:
        raise _fail(name, 1, f"--date: {day.isoformat()} is in the future; record a review once it has happened")
    config = load_config(root)
    rel = _content_rel(root, name)
    pages = {found_rel for _, found_rel, _ in discover(config, ErrorList(root))}
    if rel is None or rel not in pages:
        raise _fail(name, 1, "not a page: name a Markdown file in content/<language>/, such as content/de/ursachen.md")
    page = _read(root, rel)
    shown = f"{CONTENT_DIR}/{rel}"
    if page.meta.layout != "article":
        raise _fail(shown, page.key_lines.get("layout", 1), "only articles (layout: article) carry a medical review")
    due = next_review or years_later(day, 1)
    if not day < due <= years_later(day, MAX_REVIEW_YEARS):
        raise _fail(shown, 1, f"--next: the next review must fall after {day.isoformat()} and at most {MAX_REVIEW_YEARS} years later")
    path = root / CONTENT_DIR / rel
    text = path.read_bytes().decode("utf-8")
    fields = {"reviewer": reviewer, "last_reviewed": day, "next_review": due, "review_digest": page.digest}
    path.write_bytes(_set_fields(text, {key: _yaml_value(value) for key, value in fields.items()}).encode("utf-8"))
    return f"{shown}: reviewed by {reviewer} on {day.isoformat()}; next review due {due.isoformat()}"


def _set_fields(text: str, values: dict[str, str]) -> str:
    """Set top-level front-matter fields to YAML values: a field present has only its value
    replaced (found by YAML's own marks, as in _replace_digest); the others are added at the
    end of the front matter, in the file's own line ending."""
    start = _FRONT_START.match(text)
    end = _FRONT_END.search(text, start.end()) if start else None
    assert start and end, "read_page accepted the front matter"
    node = yaml.compose(text[start.end():end.start()], Loader=yaml.SafeLoader)
    present = {k.value: v for k, v in node.value} if node is not None else {}
    newline = "\r\n" if "\r\n" in text else "\r" if "\r" in text else "\n"
    added = "".join(f"{key}: {value}{newline}" for key, value in values.items() if key not in present)
    out = text[:end.start()] + added + text[end.start():]
    # From the last to the first, so that earlier positions stay valid.
    for key in sorted((k for k in values if k in present), key=lambda k: present[k].start_mark.index, reverse=True):
        begin, finish = start.end() + present[key].start_mark.index, start.end() + present[key].end_mark.index
        out = out[:begin] + values[key] + out[finish:]
    return out
