"""Save-to-reload latency of `build.py serve` on the real guide.

Copies the project's sources to a temporary folder, starts the preview on a free loopback
port, opens an article in Debian's Chromium (Playwright), then repeatedly saves a
one-line change to that article's title and times from just before the write until the
open tab shows the new title. Nothing reloads the tab but livereload.js, told over its
websocket by the preview.

    .venv/bin/python bench/preview_latency.py [--runs 10] [--page de/vorbeugen/laufhaltung.md]
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

from guidesite.serve import Preview  # noqa: E402

PARTS = ("site.yaml", "babel.cfg", "content", "templates", "assets", "translations")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--page", default="de/vorbeugen/laufhaltung.md", help="source file below content/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for part in PARTS:
            (shutil.copytree if (REPO / part).is_dir() else shutil.copy2)(REPO / part, root / part)
        source = root / "content" / args.page
        original = source.read_text("utf-8")
        slug = re.search(r"(?m)^slug: *(.*)$", original).group(1).strip()
        preview = Preview(root, "127.0.0.1", 0)
        preview.start()
        seconds = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"{preview.url}{args.page.split('/')[0]}/{slug}/")
                for run in range(args.runs):
                    marker = f"Messung {run}"
                    started = time.perf_counter()
                    source.write_text(original.replace("title: ", f"title: {marker} ", 1), "utf-8")
                    page.wait_for_function("m => document.querySelector('h1').textContent.startsWith(m)", arg=marker,
                                           polling=10, timeout=30_000)
                    seconds.append(time.perf_counter() - started)
                    time.sleep(0.5)  # let the tab settle, as between an editor's saves
                browser.close()
        finally:
            preview.stop()
    print(f"save -> reload over {args.runs} saves of content/{args.page}: "
          f"median {statistics.median(seconds):.2f} s, min {min(seconds):.2f} s, max {max(seconds):.2f} s")


if __name__ == "__main__":
    main()
