"""The A–Z page of each language: every page by title, with its description.

Where the search field leads without JavaScript, so that no reader meets a dead control,
and a way into the guide of its own, linked from every page's footer.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from .errors import ErrorList
from .site import Entry, Site

A_Z_DIR = "a-z"
OTHER = "#"  # the group of titles that start with a digit or a sign


def a_z_output(lang: str) -> str:
    return f"{lang}/{A_Z_DIR}/index.html"


def a_z_path(site: Site, lang: str) -> str:
    return f"{site.config.base_path}{lang}/{A_Z_DIR}/"


def a_z_url(site: Site, lang: str) -> str:
    return site.config.base_url + a_z_path(site, lang)[len(site.config.base_path):]


def check_a_z_free(site: Site, errors: ErrorList) -> None:
    """A page whose address is an A–Z page's would be replaced by it without a word."""
    taken = {a_z_output(code) for code in site.config.codes}
    for entry in site.entries:
        if entry.output in taken:
            errors.add(site.config.root / "content" / entry.page.rel, 1,
                       f"the address {a_z_path(site, entry.lang)} is the list of all pages: give this page another file name")


def _sort_key(title: str) -> tuple[str, str]:
    """Titles as a reader looks them up: Ä with A, ß as ss, case ignored."""
    folded = unicodedata.normalize("NFKD", title.casefold().replace("ß", "ss"))
    return "".join(c for c in folded if not unicodedata.combining(c)), title


def _letter(key: str) -> str:
    first = key[:1].upper()
    return first if first.isalpha() else OTHER


def a_z_groups(site: Site, lang: str) -> list[dict[str, Any]]:
    """The language's pages in groups by first letter, each page with title, address and description."""
    groups: list[dict[str, Any]] = []
    entries: list[Entry] = [e for e in site.entries if e.lang == lang]
    for key, entry in sorted(((_sort_key(e.page.meta.title), e) for e in entries), key=lambda item: item[0]):
        letter = _letter(key[0])
        if not groups or groups[-1]["letter"] != letter:
            groups.append({"letter": letter, "id": "letter-" + ("other" if letter == OTHER else letter.lower()), "pages": []})
        groups[-1]["pages"].append({"title": entry.page.meta.title, "path": entry.path, "description": entry.page.meta.description})
    return groups


def a_z_context(site: Site, lang: str, frame: dict[str, Any], gettext: Callable[[str], str]) -> dict[str, Any]:
    """The A–Z page's template context: the frame every page has (header, menu, footer), and the list."""
    title = gettext("All pages A–Z")
    path = a_z_path(site, lang)
    url = a_z_url(site, lang)
    home = site.home(lang)
    return dict(
        frame,
        page={"title": title, "description": gettext("Every page of this guide from A to Z, with what it is about."),
              "lang": lang, "path": path, "url": url, "layout": "a-z", "draft": False, "key": A_Z_DIR},
        alternates=[{"lang": name, "url": a_z_url(site, code)}
                    for name, code in [(code, code) for code in site.config.codes] + [("x-default", site.config.default_language)]],
        switcher=[dict(other, path=a_z_path(site, other["lang"])) for other in frame["switcher"]],
        breadcrumb=[{"title": home.page.meta.short_title or home.page.meta.title, "path": home.path, "lang": lang},
                    {"title": title, "path": path, "lang": lang}],
        groups=a_z_groups(site, lang),
    )
