"""The build as a whole on copies of the project: drafts, missing translations, failures."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import REPO, copy_project


def run_build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), *args],
        capture_output=True, text=True, cwd=root,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


def test_build_prints_one_summary_line(project: Path) -> None:
    result = run_build(project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("built 34 pages (17 de, 17 en) in ")


def test_check_writes_nothing(project: Path) -> None:
    result = run_build(project, "check")
    assert result.returncode == 0, result.stderr
    assert not (project / "site").exists()


def test_options_work_after_the_command_too(project: Path, tmp_path: Path) -> None:
    add_page(project, "de/neu.md", "new-topic", "neu")
    elsewhere = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "check", "--strict", "--root", str(project)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert elsewhere.returncode == 1, "--strict fails on the page without translation"
    assert "content/de/neu.md:4: no translation in en" in elsewhere.stderr
    built = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(tmp_path), "build", "--root", str(project), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "out/de/neu/index.html").is_file()


@pytest.mark.parametrize("args", [["--drafts", "status"], ["status", "--drafts"], ["check", "--out", "x"],
                                  ["--out", "x", "check"], ["serve", "--no-cache"], ["--drafts", "serve"]])
def test_an_option_a_command_has_no_use_for_is_refused(project: Path, args: list[str]) -> None:
    """Accepted and ignored, `serve --no-cache` or `check --out x` would mislead: refused, naming the option."""
    result = run_build(project, *args)
    flag = next(a for a in args if a.startswith("--"))
    assert result.returncode == 2 and flag in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (project / "site").exists() and not (project / "x").exists()


def add_page(project: Path, rel: str, key: str, slug: str, extra: str = "") -> None:
    (project / "content" / rel).write_text(
        f"---\ntitle: Neu\ndescription: Eine neue Seite.\nkey: {key}\nslug: {slug}\n{extra}---\nText.\n", "utf-8")


def test_a_page_without_translation_switches_to_the_other_home(project: Path) -> None:
    add_page(project, "de/neu.md", "new-topic", "neu")
    result = run_build(project)
    assert result.returncode == 0, result.stderr
    assert "content/de/neu.md:4: no translation in en (no page there has key 'new-topic')" in result.stderr
    soup = BeautifulSoup((project / "site/de/neu/index.html").read_text("utf-8"), "lxml")
    link = soup.select_one("nav.language-switcher a[hreflang=en]")
    assert link["href"] == "/en/"
    assert link.find_parent("li").select_one(".switcher-note")
    assert not soup.find("link", hreflang="en")


def test_drafts_are_left_out_unless_asked_for(project: Path) -> None:
    add_page(project, "en/new.md", "new-topic", "new", extra="draft: true\n")
    assert run_build(project).returncode == 0
    assert not (project / "site/en/new").exists()
    assert run_build(project, "--drafts").returncode == 0
    html = (project / "site/en/new/index.html").read_text("utf-8")
    assert 'class="draft-banner"' in html and 'name="robots" content="noindex"' in html


def test_a_link_to_a_draft_is_reported_as_such(project: Path) -> None:
    page = project / "content/en/prevention/cross-training.md"
    page.write_text(page.read_text("utf-8").replace("---\n", "---\ndraft: true\n", 1), "utf-8")
    result = run_build(project)
    assert result.returncode == 1
    assert "content/en/prevention/cross-training.md is a draft and not in this build" in result.stderr


def test_failed_build_leaves_the_previous_site_untouched(project: Path) -> None:
    assert run_build(project).returncode == 0
    before = snapshot(project / "site")
    page = project / "content/de/ursachen.md"
    page.write_text(page.read_text("utf-8").replace("title:", "titel:", 1), "utf-8")
    result = run_build(project)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "content/de/ursachen.md:2: titel: unknown field (did you mean 'title'?)" in result.stderr
    assert "content/de/ursachen.md:1: required field 'title' is missing" in result.stderr
    assert snapshot(project / "site") == before
    assert not list(project.glob(".site-staging-*"))


def test_a_deleted_page_disappears_from_the_site(project: Path) -> None:
    assert run_build(project).returncode == 0
    assert (project / "site/en/sources/index.html").is_file()
    (project / "content/en/sources.md").unlink()
    (project / "site.yaml").write_text(
        (project / "site.yaml").read_text("utf-8").replace("footer: [about, sources,", "footer: [about,"), "utf-8")
    for page in (project / "content").rglob("*.md"):
        text = page.read_text("utf-8")
        if "sources.md" in text and "/en/" in page.as_posix():
            page.write_text(text.replace("](sources.md)", "](about.md)").replace("](../sources.md)", "](../about.md)"), "utf-8")
    result = run_build(project)
    assert result.returncode == 0, result.stderr
    assert not (project / "site/en/sources").exists()


def test_two_builds_are_byte_identical(project: Path, tmp_path: Path) -> None:
    assert run_build(project, "--out", str(tmp_path / "a")).returncode == 0
    assert run_build(project, "--out", str(tmp_path / "b")).returncode == 0
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_version_names_the_generator_and_its_version() -> None:
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and re.fullmatch(r"guidesite \d+\.\d+\.\d+\n", result.stdout), result.stdout


def test_help_explains_each_command() -> None:
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for word in ("check", "--drafts"):
        assert word in result.stdout


@pytest.mark.parametrize(("port", "message"), [("99999", "99999 is not a port: use 1 to 65535"), ("acht", "'acht' is not a number")])
def test_serve_refuses_a_port_that_is_none(port: str, message: str) -> None:
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "serve", "--port", port],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.rstrip().endswith(f"argument --port: {message}")
