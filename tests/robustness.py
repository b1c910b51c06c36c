"""Helpers for the robustness tests: a small site to break, the real command line, digests."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BAD_INPUT = REPO / "tests" / "bad_input"
# What a site needs beside its own site.yaml and content/: taken from the repository as it is.
SHARED_PARTS = ("templates", "assets", "translations", "babel.cfg")


def make_small_site(target: Path, *overlays: Path) -> Path:
    """The repository's templates, assets and catalogs with the small content of _base/,
    then each overlay laid over it (its files replace or add to what is there)."""
    target.mkdir(parents=True, exist_ok=True)
    for part in SHARED_PARTS:
        if (REPO / part).is_dir():
            shutil.copytree(REPO / part, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / part, target / part)
    for overlay in (BAD_INPUT / "_base", *overlays):
        shutil.copytree(overlay, target, dirs_exist_ok=True)
    return target


def run_build(root: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python build.py --root <root> …` exactly as an editor runs it."""
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), *args],
        capture_output=True, text=True, cwd=cwd or root, env=env, timeout=120,
    )


def manifest(folder: Path) -> dict[str, str]:
    """Every file below `folder` by relative path, with the SHA-256 of its bytes."""
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def staging_leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob(".site-staging-*"))


def child_processes(pid: int) -> set[int]:
    """The process's children, zombies included (none where it is gone): of all its threads."""
    try:
        return {int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                for child in (task / "children").read_text().split()}
    except OSError:
        return set()
