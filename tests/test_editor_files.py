"""The files an editor's tools keep beside the pages are not pages: a build with them
open is the build without them."""
from __future__ import annotations

from pathlib import Path

from robustness import make_small_site, manifest, run_build

LEFTOVERS = {
    ".seite.md.swp": b"b0VIM 9.0\x00\x00\xff",  # vim's swap file, while the page is open
    "seite.md~": b"---\ntitle: old\n",  # a backup, half a page
    "#seite.md#": b"emacs autosave",
    ".#seite.md": b"emacs lock",
    ".DS_Store": b"\x00\x00\x00\x01Bud1",
    "4913": b"",  # vim writes and deletes it to test the folder before each save
}


def test_editor_leftovers_do_not_change_the_build(tmp_path: Path) -> None:
    clean = make_small_site(tmp_path / "clean")
    messy = make_small_site(tmp_path / "messy")
    for folder in (messy / "content/de", messy / "content/en"):
        for name, data in LEFTOVERS.items():
            (folder / name).write_bytes(data)
    for folder in (messy / "content/de/.obsidian", messy / "content/.obsidian"):
        folder.mkdir()
        (folder / "notes.md").write_text("not a page", "utf-8")
    built = [run_build(root, "--no-cache") for root in (clean, messy)]
    assert [b.returncode for b in built] == [0, 0], built[1].stderr
    assert manifest(messy / "site") == manifest(clean / "site")


def test_other_stray_files_are_still_refused(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    (root / "content/de/notizen.txt").write_text("x", "utf-8")
    done = run_build(root)
    assert done.returncode == 1
    assert "content/de/notizen.txt:1: only Markdown files (.md) belong in the content folder" in done.stderr
