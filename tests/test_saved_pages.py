"""The preview's first answer to a save on a large site: the saved page at once, from memory,
then the full build in its place; a newer save overtakes an older build, which then
publishes nothing (guidesite/saved_pages.py, Preview in guidesite/serve.py).

The full builds are held at a gate where a test needs to see what the preview serves while
one runs: on a large site that is seconds, on the guide a fraction of one.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from tornado.websocket import websocket_connect

from conftest import copy_project
from guidesite import serve
from guidesite.cache.sources import CHANGED_DURING_BUILD
from guidesite.errors import BuildCancelled, BuildError, ContentError
from guidesite.pipeline import BuildOptions, build
from guidesite.saved_pages import render_saved
from guidesite.serve import Preview
from test_serve import PROTOCOL, RELOAD, edit, get, next_message, version_of

PAGE = "/de/ursachen/"
RELOAD_SCRIPT = re.compile(rb'<script src="/livereload\.js\?[^"]*"></script>\n')  # what the preview adds to a page


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


class Tabs:
    """Tabs connected as livereload.js connects them, each naming the page it shows."""

    def __init__(self, preview: Preview, version: str, *pages: str):
        self.preview, self.version, self.pages = preview, version, pages
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.tabs = self._run(self._connect())

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(120)

    async def _connect(self):
        tabs = []
        for page in self.pages:
            tab = await websocket_connect(self.preview.url.replace("http://", "ws://") + "livereload")
            await tab.write_message(json.dumps({"command": "hello", "protocols": [PROTOCOL], "snipver": self.version}))
            assert json.loads(await tab.read_message())["command"] == "hello"
            await tab.write_message(json.dumps({"command": "info", "plugins": {}, "url": self.preview.url.rstrip("/") + page}))
            tabs.append(tab)
        await asyncio.sleep(0.5)  # the server has read each info
        return tabs

    def told(self, index: int, timeout: float = 60) -> bool:
        """Whether that tab is told to reload within `timeout` seconds."""
        async def wait() -> bool:
            try:
                return await next_message(self.tabs[index], timeout) == RELOAD
            except asyncio.TimeoutError:
                return False
        return self._run(wait())

    def close(self) -> None:
        for tab in self.tabs:
            self.loop.call_soon_threadsafe(tab.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def title(page: bytes) -> str:
    return BeautifulSoup(page, "lxml").h1.get_text()


def test_the_saved_page_is_shown_before_the_full_build_and_then_replaced_by_it(gated: tuple[Preview, Gate]) -> None:
    preview, gate = gated
    on_disk = preview.out_dir / "de/ursachen/index.html"
    before = title(on_disk.read_bytes())
    tabs = Tabs(preview, version_of(get(preview, PAGE)[1]), PAGE, "/de/")
    try:
        edit(preview, "de/ursachen.md", "title: ", "title: Gespeichert – ")
        assert tabs.told(0)  # the tab on the saved page reloads …
        status, page, _ = get(preview, PAGE)
        assert status == 200 and title(page).startswith("Gespeichert – ")
        # … served from memory: the full build, held at the gate, has written nothing yet.
        assert title(on_disk.read_bytes()) == before and gate.started == 1
        assert list(preview.state.saved) == ["de/ursachen/index.html"]
        # Like the last full build's page, it carries the preview's banner with the page's warnings.
        banner = BeautifulSoup(page, "lxml").select_one(".preview-banner")
        assert banner is not None and banner == BeautifulSoup(on_disk.read_bytes(), "lxml").select_one(".preview-banner")
        assert not tabs.told(1, timeout=1)  # … and a tab on another page, which would come back the same, does not
        gate.open.set()
        assert tabs.told(1)  # the full build may change any page: the other tab reloads now
        assert not preview.state.saved
        assert title(on_disk.read_bytes()).startswith("Gespeichert – ")
        # The saved page as the full build made it is the page already shown: no second reload.
        assert on_disk.read_bytes() == RELOAD_SCRIPT.sub(b"", page)
        assert not tabs.told(0, timeout=1)
    finally:
        tabs.close()


def test_a_newer_save_overtakes_the_build_of_an_older_one(gated: tuple[Preview, Gate]) -> None:
    preview, gate = gated
    tabs = Tabs(preview, version_of(get(preview, PAGE)[1]), PAGE, "/de/")
    try:
        edit(preview, "de/ursachen.md", "title: ", "title: Erste – ")
        assert tabs.told(0)  # the saved page; its full build waits at the gate
        edit(preview, "de/ursachen.md", "Erste – ", "Zweite – ")
        assert tabs.told(0)
        assert title(get(preview, PAGE)[1]).startswith("Zweite – ")
        gate.open.set()
        # The first save's build is cancelled or, done, not published: the next state the
        # tabs are told of is the second save's full build.
        assert tabs.told(1)
        assert not preview.state.saved and not preview.state.errors
        assert title(get(preview, PAGE)[1]).startswith("Zweite – ")
        assert title((preview.out_dir / "de/ursachen/index.html").read_bytes()).startswith("Zweite – ")
        assert gate.started == 2
    finally:
        tabs.close()


def test_a_save_with_an_error_waits_for_the_full_build_which_shows_it(gated: tuple[Preview, Gate]) -> None:
    preview, gate = gated
    tabs = Tabs(preview, version_of(get(preview, PAGE)[1]), PAGE)
    try:
        edit(preview, "de/ursachen.md", "title: ", "title: [kaputt\n")
        assert not tabs.told(0, timeout=2)  # nothing to show before the full build
        gate.open.set()
        assert tabs.told(0)
        status, page, _ = get(preview, PAGE)
        assert status == 500 and "content/de/ursachen.md" in BeautifulSoup(page, "lxml").get_text()
        assert not preview.state.saved
    finally:
        tabs.close()


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
        page.write_text(original.replace("slug: ", "slug: neu-", 1), "utf-8")
        assert render_saved(result.last, root, {str(page)}) is None  # a new address: the full build moves the page
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


def test_a_save_during_a_build_makes_it_build_again_not_show_an_error(preview: Preview, monkeypatch: pytest.MonkeyPatch) -> None:
    """The build refuses a source that changed while it read it (guidesite/cache/sources.py):
    in the preview that is an editor saving again, so it builds again instead of showing it."""
    calls = []

    def changed_during_the_first(options: BuildOptions):
        calls.append(options)
        if len(calls) == 1:
            raise BuildError([ContentError("content/de/ursachen.md", 1, CHANGED_DURING_BUILD)])
        return build(options)

    monkeypatch.setattr(serve, "build", changed_during_the_first)
    tabs = Tabs(preview, version_of(get(preview, PAGE)[1]), PAGE)
    try:
        edit(preview, "de/ursachen.md", "title: ", "title: Nochmal – ")
        assert tabs.told(0)
        assert len(calls) == 2 and not preview.state.errors
        status, page, _ = get(preview, PAGE)
        assert status == 200 and title(page).startswith("Nochmal – ")
    finally:
        tabs.close()


def test_full_builds_after_saves_run_behind_the_editor(preview: Preview, monkeypatch: pytest.MonkeyPatch) -> None:
    """The builder's thread, and so the workers and the indexer it starts, yields the cores
    to the server, the saved pages and the browser."""
    ours = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = []

    def noting_priority(options: BuildOptions):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return build(options)

    monkeypatch.setattr(serve, "build", noting_priority)
    tabs = Tabs(preview, version_of(get(preview, PAGE)[1]), PAGE)
    try:
        edit(preview, "de/ursachen.md", "title: ", "title: Dahinter – ")
        assert tabs.told(0)
        assert seen == [min(ours + serve.BUILDER_NICENESS, 19)]
    finally:
        tabs.close()
