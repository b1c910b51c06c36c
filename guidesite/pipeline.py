"""The build, step by step: load and validate, render, check, write."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

from .assets import collect_assets
from .bibliography import load_bibliography
from .bodies import render_bodies
from .checks import check_disclaimers, check_links, check_third_party
from .config import load_config
from .content import load_pages
from .errors import ErrorList
from .i18n import load_translations
from .output import write_site
from .site import assemble
from .templates import render_site


@dataclass(frozen=True)
class BuildOptions:
    root: Path
    out_dir: Path
    drafts: bool = False
    write: bool = True  # False for `check`: everything but writing
    today: dt.date = field(default_factory=dt.date.today)


@dataclass(frozen=True)
class BuildResult:
    pages: dict[str, int]  # language -> number of pages
    files: dict[str, bytes]
    warnings: list[str]
    seconds: float


def build(options: BuildOptions) -> BuildResult:
    """Run the whole pipeline; raises BuildError with every problem found, writing nothing then."""
    started = time.perf_counter()
    config = load_config(options.root)
    pages = load_pages(config, include_drafts=options.drafts)
    site = assemble(config, pages)
    translations = load_translations(options.root, config.codes)
    sources = load_bibliography(options.root)
    assets = collect_assets(options.root, config.base_path)
    bodies = render_bodies(site, translations, assets, sources)
    rendered = render_site(site, bodies, translations, assets)

    errors = ErrorList(options.root)
    check_disclaimers(rendered.files, rendered.disclaimers, errors)
    check_links(rendered.files, {a.output for a in assets.assets.values()}, config.base_path, errors)
    check_third_party(rendered.files, assets, config.base_url, errors)
    errors.raise_if_any()

    warnings = list(site.warnings)
    cited = {s.key for body in bodies.values() for s in body.citations}
    warnings += [f"content/sources.yaml:{s.line}: source '{key}' is cited by no page" for key, s in sources.items() if key not in cited]
    warnings += [
        f"content/{e.page.rel}:{e.page.key_lines.get('next_review', 1)}: review was due on {e.page.meta.next_review.isoformat()}"
        for e in site.entries
        if e.page.meta.next_review and e.page.meta.next_review < options.today
    ]
    warnings += [
        f"content/{e.page.rel}:{e.page.key_lines['translation_of']}: translated from content/{source.page.rel}, "
        f"which has changed since; update the translation, then run: python build.py translated content/{e.page.rel}"
        for e in site.entries
        if (source := site.changed_source(e))
    ]
    warnings += [
        f"content/{e.page.rel}:{e.page.key_lines['translation_of']}: translation_of: content/{e.page.meta.translation_of.source} is not a page of this build"
        for e in site.entries
        if e.page.meta.translation_of and e.page.meta.translation_of.source not in site.by_rel
    ]
    if options.write:
        write_site(options.out_dir, rendered.files, assets)
    counts = {code: sum(1 for e in site.entries if e.lang == code) for code in config.codes}
    return BuildResult(counts, rendered.files, warnings, time.perf_counter() - started)
