"""What a page depends on: the lookups into Site its rendering made, recorded, and their
values in this build, from which each page's fingerprint is made.

A page's HTML depends on other pages only through what it looks up in Site while it is
rendered: its breadcrumb, menu, neighbours, translations, footer, the targets of its
links. Rendering records each lookup as a dependency string; a later build computes the
current value of each and compares. A lookup by key or in a navigation group depends on
what pages show of the found ones (sources.shown_fields: title, address, place, draft
state), so a new description or review date re-renders that page alone; a lookup by content
path (the original of a translation) on the whole page, except for a link in a body, which
shows only the address; going through all pages, on all of them, and for the files that
list every page with its details (A–Z, sitemap: fronts_only), on their whole front matter.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..site import Entry, Site
from .digests import sha256

if TYPE_CHECKING:
    from .build_cache import BuildCache

ALL = "*"
ALL_FRONTS = "*front"


class _RecordingMapping(Mapping[Any, Any]):
    def __init__(self, data: Mapping[Any, Any], deps: set[str], kind: str):
        self._data, self._deps, self._kind = data, deps, kind

    def _record(self, key: Any) -> None:
        self._deps.add(f"{self._kind}\0{key[0]}\0{key[1] or ''}" if isinstance(key, tuple) else f"{self._kind}\0{key}")

    def __getitem__(self, key: Any) -> Any:
        self._record(key)
        return self._data[key]

    def get(self, key: Any, default: Any = None) -> Any:
        self._record(key)
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        self._record(key)
        return key in self._data

    def __iter__(self) -> Iterator[Any]:
        self._deps.add(ALL)
        return iter(self._data)

    def __len__(self) -> int:
        self._deps.add(ALL)
        return len(self._data)


class _RecordingList(Sequence[Entry]):
    def __init__(self, data: list[Entry], deps: set[str], dep: str):
        self._data, self._deps, self._dep = data, deps, dep

    def __getitem__(self, index: Any) -> Any:
        self._deps.add(self._dep)
        return self._data[index]

    def __len__(self) -> int:
        self._deps.add(self._dep)
        return len(self._data)


def recording_site(site: Site, deps: set[str], links_only: bool = False, fronts_only: bool = False) -> Site:
    """A view of site that adds to deps every lookup made through it.

    links_only: for a page's body, whose links show other pages' addresses only.
    fronts_only: for what lists pages by title and address (sitemap, 404 pages).
    """
    return replace(
        site,
        entries=_RecordingList(site.entries, deps, ALL_FRONTS if fronts_only else ALL),  # type: ignore[arg-type]
        by_key=_RecordingMapping(site.by_key, deps, "key"),  # type: ignore[arg-type]
        by_rel=_RecordingMapping(site.by_rel, deps, "link" if links_only or fronts_only else "rel"),  # type: ignore[arg-type]
        children=_RecordingMapping(site.children, deps, "nav"),  # type: ignore[arg-type]
    )


class Dependencies:
    """The current value of each dependency string, computed once per build."""

    def __init__(self, site: Site, cache: BuildCache):
        self.site, self.cache = site, cache
        self._values: dict[str, str] = {}
        self._pairs = _Pairs(self.value)  # dep -> "dep=value", as fingerprints join them

    def _shown(self, entry: Entry | None) -> str:
        return "-" if entry is None else self.cache.shown_digest(entry.page.rel)

    def _front(self, entry: Entry | None) -> str:
        return "-" if entry is None else self.cache.front_digest(entry.page.rel)

    def _whole(self, entry: Entry | None) -> str:
        return "-" if entry is None else f"{entry.page.rel}:{self.cache.source_digest(entry.page.rel)}"

    def value(self, dep: str) -> str:
        known = self._values.get(dep)
        if known is not None:
            return known
        site = self.site
        kind, *key = dep.split("\0")
        if kind == "key":
            value = self._shown(site.by_key.get((key[0], key[1])))
        elif kind == "link":
            value = self._shown(site.by_rel.get(key[0]))
        elif kind == "rel":
            value = self._whole(site.by_rel.get(key[0]))
        elif kind == "nav":
            group = site.children.get((key[0], key[1] or None))
            value = "-" if group is None else ",".join(self._shown(e) for e in group)
        elif kind == ALL_FRONTS:
            value = sha256("\n".join(f"{e.page.rel}:{self._front(e)}" for e in site.entries).encode())
        else:
            value = sha256("\n".join(self._whole(e) for e in site.entries).encode())
        self._values[dep] = value
        return value

    def fingerprint(self, entry: Entry | None, deps: Sequence[str], inputs: str) -> str:
        """Of a page (or, for None, of the files without a source page)."""
        parts = [inputs, entry.page.rel, self.cache.source_digest(entry.page.rel)] if entry else [inputs]
        parts += map(self._pairs.__getitem__, deps)  # a build fingerprints every page: no Python loop
        return sha256("\n".join(parts).encode())


class _Pairs(dict[str, str]):
    def __init__(self, value: Callable[[str], str]):
        super().__init__()
        self._value = value

    def __missing__(self, dep: str) -> str:
        pair = self[dep] = f"{dep}={self._value(dep)}"
        return pair
