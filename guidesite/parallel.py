"""Running one function over many items in worker processes, one per core.

The workers are forked after the caller has set up the plain data they need (the site,
its translations and sources), so they start with it instead of receiving it: each task
sends only item numbers, and each result comes back as plain data. What takes time to make
and is not always needed (the Markdown and Jinja environments) the caller makes only when
it has items to map, before the fork, so that it is made once. Where fork is unavailable,
or there is too little work to pay for starting workers, the items run in this process.
"""
from __future__ import annotations

import contextlib
import gc
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded when workers are started: a build that renders nothing starts none
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

MIN_ITEMS_PER_WORKER = 40  # below this, forking costs more than it saves
CHUNK = 16  # items per task: few enough round trips, small enough to balance the cores

_work: Callable[[Any], Any] | None = None  # the function workers run, inherited through fork
# One pool at a time: _work is the one thing the workers inherit, and two builds in one
# process (two previews, a test's threads) must not fork with each other's.
_forking = threading.Lock()
# Who hears how far each map of this thread has got (a progress bar): per thread, as the
# preview builds on a thread of its own.
_observers = threading.local()
Observer = Callable[[str, int, int], None]  # (what the items are, how many are done, of how many)


@contextlib.contextmanager
def reporting(observer: Observer) -> Iterator[None]:
    """Tell observer how far every map_in_workers on this thread has got, until the block ends."""
    previous = getattr(_observers, "current", None)
    _observers.current = observer
    try:
        yield
    finally:
        _observers.current = previous


def cores() -> int:
    """The cores this process may use (affinity, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def map_in_workers(work: Callable[[Any], Any], items: Sequence[Any], meanwhile: Callable[[], None] = lambda: None,
                   label: str = "items") -> list[Any]:
    """[work(item) for item in items], spread over worker processes when that is faster.

    meanwhile() runs in this process while the workers work (or after the items, without them).
    `label` names the items for a progress bar (see reporting).
    """
    observer: Observer = getattr(_observers, "current", None) or (lambda label, done, total: None)
    workers = min(cores(), len(items) // MIN_ITEMS_PER_WORKER)
    if workers < 2 or not _can_fork():
        results = []
        for item in items:
            results.append(work(item))
            observer(label, len(results), len(items))
        meanwhile()
        return results
    chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
    with _forking:
        return _map_forked(work, chunks, workers, meanwhile, lambda done: observer(label, done, len(items)))


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _map_forked(work: Callable[[Any], Any], chunks: list[Sequence[Any]], workers: int, meanwhile: Callable[[], None],
                done: Callable[[int], None]) -> list[Any]:
    import ctypes  # noqa: F401 (loaded before the fork, not in each worker: see _die_with)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _work
    _work = work
    # Frozen, the objects the workers inherit are left alone by their cycle collector:
    # it neither spends time on them nor copies their memory pages by touching them.
    gc.freeze()
    others = set(multiprocessing.active_children())
    try:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker,
                                   initargs=(os.getpid(),))
        try:
            # Futures of our own rather than pool.map, which cancels the queued ones when
            # interrupted: the pool's manager thread then fails on them as the workers die
            # ("InvalidStateError: CANCELLED", a second traceback after Ctrl+C; Python 3.11).
            futures = [pool.submit(_run_chunk, chunk) for chunk in chunks]
            meanwhile()
            results: list[Any] = []
            for future in futures:
                results += future.result()
                done(len(results))
            pool.shutdown()  # here too an interrupt may land
        except BaseException:
            _stop_now(pool, others)
            raise
        return results
    finally:
        _work = None
        gc.unfreeze()


def _stop_now(pool: ProcessPoolExecutor, others: set[multiprocessing.process.BaseProcess]) -> None:
    """End the workers at once, on Ctrl+C, SIGTERM or an error.

    Leaving the pool the usual way waits for every queued page to be done: seconds after
    Ctrl+C, and forever when the interrupt lands inside the pool's own bookkeeping (seen
    with Python 3.11: the main process waiting for the pool's manager thread, and both
    workers for a task).
    """
    # Every child started since the pool was made, not only those the pool lists: an
    # interrupt during its fork can leave a worker it never registered, which the
    # interpreter would wait for at exit (a hang after "interrupted" was seen once).
    import multiprocessing

    workers = [child for child in multiprocessing.active_children() if child not in others]
    for process in workers:
        process.kill()
    for process in workers:
        process.join()
    # Not waited for: a worker killed while sending a large result leaves the manager thread
    # reading a pipe whose other end this process holds, for ever (seen in a review's stress
    # run). The command line ends the process without waiting for it either (cli.main).
    # Not cancel_futures: that races the manager thread, as pool.map's cancelling does.
    pool.shutdown(wait=False)


def _start_worker(parent: int) -> None:
    _die_with(parent)
    # Ctrl+C reaches every process in the terminal's group: the main process alone decides
    # what it means (it ends the workers), so that the editor sees no worker's traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the command line's, inherited through fork
    # Parsing Markdown makes many short-lived objects and few cycles: collect less often.
    gc.set_threshold(50_000, 20, 100)


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when the main process dies, however it dies.

    Ctrl+C and SIGTERM are handled (_stop_now), but SIGKILL or the OOM killer leaves no
    time for that, and a worker would wait for tasks for ever. Linux only (prctl); the
    signal comes when the thread that forked the worker ends, which is the one waiting
    for the results. Should the main process have died before prctl took effect, the
    worker has another parent already, and leaves at once.
    """
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: no such request to make
        return
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _run_chunk(chunk: Sequence[Any]) -> list[Any]:
    assert _work is not None, "workers are forked from map_in_workers"
    return [_work(item) for item in chunk]


class Ahead:
    """[work(item) for item in items], computed in a forked process while this one goes on.

    For a restored cache: its files are read and hashed on another core while this process
    finds the sources. result() waits for the answers; where no child could be forked, or
    it failed, they are computed here instead, with `here` (work itself unless given).
    close() ends a child whose answers are no longer wanted. The child dies with this
    process (_die_with).
    """

    forks = hasattr(os, "fork")  # else the answers are computed in result(), in the caller's thread

    def __init__(self, work: Callable[[Any], Any], items: Sequence[Any], here: Callable[[Any], Any] | None = None):
        self._work, self._items, self._here = work, items, here or work
        self._pid: int | None = None
        self._pipe = -1
        if not self.forks:
            return
        import ctypes  # noqa: F401 (loaded here, not in the child: see _die_with)
        import warnings

        parent = os.getpid()
        read_end = write_end = -1
        try:
            read_end, write_end = os.pipe()
            with warnings.catch_warnings():
                # Python 3.12 warns of fork in a process with threads (the preview's, rich's) after
                # the fork, in the parent: as an error, it would leave the child unknown here.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:  # no process to be had (a limit on them, memory): the work is done here
            for fd in (read_end, write_end):
                if fd >= 0:
                    os.close(fd)
            return
        if pid == 0:
            self._answer(parent, read_end, write_end)
        os.close(write_end)
        self._pid, self._pipe = pid, read_end

    def _answer(self, parent: int, read_end: int, write_end: int) -> None:
        """In the child: send the answers, their length first, and end without a trace (no
        output, no exit handlers: the parent takes over if anything goes wrong)."""
        import pickle

        status = 1
        try:
            os.close(read_end)
            _start_worker(parent)
            gc.disable()  # a short life: a collection would only copy the parent's memory
            answer = pickle.dumps([self._work(item) for item in self._items], pickle.HIGHEST_PROTOCOL)
            # The length first: the parent reads that much rather than up to the pipe's end, which
            # a process forked meanwhile by another thread of the parent may hold open too.
            data = memoryview(len(answer).to_bytes(8, "little") + answer)
            while data:
                data = data[os.write(write_end, data):]
            status = 0
        finally:
            os._exit(status)

    def result(self) -> list[Any]:
        """The answers, in the order of the items."""
        if self._pid is None:
            return [self._here(item) for item in self._items]
        import pickle

        try:
            head = self._read(8)
            data = self._read(int.from_bytes(head, "little")) if len(head) == 8 else b""
            with contextlib.suppress(ChildProcessError):  # reaped by someone else's SIGCHLD handler
                os.waitpid(self._pid, 0)
            self._pid = None
        finally:
            self.close()
        try:
            return pickle.loads(data)
        except (pickle.UnpicklingError, EOFError, ValueError):  # the child died before it had sent it all
            return [self._here(item) for item in self._items]

    def _read(self, size: int) -> bytes:
        parts, left = [], size
        while left and (part := os.read(self._pipe, min(left, 1 << 20))):
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def close(self) -> None:
        """End the child, if it still runs, and let go of its pipe."""
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            self._pid = None
        if self._pipe >= 0:
            os.close(self._pipe)
            self._pipe = -1
