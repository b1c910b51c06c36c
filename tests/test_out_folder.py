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
