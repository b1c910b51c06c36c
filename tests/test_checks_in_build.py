"""The checks over the built HTML fire in a real build: a link to a file the site does not
have, and a page without the medical disclaimer, each fail the build with the page named."""
from __future__ import annotations

from pathlib import Path

from robustness import make_small_site, manifest, run_build

PAGES = ("de/index.html", "de/seite/index.html", "en/index.html", "en/page/index.html")


def _edit_base(root: Path, old: str, new: str) -> None:
    base = root / "templates" / "base.html"
    text = base.read_text("utf-8")
    assert text.count(old) == 1
    base.write_text(text.replace(old, new), "utf-8")


def _site_kept(root: Path) -> dict[str, str]:
    (root / "site").mkdir()
    (root / "site" / "keep.txt").write_text("the last good site", "utf-8")
    return manifest(root / "site")


def test_the_small_site_builds(tmp_path: Path) -> None:
    """The sites below differ from this one by the one template edit each makes."""
    root = make_small_site(tmp_path / "project")
    done = run_build(root)
    assert done.returncode == 0, done.stderr
    assert set(PAGES) <= set(manifest(root / "site"))


def test_a_link_to_a_file_the_site_lacks_fails_the_build(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    _edit_base(root, "</main>", '<p><a href="{{ site.base_path }}{{ page.lang }}/nowhere/">Nowhere</a></p>\n</main>')
    before = _site_kept(root)
    done = run_build(root)
    assert done.returncode == 1
    problems = [line for line in done.stderr.splitlines() if "no such file in the site" in line]
    for page in PAGES:
        lang = page.split("/")[0]
        assert any(line.startswith(f"site/{page}:") and f"link to /{lang}/nowhere/: no such file in the site" in line
                   for line in problems), done.stderr
    assert "Traceback" not in done.stderr
    assert manifest(root / "site") == before


def test_a_page_without_the_disclaimer_fails_the_build(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    _edit_base(root, '{% include "partials/disclaimer.html" %}',
               '{% if page.key is not defined or page.key != "page" %}{% include "partials/disclaimer.html" %}{% endif %}')
    before = _site_kept(root)
    done = run_build(root)
    assert done.returncode == 1
    lacking = sorted(line.split(":", 1)[0] for line in done.stderr.splitlines() if "lacks the medical disclaimer" in line)
    assert lacking == ["site/de/seite/index.html", "site/en/page/index.html"], done.stderr
    assert "Traceback" not in done.stderr
    assert manifest(root / "site") == before
