"""Every kind of editor mistake, built with the real command line: the exact errors, exit 1,
no traceback, and the previously built site/ left byte for byte as it was.

The cases live in tests/bad_input/ (see its README); SETUP below makes what git cannot hold.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from robustness import BAD_INPUT, make_small_site, manifest, run_build, staging_leftovers

CASES = sorted(p.name for p in BAD_INPUT.iterdir() if p.is_dir() and not p.name.startswith("_"))
ERROR_LINE = re.compile(r"^[^\n]+:(\d+|\{\w+\}): \S.*$")  # {name}: a line SETUP computes


def _not_utf8(root: Path) -> None:
    # Saved as Latin-1 ("ANSI") by a Windows editor: ü is the single byte 0xFC on line 8.
    text = "---\ntitle: Eine Seite\ndescription: In Latin-1 gespeichert.\nkey: page\nslug: seite\n---\n\nRückenschmerzen beim Laufen.\n"
    (root / "content/de/seite.md").write_bytes(text.encode("latin-1"))


def _five_megabytes(root: Path) -> None:
    head = "---\ntitle: Sehr lang\ndescription: Eine Seite von fünf Megabyte.\nkey: long\nslug: lang\n---\n\n"
    paragraph = "Ein Satz, der sich immer wiederholt. " * 27 + "\n\n"
    (root / "content/de/lang.md").write_text(head + paragraph * (5_000_000 // len(paragraph) + 1), "utf-8")


def _symlinks_outside(root: Path) -> None:
    outside = (root / "content/de/seite.md").read_text("utf-8").replace("key: page", "key: outside").replace("slug: seite", "slug: draussen")
    (root / "outside.md").write_text(outside, "utf-8")
    (root / "elsewhere").mkdir()
    (root / "elsewhere/page.md").write_text(outside.replace("key: outside", "key: elsewhere"), "utf-8")
    os.symlink("../../outside.md", root / "content/de/draussen.md")  # relative, to the project root
    os.symlink("/etc/passwd", root / "content/de/passwd.md")  # absolute, to the machine
    os.symlink(root / "elsewhere", root / "content/de/anderswo")  # a whole folder


def _symlinks_dangling(root: Path) -> None:
    os.symlink("geloescht.md", root / "content/de/weg.md")  # its target was deleted
    os.symlink("kreis.md", root / "content/de/kreis.md")  # points at itself


def _bom_and_crlf(root: Path) -> None:
    # Notepad on Windows: a byte-order mark and CR LF line ends. Must build like the original.
    for rel in ("content/de/seite.md", "content/en/index.md"):
        path = root / rel
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))


def _control_character(root: Path) -> None:
    # Pasted from a terminal: an ANSI colour escape in the description on line 3.
    text = "---\ntitle: Eine Seite\ndescription: Rot \x1b[31mmarkiert\x1b[0m.\nkey: page\nslug: seite\n---\n\nText.\n"
    (root / "content/de/seite.md").write_text(text, "utf-8")


def _file_name_not_utf8(root: Path) -> None:
    page = (root / "content/de/seite.md").read_bytes().replace(b"key: page", b"key: office").replace(b"slug: seite", b"slug: buero")
    with open(os.path.join(os.fsencode(root / "content/de"), b"b\xfcro.md"), "wb") as file:  # Latin-1 "büro.md"
        file.write(page)


def _fuzzy_catalog(root: Path) -> dict[str, int]:
    """A translator left one string fuzzy and one untranslated; English has both."""
    lines = {}
    for lang, entries in {
        "de": '#, fuzzy\nmsgid "Welcome, runner"\nmsgstr "Willkommen, Läufer"\n\nmsgid "Read on"\nmsgstr ""\n',
        "en": 'msgid "Welcome, runner"\nmsgstr "Welcome, runner"\n\nmsgid "Read on"\nmsgstr "Read on"\n',
    }.items():
        po = root / f"translations/{lang}/LC_MESSAGES/messages.po"
        text = po.read_text("utf-8").rstrip("\n") + "\n\n" + entries
        po.write_text(text, "utf-8")
        if lang == "de":
            numbered = text.splitlines()
            lines["fuzzy"] = numbered.index('msgid "Welcome, runner"') + 1
            lines["untranslated"] = numbered.index('msgid "Read on"') + 1
    return lines


SETUP: dict[str, Callable[[Path], dict[str, int] | None]] = {
    "not_utf8": _not_utf8,
    "file_too_large": _five_megabytes,
    "symlink_outside_content": _symlinks_outside,
    "symlink_dangling": _symlinks_dangling,
    "bom_and_crlf": _bom_and_crlf,
    "control_character": _control_character,
    "file_name_not_utf8": _file_name_not_utf8,
    "interface_string_fuzzy": _fuzzy_catalog,
}


@dataclass(frozen=True)
class Outcome:
    result: subprocess.CompletedProcess[str]
    site_before: dict[str, str]
    site_after: dict[str, str]
    leftovers: list[str]
    placeholders: dict[str, int]


@pytest.fixture(scope="module")
def built_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base site, built once with the real command line: the 'previous site' of every case."""
    root = make_small_site(tmp_path_factory.mktemp("bad-input-base") / "project")
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="module")
def outcomes(built_base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Break a copy of the built base per case and build it; two builds at a time."""
    folder = tmp_path_factory.mktemp("bad-input")

    def run(case: str) -> Outcome:
        root = folder / case
        shutil.copytree(built_base, root, symlinks=True)
        before = manifest(root / "site")
        shutil.copytree(BAD_INPUT / case, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("expected.txt"))
        placeholders = (SETUP[case](root) if case in SETUP else None) or {}
        result = run_build(root)
        return Outcome(result, before, manifest(root / "site"), staging_leftovers(root), placeholders)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(CASES, pool.map(run, CASES)))


def expected_lines(case: str, placeholders: dict[str, int]) -> list[str]:
    text = (BAD_INPUT / case / "expected.txt").read_text("utf-8")
    for name, value in placeholders.items():
        text = text.replace("{" + name + "}", str(value))
    return text.splitlines()


def test_every_case_states_its_errors() -> None:
    assert len(CASES) >= 35
    for case in CASES:
        lines = (BAD_INPUT / case / "expected.txt").read_text("utf-8").splitlines()
        assert all(ERROR_LINE.match(line) for line in lines), case


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case: str, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[case]
    result = outcome.result
    expected = expected_lines(case, outcome.placeholders)
    assert "Traceback" not in result.stdout + result.stderr
    assert outcome.leftovers == []
    if not expected:  # must build, and to the very site the clean sources give
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert outcome.site_after == outcome.site_before
        return
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[:-1] == expected
    assert lines[-1].startswith(f"{len(expected)} error(s)")
    assert result.stdout == ""
    assert outcome.site_after == outcome.site_before, "a failed build changed the previous site/"
