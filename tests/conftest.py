"""Shared fixtures: the real guide built once per session, and copies of the project to break."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from bs4 import BeautifulSoup

from guidesite.pipeline import BuildOptions, build
from guidesite.serve import Preview

if TYPE_CHECKING:
    from playwright.sync_api import Browser

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright's own download does not work here
# Headless as root needs --no-sandbox; the rest stops Chromium from calling home (the
# network is closed here, and those requests would count as third-party ones).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PROJECT_PARTS = ("site.yaml", "babel.cfg", "content", "templates", "assets", "translations")


def copy_project(target: Path) -> Path:
    """A copy of the project's sources (not the package) to edit and build in a test."""
    target.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, target / part)
        else:
            shutil.copy2(src, target / part)
    # The interface-string check extracts messages from the package's code too.
    shutil.copytree(REPO / "guidesite", target / "guidesite", ignore=shutil.ignore_patterns("__pycache__"))
    return target


class BuiltSite:
    """A site folder on disk with helpers to read its pages."""

    def __init__(self, root: Path):
        self.root = root
        self._soups: dict[str, BeautifulSoup] = {}

    def html_files(self) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*.html"))

    def pages(self) -> list[str]:
        """Content pages: everything but the 404 pages and the root language chooser."""
        return [f for f in self.html_files() if not f.endswith("404.html") and f != "index.html"]

    def soup(self, rel: str) -> BeautifulSoup:
        if rel not in self._soups:
            self._soups[rel] = BeautifulSoup((self.root / rel).read_text("utf-8"), "lxml")
        return self._soups[rel]

    def rel_for_path(self, path: str) -> str:
        """'/de/ursachen/' -> 'de/ursachen/index.html'."""
        rel = path.lstrip("/")
        return rel + "index.html" if rel == "" or rel.endswith("/") else rel


@pytest.fixture(scope="session")
def guide(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The repository's own guide, built into a temporary folder."""
    out = tmp_path_factory.mktemp("guide") / "site"
    build(BuildOptions(root=REPO, out_dir=out))
    return BuiltSite(out)


@pytest.fixture(scope="session")
def browser() -> Iterator["Browser"]:
    """One Chromium for every browser test: Playwright's sync API refuses to start a
    second instance while one is running, so each test opens its own context instead."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def preview(tmp_path: Path) -> Iterator[Preview]:
    """A preview (`build.py serve`) of its own on a free port, for a test that edits the sources."""
    server = Preview(copy_project(tmp_path / "project"), "127.0.0.1", 0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Preview]:
    """One preview shared by the tests that only read from it."""
    server = Preview(copy_project(tmp_path_factory.mktemp("unchanged") / "project"), "127.0.0.1", 0)
    server.start()
    yield server
    server.stop()
