"""The object store: files in objects/, each named by the SHA-256 of its bytes, which the
site's files are hard-linked to.

An object is trusted while its stamp is the one recorded when it was written (any write to
it, through the site's link too, changes its ctime), or else once its bytes are read and
found to have its digest. The store only reads and writes files: which stamps are recorded
is the index's business, and only the process that opened the cache changes it, so a forked
worker can write objects and return their stamps as plain data.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from .digests import sha256
from .stamps import CTIME, INODE, Stamp, read_stamped, stamp_of


class ObjectStore:
    """The objects/ folder: it reads, checks and writes files, and records nothing."""

    def __init__(self, folder: Path):
        self._folder = str(folder)

    def path(self, digest: str) -> str:
        return f"{self._folder}/{digest[:2]}/{digest}"

    def stamp(self, digest: str) -> Stamp | None:
        """The object's file's stamp now, without reading it; None if it is missing."""
        try:
            return stamp_of(os.stat(self.path(digest)))
        except OSError:
            return None

    def check(self, digest: str, recorded: Stamp | None) -> Stamp | None:
        """The stamp the object is to be known by while it holds the bytes it is named by, else None.

        Fast: the file is the one that was written, with the recorded stamp, which is returned.
        Otherwise, as in a cache copied or restored elsewhere, the file is read and its SHA-256
        compared, and its stamp now returned: its ctime only once settled, so that a file
        written just now is read again next time.
        """
        now = self.stamp(digest) if recorded is not None else None
        if now is None:
            return None
        if now == recorded:
            return recorded
        try:
            data, stamp, settled = read_stamped(self.path(digest))
        except OSError:
            return None
        if sha256(data) != digest:
            return None
        return stamp if settled else (*stamp[:CTIME], 0, stamp[INODE])  # no ctime matches: verified again next time

    def write(self, data: bytes, recorded: Mapping[str, Stamp]) -> tuple[str, Stamp]:
        """Store bytes under their digest (unless an intact object has them); returns the
        digest and the stamp to record for it."""
        digest = sha256(data)
        stamp = self.check(digest, recorded.get(digest))
        if stamp is not None:
            return digest, stamp
        path = self.path(digest)
        # Always a new inode: a file the site may share is never rewritten. A crash while
        # writing leaves a file no index describes, which the next build replaces.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        try:
            try:
                file = open(path, "xb")
            except FileNotFoundError:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                file = open(path, "xb")
            with file:
                file.write(data)
        except FileExistsError:  # another worker wrote the same page just now: the same bytes
            pass
        return digest, stamp_of(os.stat(path))

    def read(self, digest: str) -> bytes:
        """An object's bytes, checked against its digest."""
        with open(self.path(digest), "rb") as file:
            data = file.read()
        if sha256(data) != digest:
            raise OSError(f"cache object {digest} is damaged")
        return data

    def relinked(self, inodes: set[int], recorded: Mapping[str, Stamp]) -> dict[str, Stamp]:
        """The new stamps of the objects with these inodes, which the site's writing linked or
        unlinked: that changes their ctime, and they would look tampered with next time."""
        by_inode = {stamp[INODE]: digest for digest, stamp in recorded.items()} if inodes else {}
        stamps: dict[str, Stamp] = {}
        for inode in inodes:
            digest = by_inode.get(inode)
            now = self.stamp(digest) if digest else None
            if digest and now is not None and _without_ctime(now) == _without_ctime(recorded[digest]):
                stamps[digest] = now
        return stamps

    def remove(self, digest: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path(digest))


def _without_ctime(stamp: Stamp) -> Stamp:
    return (*stamp[:CTIME], 0, *stamp[CTIME + 1 :])


def place_name(root: Path, out_dir: Path) -> str:
    """The name an output folder's kept tree goes by: relative to the project where it is
    inside it, so that a cache copied with the project to another path finds it."""
    folder, project = out_dir.resolve(), root.resolve()
    name = folder.relative_to(project).as_posix() if folder.is_relative_to(project) else str(folder)
    return sha256(name.encode())[:16]
