"""The preview's file watcher (guidesite/watcher.py): which saves it reports, in how many
batches, and what it leaves alone. Real files in a copy of the project, real inotify events."""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import copy_project
from guidesite import serve
from guidesite.serve import PREVIEW_DIR, Preview, Watcher


@pytest.fixture()
def watcher(tmp_path: Path) -> Iterator[Watcher]:
    found = Watcher(copy_project(tmp_path / "project"))
    yield found
    found.stop()


def changes_until(watcher: Watcher, *paths: Path) -> list[set[str]]:
    """The batches of changes the watcher reports until it has named every one of `paths`."""
    batches: list[set[str]] = []
    while not {str(p) for p in paths} <= set().union(*batches):
        batch = watcher.next_changes(timeout=30)
        assert batch, f"no change reported; seen so far: {batches}"
        batches.append(batch)
    return batches


def test_several_quick_saves_give_one_rebuild(watcher: Watcher) -> None:
    page = watcher.root / "content/de/ursachen.md"
    for i in range(5):  # five saves in a row, as an editor's save-all or a formatter's writes
        page.write_text(page.read_text("utf-8") + f"\nAbsatz {i}.\n", "utf-8")
    assert changes_until(watcher, page) == [{str(page)}], "one batch: one rebuild"
    assert watcher.next_changes(timeout=0.5) == set(), "nothing more"


def test_every_source_is_watched_and_nothing_else(watcher: Watcher) -> None:
    root = watcher.root
    footer, config, css = root / "templates/partials/footer.html", root / "site.yaml", root / "assets/css/site.css"
    deep = root / "content/de/neu/tiefer/seite.md"  # in folders made after watching began
    deep.parent.mkdir(parents=True)
    deep.write_text("---\ntitle: x\n---\n", "utf-8")
    footer.write_text("<footer></footer>\n", "utf-8")
    config.write_text(config.read_text("utf-8") + "\n", "utf-8")
    css.write_text(css.read_text("utf-8") + "\n", "utf-8")
    # Neither the preview's own output, the published site, the cache nor editors' swap files.
    for other in (root / PREVIEW_DIR / "index.html", root / "site/index.html", root / "notes.txt",
                  root / "content/de/.ursachen.md.swp", root / "content/de/ursachen.md~"):
        other.parent.mkdir(parents=True, exist_ok=True)
        other.write_text("x", "utf-8")
    # A folder made with files at once is reported as the folder (the build reads all of it).
    seen = set().union(*changes_until(watcher, root / "content/de/neu", footer, config, css))
    deep.write_text("---\ntitle: y\n---\n", "utf-8")  # and what is saved in it later, as itself
    seen |= set().union(*changes_until(watcher, deep))
    assert not {p for p in seen if not p.startswith(tuple(str(root / name) for name in serve.WATCHED))}
    assert not {p for p in seen if p.endswith(("~", ".swp"))}


def test_a_save_by_renaming_a_new_file_over_the_old_is_seen_every_time(watcher: Watcher) -> None:
    """vim and many IDEs save that way; a watch on the file itself would lose the file."""
    for name in ("site.yaml", "content/de/ursachen.md"):
        target = watcher.root / name
        for i in range(2):
            temporary = target.with_name(target.name + ".tmp")
            temporary.write_text(target.read_text("utf-8") + f"\n# {i}\n", "utf-8")
            os.replace(temporary, target)
            changes_until(watcher, target)


def test_a_file_moved_in_with_an_old_time_is_a_change(watcher: Watcher, tmp_path: Path) -> None:
    """mv, cp -p and unzip keep a file's old modification time: it is new all the same."""
    outside = tmp_path / "moved-in.svg"
    outside.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>\n", "utf-8")
    os.utime(outside, (1_000_000_000, 1_000_000_000))  # 2001
    moved = watcher.root / "assets/img/moved-in.svg"
    os.rename(outside, moved)
    changes_until(watcher, moved)


def test_a_source_folder_made_anew_is_watched_again(watcher: Watcher) -> None:
    """`rm -r templates && git checkout templates` (or unpacking a copy) replaces the folder."""
    templates = watcher.root / "templates"
    shutil.move(templates, watcher.root / "templates.old")
    shutil.copytree(watcher.root / "templates.old", templates)
    changes_until(watcher, templates)
    while watcher.next_changes(timeout=1):  # the copy's own events
        pass
    footer = templates / "partials/footer.html"
    footer.write_text("<footer>neu</footer>\n", "utf-8")
    changes_until(watcher, footer)


def test_the_preview_output_is_not_watched(watcher: Watcher) -> None:
    preview = Preview(watcher.root, "127.0.0.1", 0)
    preview.rebuild()
    preview.stop()
    assert (watcher.root / PREVIEW_DIR / "index.html").is_file()
    assert watcher.next_changes(timeout=1) == set()


def test_stopping_ends_the_watch(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    watcher = Watcher(copy_project(tmp_path / "project"))
    assert {t.name for t in set(threading.enumerate()) - before} == {"preview-watch-folders", "preview-watch-top"}
    watcher.stop()
    assert watcher.next_changes(timeout=30) is None
    assert set(threading.enumerate()) - before == set()
