"""The web app manifest, one per language, so the guide behaves well on a phone's home screen.

Generated at build time because it names the icons by their fingerprinted file names.
"""
from __future__ import annotations

import json

from babel.support import Translations

from .assets import AssetMap
from .site import Site

MANIFEST_NAME = "manifest.webmanifest"
THEME_COLOR = "#1d4f91"  # the accent of assets/css/site.css and of the icons
BACKGROUND_COLOR = "#ffffff"
# name in assets/img -> (sizes, type, purpose)
ICONS = {
    "favicon.svg": ("any", "image/svg+xml", "any"),
    "icon-192.png": ("192x192", "image/png", "any"),
    "icon-512.png": ("512x512", "image/png", "any"),
    "icon-maskable-512.png": ("512x512", "image/png", "maskable"),
}


def manifest_path(lang: str) -> str:
    """Where a language's manifest lives, relative to site/."""
    return f"{lang}/{MANIFEST_NAME}"


def web_manifests(site: Site, assets: AssetMap, translations: dict[str, Translations]) -> dict[str, bytes]:
    """One manifest per language: its name, home page and language, the icons, the theme colours."""
    files = {}
    base = site.config.base_path
    for code in site.config.codes:
        home = site.home(code)
        data = {
            "name": site.config.language(code).title,
            "short_name": translations[code].gettext("Back pain"),  # the name under the icon: short
            "description": home.page.meta.description,
            "lang": code,
            "dir": "ltr",
            "id": home.path,
            "start_url": home.path,
            # The whole site, so that the language switcher stays inside the app window.
            "scope": base,
            # minimal-ui keeps a back button on Android; iOS falls back to the browser.
            "display": "minimal-ui",
            "theme_color": THEME_COLOR,
            "background_color": BACKGROUND_COLOR,
            "icons": [
                {"src": assets.url(f"img/{name}"), "sizes": sizes, "type": kind, "purpose": purpose}
                for name, (sizes, kind, purpose) in ICONS.items()
            ],
        }
        files[manifest_path(code)] = (json.dumps(data, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")
    return files
