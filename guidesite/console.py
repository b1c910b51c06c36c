"""What the terminal shows: a line per build that says when, what changed and what was done,
in colour on a terminal and plain text otherwise, and a progress bar on a long build.

rich decides what the output can take: colours and the bar only on a terminal, none when
NO_COLOR is set, plain text into a pipe or a file (a CI log, a test). Messages are printed
as text, never as rich markup: a '[Name]' placeholder in an error must reach the editor.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

PROGRESS_AFTER = 2.0  # seconds: a build this long shows a progress bar, a shorter one nothing
NAMED_CHANGES = 3  # up to this many changed files are named, more are counted


def console(stderr: bool = False) -> Console:
    """A console on stdout or stderr that prints text as it is, on one line however long."""
    from rich.console import Console  # here: a build into a pipe or a file (CI) need not load rich

    return Console(stderr=stderr, markup=False, highlight=False, emoji=False, soft_wrap=True)


class PlainText:
    """stdout or stderr where rich would print plain text: the stream, written to directly.

    The command line's errors and warnings go through this when the output is no terminal
    (a CI log, a pipe, a test): importing rich and printing each line through it took longer
    than a build with nothing to do (at 5,000 pages, 2,600 warnings: 0.3 s).
    """

    is_terminal = False

    def __init__(self, stderr: bool):
        self.stderr = stderr

    def write(self, text: str) -> None:
        (sys.stderr if self.stderr else sys.stdout).write(text)


def output(stderr: bool = False) -> Console | PlainText:
    """stdout or stderr: PlainText where rich would print no colour or bar, else console()."""
    return PlainText(stderr) if _plain(sys.stderr if stderr else sys.stdout) else console(stderr)


def _plain(stream: object) -> bool:
    """Whether rich takes the stream for no terminal: its Console.is_terminal, step by step."""
    if "IPython" in sys.modules or stream is None:  # a notebook, or no stream (pythonw): rich's own way
        return False
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "0"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force == ""
    try:
        return not stream.isatty()  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no isatty, or the stream closed: rich says no terminal
        return True


# Characters rich's Text removes or expands (tabs): a line with one goes through rich.
_REWRITTEN = frozenset("\t\x07\x08\x0b\x0c\r")


def _print(out: Console | PlainText, styled: str, style: str, text: str) -> None:
    if isinstance(out, PlainText) and _REWRITTEN.isdisjoint(styled) and _REWRITTEN.isdisjoint(text):
        out.write(f"{styled}{text}\n")
        return
    from rich.text import Text

    (console(out.stderr) if isinstance(out, PlainText) else out).print(Text.assemble((styled, style), text))


def print_errors(out: Console | PlainText, errors: Iterable[object]) -> None:
    """Each error as `file:line: message`, the place in bold red on a terminal."""
    for error in errors:
        place, sep, message = str(error).partition(": ")
        _print(out, place + sep, "bold red", message)


def print_warnings(out: Console | PlainText, warnings: Iterable[object]) -> None:
    for warning in warnings:
        _print(out, "warning: ", "yellow", str(warning))


def changed_files(root: Path, paths: Iterable[str]) -> str:
    """'content/de/ursachen.md', 'a.md and b.md', or '5 files', relative to the project."""
    names = sorted({_relative(root, p) for p in paths})
    if len(names) > NAMED_CHANGES:
        return f"{len(names)} files"
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


def _relative(root: Path, path: str) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path


def rebuild_line(changed: str | None, pages: int, rendered: int, seconds: float, errors: int = 0) -> Text:
    """One line per preview build: the time, what changed, what was rebuilt, how long it took."""
    from rich.text import Text

    line = Text(dt.datetime.now().strftime("%H:%M:%S") + "  ", style="dim")
    if changed:
        line.append(changed, style="cyan")
        line.append(" changed: ")
    if errors:
        line.append(f"{errors} error(s)", style="bold red")
        line.append("; the preview shows them and keeps the last good site")
        return line
    what = f"rebuilt {rendered} of {pages} pages" if changed else f"built {pages} pages"
    line.append(what, style="green")
    if changed and rendered < pages:
        line.append(f" ({pages - rendered} unchanged)", style="dim")
    line.append(f" in {seconds:.2f} s")
    return line


def saved_line(changed: str, pages: int, seconds: float) -> Text:
    """The preview's first answer to a save: the saved pages alone, before the full build."""
    from rich.text import Text

    line = Text(dt.datetime.now().strftime("%H:%M:%S") + "  ", style="dim")
    line.append(changed, style="cyan")
    line.append(" changed: ")
    line.append(f"showing {pages} saved page{'s' if pages != 1 else ''}", style="green")
    line.append(f" after {seconds:.2f} s; the full rebuild follows", style="dim")
    return line


@contextlib.contextmanager
def progress(out: Console | PlainText) -> Iterator[None]:
    """A progress bar for the builds inside the block, shown once one has run PROGRESS_AFTER
    seconds and removed when it ends; nothing at all when `out` is not a terminal."""
    if not out.is_terminal:
        yield
        return
    from . import parallel  # here: the bar's only source, and a terminal's only

    bar = _Bar(out)  # type: ignore[arg-type]
    try:
        with parallel.reporting(bar.report):
            yield
    finally:
        bar.close()


class _Bar:
    """rich's Progress, started by a timer: a quick build never flashes a bar."""

    def __init__(self, out: Console):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=out, transient=True)
        self.task: int | None = None
        self.label = ""
        self.lock = threading.Lock()
        self.shown = self.closed = False
        self.timer = threading.Timer(PROGRESS_AFTER, self.show)
        self.timer.daemon = True
        self.timer.start()

    def report(self, label: str, done: int, total: int) -> None:
        if label != self.label or self.task is None:
            if self.task is not None:
                self.progress.remove_task(self.task)
            self.label = label
            self.task = self.progress.add_task(label, total=total)
        self.progress.update(self.task, completed=done)

    def show(self) -> None:
        with self.lock:
            if not self.closed:
                self.progress.start()
                self.shown = True

    def close(self) -> None:
        self.timer.cancel()
        with self.lock:
            self.closed = True
            if self.shown:
                self.progress.stop()
