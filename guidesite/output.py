"""Writing the site: into a fresh folder beside site/, swapped in only when complete."""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterator
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
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd = -100
    result = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


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
        if out_dir.exists() and _exchange(staging, out_dir):
            shutil.rmtree(staging)  # now holds the previous site
            return
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir.parent))
            os.replace(out_dir, old / "site")
            os.replace(staging, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
