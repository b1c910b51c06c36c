"""The one error type for problems in the sources, and how they are collected."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class ContentError:
    """A problem an editor can fix: which file, which line, what is wrong."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class BuildError(Exception):
    """Raised by a pipeline step that found problems; carries all of them."""

    def __init__(self, errors: list[ContentError]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = sorted(set(errors))


@dataclass
class ErrorList:
    """Collects errors across a step so the editor sees all of them at once."""

    root: Path
    items: list[ContentError] = field(default_factory=list)

    def add(self, path: Path | str, line: int, message: str) -> None:
        self.items.append(ContentError(self.rel(path), max(line, 1), message))

    def rel(self, path: Path | str) -> str:
        p = Path(path)
        try:
            return p.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return p.as_posix()

    def raise_if_any(self) -> None:
        if self.items:
            raise BuildError(self.items)
