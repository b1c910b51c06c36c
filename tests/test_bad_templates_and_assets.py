"""Mistakes in templates, catalogs and assets: file:line and exit 1, never a traceback, and
site/ as it was."""
from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from robustness import make_small_site, manifest, run_build


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} is no longer in {path}: update this test"
    path.write_text(text.replace(old, new, 1), "utf-8")


def _translate(path: Path, msgid: str, msgstr: str) -> None:
    text = path.read_text("utf-8")
    pattern = re.compile(rf'(msgid "{re.escape(msgid)}"\nmsgstr )"[^\n]*"')
    assert pattern.search(text), f"no msgid {msgid!r} in {path}: update this test"
    path.write_text(pattern.sub(lambda m: f'{m.group(1)}"{msgstr}"', text, count=1), "utf-8")


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "an-expression-that-fails": (
        lambda root: _replace(root / "templates/base.html", "<body class=", "{{ 1 / 0 }}<body class="),
        "templates/base.html:{line}: template error: ZeroDivisionError: division by zero",
    ),
    "an-asset-that-does-not-exist": (
        lambda root: _replace(root / "templates/base.html", "asset('css/site.css')", "asset('css/sites.css')"),
        "template error: asset(): there is no file assets/css/sites.css",
    ),
    "a-percent-sign-in-a-translation": (
        lambda root: _translate(root / "translations/de/LC_MESSAGES/messages.po", "Skip to content", "Zu 100 % zum Inhalt"),
        "template error: the 'de' translation of 'Skip to content' in translations/de/LC_MESSAGES/messages.po has a % "
        "that is not a placeholder",
    ),
    "a-stylesheet-that-is-not-utf-8": (
        lambda root: (root / "assets/css/site.css").write_bytes((root / "assets/css/site.css").read_bytes() + b"\n/* caf\xe9 */\n"),
        "not UTF-8 text",
    ),
    "an-icon-the-manifest-needs-is-gone": (
        lambda root: (root / "assets/img/icon-192.png").unlink(),
        "assets:1: there is no file assets/img/icon-192.png",
    ),
}


@pytest.fixture(scope="module")
def built_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small site built once with the real command line: the 'previous site' of every case."""
    root = make_small_site(tmp_path_factory.mktemp("built-base") / "project")
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    return root


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_mistake_is_named_with_its_file_and_line(built_base: Path, tmp_path: Path, case: str) -> None:
    # A copy of the built base, its build cache included: as if built here (site/ and the
    # cache are those the build in this folder wrote), one build per case fewer.
    root = shutil.copytree(built_base, tmp_path / "project", symlinks=True)
    before = manifest(root / "site")
    spoil, expected = CASES[case]
    spoil(root)
    # {line}: where the broken expression now stands in base.html, whatever comes above it
    lines = (root / "templates/base.html").read_text("utf-8").split("\n")
    expected = expected.format(line=next((n for n, text in enumerate(lines, start=1) if "{{ 1 / 0 }}" in text), 0))
    done = run_build(root)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert expected in done.stderr, done.stderr
    assert manifest(root / "site") == before


def test_a_mistake_in_the_sitemap_template_is_named_with_its_line(tmp_path: Path) -> None:
    """sitemap.xml is a template like the pages: a mistake in it is named as in theirs."""
    root = make_small_site(tmp_path / "project")
    sitemap = root / "templates/sitemap.xml"
    _replace(sitemap, "{{ url.loc }}", "{{ url.loc / 2 }}")
    line = next(n for n, text in enumerate(sitemap.read_text("utf-8").split("\n"), start=1) if "/ 2" in text)
    done = run_build(root)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"templates/sitemap.xml:{line}: template error: TypeError" in done.stderr, done.stderr


def test_a_stylesheet_that_is_not_utf_8_is_named_with_its_line(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    css = root / "assets/css/site.css"
    lines = css.read_bytes().count(b"\n")
    css.write_bytes(css.read_bytes() + b"\n/* caf\xe9 */\n")
    done = run_build(root)
    assert done.returncode == 1
    assert f"assets/css/site.css:{lines + 2}: not UTF-8 text" in done.stderr, done.stderr


def test_error_paths_do_not_depend_on_where_build_runs(tmp_path: Path) -> None:
    """A broken link in a template is reported against the built file, as site/…, from any folder."""
    root = make_small_site(tmp_path / "project")
    _replace(root / "templates/base.html", 'href="#main"', 'href="#nowhere"')
    here, below = run_build(root, "check"), run_build(root, "check", cwd=root / "content")
    assert here.returncode == below.returncode == 1
    assert here.stderr == below.stderr and "site/de/404.html:" in here.stderr, below.stderr


def test_a_bug_outside_the_templates_is_not_blamed_on_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only an error raised in a template's code becomes 'template error' at its line."""
    from guidesite import templates
    from guidesite.pipeline import BuildOptions, build

    def broken(site: object, *generated: object) -> str:
        raise KeyError("a bug")

    monkeypatch.setattr(templates, "sitemap_urls", broken)
    root = make_small_site(tmp_path / "project")
    with pytest.raises(KeyError):
        build(BuildOptions(root=root, out_dir=root / "site", cache=False))
