"""--out: the build replaces the folder it writes whole, so it refuses any folder whose
contents are not a site it built before, and says so instead of deleting them."""
from __future__ import annotations

from pathlib import Path

import pytest

from robustness import make_small_site, manifest, run_build


@pytest.mark.parametrize("out", [".", "content", "content/de", "templates", ".cache/guidesite", ".."],
                         ids=["the-project", "content", "a-language-folder", "templates", "the-build-cache", "above-the-project"])
def test_the_project_is_never_written_over(tmp_path: Path, out: str) -> None:
    root = make_small_site(tmp_path / "project")
    before = manifest(tmp_path)
    done = run_build(root, "--out", out)
    assert done.returncode == 1
    assert "will not write the site here" in done.stderr and "Traceback" not in done.stderr
    assert manifest(tmp_path) == before


def test_a_folder_of_other_files_is_left_alone(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "thesis.txt").write_text("years of work", "utf-8")
    done = run_build(root, "--out", str(documents))
    assert done.returncode == 1
    assert f"{documents}:1: will not write the site here" in done.stderr
    assert manifest(documents) == {"thesis.txt": manifest(documents)["thesis.txt"]}
    assert (documents / "thesis.txt").read_text("utf-8") == "years of work"


@pytest.mark.parametrize("out", ["site.yaml", "site.yaml/site"], ids=["a-file", "below-a-file"])
def test_a_file_is_not_a_folder_to_write(tmp_path: Path, out: str) -> None:
    root = make_small_site(tmp_path / "project")
    before = manifest(tmp_path)
    done = run_build(root, "--out", out, "--no-cache")  # the cache keeps the pages rendered: that is fine
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"{out}:1: ")
    assert manifest(tmp_path) == before


def test_an_empty_or_earlier_site_folder_is_written(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    out = tmp_path / "public"
    out.mkdir()
    first = run_build(root, "--out", str(out))
    again = run_build(root, "--out", str(out), "--no-cache")
    assert (first.returncode, again.returncode) == (0, 0), first.stderr + again.stderr
    assert (out / "index.html").is_file()


def test_a_folder_that_merely_looks_like_a_site_is_left_alone(tmp_path: Path) -> None:
    """Another site's web root, under git: the same four files at its top as ours, and more."""
    root = make_small_site(tmp_path / "project")
    web = tmp_path / "web"
    for name in ("index.html", "404.html", "sitemap.xml", "robots.txt", ".git/HEAD", "photos/holiday.jpg"):
        (web / name).parent.mkdir(parents=True, exist_ok=True)
        (web / name).write_text(name, "utf-8")
    before = manifest(web)
    done = run_build(root, "--out", str(web))
    assert done.returncode == 1 and "it holds other files, not a site built before" in done.stderr
    assert manifest(web) == before


def test_a_relative_out_is_named_as_the_editor_meant_it(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    done = run_build(root, "--out", "../content", cwd=root / "content")
    assert done.returncode == 1
    assert done.stderr.startswith("content:1: will not write the site here"), done.stderr
