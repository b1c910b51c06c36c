"""What stands between a site that builds and a site that may go live.

Each finding is a warning in a build and the preview, and an error for `check --strict`,
the gate before publishing: an article no clinician has reviewed (or has changed since),
a review overdue, a placeholder left anywhere, a translation that says something its
original does not (guidesite/parity.py), a page that gives advice without saying where to
get help, an outdated or missing translation, a source no page cites.
"""
from __future__ import annotations

import datetime as dt
from .bibliography import BIBLIOGRAPHY_FILE, Source
from .config import CONFIG_FILE, SiteConfig
from .content import CONTENT_DIR, Page
from .errors import ContentError
from .outline import Outline
from .parity import compare_translations
from .placeholders import find_placeholder
from .site import Entry, Site

_TEXT_FIELDS = ("title", "short_title", "description", "reviewer", "about")


def find_warnings(site: Site, sources: dict[str, Source], outlines: dict[str, Outline], today: dt.date) -> list[ContentError]:
    """Every warning about the site as built, by file and line."""
    cited = {key for outline in outlines.values() for key, _ in outline.citations}
    warnings = list(site.warnings)
    warnings += [ContentError(BIBLIOGRAPHY_FILE, s.line, f"source '{key}' is cited by no page") for key, s in sources.items() if key not in cited]
    warnings += [ContentError(BIBLIOGRAPHY_FILE, s.line, f"source '{key}' links to a web page but does not say when the link was last "
                              "checked: open it, make sure it still says what the guide cites it for, then add checked: YYYY-MM-DD")
                 for key, s in sources.items() if s.url and not s.doi and not s.checked]
    care_pages = {e.page.rel for e in site.entries if e.key == site.config.care_page}
    for entry in site.entries:
        warnings += _review(entry.page, today)
        warnings += _placeholders(entry.page, outlines[entry.page.rel])
        warnings += _translation_state(site, entry)
        warnings += _help(site, entry, outlines[entry.page.rel], care_pages)
    warnings += config_placeholders(site.config)
    warnings += compare_translations(site, outlines)
    return sorted(dict.fromkeys(warnings), key=lambda w: (w.path, w.line))


def _path(page: Page) -> str:
    return f"{CONTENT_DIR}/{page.rel}"


def _review(page: Page, today: dt.date) -> list[ContentError]:
    meta = page.meta
    if meta.layout != "article":
        return []
    record = f'after the review, run: python build.py reviewed {_path(page)} --by "<name, qualification>"'
    state = page.review_state
    if state == "never":
        return [ContentError(_path(page), page.key_lines.get("reviewer", 1), f"no clinician has reviewed this article yet; {record}")]
    if state == "changed":
        assert meta.last_reviewed
        return [ContentError(_path(page), page.key_lines["review_digest"],
                             f"the text has changed since {meta.reviewer} reviewed it on {meta.last_reviewed.isoformat()}; "
                             f"readers are told so until the change is reviewed: {record}")]
    if meta.next_review and meta.next_review < today:
        return [ContentError(_path(page), page.key_lines["next_review"], f"review was due on {meta.next_review.isoformat()}; {record}")]
    return []


def _placeholders(page: Page, outline: Outline) -> list[ContentError]:
    found = [ContentError(_path(page), page.key_lines.get(key, 1), f"{key}: the placeholder '{text}' must be replaced before the site goes live")
             for key in _TEXT_FIELDS if (value := getattr(page.meta, key)) and (text := find_placeholder(value))]
    found += [ContentError(_path(page), line, f"the placeholder '{text}' must be replaced before the site goes live")
              for text, line in outline.placeholders]
    return found


def config_placeholders(config: SiteConfig) -> list[ContentError]:
    """Placeholders in site.yaml's values: the publisher's details, mostly."""
    lines = (config.root / CONFIG_FILE).read_text("utf-8-sig").split("\n")
    values = [(f"publisher.{key}", value) for key, value in config.publisher.items()]
    values += [(f"languages.{lang.code}.title", lang.title) for lang in config.languages]
    return [ContentError(CONFIG_FILE, next((n for n, line in enumerate(lines, start=1) if text in line), 1),
                         f"{key}: the placeholder '{text}' must be replaced before the site goes live")
            for key, value in values if (text := find_placeholder(value))]


def _translation_state(site: Site, entry: Entry) -> list[ContentError]:
    page = entry.page
    origin = page.meta.translation_of
    if origin and origin.source not in site.by_rel:
        return [ContentError(_path(page), page.key_lines["translation_of"],
                             f"translation_of: content/{origin.source} is not a page of this build")]
    if source := site.changed_source(entry):
        return [ContentError(_path(page), page.key_lines["translation_of"],
                             f"translated from content/{source.page.rel}, which has changed since; update the translation, "
                             f"then run: python build.py translated {_path(page)}")]
    return []


def _help(site: Site, entry: Entry, outline: Outline, care_pages: set[str]) -> list[ContentError]:
    """An article gives advice, so it says where to get help: a care card, or a link to the
    page on when to see a doctor (care_pages: that page in every language)."""
    care = site.config.care_page
    if entry.page.meta.layout != "article" or entry.key == care:
        return []
    if not care_pages.isdisjoint(outline.links) or any(e.kind == "care" for e in outline.elements):
        return []
    where = site.by_key.get((entry.lang, care)) or site.by_key.get((site.config.default_language, care))
    page = f"content/{where.page.rel}" if where else f"the page with key '{care}'"
    return [ContentError(_path(entry.page), 1, f"an article that gives advice says where to get help: add a care card or a link to {page}")]
