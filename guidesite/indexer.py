"""Pagefind's indexer processes, driven through its Python API on an event loop of their own.

search.py decides what is indexed, in which shard, and what is kept; this module only
hands each shard's folder of pages to an indexer and brings its bundle back in memory,
one indexer process per core, and makes sure no indexer outlives the build or hangs it.
"""
from __future__ import annotations

import asyncio
import base64
import json
import shutil
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .parallel import cores
from .search import SETUP_HINT, IndexerFailed

if TYPE_CHECKING:
    from .search import Shard

_ANSWER_LIMIT = 1 << 30  # bytes of one answer from the indexer
_STOP_WAIT = 2.0  # seconds an indexer whose input is closed has to end before it is killed


def index_folders(folders: dict[Shard, Path], excluded: list[str]) -> dict[Shard, list[dict]]:
    """Each shard's bundle (Pagefind's files, as its API hands them back) made from the
    pages in its folder, leaving out what the CSS selectors `excluded` match; IndexerFailed
    if an indexer cannot start, refuses or stops."""
    bundles: dict[Shard, list[dict]] = {}
    _run_in_thread(_index_folders(folders, {"exclude_selectors": excluded, "keep_index_url": False}, bundles))
    return bundles


async def _index_folders(folders: dict[Shard, Path], config: dict, bundles: dict[Shard, list[dict]]) -> None:
    """One index per shard (each sees its own pages only, all of one language), asked for
    all at once; each bundle's files are handed back in memory. An indexer process answers
    its requests one after another: with several shards to index, one process per core
    (a shard's index is the same whichever process makes it).

    Not written to disk by the indexer: it answers before its writes reach the files (they
    are still buffered), and it exits without finishing them when its input closes.
    """
    services: list = []
    tasks: list[asyncio.Future] = []
    try:
        for _ in range(min(len(folders), cores())):
            services.append(await _launch())
        tasks = [asyncio.ensure_future(_index_folder(services[i % len(services)], shard, folder, config, bundles))
                 for i, (shard, folder) in enumerate(folders.items())]
        if tasks:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        # The first shard's failure in the order asked for: when the indexer stops, all fail at once.
        failed = next((task for task in tasks if task.done() and not task.cancelled() and task.exception()), None)
        if failed is not None:
            raise failed.exception()  # type: ignore[misc]
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for service in services:
            await _stop(service)
        raise
    for service in services:  # every answer is in: nothing is left for them to do
        await _stop(service)


async def _launch():
    try:
        service = await _service_class()().launch()
    except OSError as exc:
        raise IndexerFailed(f"Pagefind's indexer could not be started ({exc.strerror or exc}): {SETUP_HINT}") from None
    # The API reads each answer whole, and a bundle of thousands of pages is one answer of
    # many megabytes: beyond the API's 2 MiB limit, its reader would stop.
    service._backend.stdout._limit = _ANSWER_LIMIT
    return service


def _service_class():
    """Pagefind's service, reading each answer as soon as the indexer writes it.

    The API's reader (PagefindService._wait_for_responses) sleeps a tenth of a second before
    it reads each answer, so an indexer process answers at most ten requests a second
    however fast it works: three requests a shard, with 10 shards a language at N = 2,500,
    made the search step wait seconds for nothing. This reader does the same as the API's
    (pinned in constraints.txt), answer by answer, without the sleep.
    """
    from pagefind.service import PagefindService
    from pagefind.service.types import InternalResponseType

    class Service(PagefindService):
        async def _wait_for_responses(self) -> None:
            assert self._backend.stdout is not None
            while True:
                # The protocol: each answer is base64-encoded JSON, followed by a comma.
                output = await self._backend.stdout.readuntil(b",")
                answer = json.loads(base64.b64decode(output[:-1]))
                if answer is None:
                    continue
                payload = answer["payload"]
                message_id = answer.get("message_id")
                if message_id is None and (original := payload.get("original_message")) is not None:
                    # A request the indexer could not read: it sends the request back.
                    message_id = (json.loads(original) or {}).get("message_id")
                future = self._responses.get(message_id) if message_id is not None else None
                if future is None or future.done():
                    continue
                if payload["type"] == InternalResponseType.ERROR.value:
                    future.set_exception(Exception(payload["message"], payload.get("original_message")))
                else:
                    future.set_result(payload)

    return Service


async def _index_folder(service, shard: Shard, folder: Path, config: dict, bundles: dict[Shard, list[dict]]) -> None:
    index = await _answer(service, service.create_index(config), shard.lang)  # type: ignore[arg-type]
    await _answer(service, index.add_directory(str(folder)), shard.lang)
    # The indexer has read the pages: their links go while it writes the index, not after.
    removed = asyncio.ensure_future(asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True))
    bundles[shard] = await _answer(service, index.get_files(), shard.lang)
    await removed


async def _answer(service, request, code: str):
    """The indexer's answer to a request; IndexerFailed if the indexer stops first.

    The API's reader ends when the indexer's output ends (it crashed, was killed) or is not
    its protocol (a panic message): its requests would then wait for ever. A request is not
    written to an indexer known to have stopped: with many shards asking at once, asyncio
    would warn on stderr of each write to the closed pipe after the fifth.
    """
    reader = service._poll_task  # the API's reader of the indexer's answers
    stdin = service._backend.stdin
    if reader.done() or stdin is None or stdin.is_closing():
        request.close()
    else:
        task = asyncio.ensure_future(request)
        try:
            await asyncio.wait({task, reader}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # another shard failed: this request's outcome is nobody's
            task.cancel()
            raise
        if task.done() and not isinstance(task.exception(), ConnectionError):  # not a request to a closed pipe
            try:
                return task.result()
            except Exception as exc:  # an error the indexer answered with
                raise IndexerFailed(f"Pagefind's indexer refused to index {code}: {_one_line(exc)}: {SETUP_HINT}") from None
        task.cancel()
    if reader.done() and not reader.cancelled() and not isinstance(reader.exception(), asyncio.IncompleteReadError):
        stopped = "it wrote what is not Pagefind's protocol"
    else:  # its input or output closed: it is ending
        stopped = f"exit code {await service._backend.wait()}"
    raise IndexerFailed(f"Pagefind's indexer stopped while indexing {code} ({stopped}): build again; if it fails again, {SETUP_HINT}")


async def _stop(service) -> None:
    """End the indexer, whether or not it has ended on its own, without waiting for answers
    it may never send (the API's close() would wait for them, and fail on an indexer that
    has ended), and let it go while the event loop still runs."""
    reader = service._poll_task
    if reader.done() and not reader.cancelled():
        reader.exception()  # its output ended: seen, or asyncio would print it at exit
    reader.cancel()
    backend = service._backend
    if backend.stdin is not None:
        backend.stdin.close()  # Pagefind's indexer ends when its input does
    try:
        await asyncio.wait_for(backend.wait(), _STOP_WAIT)
    except asyncio.TimeoutError:
        # Only now, while it runs: killing an indexer that has just ended would reap it
        # before asyncio does, which then prints "Unknown child process" on stderr.
        backend.kill()
        await backend.wait()
    # Its pipes closed now, not when the process object is collected: by then the event
    # loop may be closed, and asyncio would print an error about it.
    backend._transport.close()
    await asyncio.sleep(0)  # the pipes close on the loop's next turn


def _one_line(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return " ".join(text.split())[:300]


def _run_in_thread(coroutine) -> None:
    """Run the indexer's event loop on a thread of its own: the caller may be on a thread
    that runs one already (the preview server), and Ctrl+C stays the command line's."""
    failure: list[BaseException] = []

    def run() -> None:
        # The preview builds on a thread that blocks SIGINT and SIGTERM (guidesite/serve.py),
        # and a thread's mask is inherited by the processes it starts: the indexer would never
        # see the SIGTERM that ends it, and the build would wait for it for ever.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # handed to the calling thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="pagefind", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
