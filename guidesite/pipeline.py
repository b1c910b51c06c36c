"""The build, step by step: load and validate, render, check, write."""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .assets import AssetMap, collect_assets
from .bibliography import BIBLIOGRAPHY_FILE, load_bibliography
from .cache import BuildCache, SiteFiles, files_digest, inputs_digest
from .checks import check_asset_loads, own_host
from .config import load_config
from .content import load_pages
from .errors import BuildCancelled, ContentError, ErrorList
from .i18n import compile_catalogs, translations_from
from .output import unsafe_out_dir, write_site
from .readiness import find_warnings
from .render import check_site_links, render_pages
from .search import search_bundle
from .site import assemble

if TYPE_CHECKING:  # the preview's own modules, loaded by the preview's builds only (Jinja, the renderers)
    from .saved_pages import LastBuild


@dataclass(frozen=True)
class BuildOptions:
    root: Path
    out_dir: Path
    drafts: bool = False
    write: bool = True  # False for `check`: everything but writing
    cache: bool = True  # False: neither use nor update the build cache (.cache/guidesite/)
    preview: bool = False  # the preview's own banner on pages with warnings, and its dashboard /_preview/
    today: dt.date = field(default_factory=dt.date.today)
    # Asked between the steps; True ends the build with BuildCancelled (the preview: a newer
    # save makes this build's result stale). The site is then written completely or not at all.
    cancelled: Callable[[], bool] = lambda: False


@dataclass(frozen=True)
class BuildResult:
    pages: dict[str, int]  # language -> number of pages
    files: Mapping[str, bytes]
    warnings: list[ContentError]  # what fails `check --strict`: see guidesite/readiness.py
    seconds: float
    rendered: int = 0  # pages rendered anew; the others came from the build cache
    drafts_left_out: int = 0  # pages marked draft, not in this build (no --drafts)
    last: LastBuild | None = None  # for the preview's fast answer to the next save (guidesite/saved_pages.py)


def build(options: BuildOptions) -> BuildResult:
    """Run the whole pipeline; raises BuildError with every problem found, writing nothing then."""
    started = time.perf_counter()
    root = options.root
    config = load_config(root)
    if options.write and (why := unsafe_out_dir(root, options.out_dir, config.codes)):
        errors = ErrorList(root)
        errors.add(options.out_dir, 1, f"will not write the site here, because the build replaces the whole folder and {why}: choose a new or empty folder")
        errors.raise_if_any()
    cache = BuildCache(root, enabled=options.cache)
    with cache.opened():
        every = load_pages(config, include_drafts=True, read=cache.read_pages)
        pages = [page for page in every if options.drafts or not page.meta.draft]
        site = assemble(config, pages)
        _go_on(options)
        catalogs = files_digest([root / "templates", root / "translations"], root)
        translations = translations_from(cache.memo("catalogs", catalogs, lambda: compile_catalogs(root, config.codes)))
        bibliography = files_digest([root / BIBLIOGRAPHY_FILE], root)
        sources = cache.memo("bibliography", bibliography, lambda: load_bibliography(root))
        assets = collect_assets(root, config.base_path, lambda key, measure: cache.memo("image sizes", key, measure))
        cache.use_inputs(inputs_digest(root, assets))
        rendered = render_pages(site, translations, assets, sources, cache)
        _go_on(options)

        errors = ErrorList(root)
        check_site_links(site, rendered, set(rendered.files) | {a.output for a in assets.assets.values()}, cache, errors)
        check_asset_loads(assets, own_host(config.base_url), errors)
        errors.raise_if_any()
        files = rendered.files
        _go_on(options)
        if options.write:  # `check` publishes nothing: no index to make
            files = {**files, **search_bundle(site, files, cache, errors)}
            errors.raise_if_any()
        # The warnings follow from the pages as rendered, site.yaml, the bibliography and the day.
        state = cache.rendered_state([e.page.rel for e in site.entries], rendered.pages)
        warnings = list(cache.memo("warnings", f"{state} {options.today.isoformat()}", lambda: find_warnings(
            site, sources, {rel: page.outline for rel, page in rendered.pages.items()}, options.today)))
        warnings += assets.warnings
        if options.preview:
            from .preview import with_preview

            files = with_preview(site, files, lambda content: content if isinstance(content, bytes) else cache.read_object(content),
                                 warnings, options.today)
        _go_on(options)
        if options.write:
            try:
                _write(options.out_dir, files, assets, cache)
            except OSError as exc:  # a folder on the way is a file, or not ours to write
                errors.add(options.out_dir, 1, f"cannot write the site here: {exc.strerror or exc}")
                errors.raise_if_any()
        cache.forget_unused({e.page.rel for e in site.entries})
    counts = {code: sum(1 for e in site.entries if e.lang == code) for code in config.codes}
    last = None
    if options.preview:
        from .saved_pages import LastBuild

        last = LastBuild(site, translations, assets, sources, tuple(warnings))
    return BuildResult(counts, SiteFiles(files, cache), warnings, time.perf_counter() - started, len(rendered.fresh),
                       len(every) - len(pages), last)


def _go_on(options: BuildOptions) -> None:
    if options.cancelled():
        raise BuildCancelled


def _write(out_dir: Path, files: dict[str, bytes | str], assets: AssetMap, cache: BuildCache) -> None:
    if cache.enabled:
        cache.write_site(out_dir, {**files, **{a.output: a.data for a in assets.assets.values()}})
    else:
        write_site(out_dir, {name: content for name, content in files.items() if isinstance(content, bytes)}, assets)
