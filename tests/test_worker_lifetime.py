"""Workers never outlive the build: killed by a signal it cannot catch (SIGKILL, the OOM
killer), the main process takes its workers with it (guidesite/parallel.py)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from robustness import REPO, child_processes

sys.path.insert(0, str(REPO / "bench"))
import corpus  # noqa: E402

ARTICLES = 150  # per language: a cold build long enough to be killed while its workers render


def _alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for whoever adopted it to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_build_killed_with_sigkill_leaves_no_worker(tmp_path: Path) -> None:
    root = corpus.generate(tmp_path / "project", ARTICLES)
    proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--root", str(root), "--no-cache"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while len(workers) < 2 and proc.poll() is None and time.monotonic() < deadline:
        workers = child_processes(proc.pid)
        time.sleep(0.01)
    assert proc.poll() is None and len(workers) >= 2, "the build ended before its workers were seen"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 30  # far more than they need; the test asserts they go, not how fast
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    leftover = [pid for pid in workers if _alive(pid)]
    for pid in leftover:
        os.kill(pid, signal.SIGKILL)
    assert leftover == []


def test_a_process_checking_a_restored_cache_ahead_dies_with_the_build() -> None:
    """The process that hashes a restored cache's objects while the build reads its sources
    (parallel.Ahead) goes too when the build is killed with SIGKILL."""
    script = ("import os, sys, time; sys.path.insert(0, sys.argv[1]); from guidesite.parallel import Ahead;"
              "ahead = Ahead(lambda item: time.sleep(60), [0]); print(ahead._pid, flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", script, str(REPO)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    assert _alive(child) and child in child_processes(proc.pid)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 30
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    gone = not _alive(child)
    if not gone:
        os.kill(child, signal.SIGKILL)
    assert gone
