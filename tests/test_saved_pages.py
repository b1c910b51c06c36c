"""The preview's first answer to a save on a large site: the saved page at once, from memory,
then the full build in its place; a newer save overtakes an older build, which then
publishes nothing (guidesite/saved_pages.py, Preview in guidesite/serve.py).

The full builds are held at a gate where a test needs to see what the preview serves while
one runs: on a large site that is seconds, on the guide a fraction of one.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import copy_project
from guidesite import serve
from guidesite.errors import BuildCancelled
from guidesite.pipeline import BuildOptions, build
from guidesite.saved_pages import render_saved
from guidesite.serve import Preview
from test_serve import edit, get, version_of, wait_for_build

PAGE = "/de/ursachen/"


class Gate:
    """Holds every full build after the first until released, counting them."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.started = 0

    def __call__(self, options: BuildOptions):
        self.started += 1
        assert self.open.wait(120), "the test released the gate"
        return build(options)


@pytest.fixture()
def gated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Preview, Gate]]:
    preview = Preview(copy_project(tmp_path / "project"), "127.0.0.1", 0)
    preview.saved_pages_first_from = 0  # the guide has 34 pages: treat it as a large site
    preview.start()  # the first build is not held
    gate = Gate()
    monkeypatch.setattr(serve, "build", gate)
    yield preview, gate
    gate.open.set()
    preview.stop()


def title(page: bytes) -> str:
    return BeautifulSoup(page, "lxml").h1.get_text()


def test_the_saved_page_is_shown_before_the_full_build_and_then_replaced_by_it(gated: tuple[Preview, Gate]) -> None:
    preview, gate = gated
    on_disk = preview.out_dir / "de/ursachen/index.html"
    before = title(on_disk.read_bytes())
    version = version_of(get(preview, PAGE)[1])
    edit(preview, "de/ursachen.md", "title: ", "title: Gespeichert – ")
    version = wait_for_build(preview, version)
    status, page, _ = get(preview, PAGE)
    assert status == 200 and title(page).startswith("Gespeichert – ")
    # Served from memory: the full build, held at the gate, has written nothing yet.
    assert title(on_disk.read_bytes()) == before and gate.started == 1
    assert preview.state.saved and list(preview.state.saved) == ["de/ursachen/index.html"]
    # Like the last full build's page, it carries the preview's banner with the page's warnings.
    banner = BeautifulSoup(page, "lxml").select_one(".preview-banner")
    assert banner is not None and banner == BeautifulSoup(on_disk.read_bytes(), "lxml").select_one(".preview-banner")
    gate.open.set()
    wait_for_build(preview, version)
    assert not preview.state.saved
    assert title(on_disk.read_bytes()).startswith("Gespeichert – ")
    assert title(get(preview, PAGE)[1]).startswith("Gespeichert – ")


def test_a_newer_save_overtakes_the_build_of_an_older_one(gated: tuple[Preview, Gate]) -> None:
    preview, gate = gated
    version = version_of(get(preview, PAGE)[1])
    edit(preview, "de/ursachen.md", "title: ", "title: Erste – ")
    version = wait_for_build(preview, version)  # the saved page; the full build waits at the gate
    edit(preview, "de/ursachen.md", "Erste – ", "Zweite – ")
    version = wait_for_build(preview, version)
    assert title(get(preview, PAGE)[1]).startswith("Zweite – ")
    gate.open.set()
    # The first save's build is cancelled or, done, not published: the next state the tab is
    # told of is the second save's full build.
    wait_for_build(preview, version)
    assert not preview.state.saved and not preview.state.errors
    assert title(get(preview, PAGE)[1]).startswith("Zweite – ")
    assert title((preview.out_dir / "de/ursachen/index.html").read_bytes()).startswith("Zweite – ")
    assert gate.started == 2


def test_a_save_with_an_error_waits_for_the_full_build_which_shows_it(gated: tuple[Preview, Gate]) -> None:
    preview, gate = gated
    version = version_of(get(preview, PAGE)[1])
    edit(preview, "de/ursachen.md", "title: ", "title: [kaputt\n")
    gate.open.set()
    wait_for_build(preview, version)
    status, page, _ = get(preview, PAGE)
    assert status == 500 and "content/de/ursachen.md" in BeautifulSoup(page, "lxml").get_text()
    assert not preview.state.saved


@pytest.fixture(scope="module")
def last_build(tmp_path_factory: pytest.TempPathFactory):
    root = copy_project(tmp_path_factory.mktemp("saved") / "project")
    result = build(BuildOptions(root=root, out_dir=root / "out", drafts=True, preview=True, cache=False))
    return root, result


def test_only_edits_of_existing_pages_take_the_fast_path(last_build, tmp_path: Path) -> None:
    root, result = last_build
    page = root / "content/de/ursachen.md"
    original = page.read_text("utf-8")
    try:
        page.write_text(original.replace("title: ", "title: Schnell – ", 1), "utf-8")
        files = render_saved(result.last, root, {str(page)})
        assert files is not None and list(files) == ["de/ursachen/index.html"]
        assert title(files["de/ursachen/index.html"]).startswith("Schnell – ")
        assert render_saved(result.last, root, {str(page), str(root / "templates/base.html")}) is None
        assert render_saved(result.last, root, {str(root / "site.yaml")}) is None
        new = root / "content/de/neu.md"
        new.write_text(original.replace("slug: ", "slug: neu-", 1), "utf-8")
        try:
            assert render_saved(result.last, root, {str(new)}) is None  # a new page: the full build places it
        finally:
            new.unlink()
        page.write_text(original.replace("](", "](nirgends.md", 1) if "](" in original else original + "\n[x](nirgends.md)\n", "utf-8")
        assert render_saved(result.last, root, {str(page)}) is None  # a link to nowhere: the full build reports it
    finally:
        page.write_text(original, "utf-8")


def test_a_cancelled_build_writes_nothing(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    out = root / "out"
    with pytest.raises(BuildCancelled):
        build(BuildOptions(root=root, out_dir=out, cancelled=lambda: True))
    assert not out.exists()
    steps = []
    with pytest.raises(BuildCancelled):  # cancelled after the pages are rendered: still nothing written
        build(BuildOptions(root=root, out_dir=out, cancelled=lambda: steps.append(1) or len(steps) > 3))
    assert not out.exists()
