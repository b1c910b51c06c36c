"""Builds that differ in how, not in what: a site served from a sub-path, and rendering in
forked workers or in one process."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from robustness import REPO, make_small_site, manifest, run_build
from guidesite import parallel
from guidesite.pipeline import BuildOptions, build

sys.path.insert(0, str(REPO / "bench"))
import corpus  # noqa: E402

_URLS = re.compile(r'(?:href|src|action)="([^"]*)"')


def test_a_site_under_a_sub_path_links_within_it(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    config = root / "site.yaml"
    config.write_text(config.read_text("utf-8").replace("base_url: https://example.org/",
                                                        "base_url: https://example.org/guide/"), "utf-8")
    done = run_build(root)  # its link check resolves every internal URL against the sub-path
    assert done.returncode == 0, done.stderr
    site = root / "site"
    pages = [name for name in manifest(site) if name.endswith(".html")]
    assert "de/index.html" in pages and "en/page/index.html" in pages
    for name in pages:
        html = (site / name).read_text("utf-8")
        internal = [url for url in _URLS.findall(html) if url.startswith("/")]
        assert internal, name
        assert all(url.startswith("/guide/") for url in internal), (name, internal)
        assert "https://example.org/" not in html.replace("https://example.org/guide/", ""), name
    sitemap = (site / "sitemap.xml").read_text("utf-8")
    locs = re.findall(r"<loc>([^<]*)</loc>", sitemap)
    assert locs and all(loc.startswith("https://example.org/guide/") for loc in locs)
    assert "https://example.org/guide/sitemap.xml" in (site / "robots.txt").read_text("utf-8")


def test_rendering_in_workers_and_in_one_process_gives_the_same_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = corpus.generate(tmp_path / "project", 50)  # enough pages for two workers
    forked: list[int] = []
    map_forked = parallel._map_forked
    monkeypatch.setattr(parallel, "_map_forked", lambda *args: forked.append(1) or map_forked(*args))
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    build(BuildOptions(root=root, out_dir=tmp_path / "workers", cache=False))
    assert forked, "the pages were not rendered in workers"
    forked.clear()
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    build(BuildOptions(root=root, out_dir=tmp_path / "one", cache=False))
    assert not forked
    workers, one = manifest(tmp_path / "workers"), manifest(tmp_path / "one")
    assert len(workers) > 100 and workers == one
