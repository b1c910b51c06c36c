"""`new` and `translated`: create a page with complete front matter; mark a translation current.

Editors never compute a digest by hand: `new --translation-of` records the source page and
its digest, and `translated` rewrites that digest once the translation has caught up.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import yaml
from babel.support import NullTranslations, Translations

from .config import load_config
from .content import CONTENT_DIR, Page, read_page
from .errors import BuildError, ContentError, ErrorList
from .i18n import load_translations

NEW_LAYOUTS = ("article", "page")
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


def _one_year_later(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


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
    layout = layout or (source.meta.layout if source else "article")
    if layout not in NEW_LAYOUTS:
        raise _fail(shown, 1, f"new creates the layouts {' and '.join(NEW_LAYOUTS)}; every language has its home page already")
    parent = source.meta.parent if source else _folder_key(root, lang, path)
    today = today or dt.date.today()
    _ = _placeholders(root, lang).gettext
    fields: list[tuple[str, object]] = [
        ("title", path.rsplit("/", 1)[-1].replace("-", " ").capitalize()),
        ("description", _("[One or two sentences for search results and link previews]")),
        ("key", source.meta.key if source else path.rsplit("/", 1)[-1]),
        ("slug", path),
        ("layout", layout),
        ("parent", parent),
        ("nav", source.meta.nav if source else None),
        # Drafts are shown by the preview but never published: placeholders cannot go live.
        ("draft", True),
    ]
    if layout == "article":
        fields += [
            ("published", today),
            ("last_reviewed", today),
            ("next_review", _one_year_later(today)),
            ("reviewer", _("[Name, qualification of the medical reviewer]")),
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
