"""Running one function over many items in worker processes, one per core.

The workers are forked after the caller has set up everything they need (the site, the
Markdown and Jinja environments), so they start with it instead of receiving it: each
task sends only item numbers, and each result comes back as plain data. Where fork is
unavailable, or there is too little work to pay for starting workers, the items run in
this process.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

MIN_ITEMS_PER_WORKER = 40  # below this, forking costs more than it saves
CHUNK = 16  # items per task: few enough round trips, small enough to balance the cores

_work: Callable[[Any], Any] | None = None  # the function workers run, inherited through fork


def cores() -> int:
    """The cores this process may use (affinity, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def map_in_workers(work: Callable[[Any], Any], items: Sequence[Any], meanwhile: Callable[[], None] = lambda: None) -> list[Any]:
    """[work(item) for item in items], spread over worker processes when that is faster.

    meanwhile() runs in this process while the workers work (or after the items, without them).
    """
    workers = min(cores(), len(items) // MIN_ITEMS_PER_WORKER)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        results = [work(item) for item in items]
        meanwhile()
        return results
    global _work
    _work = work
    chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
    # Frozen, the objects the workers inherit are left alone by their cycle collector:
    # it neither spends time on them nor copies their memory pages by touching them.
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker) as pool:
            chunked = pool.map(_run_chunk, chunks)
            meanwhile()
            return [result for chunk in chunked for result in chunk]
    finally:
        _work = None
        gc.unfreeze()


def _start_worker() -> None:
    # Parsing Markdown makes many short-lived objects and few cycles: collect less often.
    gc.set_threshold(50_000, 20, 100)


def _run_chunk(chunk: Sequence[Any]) -> list[Any]:
    assert _work is not None, "workers are forked from map_in_workers"
    return [_work(item) for item in chunk]
