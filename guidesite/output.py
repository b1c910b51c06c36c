"""Writing the site: into a fresh folder beside site/, swapped in only when complete."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .assets import AssetMap

try:
    import fcntl
except ImportError:  # Windows: no advisory locks there
    fcntl = None  # type: ignore[assignment]

STAGING_PREFIX = ".site-staging-"
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2); False where unsupported."""
    if os.name != "posix":  # Windows: CDLL(None) below is no library there, but a TypeError
        return False
    import ctypes  # here: a build with nothing to write swaps nothing

    # The symbols of the process itself, the C library's among them: ctypes.util.find_library
    # would run `ldconfig -p` in a subprocess on every build to find the library's name.
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd = -100
    result = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


# What the top of every site the build writes holds, besides a folder per language.
_SITE_TOP = frozenset({"index.html", "404.html", "sitemap.xml", "robots.txt", "assets"})
# The project's own folders: a site written into one would replace what is there.
_PROJECT_FOLDERS = ("content", "templates", "assets", "translations", ".cache/guidesite", ".cache/guidesite-kept", "guidesite")
PREVIEW_DIR = Path(".cache") / "preview"  # where `serve` builds: drafts never reach site/


def unsafe_out_dir(root: Path, out_dir: Path, languages: Iterable[str]) -> str | None:
    """Why the build must not write the site to out_dir, or None.

    The swap replaces the folder whole, so what was there before is deleted: `--out .`
    would take the project with it, `--out ~/Documents` the editor's files. Another
    folder than site/ is written only if empty or holding a site built before.
    """
    out, project = out_dir.resolve(), root.resolve()
    if out == project or out in project.parents:
        return "it is the project folder or holds it"
    for part in _PROJECT_FOLDERS:
        if out.is_relative_to(project / part):
            return f"it is inside the project's {part}/"
    try:
        if out.exists() and not out.is_dir():
            return "it is a file, not a folder"
        if out in (project / "site", project / PREVIEW_DIR):
            return None  # the project's own output folders, whatever an earlier build or a test left there
        # Four well-known files would not do: a web root or a git worktree of another site has them too.
        found = {entry.name for entry in out.iterdir()} if out.is_dir() else set()
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    if found and ("index.html" not in found or found - _SITE_TOP - set(languages)):
        return "it holds other files, not a site built before"
    return None


def clean_leftovers(out_dir: Path) -> None:
    """Remove staging folders an interrupted build left behind."""
    for leftover in out_dir.parent.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(leftover, ignore_errors=True)


def write_site(out_dir: Path, files: dict[str, bytes], assets: AssetMap) -> None:
    """Write all files to a staging folder, then replace out_dir with it in one step.

    A reader of out_dir sees either the complete old site or the complete new one; a page
    whose source was deleted is gone because the new folder never contained it.
    """
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _one_writer(out_dir.parent):
        _write_and_swap(out_dir, files, assets)


@contextlib.contextmanager
def _one_writer(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder beside site/ while writing.

    Without it a second build (the preview server rebuilding while an editor runs
    build.py) deleted the first one's staging folder as a leftover mid-write: a traceback,
    or an incomplete site swapped in. The lock goes with the process, even on SIGKILL.
    """
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_and_swap(out_dir: Path, files: dict[str, bytes], assets: AssetMap) -> None:
    clean_leftovers(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir.parent))
    try:
        for rel, data in sorted(files.items()):
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for asset in assets.assets.values():
            target = staging / asset.output
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(asset.data)
        os.chmod(staging, 0o755)
        previous = _swap(staging, out_dir)
        if previous is not None:
            shutil.rmtree(previous)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap(staging: Path, out_dir: Path) -> Path | None:
    """Put the complete staging folder in out_dir's place in one step.

    Returns the folder that now holds the previous site (None if there was none); the
    caller removes it or keeps it.
    """
    if out_dir.exists() and _exchange(staging, out_dir):
        return staging
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir.parent))
        os.replace(out_dir, old / "site")
        os.replace(staging, out_dir)
        return old
    os.replace(staging, out_dir)
    return None


def write_linked_site(out_dir: Path, files: dict[str, tuple[str, int]], kept: Path, same_as_last: bool,
                      keep_first: bool = True) -> set[int]:
    """Like write_site, for files that exist already: each is hard-linked (path, inode) into place.

    The staging folder is the site before the current one, kept at `kept`: only the files
    that differ from it are replaced, and afterwards the replaced site is kept there in
    turn. The swap is the same, so out_dir is always the complete old or new site. When
    the files are those written last time (`same_as_last`) and out_dir still holds exactly
    them, nothing is written. Without keep_first, a first build makes no staging folder for
    the next one. Returns the inodes whose number of links changed.
    """
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _one_writer(out_dir.parent):
        if same_as_last and _holds_exactly(out_dir, files):
            return set()
        clean_leftovers(out_dir)
        staging = out_dir.parent / f"{STAGING_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
        try:
            os.rename(kept, staging)  # a crash from here on leaves a leftover, cleaned next time
        except OSError:
            staging.mkdir()
        first = not out_dir.exists()
        try:
            touched = _sync(staging, files)
            if first and keep_first:
                # A first build: the next one needs a staging folder all the same, so make
                # it now, as a copy of this site in links, rather than while an editor waits.
                touched |= _fresh_copy(kept, files)
            os.chmod(staging, 0o755)
            previous = _swap(staging, out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if previous is not None:
            try:
                kept.parent.mkdir(parents=True, exist_ok=True)
                os.rename(previous, kept)
            except OSError:  # another file system: nothing to keep
                shutil.rmtree(previous, ignore_errors=True)
    return touched


def _fresh_copy(folder: Path, files: dict[str, tuple[str, int]]) -> set[int]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return _sync(folder, files)


def _holds_exactly(folder: Path, files: dict[str, tuple[str, int]]) -> bool:
    """Whether folder holds these files (by inode) and nothing else."""
    count = 0

    def walk(path: str, prefix: str) -> bool:
        nonlocal count
        with os.scandir(path) as entries:
            for item in entries:
                rel = prefix + item.name
                if item.is_dir(follow_symlinks=False):
                    if not walk(item.path, rel + "/"):
                        return False
                elif rel in files and item.inode() == files[rel][1] and not item.is_symlink():
                    count += 1
                else:
                    return False
        return True

    return folder.is_dir() and walk(str(folder), "") and count == len(files)


def _sync(folder: Path, files: dict[str, tuple[str, int]]) -> set[int]:
    """Make folder hold exactly `files`, keeping each file that is already the right inode.

    Returns the inodes of the files linked or unlinked.
    """
    wanted_dirs = {""}
    for rel in files:
        parent = rel.rpartition("/")[0]
        while parent not in wanted_dirs:
            wanted_dirs.add(parent)
            parent = parent.rpartition("/")[0]
    present: set[str] = set()
    present_dirs = {""}
    touched: set[int] = set()

    def walk(path: str, prefix: str) -> None:
        with os.scandir(path) as entries:
            for item in entries:
                rel = prefix + item.name
                if item.is_dir(follow_symlinks=False):
                    if rel in wanted_dirs:
                        present_dirs.add(rel)
                        walk(item.path, rel + "/")
                    else:
                        touched.update(e.inode() for e in _files_below(item.path))
                        shutil.rmtree(item.path)
                elif rel in files and item.inode() == files[rel][1] and not item.is_symlink():
                    present.add(rel)
                else:
                    touched.add(item.inode())
                    os.unlink(item.path)

    base = str(folder)
    walk(base, "")
    for name in sorted(wanted_dirs - present_dirs):  # each after the folder it is in
        os.mkdir(f"{base}/{name}")
    missing = sorted(files.keys() - present)
    touched.update(files[rel][1] for rel in missing)
    # Making links is waiting on the file system: threads overlap the waits.
    from concurrent.futures import ThreadPoolExecutor  # here: concurrent.futures loads logging

    chunks = [missing[i :: _LINKERS] for i in range(_LINKERS)] if len(missing) > 200 else [missing]
    with ThreadPoolExecutor(len(chunks)) as pool:
        list(pool.map(lambda chunk: _link(base, chunk, files), chunks))
    return touched


_LINKERS = 4


def _link(base: str, rels: list[str], files: dict[str, tuple[str, int]]) -> None:
    for rel in rels:
        source, target = files[rel][0], f"{base}/{rel}"
        try:
            os.link(source, target)
        except OSError:  # no hard links here (another file system): a copy does the same
            shutil.copyfile(source, target)


def _files_below(path: str) -> Iterator[os.DirEntry[str]]:
    with os.scandir(path) as entries:
        for item in entries:
            if item.is_dir(follow_symlinks=False):
                yield from _files_below(item.path)
            else:
                yield item
