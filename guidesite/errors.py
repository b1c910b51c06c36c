"""The one error type for problems in the sources, and how they are collected."""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Control characters from a file's text or name would break the one-line error format or
# drive the editor's terminal (ANSI escapes): they are shown as escapes instead.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate a misspelt name most likely meant (difflib's ratio of at least 0.6), if any."""
    close = difflib.get_close_matches(word, sorted(set(candidates) - {word}), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the candidate closest to a misspelt name, or "" if none is close."""
    close = closest(word, candidates)
    return f" (did you mean '{close}'?)" if close else ""


def _printable(text: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass(frozen=True, order=True)
class ContentError:
    """A problem an editor can fix: which file, which line, what is wrong."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{_printable(self.path)}:{self.line}: {_printable(self.message)}"


class BuildError(Exception):
    """Raised by a pipeline step that found problems; carries all of them."""

    def __init__(self, errors: list[ContentError]):
        super().__init__(f"{len(errors)} error(s)")
        # By file and line; on one line, in the order found (`<b>` before `</b>`), each once.
        self.errors = sorted(dict.fromkeys(errors), key=lambda e: (e.path, e.line))

    def __reduce__(self) -> tuple[type[BuildError], tuple[list[ContentError]]]:
        # Raised in a worker process, it reaches the main one pickled: with its errors, not
        # with the summary Exception would pass to __init__.
        return BuildError, (self.errors,)


class BuildCancelled(BuildError):
    """The build was told to stop before it finished (the preview: a newer save is waiting).
    A BuildError with no errors, so that the build cache keeps what the build did render."""

    def __init__(self) -> None:
        super().__init__([])

    def __reduce__(self) -> tuple[type[BuildCancelled], tuple[()]]:  # type: ignore[override]
        return BuildCancelled, ()


@dataclass
class ErrorList:
    """Collects errors across a step so the editor sees all of them at once."""

    root: Path
    items: list[ContentError] = field(default_factory=list)

    def add(self, path: Path | str, line: int, message: str) -> None:
        self.items.append(ContentError(self.rel(path), max(line, 1), message))

    def rel(self, path: Path | str) -> str:
        p = Path(path)
        if not p.is_absolute():  # "site/de/404.html": relative to the project, not to where build.py runs
            p = self.root / p
        try:
            # The parent only: a symbolic link is named as the editor's file, not its target.
            return (p.parent.resolve() / p.name).relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return p.as_posix()

    def raise_if_any(self) -> None:
        if self.items:
            raise BuildError(self.items)
