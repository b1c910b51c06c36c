"""The bibliography (content/sources.yaml): every source the guide may cite, by key."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ErrorList
from .i18n import is_language_tag
from .yamlfile import YamlProblem, parse_mapping

BIBLIOGRAPHY_FILE = "content/sources.yaml"
_FIELDS = {"authors", "title", "journal", "year", "details", "doi", "url", "language", "updated", "checked"}
_DAY_OR_MONTH = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


@dataclass(frozen=True)
class Source:
    key: str
    authors: tuple[str, ...]
    title: str
    journal: str
    year: int | None
    details: str | None
    doi: str | None
    url: str | None
    line: int
    language: str | None = None  # the language of title and journal: marked up with lang= on pages in another
    updated: str | None = None  # a guideline's or web page's own last update: "2020-12" or "2020-12-11"
    checked: str | None = None  # the day someone last checked that the link still says what the guide cites it for

    @property
    def link(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else self.url

    @property
    def author_line(self) -> str:
        """Vancouver style: up to six authors, then 'et al.'."""
        names = list(self.authors[:6]) + (["et al."] if len(self.authors) > 6 else [])
        return ", ".join(names)


def _date_ok(value: str, day_required: bool) -> bool:
    if not _DAY_OR_MONTH.match(value) or (day_required and len(value) != 10):
        return False
    try:
        dt.date.fromisoformat(value if len(value) == 10 else value + "-01")
    except ValueError:
        return False
    return True


def load_bibliography(root: Path) -> dict[str, Source]:
    path = root / BIBLIOGRAPHY_FILE
    errors = ErrorList(root)
    if not path.is_file():
        return {}
    try:
        mapping = parse_mapping(path.read_bytes().decode("utf-8-sig"), what="the bibliography")
    except UnicodeDecodeError:
        errors.add(path, 1, "not UTF-8 text")
        errors.raise_if_any()
    except YamlProblem as exc:
        errors.add(path, exc.line, exc.message)
        errors.raise_if_any()
    sources: dict[str, Source] = {}
    for key, entry in mapping.values.items():
        line = mapping.line(key)

        def bad(message: str, field: str = "") -> None:
            # The field's own line where there is one: "authors" two lines below the key.
            errors.add(path, mapping.line(f"{key}.{field}") if field else line, f"{key}: {message}")

        if not isinstance(entry, dict):
            bad("must be a mapping with authors, title, journal, …")
            continue
        for name in sorted(set(entry) - _FIELDS):
            bad(f"unknown field '{name}'", name)
        authors = entry.get("authors")
        if not isinstance(authors, list) or not authors or not all(isinstance(a, str) for a in authors):
            bad("authors must be a list of names", "authors")
            continue
        if not all(isinstance(entry.get(f), str) and entry[f].strip() for f in ("title", "journal")):
            bad("title and journal are required text")
            continue
        year = entry.get("year")
        if year is not None and (not isinstance(year, int) or not 1800 < year < 2100):
            bad("year must be a year such as 2021", "year")
            continue
        doi = entry.get("doi")
        if doi is not None and (not isinstance(doi, str) or not _DOI.match(doi)):
            bad("doi must look like 10.1234/abc (without https://doi.org/)", "doi")
            continue
        url = entry.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith("https://")):
            bad("url must start with https://", "url")
            continue
        language = entry.get("language")
        if language is not None and (not isinstance(language, str) or not is_language_tag(language)):
            bad("language must be a language code such as en or de", "language")
            continue
        dates: dict[str, str | None] = {}
        for name, form in (("updated", "YYYY-MM or YYYY-MM-DD, such as 2020-12"), ("checked", "YYYY-MM-DD, such as 2026-12-03")):
            value = entry.get(name)
            dates[name] = None if value is None else str(value)
            if value is not None and not _date_ok(str(value), day_required=name == "checked"):
                bad(f"{name} must be a date, {form}", name)
        if "checked" in entry and dates["checked"] and _date_ok(dates["checked"], True) and dates["checked"] > dt.date.today().isoformat():
            bad("checked is in the future: give the day the link was checked", "checked")
        details = entry.get("details")
        sources[key] = Source(key, tuple(authors), entry["title"], entry["journal"], year,
                              str(details) if details is not None else None, doi, url, line, language,
                              dates["updated"], dates["checked"])
    errors.raise_if_any()
    return sources
