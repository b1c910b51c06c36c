"""The digests the build cache keys everything by: of bytes, of files, of the build's inputs
besides the pages, and of the generator itself."""
from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from .. import __version__
from ..assets import AssetMap

_A, _R = TypeVar("_A"), TypeVar("_R")
INPUTS = ("site.yaml", "templates", "translations", "content/sources.yaml")  # besides the pages
# As installed (distributions); imagesize for the image sizes kept in the cache.
_LIBRARIES = ("jinja2", "markdown-it-py", "mdit-py-plugins", "babel", "pyyaml", "imagesize")
_PACKAGE = Path(__file__).resolve().parents[1]  # guidesite/


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def in_threads(function: Callable[[_A], _R], items: Sequence[_A], threads: int = 4) -> list[_R]:
    """[function(item) for item in items], for reading and hashing files: in this thread while
    the first ones show the files in memory, in a few threads once they wait on the disk.

    Files to hash are nearly always ones just written (a checkout, a restored cache), which
    the system still holds in memory; then threads only contend for the GIL at each system
    call. Measured on 16,000 such files: 0.43 s in one thread, 1.1 s in four. Read from the
    disk, four threads overlap the waits: 1.7 s against 2.5 s in one.
    """
    probe = items[:_PROBE]
    start = time.perf_counter()
    done = [function(item) for item in probe]
    rest = items[len(probe):]
    if not rest or time.perf_counter() - start < _ON_DISK * len(probe):
        return done + [function(item) for item in rest]
    from concurrent.futures import ThreadPoolExecutor  # here: it loads logging, and few builds need threads

    chunks = [rest[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        made = list(pool.map(lambda chunk: [function(item) for item in chunk], chunks))
    results: list[_R] = [None] * len(rest)  # type: ignore[list-item]
    for i, chunk in enumerate(made):
        results[i::threads] = chunk
    return done + results


# in_threads: how many files it times, and the time per file above which they wait on the
# disk (from memory, reading and hashing one of the bench's files takes about 30 µs).
_PROBE = 64
_ON_DISK = 0.000_1


def files_digest(paths: Sequence[Path], base: Path) -> str:
    """One digest over files' names (relative to base) and contents; folders are walked."""
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.relative_to(base).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(file.read_bytes()).digest())
            elif not file.exists():
                digest.update(file.relative_to(base).as_posix().encode() + b"\0missing\0")
    return digest.hexdigest()


def inputs_digest(root: Path, assets: AssetMap) -> str:
    """Everything besides the pages that any page's HTML may depend on.

    Not whether drafts are included: which pages a page looked up and found is part of its
    fingerprint, so the preview (with drafts) and build.py (without) share the cache.
    """
    files = files_digest([root / name for name in INPUTS], root)
    names = ",".join(f"{name}={asset.output}" for name, asset in sorted(assets.assets.items()))
    return sha256(f"{files}\0{names}".encode())


def code_digest() -> str:
    """The generator itself: its source files, Python's version and its libraries' versions."""
    versions = installed_versions(_LIBRARIES)
    material = f"{__version__}\0{sys.version}\0{' '.join(f'{n}={v}' for n, v in versions.items())}\0{files_digest([_PACKAGE], _PACKAGE)}"
    return sha256(material.encode())


def installed_versions(names: Sequence[str]) -> dict[str, str]:
    """Each distribution's installed version ('?' where none is found), from the name of its
    .dist-info folder ({name}-{version}.dist-info, as the packaging specifications write it)
    or, as some system packages still have it, its .egg-info ({name}-{version}[-py3.x])
    on sys.path, first found first: what importlib.metadata.version reads, without importing
    the libraries (markdown-it alone took 18 ms of every build's start) or importlib.metadata
    (email, zipfile, csv…)."""
    wanted = {_normal(name): name for name in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            listing = os.listdir(entry or ".")
        except OSError:  # a zip file, or a folder gone
            continue
        for item in listing:
            stem, _, kind = item.rpartition(".")
            if kind in ("dist-info", "egg-info"):
                name, _, rest = stem.partition("-")
                found.setdefault(_normal(name), rest.split("-")[0] or "?")
    return {name: found.get(key, "?") for key, name in wanted.items()}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()
