"""File stamps: when a digest computed from a file by an earlier build still holds, unread.

A stamp is a file's size, modification time, ctime and inode. While all four are those
recorded with its digest, the file holds the same bytes: any write to it changes its ctime,
which no program can set back. A stamp is trusted only for a file settled when read, as a
save within the file system's clock tick of the last one could leave size and times as
they were, but not one that comes seconds later.
"""
from __future__ import annotations

import os
import stat
import time
from pathlib import Path

Stamp = tuple[int, int, int, int]  # a file's size, mtime, ctime and inode
CTIME, INODE = 2, 3
UNTRUSTED: Stamp = (-1, 0, 0, 0)  # matches no file: its digest is computed again next time
SETTLED_NS = 2_000_000_000  # a file's stat is trusted only this long after its last change


def stamp_of(info: os.stat_result) -> Stamp:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def read_stamped(path: Path | str, most: int | None = None) -> tuple[bytes, Stamp, bool]:
    """A file's bytes, its stamp, and whether the file was settled when read.

    The stamp is taken before the bytes, so a save while reading leaves the older stamp,
    which the saved file no longer matches. Only a regular file is read (of at most `most`
    bytes): a pipe or a device where a file was (a link to /dev/zero) raises OSError,
    without blocking or reading for ever.
    """
    read_at = time.time_ns()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (most is not None and info.st_size > most):
            raise OSError(f"{path}: not a regular file of at most {most} bytes")
        data = file.read()
    return data, stamp_of(info), info.st_ctime_ns < read_at - SETTLED_NS
