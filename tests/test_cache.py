"""The build cache: a rebuild that reuses it writes exactly what a build without it writes.

Each test takes a small generated guide (bench/corpus.py) built with the cache into site/,
changes something, builds again, and compares every byte with a build of the same
sources that ignores the cache (--no-cache).

The guide is generated and built with the command line once per module, and each test
changes a copy of it (built_corpus, project): a cold build per test made this file the
suite's slowest. The tests of what a build trusts by an object's stamp take a guide built
in place instead (fresh_project): in a copy, every object has a new inode and ctime, so
the first build after the copy checks each one by its content anyway.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from guidesite.cache import CACHE_DIR, BuildCache, sha256
from guidesite.cache.index import read_index
from guidesite.cache.sources import _LazyPage
from guidesite import content, pipeline
from guidesite.errors import BuildError
from guidesite.pipeline import BuildOptions, build
from guidesite.render import _Job

sys.path.insert(0, str(REPO / "bench"))
import corpus  # noqa: E402

ARTICLES = 12  # per language: three topics with their own navigation


def run_build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root), *args],
                          capture_output=True, text=True, cwd=root)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def inodes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


def assert_same_as_without_cache(root: Path, tmp_path: Path) -> None:
    """site/ (built with the cache) is byte for byte what a build without the cache writes.

    The reference is built in this process (the builds under test run as commands): it is
    the same pipeline as `build.py --no-cache`, without the interpreter's start-up."""
    reference = tmp_path / "reference"
    build(BuildOptions(root=root, out_dir=reference, cache=False))
    assert snapshot(root / "site") == snapshot(reference)


def built_with_the_command_line(root: Path) -> Path:
    corpus.generate(root, ARTICLES)
    done = run_build(root)
    assert done.returncode == 0, done.stderr
    return root


def copy_keeping_links(source: Path, target: Path) -> Path:
    """A copy in which what is one file stays one file, as `cp -a` copies: the site's pages
    remain hard links to the cache's objects (and to the kept tree's files)."""
    copied: dict[tuple[int, int], str] = {}

    def copy(src: str, dst: str) -> str:
        info = os.stat(src)
        first = copied.setdefault((info.st_dev, info.st_ino), dst)
        if first == dst:
            shutil.copy2(src, dst)
        else:
            os.link(first, dst)
        return dst

    shutil.copytree(source, target, symlinks=True, copy_function=copy)
    return target


@pytest.fixture(scope="module")
def built_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated guide, built once with the command line; tests change copies of it."""
    return built_with_the_command_line(tmp_path_factory.mktemp("cache-corpus") / "project")


@pytest.fixture()
def project(built_corpus: Path, tmp_path: Path) -> Path:
    return copy_keeping_links(built_corpus, tmp_path / "project")


@pytest.fixture()
def fresh_project(tmp_path: Path) -> Path:
    """Generated and built in place just now: each cache object is the file the build wrote,
    trusted by its stamp (size, times, inode) until something changes it."""
    return built_with_the_command_line(tmp_path / "project")


def article(root: Path, i: int, lang: str = "de") -> Path:
    return corpus.article_path(root, ARTICLES, i, lang)


def test_a_rebuild_with_nothing_changed_reuses_every_file(fresh_project: Path, tmp_path: Path) -> None:
    before = inodes(fresh_project / "site")
    done = run_build(fresh_project)
    assert done.returncode == 0, done.stderr
    assert inodes(fresh_project / "site") == before  # the same files, linked again: none rewritten
    assert_same_as_without_cache(fresh_project, tmp_path)


def test_editing_one_article_rewrites_only_the_pages_that_show_it(project: Path, tmp_path: Path) -> None:
    before = inodes(project / "site")
    page = article(project, 4)
    page.write_text(page.read_text("utf-8") + "\nEin neuer Absatz am Ende.\n", "utf-8")
    done = run_build(project)
    assert done.returncode == 0, done.stderr
    after = inodes(project / "site")
    changed = {name for name in after if before.get(name) != after[name]}
    output = "de/" + page.relative_to(project / "content" / "de").with_suffix("").as_posix() + "/index.html"
    assert output in changed
    # Pages linking to it, and the files listing every page, may change; the rest may not.
    assert len(changed) < len(after) / 4, sorted(changed)
    assert_same_as_without_cache(project, tmp_path)


@pytest.mark.parametrize("edit", ["title", "heading", "template", "catalog", "bibliography", "config"])
def test_a_rebuild_after_an_edit_equals_a_build_without_cache(project: Path, tmp_path: Path, edit: str) -> None:
    if edit == "title":  # shown by its neighbours' previous/next links and the topic's children
        page = article(project, 3)
        text = page.read_text("utf-8")
        page.write_text(re.sub(r"^title: .*$", 'title: "Ein ganz neuer Titel"', text, count=1, flags=re.M), "utf-8")
    elif edit == "heading":  # a new heading id, and its table of contents
        page = article(project, 5, "en")
        page.write_text(page.read_text("utf-8").replace("\n## ", "\n## Brand new section\n\nText.\n\n## ", 1), "utf-8")
    elif edit == "template":
        footer = project / "templates" / "partials" / "footer.html"
        footer.write_text(footer.read_text("utf-8").replace("</footer>", "<p>Edited.</p>\n</footer>"), "utf-8")
    elif edit == "catalog":
        catalog = project / "translations" / "de" / "LC_MESSAGES" / "messages.po"
        text = catalog.read_text("utf-8")
        catalog.write_text(text.replace('msgstr "Auf dieser Seite"', 'msgstr "Inhalt"').replace(
            'msgstr "Quellen"', 'msgstr "Literatur"'), "utf-8")
    elif edit == "bibliography":
        sources = project / "content" / "sources.yaml"
        sources.write_text(sources.read_text("utf-8").replace("study 1\"", "study one\""), "utf-8")
    elif edit == "config":
        config = project / "site.yaml"
        config.write_text(config.read_text("utf-8").replace("title: Back pain when running", "title: Running without back pain"), "utf-8")
    done = run_build(project)
    assert done.returncode == 0, done.stderr
    assert_same_as_without_cache(project, tmp_path)


def test_a_deleted_page_is_gone(project: Path, tmp_path: Path) -> None:
    extra = project / "content" / "en" / "extra.md"
    extra.write_text("---\ntitle: Extra\ndescription: An extra page.\nkey: extra\nslug: extra\n---\n\nText.\n", "utf-8")
    assert run_build(project).returncode == 0
    assert (project / "site" / "en" / "extra" / "index.html").is_file()
    extra.unlink()
    done = run_build(project)
    assert done.returncode == 0, done.stderr
    assert not (project / "site" / "en" / "extra").exists()
    assert_same_as_without_cache(project, tmp_path)


def test_a_renamed_page_moves_and_links_to_it_follow(project: Path, tmp_path: Path) -> None:
    old = article(project, 7)
    new = old.with_name("umbenannt.md")
    old.rename(new)
    text = new.read_text("utf-8")
    new.write_text(re.sub(r"^slug: (.*)/[^/\n]+$", r"slug: \1/umbenannt", text, count=1, flags=re.M), "utf-8")
    for page in (project / "content" / "de").rglob("*.md"):
        page.write_text(page.read_text("utf-8").replace(f"/{old.name}", "/umbenannt.md").replace(f"({old.name}", "(umbenannt.md"), "utf-8")
    done = run_build(project)
    assert done.returncode == 0, done.stderr
    site = snapshot(project / "site")
    assert any(name.endswith("/umbenannt/index.html") for name in site)
    assert not any(old.stem in name for name in site)
    assert_same_as_without_cache(project, tmp_path)


def test_a_broken_link_found_in_a_cached_page_is_still_reported(project: Path) -> None:
    """A page taken from the cache is checked again when the page it links to loses the heading."""
    target = article(project, 2)
    linking = article(project, 9)
    text = linking.read_text("utf-8")
    linking.write_text(text + f"\n[Ziel]({os.path.relpath(target, linking.parent)}#neu)\n", "utf-8")
    target.write_text(target.read_text("utf-8") + "\n## Neu {#neu}\n\nText.\n", "utf-8")
    assert run_build(project).returncode == 0
    target.write_text(target.read_text("utf-8").replace("## Neu {#neu}", "## Anders {#anders}"), "utf-8")
    done = run_build(project)
    assert done.returncode == 1
    assert "has no heading with id '#neu'" in done.stderr
    again = run_build(project)  # the failed build cached what it rendered: still reported
    assert again.returncode == 1 and "has no heading with id '#neu'" in again.stderr


def test_a_build_that_fails_on_one_page_keeps_the_others_it_rendered(project: Path, tmp_path: Path) -> None:
    """A template edit re-renders every page; one page's error fails that build, but the pages
    that did render are kept: once the page is fixed, the next build renders it alone, and
    every object the failed build wrote is in the index (none left behind on disk)."""
    base = project / "templates" / "base.html"
    base.write_text(base.read_text("utf-8") + "{# a comment: every page's inputs change, not its HTML #}\n", "utf-8")
    broken = article(project, 3)
    text = broken.read_text("utf-8")
    broken.write_text(text + "\n[Nirgendwo](gibt-es-nicht.md)\n", "utf-8")
    with pytest.raises(BuildError) as failed:
        build(BuildOptions(root=project, out_dir=project / "site"))
    assert any("gibt-es-nicht.md" in error.message for error in failed.value.errors)
    broken.write_text(text, "utf-8")
    assert build(BuildOptions(root=project, out_dir=project / "site")).rendered == 1
    index = read_index(project / CACHE_DIR)
    assert index is not None
    on_disk = {p.name for p in (project / CACHE_DIR / "objects").rglob("*") if p.is_file()}
    assert on_disk == set(index.objects)
    assert_same_as_without_cache(project, tmp_path)


def test_the_preview_servers_repeated_builds_are_incremental_and_exact(project: Path, tmp_path: Path) -> None:
    """pipeline.build() called again in one process, as the preview does on every save."""
    out = tmp_path / "preview"
    build(BuildOptions(root=project, out_dir=out, drafts=True))
    before = inodes(out)
    page = article(project, 1, "en")
    page.write_text(page.read_text("utf-8") + "\nOne more sentence.\n", "utf-8")
    build(BuildOptions(root=project, out_dir=out, drafts=True))
    after = inodes(out)
    assert len({name for name in after if before.get(name) != after[name]}) < len(after) / 4
    full = build(BuildOptions(root=project, out_dir=tmp_path / "full", drafts=True, cache=False))
    assert snapshot(out) == snapshot(tmp_path / "full") and set(full.files) <= set(snapshot(out))


@pytest.mark.parametrize("damage", ["truncated", "overwritten", "overwritten, time restored", "deleted"])
def test_a_damaged_page_in_the_cache_is_rendered_again(fresh_project: Path, tmp_path: Path, damage: str) -> None:
    project = fresh_project  # its objects are trusted by their stamps: the damage must show in them
    # The site's files are links to the cache's objects: damage one through the site.
    victim = next(p for p in sorted((project / "site" / "de").rglob("index.html")) if p.parent.parent != project / "site")
    info = victim.stat()
    if damage == "truncated":
        os.truncate(victim, info.st_size // 2)
    elif damage.startswith("overwritten"):
        with open(victim, "r+b") as file:  # in place, same size
            file.write(b"<!-- not the page -->".ljust(64))
        if damage.endswith("restored"):
            os.utime(victim, ns=(info.st_atime_ns, info.st_mtime_ns))
    else:
        objects = project / CACHE_DIR / "objects"
        for obj in objects.rglob("*"):
            if obj.is_file() and obj.stat().st_ino == info.st_ino:
                obj.unlink()
        victim.unlink()
    done = run_build(project)
    assert done.returncode == 0, done.stderr
    assert_same_as_without_cache(project, tmp_path)


def test_no_cache_neither_reads_nor_writes_the_cache(tmp_path: Path) -> None:
    root = corpus.generate(tmp_path / "project", 2)
    done = run_build(root, "--no-cache")
    assert done.returncode == 0, done.stderr
    assert not (root / CACHE_DIR).exists()
    assert run_build(root).returncode == 0
    index = root / CACHE_DIR / "index"
    index.write_bytes(b"not an index")
    assert run_build(root, "--no-cache").returncode == 0
    assert index.read_bytes() == b"not an index"


def test_files_unchanged_for_a_while_are_not_read_and_their_pages_still_exact(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source whose size, times and inode are unchanged keeps its digest; its body is read
    only if its page is rendered, and then checked against that digest."""
    monkeypatch.setattr("guidesite.cache.stamps.SETTLED_NS", 0)  # as if every file were older
    out = tmp_path / "out"
    build(BuildOptions(root=project, out_dir=out))
    build(BuildOptions(root=project, out_dir=out))
    page = article(project, 6)  # its neighbours, rendered again, read their bodies lazily
    text = page.read_text("utf-8")
    page.write_text(re.sub(r"^title: .*$", 'title: "Neuer Titel"', text, count=1, flags=re.M), "utf-8")
    build(BuildOptions(root=project, out_dir=out))
    full = tmp_path / "full"
    build(BuildOptions(root=project, out_dir=full, cache=False))
    assert snapshot(out) == snapshot(full)


def test_a_rebuild_reads_the_bodies_of_the_pages_it_renders_only(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding a page's neighbours in the navigation must not compare pages, which reads their bodies."""
    monkeypatch.setattr("guidesite.cache.stamps.SETTLED_NS", 0)
    out = tmp_path / "out"
    build(BuildOptions(root=project, out_dir=out))
    build(BuildOptions(root=project, out_dir=out))
    read: list[str] = []
    load_body = _LazyPage.__getattr__
    monkeypatch.setattr(_LazyPage, "__getattr__", lambda page, name: read.append(page.rel) or load_body(page, name))
    rendered: list[str] = []
    render_page = _Job.render
    monkeypatch.setattr(_Job, "render", lambda job, index: rendered.append(job.site.entries[index].page.rel) or render_page(job, index))
    page = article(project, 6)
    text = page.read_text("utf-8")
    page.write_text(re.sub(r"^title: .*$", 'title: "Neuer Titel"', text, count=1, flags=re.M), "utf-8")
    build(BuildOptions(root=project, out_dir=out))
    assert read and set(read) <= set(rendered)


def assert_changed_during_build(root: Path, source: Path, cache: bool) -> None:
    """A build stops with one error, naming source: it changed while the site was built."""
    with pytest.raises(BuildError) as raised:
        build(BuildOptions(root=root, out_dir=root / "site", cache=cache))
    rel = source.relative_to(root).as_posix()
    assert [str(e) for e in raised.value.errors] == [f"{rel}:1: the file changed while the site was built: build again"]


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
@pytest.mark.parametrize("change", ["edit", "delete"])
def test_a_source_changed_while_the_build_runs_is_an_error_naming_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str, cache: bool) -> None:
    """Bodies are read when rendered, in the worker processes: a save (or a move) since the
    pages were loaded is reported with the file, not as a traceback, and site/ stays as it was."""
    root = corpus.generate(tmp_path / "project", 40)  # enough pages for the worker processes
    build(BuildOptions(root=root, out_dir=root / "site", cache=False))  # a site to keep, and no cache: every page is new
    before = snapshot(root / "site")
    source = corpus.article_path(root, 40, 30)
    assemble = pipeline.assemble

    def change_it_after_loading(*args: object) -> object:
        site = assemble(*args)
        if change == "edit":
            source.write_text(source.read_text("utf-8") + "\nA sentence added meanwhile.\n", "utf-8")
        else:
            source.unlink()
        return site

    monkeypatch.setattr(pipeline, "assemble", change_it_after_loading)
    assert_changed_during_build(root, source, cache)
    assert snapshot(root / "site") == before


def test_a_save_while_a_source_is_read_is_seen_by_the_next_build(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The digest a build records must never be paired with the stamp of a later version:
    the next builds would trust it, and fail or publish the old text for good."""
    monkeypatch.setattr("guidesite.cache.stamps.SETTLED_NS", 0)  # every stamp trusted at once
    source = article(project, 3)
    saved: list[bool] = []
    real_fstat = os.fstat

    def save_then_fstat(fd: int) -> os.stat_result:
        if not saved and os.readlink(f"/proc/self/fd/{fd}") == str(source):  # as an editor saves, once
            saved.append(True)
            source.write_text(source.read_text("utf-8") + "\nRUMPF, saved while read.\n", "utf-8")
        return real_fstat(fd)

    monkeypatch.setattr("guidesite.cache.stamps.os.fstat", save_then_fstat)
    out = tmp_path / "out"
    build(BuildOptions(root=project, out_dir=out))
    os.utime(source)  # touched: the next build reads it, and the editor saves meanwhile
    for _ in range(3):
        try:
            build(BuildOptions(root=project, out_dir=out))
        except BuildError as exc:  # acceptable once, while the file changes under the build
            assert [e.message for e in exc.errors] == ["the file changed while the site was built: build again"]
    assert saved
    monkeypatch.setattr("guidesite.cache.stamps.os.fstat", real_fstat)
    build(BuildOptions(root=project, out_dir=out))
    full = tmp_path / "full"
    build(BuildOptions(root=project, out_dir=full, cache=False))
    assert snapshot(out) == snapshot(full)
    assert any(b"RUMPF, saved while read." in data for data in snapshot(out).values())


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_a_source_gone_between_finding_and_reading_is_an_error_naming_it(
        project: Path, monkeypatch: pytest.MonkeyPatch, cache: bool) -> None:
    source = article(project, 3)
    discover = content.discover

    def discover_then_delete(*args: object) -> object:
        found = discover(*args)
        source.unlink()
        return found

    monkeypatch.setattr(content, "discover", discover_then_delete)
    assert_changed_during_build(project, source, cache)


def test_builds_with_and_without_drafts_share_the_cache_and_stay_exact(project: Path, tmp_path: Path) -> None:
    """The preview builds with drafts, build.py without: one must not spoil the other's pages."""
    draft = project / "content" / "de" / "entwurf.md"
    draft.write_text("---\ntitle: Entwurf\ndescription: Noch nicht fertig.\nkey: draft-page\nslug: entwurf\n"
                     "nav: 9\ndraft: true\n---\n\nText.\n", "utf-8")  # in every page's menu, in the preview only
    preview, site = tmp_path / "preview", project / "site"
    for _ in range(2):
        assert run_build(project, "--drafts", "--out", str(preview)).returncode == 0
        assert run_build(project).returncode == 0
    assert (preview / "de" / "entwurf" / "index.html").is_file() and not (site / "de" / "entwurf").exists()
    build(BuildOptions(root=project, out_dir=tmp_path / "preview-full", drafts=True, cache=False))
    assert snapshot(preview) == snapshot(tmp_path / "preview-full")
    assert_same_as_without_cache(project, tmp_path)


@pytest.mark.parametrize("edit", ["description", "review date"])
def test_what_no_other_page_shows_re_renders_that_page_alone(project: Path, tmp_path: Path, edit: str) -> None:
    """Other pages show a page's title, address and place, not its description or dates; the
    A–Z page (descriptions) and the sitemap (dates) list them, and follow the edit all the same."""
    page = article(project, 4)
    text = page.read_text("utf-8")
    if edit == "description":
        text, count = re.subn(r"^description: .*$", 'description: "Eine ganz neue Beschreibung"', text, count=1, flags=re.M)
    else:
        text, count = re.subn(r"^last_reviewed: .*$", "last_reviewed: 2026-06-20", text, count=1, flags=re.M)
    assert count == 1
    page.write_text(text, "utf-8")
    result = build(BuildOptions(root=project, out_dir=project / "site"))
    assert result.rendered == 1
    if edit == "description":
        assert "Eine ganz neue Beschreibung" in (project / "site" / "de" / "a-z" / "index.html").read_text("utf-8")
    else:
        assert "<lastmod>2026-06-20</lastmod>" in (project / "site" / "sitemap.xml").read_text("utf-8")
    assert_same_as_without_cache(project, tmp_path)


def test_a_new_title_re_renders_the_pages_that_show_it(project: Path) -> None:
    """The other side of the test above: neighbours, the topic page and links show a title."""
    page = article(project, 4)
    text = page.read_text("utf-8")
    page.write_text(re.sub(r"^title: .*$", 'title: "Ein ganz neuer Titel"', text, count=1, flags=re.M), "utf-8")
    assert build(BuildOptions(root=project, out_dir=project / "site")).rendered > 1


def test_a_forked_worker_writes_objects_but_changes_nothing_in_the_cache(project: Path) -> None:
    """Render workers are forked with the build's cache, and what they changed in their copy
    would be lost with them: they write objects and return the stamps for the main process
    to record. Changing the cache itself in a worker is refused."""
    data = "<p>Im Arbeitsprozess geschrieben</p>".encode()
    cache = BuildCache(project)
    with cache.opened():
        worker = os.fork()
        if worker == 0:
            refused = False
            try:
                cache.write_object(data)
                cache.put_object(data)
            except RuntimeError:
                refused = True
            finally:
                os._exit(0 if refused else 1)
        assert os.waitstatus_to_exitcode(os.waitpid(worker, 0)[1]) == 0
        assert Path(cache.object_path(sha256(data))).read_bytes() == data
        assert cache.put_object(data)[0] == sha256(data)  # in the process that opened it
