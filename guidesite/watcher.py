"""Which of the project's sources changed while the preview runs, told by the operating system.

livereload's watcher polled every file, ran the build on the server's thread, rebuilt once
per save and saw only modification times (shared/notes/libraries.md): `Watcher` has the
kernel report changes (through watchfiles), and the preview builds on a thread of its own.
"""
from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

WATCHED_FOLDERS = ("content", "templates", "assets", "translations")
WATCHED = (*WATCHED_FOLDERS, "site.yaml", "babel.cfg")
SETTLE_SECONDS = 0.1  # saves closer together than this give one rebuild
MAX_GROUPING_MS = 1000  # changes that go on longer (a git checkout) are reported after this
READY_MS = 100  # how soon a new watch answers, with nothing, to say it is in place


class Watcher:
    """Which sources changed, told by the operating system (inotify on Linux) through watchfiles.

    livereload's watcher polled every file ten times a second, so the idle preview's work
    grew with the number of pages (6 ms a poll at 581 files). Here the kernel reports each
    change and watchfiles groups the events of one save, and of saves close together, until
    `settle` seconds pass without one: idle, nothing runs but a timer every `settle` seconds.

    Two watches feed one queue: the source folders with everything below them, and the
    project folder alone for site.yaml and babel.cfg. A watch on a file follows its inode,
    which an editor that saves by writing a new file and renaming it over the old one (vim,
    many IDEs) replaces; the folder sees every such save. Watching the whole project instead
    would watch .venv/ and .cache/, which the preview itself rewrites. A source folder created
    or replaced while the preview runs restarts the folders' watch, so that it covers it.
    """

    def __init__(self, root: Path, settle: float = SETTLE_SECONDS):
        self.root = root
        self.settle = settle
        self._queue: queue.SimpleQueue[set[str] | BaseException | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._restart = threading.Event()
        ready = [threading.Event(), threading.Event()]
        self._threads = [
            threading.Thread(target=self._guard, args=(self._watch_folders, ready[0]), name="preview-watch-folders", daemon=True),
            threading.Thread(target=self._guard, args=(self._watch_top, ready[1]), name="preview-watch-top", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        for event in ready:  # the watches are in place: every later save is seen
            while not event.wait(0.1):
                if not any(thread.is_alive() for thread in self._threads):
                    break

    def next_changes(self, timeout: float | None = None) -> set[str] | None:
        """The paths changed since the last call, once saving has paused; an empty set if
        `timeout` seconds pass without a change, None once stopped."""
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return set()
        changed: set[str] = set()
        item: set[str] | BaseException | None = first
        while True:
            if item is None:
                return None
            if isinstance(item, BaseException):
                raise item
            changed |= item
            try:  # the other watch's part of the same save, if it has arrived
                item = self._queue.get(timeout=self.settle / 2)
            except queue.Empty:
                return changed

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join()
        self._queue.put(None)

    def _guard(self, watch: Callable[[threading.Event], None], ready: threading.Event) -> None:
        try:
            watch(ready)
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that rebuilds
            self._queue.put(exc)
        finally:
            ready.set()

    def _watch_folders(self, ready: threading.Event) -> None:
        while not self._stopping.is_set():
            self._restart.clear()
            folders = [self.root / name for name in WATCHED_FOLDERS if (self.root / name).is_dir()]
            if not folders:
                ready.set()
                self._until(self._restart)
                continue
            self._follow(folders, True, watchfiles.DefaultFilter(), ready, _AnyOf(self._stopping, self._restart))

    def _watch_top(self, ready: threading.Event) -> None:
        def named(change: watchfiles.Change, path: str) -> bool:
            name = os.path.basename(path)
            if name in WATCHED_FOLDERS and (change == watchfiles.Change.deleted or os.path.isdir(path)):
                self._restart.set()  # a source folder created, moved in or removed
            return name in WATCHED

        self._follow([self.root], False, named, ready, self._stopping)

    def _follow(self, paths: list[Path], recursive: bool, keep: Callable[[watchfiles.Change, str], bool],
                ready: threading.Event, stop: threading.Event | _AnyOf) -> None:
        # yield_on_timeout: the first (empty) answer comes once the watch is in place.
        for changes in watchfiles.watch(*paths, watch_filter=keep, recursive=recursive, stop_event=stop,
                                        step=round(self.settle * 1000), debounce=MAX_GROUPING_MS,
                                        rust_timeout=READY_MS, yield_on_timeout=True, raise_interrupt=False):
            ready.set()
            if changes:
                self._queue.put({path for _, path in changes})

    def _until(self, event: threading.Event) -> None:
        while not (event.wait(0.5) or self._stopping.is_set()):
            pass


class _AnyOf:
    """Set when either event is: watchfiles takes any object with is_set()."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)

