"""The floor: the least any generator built on our libraries must do for the same pages.

Read each page, parse its front matter with PyYAML (libyaml's loader where available),
render its Markdown with the very markdown-it-py setup the generator uses, and write it
to `<out>/<lang>/<slug>/index.html`; the pages are split between two processes.
No templates, no link checks, no site-wide steps: the ratio build/floor is what those
cost on top.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
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


def floor(root: Path, out: Path, jobs: int = 2) -> int:
    content = root / "content"
    shards: list[list[Path]] = [[] for _ in range(jobs)]
    count = 0
    for lang_dir in sorted(p for p in content.iterdir() if p.is_dir()):
        for path in sorted(lang_dir.rglob("*.md")):
            shards[count % jobs].append(path)
            count += 1
    quotes = {lang.code: lang.quotes for lang in load_config(root).languages}
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        return sum(pool.map(_render, [(shard, content, out, quotes) for shard in shards]))


def _render(args: tuple[list[Path], Path, Path, dict[str, tuple[str, str, str, str]]]) -> int:
    paths, content, out, quotes = args
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
    args = parser.parse_args(argv)
    pages = floor(args.root, args.out, args.jobs)
    print(f"floor: {pages} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
