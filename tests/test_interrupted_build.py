"""Interrupted and overlapping builds: site/ is always the complete previous or the complete
new site, and whatever an interrupted build left behind is cleaned up by the next one."""
from __future__ import annotations

import fcntl
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from guidesite.output import _exchange
from guidesite.pipeline import BuildOptions, build
from robustness import REPO, make_small_site, manifest, run_build, staging_leftovers

KILLS = 30
SEED = 20261126
EXTRA_PAGES = 8  # per language: more files make the write phase long enough to be hit


def _add_pages(root: Path) -> None:
    for lang, folder in (("de", "themen"), ("en", "topics")):
        (root / "content" / lang / folder).mkdir()
        for n in range(EXTRA_PAGES):
            (root / "content" / lang / folder / f"t{n}.md").write_text(
                f"---\ntitle: T{n}\ndescription: D{n}.\nkey: t{n}\nslug: {folder}/t{n}\n---\n\n"
                + f"Absatz {n}. " * 200 + "\n", "utf-8")


def _edit(root: Path, i: int) -> None:
    """Change the sources so that build i gives a site different from build i-1."""
    page = root / "content/de/seite.md"
    text = re.sub(r"\nFassung \d+\.\n$", "", page.read_text("utf-8"))
    page.write_text(text + f"\nFassung {i}.\n", "utf-8")
    extra = root / "content/de/themen/extra.md"
    if i % 2:  # a page appears, and disappears again in the next build
        extra.write_text("---\ntitle: Extra\ndescription: Extra.\nkey: extra\nslug: themen/extra\n---\n\nText.\n", "utf-8")
    elif extra.exists():
        extra.unlink()


def _wait_for_staging(root: Path, proc: subprocess.Popen[bytes]) -> None:
    while proc.poll() is None and not staging_leftovers(root):
        time.sleep(0.0005)


def test_rename_exchange_works_on_this_file_system(tmp_path: Path) -> None:
    """The atomic swap really is renameat2(RENAME_EXCHANGE) here, not the two-step fallback."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a/new").write_text("new")
    (tmp_path / "b/old").write_text("old")
    assert _exchange(tmp_path / "a", tmp_path / "b")
    assert os.listdir(tmp_path / "b") == ["new"] and os.listdir(tmp_path / "a") == ["old"]


def test_a_killed_build_leaves_the_old_or_the_new_site(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    _add_pages(root)
    _edit(root, 0)
    first = run_build(root)
    assert first.returncode == 0, first.stderr
    previous = manifest(root / "site")
    rng = random.Random(SEED)
    seen: Counter[str] = Counter()
    for i in range(1, KILLS + 1):
        _edit(root, i)
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--root", str(root)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root)
        if i % 2:
            time.sleep(rng.uniform(0.0, 0.6))  # anywhere in the build, start-up included
        else:
            _wait_for_staging(root, proc)  # while it writes, swaps or removes the old site
            time.sleep(rng.uniform(0.0, 0.004))
        proc.kill()
        _, err = proc.communicate()
        assert proc.returncode in (0, -9), f"the build failed by itself, not by the kill: {err}"
        interrupted = manifest(root / "site")
        left = staging_leftovers(root)

        # The next build, on the same sources, completes (in-process: the suite stays fast).
        build(BuildOptions(root=root, out_dir=root / "site"))
        assert staging_leftovers(root) == [], "the next build did not clean up"
        new = manifest(root / "site")
        assert new != previous
        assert interrupted in (previous, new), f"kill {i} after {time.monotonic() - started:.3f} s left a mixed site/"
        state = "old site" if interrupted == previous else "new site"
        seen[f"{state}, {'staging left behind' if left else 'nothing left behind'}"] += 1
        previous = new
    print(f"\n{KILLS} killed builds: {dict(seen)}")
    assert sum(n for k, n in seen.items() if "staging left behind" in k) >= 1, "no kill hit the write phase"


def test_a_second_build_waits_for_the_first_to_finish_writing(tmp_path: Path) -> None:
    """A build that finds another one writing must not take its staging folder for a leftover."""
    root = make_small_site(tmp_path / "project")
    in_progress = root / ".site-staging-in-progress"
    in_progress.mkdir()
    (in_progress / "index.html").write_text("half written")
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as write_site holds it while writing
        proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--root", str(root)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=root)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pass
        assert proc.poll() is None, "the second build did not wait"
        assert (in_progress / "index.html").read_text() == "half written"
    finally:
        os.close(fd)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert staging_leftovers(root) == []
    assert (root / "site/index.html").is_file()


def test_overlapping_builds_both_succeed(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    rng = random.Random(SEED)
    for _ in range(4):
        first = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--root", str(root)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root)
        time.sleep(rng.uniform(0.0, 0.4))
        second = run_build(root)
        out, err = first.communicate(timeout=60)
        assert first.returncode == 0 and "Traceback" not in err, err
        assert second.returncode == 0 and "Traceback" not in second.stderr, second.stderr
        assert staging_leftovers(root) == []
    complete = run_build(root, "--out", str(tmp_path / "reference"))
    assert complete.returncode == 0
    assert manifest(root / "site") == manifest(tmp_path / "reference")
