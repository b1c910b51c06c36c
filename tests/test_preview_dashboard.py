"""What only the preview shows: a banner on a page with warnings, and the dashboard of every
page (/_preview/); the published site carries neither."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Browser, Page, expect

from conftest import copy_project
from robustness import run_build
from guidesite.config import load_config
from guidesite.content import load_pages, read_page
from guidesite.errors import ErrorList
from guidesite.pipeline import BuildOptions, build
from guidesite.scaffold import mark_reviewed
from guidesite.serve import Preview

TODAY = dt.date(2026, 12, 3)


def outdated_translation(project: Path) -> None:
    """The English posture page, made from the German one; then the German one changes."""
    source = project / "content/de/vorbeugen/laufhaltung.md"
    target = project / "content/en/prevention/posture.md"
    old = read_page(source, "de/vorbeugen/laufhaltung.md", "de", ErrorList(project))
    target.write_text(target.read_text("utf-8").replace(
        "\n---\n", f"\ntranslation_of:\n  source: de/vorbeugen/laufhaltung.md\n  digest: \"{old.digest}\"\n---\n", 1), "utf-8")
    source.write_text(source.read_text("utf-8") + "\nEin neuer Absatz.\n", "utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("preview") / "project")
    outdated_translation(root)
    mark_reviewed(root, "content/de/ursachen.md", "Dr. med. Test", TODAY)  # one article without a warning
    return root


def soup(folder: Path, rel: str) -> BeautifulSoup:
    return BeautifulSoup((folder / rel).read_text("utf-8"), "lxml")


def test_the_dashboard_lists_every_page_worst_first_with_a_planted_outdated_translation(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "preview"
    result = build(BuildOptions(root=project, out_dir=out, drafts=True, preview=True, today=TODAY))
    page = soup(out, "_preview/index.html")
    rows = page.select("tbody tr")
    keys = [row.th.get_text() for row in rows]
    assert sorted(keys) == sorted({e.meta.key for e in _pages(project)})
    posture = next(row for row in rows if row.th.get_text() == "posture")
    english = posture.select("td")[1]
    assert "outdated translation" in english.get_text() and english.a["href"] == "/en/prevention/posture/"
    causes = next(row for row in rows if row.th.get_text() == "causes")
    assert "never reviewed" not in causes.select("td")[0].get_text()
    assert "never reviewed" in causes.select("td")[1].get_text()
    # what needs most work comes first
    work = [len(row.select(".state:not(.ok)")) + sum(int(s.get_text().split()[0]) for s in row.select("summary")) for row in rows]
    assert work[0] == max(work) and work[-1] == min(work)
    assert len(result.warnings) == int(page.select_one("main p").get_text().split(" pages, ")[1].split()[0])


def test_a_banner_shows_a_pages_warnings_in_the_preview_only(project: Path, tmp_path: Path) -> None:
    preview, published = tmp_path / "preview", tmp_path / "site"
    result = build(BuildOptions(root=project, out_dir=preview, drafts=True, preview=True, today=TODAY))
    build(BuildOptions(root=project, out_dir=published, today=TODAY))
    banner = soup(preview, "en/prevention/posture/index.html").select_one(".preview-banner")
    own = [w for w in result.warnings if w.path == "content/en/prevention/posture.md"]
    assert banner is not None and len(banner.select("li")) == len(own)
    assert any("which has changed since" in li.get_text() for li in banner.select("li"))
    assert soup(preview, "de/ursachen/index.html").select_one(".preview-banner") is None  # reviewed, no warning
    assert not (published / "_preview").exists()
    assert not [p for p in published.rglob("*.html") if "preview-banner" in p.read_text("utf-8")]


def _pages(project: Path):
    return load_pages(load_config(project), include_drafts=True)


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[Preview]:
    root = copy_project(tmp_path / "project")
    outdated_translation(root)
    server = Preview(root, "127.0.0.1", 0)
    server.start()
    yield server
    server.stop()


@pytest.mark.browser
def test_in_chromium_the_preview_shows_the_banner_and_the_dashboard(served: Preview, browser: Browser) -> None:
    context = browser.new_context(service_workers="block")
    page: Page = context.new_page()
    page.goto(served.url + "en/prevention/posture/")
    banner = page.locator(".preview-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("which has changed since")
    banner.get_by_role("link", name="all pages").click()
    expect(page.locator("h1")).to_have_text("Every page, what needs work first")
    expect(page.locator("tbody tr", has_text="posture")).to_contain_text("outdated translation")
    context.close()


def test_the_preview_terminal_shows_the_saved_files_warnings_and_where_the_rest_are(tmp_path: Path, capsys) -> None:
    root = copy_project(tmp_path / "project")
    server = Preview(root, "127.0.0.1", 0)
    server.start()
    dashboard = f"{server.local_url}_preview/"
    try:
        first = capsys.readouterr().err
        assert "warning: content/de/ursachen.md:1: no clinician has reviewed this article yet" in first
        assert "_preview/" in first.splitlines()[-1]
        outdated_translation(root)
        server.rebuild({str(root / "content/en/prevention/posture.md")})
        saved = capsys.readouterr().err
    finally:
        server.stop()
    shown = [line for line in saved.splitlines() if line.startswith("warning: ")]
    assert shown and all(line.startswith("warning: content/en/prevention/posture.md:") for line in shown)
    assert any("which has changed since" in line for line in shown)
    assert "on files not just saved" in saved and dashboard in saved


def test_check_says_how_many_drafts_it_left_out(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    (root / "content/de/entwurf.md").write_text(
        "---\ntitle: Entwurf\ndescription: \"[Platzhalter]\"\nkey: draft-page\nslug: entwurf\ndraft: true\n---\nText.\n", "utf-8")
    plain = run_build(root, "check", "--strict")
    assert "1 draft(s) left out, not checked: python build.py check --strict --drafts checks them too" in plain.stderr
    assert "content/de/entwurf.md" not in plain.stderr.replace("draft(s)", "")
    with_drafts = run_build(root, "check", "--strict", "--drafts")
    assert "content/de/entwurf.md:3: description: the placeholder '[Platzhalter]'" in with_drafts.stderr
    assert "left out" not in with_drafts.stderr
