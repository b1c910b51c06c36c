"""What the terminal shows: a line per preview build with the time, what changed, what was
rebuilt and how long it took; colours on a terminal only, none with NO_COLOR; a progress
bar on a long build, and none when the output is not a terminal; into a pipe, errors and
warnings written without rich read exactly as rich would print them.

A terminal is a pseudo-terminal here (pty), as in an editor's terminal window.
"""
from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, copy_project

COLOUR = re.compile(r"\x1b\[[0-9;]*m")
# An SGR sequence that sets a foreground colour (30-37, 90-97, 38;…): what NO_COLOR forbids.
FOREGROUND = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])(?:;[0-9;]*)?m")
REBUILT = re.compile(r"^(\d\d):(\d\d):(\d\d)  (.+) changed: rebuilt (\d+) of (\d+) pages(?: \((\d+) unchanged\))? in \d+\.\d\d s$")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


def save(project: Path, *rels: str) -> None:
    for rel in rels:
        path = project / "content" / rel
        path.write_text(path.read_text("utf-8") + "\nEin neuer Absatz.\n", "utf-8")  # the body only: no menu changes


class InTerminal:
    """A command whose stdout and stderr are a pseudo-terminal, read as the editor sees it."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env, cwd=REPO)
        os.close(slave)
        self.seen = ""

    def read_until(self, pattern: str, timeout: float = 120) -> str:
        """Everything printed until `pattern` has appeared (an upper bound, not a speed test)."""
        end = time.monotonic() + timeout
        while not re.search(pattern, COLOUR.sub("", self.seen)):
            assert time.monotonic() < end and self.process.poll() is None, self.seen
            if select.select([self.master], [], [], 1)[0]:
                try:
                    self.seen += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:  # the command has ended and closed its side
                    break
        return self.seen

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        os.close(self.master)


def test_each_preview_build_says_when_what_changed_and_what_was_rebuilt(project: Path) -> None:
    serving = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--root", str(project), "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = serving.stdout.readline()
        assert re.match(r"^\d\d:\d\d:\d\d  built (\d+) pages in \d+\.\d\d s$", first), first
        total = int(re.search(r"built (\d+) pages", first).group(1))
        serving.stdout.readline()  # where to look

        save(project, "de/ursachen.md")
        line = serving.stdout.readline().rstrip("\n")
        found = REBUILT.match(line)
        assert found, line
        assert found.group(4) == "content/de/ursachen.md" and int(found.group(6)) == total
        rebuilt = int(found.group(5))
        assert 1 <= rebuilt < total and int(found.group(7)) == total - rebuilt, "the others came from the cache"
        assert not COLOUR.search(line), "no colour codes into a pipe"

        many = ["de/ursachen.md", "en/causes.md", "de/linderung.md", "en/relief.md"]
        save(project, *many)
        line = serving.stdout.readline().rstrip("\n")
        assert REBUILT.match(line) and REBUILT.match(line).group(4) == f"{len(many)} files", line
    finally:
        serving.send_signal(signal.SIGINT)
        out, err = serving.communicate(timeout=60)
    assert serving.returncode == 0 and "Traceback" not in err, err


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
def test_colours_on_a_terminal_unless_no_color(project: Path, no_color: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    env["TERM"] = "xterm-256color"
    if no_color:
        env["NO_COLOR"] = "1"
    terminal = InTerminal([sys.executable, str(REPO / "build.py"), "--root", str(project), "serve", "--port", "0"], env)
    try:
        terminal.read_until(r"Preview with drafts at")
        save(project, "de/ursachen.md")
        seen = terminal.read_until(r"content/de/ursachen\.md changed: rebuilt")
    finally:
        terminal.stop()
    assert bool(FOREGROUND.search(seen)) is not no_color, seen


def _build_script(root: Path) -> list[str]:
    """The real command line, with the progress bar's delay set to nothing: a test cannot
    wait for a build long enough to pass the real one."""
    return [sys.executable, "-c",
            "import sys; from guidesite import cli, console; console.PROGRESS_AFTER = 0; sys.exit(cli.main(sys.argv[1:]))",
            "--root", str(root), "build", "--no-cache"]


def test_a_long_build_shows_a_progress_bar_on_a_terminal(project: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if k != "NO_COLOR"}, "TERM": "xterm-256color"}
    terminal = InTerminal(_build_script(project), env)
    try:
        seen = COLOUR.sub("", terminal.read_until(r"built \d+ pages \("))
        assert terminal.process.wait(timeout=60) == 0
    finally:
        os.close(terminal.master)
    assert re.search(r"pages rendered\s.*━.*\d+/\d+", seen), seen
    assert re.search(r"built \d+ pages \(", seen)


def test_no_progress_bar_when_the_output_is_no_terminal(project: Path) -> None:
    result = subprocess.run(_build_script(project), capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "pages rendered" not in result.stderr and "━" not in result.stderr + result.stdout
    assert result.stdout.startswith("built ") and len(result.stdout.splitlines()) == 1


# Lines as the build writes them: plain, non-ASCII, longer than any terminal, with markup-like
# brackets, and with the characters rich rewrites (a tab, a bell, a carriage return).
LINES = ["content/de/a.md:3: die Zahl „112“ steht hier, aber nicht in content/en/a.md",
         "content/en/b.md:1: " + "a very long warning " * 30,
         "content/en/c.md:7: [bold]not markup[/bold] and :smile: not an emoji",
         "content/en/d.md:2: a\ttab", "content/en/e.md:2: a bell\x07", "content/en/f.md:2: a carriage\rreturn",
         "content/en/a\ttab.md:4: a tab in the place, before the message"]


@pytest.mark.parametrize("printer", ["print_errors", "print_warnings"])
def test_errors_and_warnings_into_a_pipe_are_what_rich_prints_there(printer: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Into a pipe or a file (CI, tests) the build writes its lines without rich, for speed
    (guidesite/console.py, PlainText): the text must be the same as rich's."""
    from guidesite import console

    write = getattr(console, printer)
    plain = console.output(stderr=False)
    assert isinstance(plain, console.PlainText), "captured output is no terminal: the fast path must be taken"
    write(plain, LINES)
    fast = capsys.readouterr().out
    write(console.console(stderr=False), LINES)
    assert fast == capsys.readouterr().out
    assert len(fast.splitlines()) >= len(LINES)
