"""Ctrl+C and SIGTERM during a build: the command stops at once, quietly, and leaves no
worker process behind (site/ itself is covered by test_interrupted_build.py)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robustness import REPO

# Each task blocks until the test has seen the workers start, so the signal lands while
# they are busy, as it does when an editor presses Ctrl+C during a long build.
_POOL_DRIVER = """
import sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from guidesite.parallel import map_in_workers

def work(item):
    Path({ready!r}).write_text("busy")
    time.sleep(120)
    return item

map_in_workers(work, list(range(200)))
"""

# The build itself is replaced by one that waits, so the signal lands inside the command.
_CLI_DRIVER = """
import sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from guidesite import cli

def build(options):
    Path({ready!r}).write_text("busy")
    time.sleep(120)

cli.build = build
sys.exit(cli.main(["--root", {root!r}]))
"""


def _start(script: str, tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    ready = tmp_path / "ready"
    source = script.format(repo=str(REPO), ready=str(ready), root=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", source], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as a terminal gives it
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.02)
    return proc, ready


def _group_members(pgid: int) -> list[str]:
    found = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True)
    return found.stdout.split()


@pytest.mark.parametrize("whom", ["group", "main"], ids=["ctrl-c-in-a-terminal", "sigint-to-the-main-process"])
def test_ctrl_c_ends_the_workers_at_once(tmp_path: Path, whom: str) -> None:
    proc, _ = _start(_POOL_DRIVER, tmp_path)
    if whom == "group":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)  # the tasks would take 120 s each
    finally:
        leftover = _group_members(proc.pid)
        for pid in leftover:
            os.kill(int(pid), signal.SIGKILL)
    assert leftover == []
    assert proc.returncode != 0
    # The main process's KeyboardInterrupt is the only traceback: no worker printed one.
    assert err.count("Traceback") == 1 and err.rstrip().endswith("KeyboardInterrupt"), err


# The command line around busy workers: one sleeps in a task, the other waits for one.
_CLI_WORKERS_DRIVER = """
import sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from guidesite import cli, parallel

def work(item):
    if item == 0:
        Path({ready!r}).write_text("busy")
        time.sleep(120)
    return item

def build(options):
    parallel.map_in_workers(work, [0] * 1 + [1] * 79)

cli.build = build
sys.exit(cli.main(["--root", {root!r}]))
"""


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_build_with_workers_stops_in_one_line(tmp_path: Path, stop: signal.Signals) -> None:
    """SIGTERM too reaches every process of the group (timeout, CI): a worker must not
    answer it with the command line's own handler ("Process ForkProcess-2:" and a traceback)."""
    proc, _ = _start(_CLI_WORKERS_DRIVER, tmp_path)
    os.killpg(proc.pid, stop)
    try:
        out, err = proc.communicate(timeout=20)
    finally:
        leftover = _group_members(proc.pid)
        for pid in leftover:
            os.kill(int(pid), signal.SIGKILL)
    assert leftover == []
    assert (proc.returncode, out, err) == (130, "", "interrupted; site/ holds the last complete build.\n")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stopped_build_says_so_without_a_traceback(tmp_path: Path, stop: signal.Signals) -> None:
    proc, _ = _start(_CLI_DRIVER, tmp_path)
    os.killpg(proc.pid, stop)
    out, err = proc.communicate(timeout=20)
    assert (proc.returncode, out, err) == (130, "", "interrupted; site/ holds the last complete build.\n")
