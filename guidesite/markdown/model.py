"""What the Markdown step hands on and takes in: plain data, and the source lines of tokens."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str
    line: int = 1  # 1-based line in the Markdown body


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based line in the Markdown body
    message: str


@dataclass
class ParsedMarkdown:
    """The token stream of one page plus what other pages need to know about it."""

    tokens: list[Token]
    env: dict[str, Any]
    headings: list[Heading]
    problems: list[Problem]


@dataclass(frozen=True)
class Resolved:
    """What a link target became: a URL, or a problem to report."""

    url: str | None = None
    problem: str | None = None
    # A link into another page's heading: (content path, id). Whether that page has the id
    # is known only once every page is rendered, so the render step checks it afterwards.
    needs_id: tuple[str, str] | None = None
    size: tuple[int, int] | None = None  # an image's width and height: the page keeps its place
    lang: str | None = None  # a page in another language than this one's (one not translated yet)


@dataclass(frozen=True)
class NeededId:
    """A link to a heading of another page, to check once all pages are known."""

    line: int  # 1-based line in the Markdown body
    href: str
    target: str  # content path of the linked page
    id: str


@dataclass
class RenderContext:
    """Per-page callbacks and labels the renderer needs; given by the render step."""

    resolve_link: Callable[[str], Resolved]  # "ursachen.md#zerrung" -> URL
    resolve_image: Callable[[str], Resolved]  # "assets/img/plank.svg" -> URL
    known_citation: Callable[[str], bool]
    gettext: Callable[[str], str]
    publisher_html: str
    citation_hint: Callable[[str], str] = lambda key: ""  # " (did you mean …?)" for an unknown key
    citations: list[str] = field(default_factory=list)  # keys, in order of first citation
    problems: list[Problem] = field(default_factory=list)
    needed_ids: list[NeededId] = field(default_factory=list)


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    citations: list[str]
    problems: list[Problem]
    needed_ids: tuple[NeededId, ...] = ()


# Keys of markdown-it's env (one fresh dict per page) under which parsing leaves its findings.
PROBLEMS = "problems"
HEADINGS = "headings"
_LINE_BREAKS = ("softbreak", "hardbreak")


def line_of(token: Token) -> int:
    """A block token's 1-based line in the body (token.map is 0-based)."""
    return (token.map[0] + 1) if token.map else 1


def report(env: dict[str, Any], line: int, message: str) -> None:
    """Keep a problem found while parsing; `Markdown.parse` hands them all on."""
    env.setdefault(PROBLEMS, []).append(Problem(line, message))


def mark_source_lines(state: StateCore) -> None:
    """Core rule: each token inside a paragraph or heading gets meta["line"], its line in the
    body, for the rules that report problems there. Counting line breaks as they pass keeps
    this linear in a paragraph's length."""
    for token in state.tokens:
        if token.type != "inline":
            continue
        line = line_of(token)
        for child in token.children or []:
            if child.type in _LINE_BREAKS:
                line += 1
            child.meta["line"] = line
