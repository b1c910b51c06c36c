"""The preview (`build.py serve`) at size: idle CPU and save-to-reload latency.

For each N, copies the generated corpus (bench/corpus.py: N articles per language) to a
temporary folder and starts the preview on a free loopback port. It then measures

- idle CPU: the CPU time this process (server, watcher and their threads) uses while
  nothing changes, as a share of one core;
- save -> reload: opens an article in Debian's Chromium (Playwright), repeatedly saves a
  one-line change to its title, and times from just before the write until the open tab
  shows the new title. Nothing reloads the tab but livereload.js, told over its websocket
  by the preview.

    .venv/bin/python bench/preview_latency.py [--n 100 2500] [--runs 10] [--idle 20] [--guide]

--guide measures the real guide (content/) as well.
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import corpus  # noqa: E402
from guidesite.console import console  # noqa: E402
from guidesite.serve import Preview  # noqa: E402
from run import prepare  # noqa: E402

PARTS = ("site.yaml", "babel.cfg", "content", "templates", "assets", "translations")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _quiet_preview(root: Path) -> Preview:
    """A preview whose build lines go nowhere: the figures are the output here."""
    out = console()
    out.quiet = True
    return Preview(root, "127.0.0.1", 0, out=out)


def measure(root: Path, page_rel: str, runs: int, idle: float) -> dict[str, float]:
    source = root / "content" / page_rel
    original = source.read_text("utf-8")
    slug = re.search(r"(?m)^slug: *\"?([^\"\n]*)\"?$", original).group(1).strip()
    preview = _quiet_preview(root)
    started = time.perf_counter()
    preview.start()
    figures = {"pages": sum(1 for p in (root / "content").rglob("*.md") if not p.name.startswith("_")),
               "first build s": time.perf_counter() - started}
    try:
        time.sleep(2)  # let the first build's after-effects settle
        cpu, wall = time.process_time(), time.perf_counter()
        time.sleep(idle)
        figures["idle CPU %"] = 100 * (time.process_time() - cpu) / (time.perf_counter() - wall)
        seconds = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"{preview.url}{page_rel.split('/')[0]}/{slug}/")
            for run in range(runs):
                marker = f"Messung {run}"
                started = time.perf_counter()
                source.write_text(original.replace("title: ", f"title: {marker} ", 1), "utf-8")
                page.wait_for_function("m => (document.querySelector('h1')?.textContent ?? '').startsWith(m)", arg=marker,
                                       polling=10, timeout=60_000)
                seconds.append(time.perf_counter() - started)
                time.sleep(0.5)  # let the tab settle, as between an editor's saves
            browser.close()
    finally:
        preview.stop()
    figures.update({"reload median s": statistics.median(seconds), "reload min s": min(seconds), "reload max s": max(seconds)})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=[100, 2500], help="articles per language (default: 100 2500)")
    parser.add_argument("--runs", type=int, default=10, help="saves timed per size (default 10)")
    parser.add_argument("--idle", type=float, default=20, help="seconds of idle CPU measured (default 20)")
    parser.add_argument("--guide", action="store_true", help="measure the real guide too")
    parser.add_argument("--dir", type=Path, default=REPO / "bench" / "corpus", help="where the corpora are generated")
    args = parser.parse_args()
    rows = []
    for n in args.n:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / f"n{n}"
            shutil.copytree(prepare(n, args.dir), root, ignore=shutil.ignore_patterns(".cache", "site", ".stamp"))
            page_rel = corpus.article_path(root, n, n // 2).relative_to(root / "content").as_posix()
            rows.append((f"N = {n:,}", measure(root, page_rel, args.runs, args.idle)))
    if args.guide:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for part in PARTS:
                (shutil.copytree if (REPO / part).is_dir() else shutil.copy2)(REPO / part, root / part)
            rows.append(("the guide", measure(root, "de/vorbeugen/laufhaltung.md", args.runs, args.idle)))
    print("| corpus | pages | first build s | idle CPU % of a core | save -> reload median s | min | max |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, f in rows:
        print(f"| {label} | {f['pages']:,} | {f['first build s']:.2f} | {f['idle CPU %']:.2f} | "
              f"{f['reload median s']:.2f} | {f['reload min s']:.2f} | {f['reload max s']:.2f} |")


if __name__ == "__main__":
    main()
