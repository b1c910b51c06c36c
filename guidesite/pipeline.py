"""The build, step by step: load and validate, render, check, write."""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .assets import collect_assets
from .bibliography import BIBLIOGRAPHY_FILE, load_bibliography
from .cache import files_digest
from .cache.steps import CachedSteps
from .checks import check_asset_loads, own_host
from .config import load_config
from .content import load_pages
from .errors import BuildCancelled, ContentError, ErrorList
from .i18n import compile_catalogs, translations_from
from .output import unsafe_out_dir
from .readiness import find_warnings
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
    # The cache is one layer: every step that can reuse an earlier build's work goes through it.
    with CachedSteps(root, enabled=options.cache).opened() as steps:
        every = load_pages(config, include_drafts=True, read=steps.read_pages)
        pages = [page for page in every if options.drafts or not page.meta.draft]
        site = assemble(config, pages)
        _go_on(options)
        catalogs = files_digest([root / "templates", root / "translations"], root)
        translations = translations_from(steps.memo("catalogs", catalogs, lambda: compile_catalogs(root, config.codes)))
        bibliography = files_digest([root / BIBLIOGRAPHY_FILE], root)
        sources = steps.memo("bibliography", bibliography, lambda: load_bibliography(root))
        assets = collect_assets(root, config.base_path, lambda key, measure: steps.memo("image sizes", key, measure))
        rendered = steps.render(site, translations, assets, sources)
        _go_on(options)

        errors = ErrorList(root)
        steps.check_links(site, rendered, set(rendered.files) | {a.output for a in assets.assets.values()}, errors)
        check_asset_loads(assets, own_host(config.base_url), errors)
        errors.raise_if_any()
        files = rendered.files
        _go_on(options)
        if options.write:  # `check` publishes nothing: no index to make
            files = {**files, **steps.search(site, files, errors)}
            errors.raise_if_any()
        warnings = steps.warnings(site, rendered, options.today, lambda: find_warnings(
            site, sources, {rel: page.outline for rel, page in rendered.pages.items()}, options.today))
        warnings += assets.warnings
        if options.preview:
            from .preview import with_preview

            files = with_preview(site, files, steps.read, warnings, options.today)
        _go_on(options)
        if options.write:
            try:
                steps.write(options.out_dir, files, assets)
            except OSError as exc:  # a folder on the way is a file, or not ours to write
                errors.add(options.out_dir, 1, f"cannot write the site here: {exc.strerror or exc}")
                errors.raise_if_any()
    counts = {code: sum(1 for e in site.entries if e.lang == code) for code in config.codes}
    last = None
    if options.preview:
        from .saved_pages import LastBuild

        last = LastBuild(site, translations, assets, sources, tuple(warnings))
    return BuildResult(counts, steps.files(files), warnings, time.perf_counter() - started, len(rendered.fresh),
                       len(every) - len(pages), last)


def _go_on(options: BuildOptions) -> None:
    if options.cancelled():
        raise BuildCancelled

