"""The build cache restored elsewhere (a CI cache step into a fresh clone), damaged, or
carried over from build to build: what a build may trust of it, and what it checks again.

The guide and its helpers are test_cache.py's: generated and built once per module, each
test changing a copy of it.
"""
from __future__ import annotations

import datetime as dt
import os
import pickle
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from guidesite import pipeline
from guidesite.cache import CACHE_DIR, StoredPage, digests, sha256, sources
from guidesite.cache.build_cache import KEPT_DIR
from guidesite.cache import objects
from guidesite.cache.index import read_index, write_stamps
from guidesite.cache.objects import ObjectStore
from guidesite.cache.sources import _LazyPage
from guidesite.cache.stamps import UNTRUSTED, Stamp
from guidesite.errors import ErrorList
from guidesite.outline import Element, Outline
from guidesite.parallel import Ahead
from guidesite.pipeline import BuildOptions, build
from robustness import REPO, child_processes
from test_cache import (article, assert_same_as_without_cache, built_corpus, inodes, project,  # noqa: F401 (fixtures)
                        run_build, snapshot)


def restored_clone(project: Path, target: Path, with_site: bool = False) -> Path:
    """A checkout with the cache restored, as a CI cache step gives: every file copied anew
    (copyfile, not copy2: new times, new inodes, no hard links), the cache's folder only."""
    skip = () if with_site else ("site", ".cache")
    shutil.copytree(project, target, copy_function=shutil.copyfile, ignore=shutil.ignore_patterns(*skip))
    if not with_site:
        shutil.copytree(project / CACHE_DIR, target / CACHE_DIR, copy_function=shutil.copyfile)
    return target


@pytest.mark.parametrize("site", [True, False], ids=["copied with its site", "cache restored into a fresh clone"])
def test_a_cache_moved_to_another_path_with_new_file_times_is_reused(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site: bool) -> None:
    """A project copied elsewhere (or a CI cache restored into a new checkout): every file has
    a new path, mtime, ctime and inode, yet no page is rendered again, no page's text is even
    decoded (each source is hashed, that is all), and the site is the same."""
    first = snapshot(project / "site")
    moved = restored_clone(project, tmp_path / "elsewhere" / "clone", with_site=site)
    stamps = {p.relative_to(moved): p.stat().st_mtime_ns for p in (moved / "content").rglob("*.md")}
    assert all(stamp != (project / rel).stat().st_mtime_ns for rel, stamp in stamps.items())
    read: list[str] = []
    load_body = _LazyPage.__getattr__
    monkeypatch.setattr(_LazyPage, "__getattr__", lambda page, name: read.append(page.rel) or load_body(page, name))
    result = build(BuildOptions(root=moved, out_dir=moved / "site"))
    assert result.rendered == 0 and read == []
    assert snapshot(moved / "site") == first
    again = build(BuildOptions(root=moved, out_dir=moved / "site"))  # and the cache still works there
    assert again.rendered == 0 and snapshot(moved / "site") == first


@pytest.mark.parametrize("change", ["nothing", "a template"])
def test_a_restored_cache_makes_no_staging_folder_ahead_and_the_next_edit_is_exact(project: Path, tmp_path: Path,
                                                                                   change: str) -> None:
    """A CI job builds once: after a restore, the site is written without a second tree of
    links for a next build, which, when it has a change to write, makes one itself. So too
    when the commit changed a template, and no stored page is even looked at."""
    moved = restored_clone(project, tmp_path / "elsewhere" / "clone")
    if change == "a template":
        base = moved / "templates" / "base.html"
        base.write_text(base.read_text("utf-8") + "{# every page's inputs change #}\n", "utf-8")
    done = build(BuildOptions(root=moved, out_dir=moved / "site"))
    assert done.rendered == (0 if change == "nothing" else sum(done.pages.values()))
    assert not (moved / KEPT_DIR).exists()
    page = article(moved, 4)
    page.write_text(page.read_text("utf-8") + "\nEin neuer Absatz.\n", "utf-8")
    assert build(BuildOptions(root=moved, out_dir=moved / "site")).rendered >= 1
    assert_same_as_without_cache(moved, tmp_path)
    assert (moved / KEPT_DIR).is_dir()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "flipped"])
def test_a_damaged_index_is_detected_and_the_cache_rebuilt(project: Path, tmp_path: Path, damage: str) -> None:
    index = project / CACHE_DIR / "index"
    data = index.read_bytes()
    if damage == "truncated":
        index.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        index.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        index.write_bytes(b"")
    else:  # one byte changed: the checksum no longer matches
        middle = len(data) // 2
        index.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    page = article(project, 0)
    page.write_text(page.read_text("utf-8") + "\nNoch ein Satz.\n", "utf-8")
    done = run_build(project)
    assert done.returncode == 0, done.stderr
    assert_same_as_without_cache(project, tmp_path)
    before = inodes(project / "site")
    assert run_build(project).returncode == 0
    assert inodes(project / "site") == before  # the rebuilt cache works again


@pytest.mark.parametrize("files", ["in another process", "in memory", "on the disk"])
@pytest.mark.parametrize("damage", ["same size", "truncated", "deleted"])
def test_a_damaged_object_in_a_restored_cache_is_rendered_again(project: Path, tmp_path: Path, damage: str,
                                                                files: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Restored, every object has a new stamp, so all are read and hashed: the one that does
    not hold its bytes any more is found among them, and its page rendered again. They are
    hashed in a process forked when the cache is found restored; where there is no fork, in
    this thread while they come from memory, else in threads. Each way is taken here (the
    last two by the time per file at which the disk is assumed)."""
    monkeypatch.setattr(Ahead, "forks", files == "in another process")
    monkeypatch.setattr(digests, "_PROBE", 4)
    monkeypatch.setattr(digests, "_ON_DISK", 0.0 if files == "on the disk" else 3600.0)
    where = tmp_path / "checked in"  # a file: the forked process has no other way back to the test
    check = ObjectStore.check

    def checking(store: ObjectStore, digest: str, recorded: Stamp | None) -> Stamp | None:
        with where.open("a") as log:
            log.write(f"{os.getpid()} {threading.get_ident()}\n")
        return check(store, digest, recorded)

    monkeypatch.setattr(ObjectStore, "check", checking)
    first = snapshot(project / "site")
    moved = restored_clone(project, tmp_path / "elsewhere" / "clone")
    source = article(project, 3)
    page = project / "site" / "de" / source.relative_to(project / "content" / "de").with_suffix("") / "index.html"
    digest = sha256(page.read_bytes())
    victim = moved / CACHE_DIR / "objects" / digest[:2] / digest
    if damage == "same size":
        data = victim.read_bytes()
        victim.write_bytes(data.replace(b"<html", b"<HTML", 1))
    elif damage == "truncated":
        os.truncate(victim, victim.stat().st_size // 2)
    else:
        victim.unlink()
    result = build(BuildOptions(root=moved, out_dir=moved / "site"))
    assert result.rendered == 1
    assert snapshot(moved / "site") == first
    checked = [tuple(map(int, line.split())) for line in where.read_text().splitlines()]
    pids, threads = {pid for pid, _ in checked}, {thread for _, thread in checked}
    if files == "in another process":  # one forked process read them, and its answers were taken
        here = sum(1 for pid, _ in checked if pid == os.getpid())
        # This process checks only what it writes again (the assets, the page rendered again):
        # were the answers not taken, it would check every object once more.
        assert len(pids - {os.getpid()}) == 1 and 2 * here < len(checked) - here
    else:
        assert pids == {os.getpid()}
        assert (threads == {threading.get_ident()}) == (files == "in memory")


def test_a_restored_clone_s_sources_are_hashed_in_another_process_and_an_edited_one_rendered(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commit a CI job builds changed an article: the process hashing the clone's sources
    ahead finds it changed, and that page alone is rendered, as without the cache. This
    process hashes no source itself, and no process of the build is left after it."""
    where = tmp_path / "hashed in"
    hashed, digest = sources.hashed, sources._digest

    def hashing(path: Path) -> sources.Hashed | None:
        with where.open("a") as log:
            log.write(f"{os.getpid()}\n")
        return hashed(path)

    hashed_here: list[Path] = []
    monkeypatch.setattr(sources, "hashed", hashing)
    monkeypatch.setattr(sources, "_digest", lambda file: hashed_here.append(file) or digest(file))
    moved = restored_clone(project, tmp_path / "elsewhere" / "clone")
    page = article(moved, 5)
    page.write_text(page.read_text("utf-8") + "\nEin Absatz, den der Commit brachte.\n", "utf-8")
    before = child_processes(os.getpid())
    done = build(BuildOptions(root=moved, out_dir=moved / "site"))
    assert done.rendered == 1
    assert {int(pid) for pid in where.read_text().split()} - {os.getpid()}  # hashed in another process
    assert hashed_here == []  # ...and its answers taken
    assert child_processes(os.getpid()) == before
    assert_same_as_without_cache(moved, tmp_path)


def test_a_restored_build_that_cannot_fork_hashes_everything_itself(project: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """No process to be had (a limit on them, no memory) after the first one was forked: the
    build does the work itself, leaves no process behind, and the cache's lock is free."""
    first = snapshot(project / "site")
    moved = restored_clone(project, tmp_path / "elsewhere" / "clone")
    forks = 0
    fork = os.fork

    def failing_fork() -> int:
        nonlocal forks
        forks += 1
        if forks == 2:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return fork()

    monkeypatch.setattr(os, "fork", failing_fork)
    before = child_processes(os.getpid())
    assert build(BuildOptions(root=moved, out_dir=moved / "site")).rendered == 0
    assert forks >= 2 and child_processes(os.getpid()) == before
    assert snapshot(moved / "site") == first
    done = run_build(moved)  # another process: it would wait for ever on a lock still held
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("odd", ["a pipe", "a link to /dev/zero"])
def test_a_page_replaced_by_a_pipe_or_device_in_a_restored_clone_is_refused_not_read(
        project: Path, tmp_path: Path, odd: str) -> None:
    """The last build's index names the page, but what the checkout put there is no file:
    the process hashing the sources ahead does not read it (a pipe would block, /dev/zero
    never ends), and the build says what discover says of it."""
    moved = restored_clone(project, tmp_path / "elsewhere" / "clone")
    page = article(moved, 1)
    page.unlink()
    if odd == "a pipe":
        os.mkfifo(page)
    else:
        page.symlink_to("/dev/zero")
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(moved)], capture_output=True,
                          text=True, cwd=moved, timeout=120)
    assert done.returncode == 1
    assert str(page.relative_to(moved)) in done.stderr and "Traceback" not in done.stderr
    assert ("not a regular file" if odd == "a pipe" else "outside the content folder") in done.stderr


def test_a_source_hashed_ahead_and_changed_since_is_hashed_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer from the process that hashed the sources ahead counts only while the file
    has the stamp it had then: after an editor's save in between, the file is hashed here.
    Files of both kinds in one call keep their own digests."""
    content = project / "content"
    paths = [article(project, 2), article(project, 3)]
    rels = [path.relative_to(content).as_posix() for path in paths]
    index = read_index(project / CACHE_DIR)
    assert index is not None
    known = {rel: (*index.sources[rel][:4], UNTRUSTED) for rel in rels}  # stamps unknown, as after a checkout
    hashed_here: list[Path] = []
    digest = sources._digest
    monkeypatch.setattr(sources, "_digest", lambda file: hashed_here.append(file) or digest(file))
    answers = [sources.hashed(path) for path in paths]
    assert None not in answers
    saved = (1, 2, 3, 4)  # the stamp of a file read before an editor's save
    for stamps, here in (([answers[0][1], answers[1][1]], []), ([saved, answers[1][1]], [paths[0]]),
                         ([answers[0][1], saved], [paths[1]])):
        hashed_here.clear()
        told = {rel: (answer[0], stamp, True) for rel, answer, stamp in zip(rels, answers, stamps)}
        pages, found, record = sources.read_pages([(path, rel, "de") for path, rel in zip(paths, rels)], known,
                                                  ErrorList(project), lambda: told)
        assert hashed_here == here
        for path, rel, page in zip(paths, rels, pages):
            assert found[rel][0] == sha256(path.read_bytes()) and page is not None and page.rel == rel and rel in record


def test_a_restored_build_writes_the_new_stamps_alone_and_the_next_build_trusts_them(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Restored, nothing but every file's stamp is new to the cache: the index is left as it
    is (19 MB at 5,000 pages), the stamps go to a small file beside it, and the next build
    there reads no file to trust it."""
    moved = restored_clone(project, tmp_path / "elsewhere" / "clone")
    index = moved / CACHE_DIR / "index"
    before = (index.stat().st_ino, index.read_bytes())
    time.sleep(2.1)  # a file read within two seconds of its last change is read again the next time
    assert build(BuildOptions(root=moved, out_dir=moved / "site")).rendered == 0
    assert (index.stat().st_ino, index.read_bytes()) == before
    assert (moved / CACHE_DIR / "stamps").stat().st_size < len(before[1]) / 4
    reads: list[str] = []
    for module in (objects, sources):
        read = module.read_stamped
        monkeypatch.setattr(module, "read_stamped", lambda path, *most, read=read: reads.append(str(path)) or read(path, *most))
    first = snapshot(moved / "site")
    assert build(BuildOptions(root=moved, out_dir=moved / "site")).rendered == 0
    assert reads == [] and snapshot(moved / "site") == first
    page = article(moved, 6)  # an edit writes the index anew, with the stamps: the file beside it goes
    page.write_text(page.read_text("utf-8") + "\nNoch ein Absatz.\n", "utf-8")
    assert build(BuildOptions(root=moved, out_dir=moved / "site")).rendered >= 1
    assert not (moved / CACHE_DIR / "stamps").exists()
    assert_same_as_without_cache(moved, tmp_path)


def test_a_stamp_is_taken_only_for_the_bytes_it_was_found_with(project: Path, tmp_path: Path) -> None:
    """A crash between writing the index and removing the stamps file, or an index restored
    older than its stamps: a stamp that describes a file's new text beside an index that
    records its old one is not taken, and the edited page is rendered again."""
    folder = project / CACHE_DIR
    old_index = (folder / "index").read_bytes()
    page = article(project, 7)
    page.write_text(page.read_text("utf-8") + "\nEin Satz, den der alte Index nicht kennt.\n", "utf-8")
    time.sleep(2.1)  # settled, so that the build records its stamp
    assert run_build(project).returncode == 0
    newer = read_index(folder)
    assert newer is not None
    write_stamps(folder, newer)  # the edited file's stamp, found with its new digest
    (folder / "index").write_bytes(old_index)  # beside the index from before the edit
    done = build(BuildOptions(root=project, out_dir=project / "site"))
    assert done.rendered >= 1
    assert_same_as_without_cache(project, tmp_path)


@pytest.mark.parametrize("damage", ["garbage", "flipped"])
def test_a_damaged_stamps_file_is_ignored(project: Path, tmp_path: Path, damage: str) -> None:
    moved = restored_clone(project, tmp_path / "elsewhere" / "clone")
    assert build(BuildOptions(root=moved, out_dir=moved / "site")).rendered == 0
    stamps = moved / CACHE_DIR / "stamps"
    data = stamps.read_bytes()
    middle = len(data) // 2
    stamps.write_bytes(os.urandom(len(data)) if damage == "garbage" else data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :])
    page = article(moved, 8)
    page.write_text(page.read_text("utf-8") + "\nUnd noch einer.\n", "utf-8")
    assert build(BuildOptions(root=moved, out_dir=moved / "site")).rendered >= 1
    assert_same_as_without_cache(moved, tmp_path)


def test_work_ahead_runs_in_another_process_and_is_done_here_when_that_fails() -> None:
    here = os.getpid()
    ahead = Ahead(lambda number: (number * number, os.getpid()), list(range(500)))
    answers = ahead.result()
    assert [square for square, _ in answers] == [number * number for number in range(500)]
    assert {pid for _, pid in answers} - {here}  # computed elsewhere
    # A child that dies half-way (the OOM killer, a crash) leaves its work to be done here.
    failing = Ahead(lambda number: number if os.getpid() == here else os._exit(3), list(range(10)))
    assert failing.result() == list(range(10))
    # One whose answers are no longer wanted is ended, and nothing of it is left.
    slow = Ahead(lambda number: time.sleep(60), [0])
    child = slow._pid
    assert child is not None
    slow.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)  # already reaped: no zombie left either


def test_files_that_wait_on_the_disk_are_read_in_threads_and_their_results_kept_in_order() -> None:
    threads: set[int] = set()

    def slow(number: int) -> int:  # each longer than a file read from memory takes
        time.sleep(0.001)
        threads.add(threading.get_ident())
        return number * number

    assert digests.in_threads(slow, list(range(300))) == [number * number for number in range(300)]
    assert len(threads) > 1
    assert digests.in_threads(slow, []) == []
    assert digests.in_threads(slow, list(range(66))) == [number * number for number in range(66)]  # 2 left for 4 threads


def test_the_kept_site_lies_beside_the_cache_not_in_it(project: Path) -> None:
    """The site before the last, the next staging folder, is hard links to the objects; in the
    cache's folder it would be copied by a CI cache step that drops hard links, as a second
    copy of every page for the next build to delete."""
    page = article(project, 2)
    page.write_text(page.read_text("utf-8") + "\nEin Satz mehr.\n", "utf-8")
    assert run_build(project).returncode == 0
    kept = project / KEPT_DIR
    assert kept.is_dir() and not kept.is_relative_to(project / CACHE_DIR)
    assert not (project / CACHE_DIR / "trees").exists()
    objects = {p.stat().st_ino for p in (project / CACHE_DIR / "objects").rglob("*") if p.is_file()}
    kept_files = set(inodes(kept).values())  # the site two builds ago: the edited pages' objects are gone
    assert len(kept_files & objects) > len(kept_files) * 3 / 4
    in_cache = [p.relative_to(project / CACHE_DIR).parts[0] for p in (project / CACHE_DIR).rglob("*") if p.is_file()]
    assert set(in_cache) <= {"index", "facts", "objects", "jinja"}


def test_warnings_are_found_again_only_when_what_they_follow_from_changes(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warnings are remembered with the pages as rendered, the inputs and the day: a build
    with none of them changed does not look for them, any change has them found anew."""
    site, day = project / "site", dt.date(2026, 1, 5)
    first = build(BuildOptions(root=project, out_dir=site, today=day)).warnings
    found: list[int] = []
    find = pipeline.find_warnings
    monkeypatch.setattr(pipeline, "find_warnings", lambda *args: found.append(1) or find(*args))
    assert build(BuildOptions(root=project, out_dir=site, today=day)).warnings == first and not found
    later = build(BuildOptions(root=project, out_dir=site, today=dt.date(2040, 1, 1))).warnings
    assert found and any("review was due" in w.message for w in later)
    assert not any("review was due" in w.message for w in first)
    page = article(project, 5)
    text = page.read_text("utf-8")
    page.write_text(re.sub(r"^title: .*$", 'title: "[Titel der Seite]"', text, count=1, flags=re.M), "utf-8")
    edited = build(BuildOptions(root=project, out_dir=site, today=day)).warnings
    assert len(found) == 2 and any("[Titel der Seite]" in w.message for w in edited)
    assert build(BuildOptions(root=project, out_dir=site, today=day)).warnings == edited and len(found) == 2


def test_a_stored_page_keeps_its_outline_packed_until_it_is_read() -> None:
    """The index holds each page's outline as bytes of its own: loading or saving the index
    makes no outline, and reading one gives what was stored."""
    outline = Outline((Element("heading", "h2", "heading #a", "A", 3),), (("12", 4),), (("src-1", 5),), ("de/b.md",), ())
    page = StoredPage("source", "fingerprint", ("key\0de\0home",), "html", ("src-1",), "ids", "facts", outline)
    loaded = pickle.loads(pickle.dumps(page, pickle.HIGHEST_PROTOCOL))
    assert "outline" not in loaded.__dict__
    again = pickle.loads(pickle.dumps(loaded, pickle.HIGHEST_PROTOCOL))  # saved again without unpacking it
    assert "outline" not in again.__dict__
    assert again.outline == outline and again == page


@pytest.mark.parametrize("folder", ["Jinja2-3.1.6.dist-info", "Jinja2-3.1.6-py3.11.egg-info"])
def test_a_cache_made_with_another_version_of_a_library_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     folder: str) -> None:
    """The cache's code digest names each library's installed version, read from its metadata
    folder on sys.path in either layout (a wheel's .dist-info, a system package's .egg-info):
    an upgrade gives another digest, and the build then starts from an empty cache."""
    from guidesite.cache.digests import code_digest

    packages = tmp_path / "site-packages"
    (packages / folder).mkdir(parents=True)
    monkeypatch.syspath_prepend(str(packages))
    before = code_digest()
    assert code_digest() == before
    (packages / folder).rename(packages / folder.replace("3.1.6", "3.1.7"))
    assert code_digest() != before
