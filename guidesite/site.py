"""Placing pages in the site: URLs, translations, navigation, breadcrumbs, sitemap."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import SiteConfig
from .content import CONTENT_DIR, Page
from .errors import ContentError, ErrorList, did_you_mean


@dataclass(frozen=True)
class Entry:
    """A page with its place in the site."""

    page: Page
    path: str  # root-relative URL path, "/de/ursachen/"
    output: str  # file in site/, "de/ursachen/index.html"

    @property
    def lang(self) -> str:
        return self.page.lang

    @property
    def key(self) -> str:
        return self.page.meta.key


@dataclass
class Site:
    """Every page indexed the ways later steps look them up; built once, then read."""

    config: SiteConfig
    entries: list[Entry]
    by_key: dict[tuple[str, str], Entry] = field(default_factory=dict)
    by_rel: dict[str, Entry] = field(default_factory=dict)
    children: dict[tuple[str, str | None], list[Entry]] = field(default_factory=dict)
    nav_position: dict[str, int] = field(default_factory=dict)  # content path -> index in its children group
    warnings: list[ContentError] = field(default_factory=list)

    def url(self, entry: Entry) -> str:
        """The absolute URL, for canonical links, hreflang and the sitemap."""
        return self.config.base_url + entry.path[len(self.config.base_path):]

    def home(self, lang: str) -> Entry:
        return self.by_key[(lang, "home")]

    def in_language(self, lang: str, key: str) -> Entry | None:
        """The page with this key in the reader's language, or else in the default language:
        a language can go live before every page is translated."""
        return self.by_key.get((lang, key)) or self.by_key.get((self.config.default_language, key))

    def translations(self, entry: Entry) -> list[Entry]:
        """The versions of this page in every language, in the configured order."""
        return [
            self.by_key[(code, entry.key)]
            for code in self.config.codes
            if (code, entry.key) in self.by_key
        ]

    def breadcrumb(self, entry: Entry) -> list[Entry]:
        """Home, then each parent, ending with the page itself."""
        chain = [entry]
        seen = {entry.key}
        while chain[0].page.meta.parent and chain[0].page.meta.parent not in seen:
            parent = self.in_language(entry.lang, chain[0].page.meta.parent)
            assert parent is not None, "assemble checked every parent"
            seen.add(parent.key)
            chain.insert(0, parent)
        if chain[0].key != "home":  # `parent: home` has brought it already
            chain.insert(0, self.home(entry.lang))
        return chain

    def menu(self, lang: str) -> list[Entry]:
        """The top-level menu; where a language lacks a page of the default language's menu,
        that page stands in, in the default language."""
        own = self.children.get((lang, None), [])
        default = self.config.default_language
        if lang == default:
            return own
        keys = {e.key for e in own}
        missing = [e for e in self.children.get((default, None), []) if e.key not in keys]
        return sorted(own + missing, key=lambda e: (e.page.meta.nav, e.lang != lang, e.page.rel)) if missing else own

    def changed_source(self, entry: Entry) -> Entry | None:
        """The page this translation was made from, if it has changed since (translation_of)."""
        origin = entry.page.meta.translation_of
        source = self.by_rel.get(origin.source) if origin else None
        return source if source and origin and source.page.digest != origin.digest else None

    def siblings(self, entry: Entry) -> tuple[Entry | None, Entry | None]:
        """Previous and next page among those sharing this page's parent in the navigation."""
        if entry.page.meta.nav is None or entry.page.meta.parent is None:
            return None, None
        group = self.children.get((entry.lang, entry.page.meta.parent), [])
        # Looked up, not searched for: a flat section of thousands of pages stays linear, and
        # comparing entries would read the bodies of pages the cache left unread.
        i = self.nav_position[entry.page.rel]
        return (group[i - 1] if i > 0 else None, group[i + 1] if i + 1 < len(group) else None)


def page_path(config: SiteConfig, lang: str, slug: str) -> str:
    return f"{config.base_path}{lang}/{slug + '/' if slug else ''}"


def assemble(config: SiteConfig, pages: list[Page]) -> Site:
    """Give every page its URL and check the pages against each other."""
    errors = ErrorList(config.root)
    content = config.root / CONTENT_DIR
    site = Site(config, [])
    by_path: dict[str, Entry] = {}
    for page in sorted(pages, key=lambda p: p.rel):
        path = page_path(config, page.lang, page.meta.slug)
        entry = Entry(page, path, path[len(config.base_path):] + "index.html")
        line = page.key_lines.get("slug", 1)
        if path in by_path:
            errors.add(content / page.rel, line, f"the URL {path} is already used by content/{by_path[path].page.rel}")
            continue
        if (page.lang, page.meta.key) in site.by_key:
            other = site.by_key[(page.lang, page.meta.key)]
            errors.add(content / page.rel, page.key_lines.get("key", 1), f"key '{page.meta.key}' is already used in '{page.lang}' by content/{other.page.rel}")
            continue
        by_path[path] = entry
        site.by_key[(page.lang, page.meta.key)] = entry
        site.by_rel[page.rel] = entry
        site.entries.append(entry)
    if (config.default_language, config.care_page) not in site.by_key:
        errors.add(config.root / "site.yaml", 1, f"care_page: no page with key '{config.care_page}' in '{config.default_language}'")
    for lang in config.codes:
        if (lang, "home") not in site.by_key:
            errors.add(content / lang, 1, f"'{lang}' has no home page (key: home, layout: home)")
    # Another language may lack a footer page: its readers get the default language's.
    for key in config.footer:
        if (config.default_language, key) not in site.by_key:
            errors.add(config.root / "site.yaml", 1, f"footer: no page with key '{key}' in '{config.default_language}'")
    for entry in site.entries:
        parent = entry.page.meta.parent
        if parent and (entry.lang, parent) not in site.by_key:
            errors.add(content / entry.page.rel, entry.page.key_lines.get("parent", 1), f"parent: no page with key '{parent}' in '{entry.lang}'"
                       + did_you_mean(parent, (key for lang, key in site.by_key if lang == entry.lang)))
        elif parent and (loop := _parent_loop(site, entry)):
            errors.add(content / entry.page.rel, entry.page.key_lines.get("parent", 1),
                       f"parent: '{parent}' leads back to this page ({' → '.join(loop)}): a page cannot sit below itself")
        if entry.page.meta.nav is not None:
            site.children.setdefault((entry.lang, parent), []).append(entry)
        # Each page of the default language is due in every language that is not partial; a
        # page of another language only in the default one (its original).
        due = [lang.code for lang in config.languages if not lang.partial] if entry.lang == config.default_language \
            else [config.default_language]
        missing = [code for code in due if (code, entry.key) not in site.by_key]
        if missing:
            site.warnings.append(ContentError(f"{CONTENT_DIR}/{entry.page.rel}", entry.page.key_lines.get("key", 1),
                                              f"no translation in {', '.join(missing)} (no page there has key '{entry.key}')"))
    for group in site.children.values():
        group.sort(key=lambda e: (e.page.meta.nav, e.page.rel))
        site.nav_position.update((e.page.rel, i) for i, e in enumerate(group))
    errors.raise_if_any()
    return site


def _parent_loop(site: Site, entry: Entry) -> list[str] | None:
    """The keys from this page up its parents and back to it, if they lead back to it."""
    keys, seen = [entry.key], {entry.key}
    current = entry
    while (parent := current.page.meta.parent) and (above := site.in_language(entry.lang, parent)) is not None:
        keys.append(parent)
        if parent == entry.key:
            return keys
        if parent in seen:
            return None  # a loop above this page, reported at a page on it
        seen.add(parent)
        current = above
    return None


def sitemap_urls(site: Site, generated: tuple[dict[str, str], ...] = ()) -> list[dict[str, Any]]:
    """What sitemap.xml (templates/sitemap.xml) lists: every page with its date and its language
    alternates (x-default among them where there are several); `generated`: pages no source
    makes (the A–Z lists), each as language -> absolute URL."""
    urls = []
    for entry in sorted(site.entries, key=lambda e: e.path):
        reviewed = entry.page.meta.last_reviewed or entry.page.meta.published
        alternates = {other.lang: site.url(other) for other in site.translations(entry)}
        default = site.by_key.get((site.config.default_language, entry.key), entry)
        urls.append(_sitemap_url(site.url(entry), alternates, site.url(default), reviewed.isoformat() if reviewed else None))
    for group in generated:
        urls += [_sitemap_url(url, group, group.get(site.config.default_language, url)) for url in group.values()]
    return urls


def _sitemap_url(loc: str, alternates: dict[str, str], default: str, lastmod: str | None = None) -> dict[str, Any]:
    links = [{"lang": code, "url": url} for code, url in alternates.items()]
    if len(alternates) > 1:
        links.append({"lang": "x-default", "url": default})
    return {"loc": loc, "lastmod": lastmod, "alternates": links}


def robots_txt(site: Site) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {site.config.base_url}sitemap.xml\n"
