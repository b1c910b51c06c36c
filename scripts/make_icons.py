"""Render the home-screen icons (PNG) from the favicon's SVG with Debian's Chromium.

Run after changing assets/img/favicon.svg:  .venv/bin/python scripts/make_icons.py
The PNGs are committed; the build only fingerprints them and names them in the web app
manifest (guidesite/manifest.py). iOS and older Android need PNG; browsers use the SVG.
"""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "assets" / "img"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# name -> (size in px, full bleed?). Full-bleed icons fill the square: the platform rounds
# or masks the corners itself (iOS, Android "maskable"); the drawing lies inside the safe zone.
ICONS = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "icon-maskable-512.png": (512, True),
    "apple-touch-icon.png": (180, True),
}


def main() -> None:
    svg = (IMG / "favicon.svg").read_text(encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, (size, full_bleed) in ICONS.items():
            drawing = re.sub(r'\srx="[^"]*"', "", svg) if full_bleed else svg
            drawing = drawing.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(f"<style>html,body{{margin:0;background:transparent}}svg{{display:block}}</style>{drawing}")
            page.screenshot(path=str(IMG / name), omit_background=True)
            page.close()
            print(f"assets/img/{name}: {(IMG / name).stat().st_size} bytes")
        browser.close()


if __name__ == "__main__":
    main()
