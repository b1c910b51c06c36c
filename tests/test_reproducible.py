"""Reproducible output: the same sources give the same bytes wherever and whenever they are
built, and nothing in the output tells where they were built."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from conftest import copy_project
from robustness import REPO, manifest, run_build

# Far enough apart that the two builds never share a calendar date (UTC+14 and UTC-12).
SETTINGS = [
    {"PYTHONHASHSEED": "1", "TZ": "Pacific/Kiritimati", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
    {"PYTHONHASHSEED": "4242", "TZ": "Etc/GMT+12", "LC_ALL": "C", "LANG": "de_DE.UTF-8"},
]
# Absolute paths of the kind a build machine has, in case one slipped in under another name.
_MACHINE_PATH = re.compile(rb"(?<![\w.~/-])/(?:tmp|home|root|Users|work|var|opt|usr|private)/")


def test_two_builds_in_different_folders_and_times_are_byte_identical(tmp_path: Path) -> None:
    first = copy_project(tmp_path / "first" / "checkout")
    second = copy_project(tmp_path / "elsewhere" / "a second checkout")
    for path in second.rglob("*"):  # sources checked out at another time
        os.utime(path, (1_000_000_000, 1_000_000_000), follow_symlinks=False)

    built_first = run_build(Path("."), env=dict(os.environ, **SETTINGS[0]), cwd=first)
    built_second = run_build(second, env=dict(os.environ, **SETTINGS[1]), cwd=tmp_path)
    assert built_first.returncode == 0, built_first.stderr
    assert built_second.returncode == 0, built_second.stderr

    one, two = manifest(first / "site"), manifest(second / "site")
    assert len(one) > 40
    assert sorted(one) == sorted(two)
    assert [rel for rel in one if one[rel] != two[rel]] == []


def test_the_output_names_no_path_of_the_build_machine(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "checkout")
    result = run_build(project)
    assert result.returncode == 0, result.stderr
    machine = {str(tmp_path), str(project), str(REPO), str(Path.home()), sys.prefix, sys.base_prefix, os.getcwd()}
    found = []
    for path in sorted((project / "site").rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        rel = path.relative_to(project / "site").as_posix()
        found += [f"{rel}: {p}" for p in machine if p.encode() in data]
        found += [f"{rel}: {m.group().decode(errors='replace')}" for m in _MACHINE_PATH.finditer(data)]
    assert found == []
