"""A page's outline: what its translations must share with it, read off its Markdown tokens.

The render step makes it from the tokens it parses anyway and the cache keeps it with the
page, so comparing translations (guidesite/parity.py) costs no second parse. It is plain
tuples, which pickle small and load fast.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from babel.numbers import get_decimal_symbol, get_group_symbol

from .config import Language
from .care_cards import care_bullets, care_card_tokens
from .placeholders import find_placeholder

if TYPE_CHECKING:
    from markdown_it.token import Token

EMERGENCY = "emergency number"
URGENT = "urgent-advice number"
_SPACES = " \u00a0\u202f"


@dataclass(frozen=True)
class Element:
    """A heading, image, callout or care card, in the order the page has them."""

    kind: str  # "heading", "image", "callout", "care"
    compared: str  # what must equal the translation's: "h2#evidence", "h3", "image plank.svg", "care urgent"
    what: str  # how messages and declared differences name it: "heading #belege", "care urgent"
    label: str  # for the editor: the heading's text, the callout's title
    line: int  # in the source file
    count: int = 0  # a care card's warning signs


@dataclass(frozen=True)
class Outline:
    elements: tuple[Element, ...]
    figures: tuple[tuple[str, int], ...]  # each number the text names, normalised, at its first line
    citations: tuple[tuple[str, int], ...]  # each source key, at its first citation's line
    links: tuple[str, ...]  # content paths of the pages the body links to
    placeholders: tuple[tuple[str, int], ...]  # "[…]" left in the text, with its line


class NumberReader:
    """Finds the numbers in one language's text and writes them the same way in every language:
    "2,6" (de) and "2.6" (en) are both "2.6"; the edition's emergency and urgent-advice
    numbers become EMERGENCY and URGENT, so that 112 and 999 count as the same figure."""

    def __init__(self, language: Language):
        decimal, group = get_decimal_symbol(language.locale), get_group_symbol(language.locale)
        self.decimal = decimal
        groups = re.escape(group) + (re.escape(_SPACES) if group.strip() == "" else "")
        dec = re.escape(decimal)
        # Each pattern starts with the character it needs and looks behind only then: a pattern
        # that starts with a look-behind is tried at every character of the text (5-170 × slower).
        self._number = re.compile(rf"\d(?<![\d{dec}]\d)(?:\d{{0,2}}(?:[{groups}]\d{{3}})+|\d*)(?:{dec}\d+)?(?!\d)"
                                  rf"|{dec}(?<!\d{dec})\d+")
        self._group = re.compile(f"[{groups}]")
        self.group = group
        self._own = [(re.compile(_spaced_digits(digits)), name)
                     for digits, name in ((language.emergency_digits, EMERGENCY), (language.urgent_digits, URGENT))]

    def read(self, text: str) -> Iterator[str]:
        if not _DIGIT.search(text):  # most lines: one search instead of five
            return
        for pattern, name in self._own:
            if pattern.search(text):
                yield name
                text = pattern.sub(" ", text)
        if "." in text:
            for dotted in dict.fromkeys(_DOTTED.findall(text)):  # in reading order: warnings come out the same every time
                if not self._number_with_dots(dotted):  # "WCAG 2.2", "3.1.2": a version, read alike in every language
                    yield dotted
                    text = text.replace(dotted, " ")
        for match in self._number.finditer(text):
            plain = self._group.sub("", match.group()).replace(self.decimal, ".")
            try:
                value = Decimal(plain)
            except InvalidOperation:
                continue
            yield f"{value.normalize():f}"


    def _number_with_dots(self, dotted: str) -> bool:
        """Whether this language reads "2.6" or "1.000" as a number: as a decimal, or in groups of three."""
        parts = dotted.split(".")
        if self.decimal == "." and len(parts) == 2:
            return True
        return self.group == "." and len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])


_DIGIT = re.compile(r"\d")  # every pattern above needs one
_DOTTED = re.compile(r"\d(?<![\d.,]\d)\d*(?:\.\d+)+(?![\d]|[.,]\d)")


def _spaced_digits(digits: str) -> str:
    """116117 as written on a page: '116 117', '116117', '116 1 17'."""
    return digits[0] + rf"(?<!\d{digits[0]})" + "".join(f"[{_SPACES}]?{d}" for d in digits[1:]) + r"(?!\d)"


def outline_of(tokens: list[Token], rel: str, first_line: int, numbers: NumberReader) -> Outline:
    """The outline of a page's body; first_line is the file's line of the body's first line."""
    elements: list[Element] = []
    figures: dict[str, int] = {}
    citations: dict[str, int] = {}
    links: dict[str, None] = {}
    placeholders: list[tuple[str, int]] = []
    care_depth = 0
    for i, token in enumerate(tokens):
        line = first_line + (token.map[0] if token.map else 0)
        if token.type == "container_care_open":
            care_depth += 1
            level = (token.info.split() + ["", ""])[1]
            elements.append(Element("care", f"care {level}", f"care {level}", level, line, care_bullets(care_card_tokens(tokens, i))))
        elif token.type == "container_care_close":
            care_depth -= 1
        elif token.type.startswith("container_") and token.type.endswith("_open") and token.type != "container_publisher_open":
            kind = token.info.strip().split(" ", 1)
            label = kind[1].strip() if len(kind) > 1 else ""
            elements.append(Element("callout", f"callout {kind[0]}", f"callout {kind[0]}", label, line))
        elif token.type == "heading_open" and not care_depth:
            ident = str(token.attrGet("id"))
            pinned = f"#{ident}" if token.meta.get("pinned") else ""
            text = tokens[i + 1].content.strip()
            elements.append(Element("heading", f"{token.tag}{pinned}", f"heading #{ident}", text, line))
        elif token.type == "inline":
            _read_inline(token, rel, line, numbers, elements, figures, citations, links, placeholders)
    return Outline(tuple(elements), tuple(figures.items()), tuple(citations.items()), tuple(links), tuple(placeholders))


def _read_inline(token: Token, rel: str, line: int, numbers: NumberReader, elements: list[Element],
                 figures: dict[str, int], citations: dict[str, int], links: dict[str, None],
                 placeholders: list[tuple[str, int]]) -> None:
    text: list[str] = []  # the text of the current line, to read numbers and placeholders in

    def flush() -> None:
        joined = "".join(text)
        for figure in numbers.read(joined):
            figures.setdefault(figure, line)
        if placeholder := find_placeholder(joined):
            placeholders.append((placeholder, line))
        text.clear()

    for child in _flat(token.children or []):
        if child.type in ("softbreak", "hardbreak"):
            flush()
            line += 1
        elif child.type in ("text", "code_inline"):
            text.append(child.content)
        elif child.type == "citation":
            text.append(" ")  # "[@a]" between two numbers must not join them
            for key in child.meta["keys"]:
                citations.setdefault(key, line)
        elif child.type == "image":
            name = posixpath.basename(unquote(urlsplit(str(child.attrGet("src"))).path))
            elements.append(Element("image", f"image {name}", f"image {name}", child.content, line))
        elif child.type == "link_open":
            text.append(" ")
            target = unquote(urlsplit(str(child.attrGet("href") or "")).path)
            if target.endswith(".md") and not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                links.setdefault(posixpath.normpath(posixpath.join(posixpath.dirname(rel), target)), None)
        else:
            text.append(" ")
    flush()


def _flat(children: list[Token]) -> Iterator[Token]:
    """Inline tokens with an image's description (its children) after the image itself."""
    for child in children:
        yield child
        if child.type == "image" and child.children:
            yield from _flat(child.children)


EMPTY_OUTLINE = Outline((), (), (), (), ())
