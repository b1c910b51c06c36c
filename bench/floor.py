"""The floor: the least any generator built on our libraries must do for the same pages.

Read each page, parse its front matter with PyYAML (libyaml's loader where available),
render its Markdown with the very markdown-it-py setup the generator uses, and write it
to `<out>/<lang>/<slug>/index.html`; the pages are split between two processes.
No templates, no link checks, no site-wide steps: the ratio build/floor is what those
cost on top.

With --search, each language's pages are then indexed by Pagefind's own command line (the
binary the generator's search step runs), the languages at once, one process each: the
least a site with a search index costs, to compare a whole build with.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
from html import escape as html_escape
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from guidesite.config import load_config  # noqa: E402
from guidesite.markdown import Markdown, RenderContext, Resolved  # noqa: E402

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _context() -> RenderContext:
    return RenderContext(
        resolve_link=lambda href: Resolved(url=href),
        resolve_image=lambda src: Resolved(url=src),
        known_citation=lambda key: True,
        gettext=lambda text: text,
        publisher_html="",
    )


def floor(root: Path, out: Path, jobs: int = 2, wrap: bool = False) -> int:
    content = root / "content"
    shards: list[list[Path]] = [[] for _ in range(jobs)]
    count = 0
    for lang_dir in sorted(p for p in content.iterdir() if p.is_dir()):
        for path in sorted(lang_dir.rglob("*.md")):
            shards[count % jobs].append(path)
            count += 1
    quotes = {lang.code: lang.quotes for lang in load_config(root).languages}
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        return sum(pool.map(_render, [(shard, content, out, quotes, wrap) for shard in shards]))


def index(out: Path) -> None:
    """Pagefind's index of each language's pages, in out/<lang>/pagefind/, the languages at once."""
    from pagefind_bin import get_executable

    indexers = [subprocess.Popen([str(get_executable()), "--site", str(folder), "--silent"])
                for folder in sorted(p for p in out.iterdir() if p.is_dir())]
    if any(indexer.wait() != 0 for indexer in indexers):
        raise SystemExit("floor: Pagefind failed")


def _render(args: tuple[list[Path], Path, Path, dict[str, tuple[str, str, str, str]], bool]) -> int:
    paths, content, out, quotes, wrap = args
    renderers: dict[str, Markdown] = {}
    for path in paths:
        lang = path.relative_to(content).parts[0]
        with open(path, encoding="utf-8") as fp:
            text = fp.read()
        _, front, body = text.split("---\n", 2)
        meta = yaml.load(front, Loader=_LOADER)
        if lang not in renderers:
            renderers[lang] = Markdown(lang, quotes[lang])
        md = renderers[lang]
        html = md.md.render(body, {"ctx": _context()})
        if wrap:  # Pagefind reads a page's language from <html lang> and its text from <body>
            html = f'<!doctype html><html lang="{lang}"><head><title>{html_escape(str(meta["title"]))}</title></head><body>{html}</body></html>'
        folder = out / lang / meta["slug"] if meta["slug"] else out / lang
        os.makedirs(folder, exist_ok=True)
        with open(folder / "index.html", "w", encoding="utf-8") as fp:
            fp.write(html)
    return len(paths)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render a project's pages the cheapest way (the benchmark's floor).")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--search", action="store_true", help="then index each language's pages with Pagefind")
    args = parser.parse_args(argv)
    pages = floor(args.root, args.out, args.jobs, wrap=args.search)
    if args.search:
        index(args.out)
    print(f"floor: {pages} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
