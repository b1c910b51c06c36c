"""Care cards (`::: care emergency|urgent|doctor`): the rules a card must keep, and how its
parts are found among markdown-it's tokens. The Markdown step (guidesite/markdown/containers.py)
registers the container and renders it; the translation check counts cards and their
warning signs with the same helpers (guidesite/outline.py)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .config import CareNumbers, phone_digits

if TYPE_CHECKING:
    from markdown_it.token import Token

CARE_LEVELS = ("emergency", "urgent", "doctor")
MAX_CARE_BULLETS = 6


def _line_of(token: Token) -> int:
    return (token.map[0] + 1) if token.map else 1


def check_care_card(tokens: list[Token], start: int, numbers: CareNumbers | None) -> list[tuple[int, str]]:
    """What is wrong with the care card opening at tokens[start], as (body line, message);
    numbers: what this edition's cards must name (none: not checked)."""
    opening = tokens[start]
    line = _line_of(opening)
    words = opening.info.split()
    if len(words) != 2 or words[1] not in CARE_LEVELS:
        return [(line, f"a care card needs a level: '::: care {'|'.join(CARE_LEVELS)}'")]
    inside = care_card_tokens(tokens, start)
    bullets = care_bullets(inside)
    problems = _check_numbers(words[1], inside, numbers, line) if numbers else []
    if not any(token.type == "heading_open" for token in inside):
        problems.append((line, "a care card starts with a heading such as '### Call 999 if:'"))
    if bullets > MAX_CARE_BULLETS:
        problems.append((line, f"a care card has at most {MAX_CARE_BULLETS} bullets, this one has {bullets}"))
    if bullets == 0:
        problems.append((line, "a care card lists its warning signs as bullets"))
    return problems


def care_card_tokens(tokens: list[Token], start: int) -> list[Token]:
    """The tokens inside the care card that opens at tokens[start]."""
    depth = 0
    for end in range(start + 1, len(tokens)):
        if tokens[end].type == "container_care_open":
            depth += 1
        elif tokens[end].type == "container_care_close":
            if depth == 0:
                return tokens[start + 1:end]
            depth -= 1
    return tokens[start + 1:]


def care_bullets(inside: list[Token]) -> int:
    """A care card's warning signs: the items of its first list."""
    list_level, bullets = None, 0
    for token in inside:
        if token.type == "bullet_list_open" and list_level is None:
            list_level = token.level
        elif token.type == "list_item_open" and list_level is not None and token.level == list_level + 1:
            bullets += 1
    return bullets


_PHONE_DIGITS = re.compile(r"\d(?:[ \u00a0\u202f]?\d)*")


def _check_numbers(level: str, inside: list[Token], numbers: CareNumbers, line: int) -> list[tuple[int, str]]:
    """An emergency card names the edition's emergency number, an urgent card its number for
    urgent advice, and no card names another edition's: a reader in Germany who dials 999
    reaches nobody."""
    named: set[str] = set()
    for token in inside:
        for child in token.children or []:
            content = child.content if child.type in ("text", "code_inline") else str(child.attrGet("href") or "")
            named.update("".join(ch for ch in m.group() if ch.isdigit()) for m in _PHONE_DIGITS.finditer(content))
    problems = []
    if level == "emergency" and phone_digits(numbers.emergency) not in named:
        problems.append((line, f"an emergency card names this edition's emergency number, {numbers.emergency} (site.yaml)"))
    if level == "urgent" and phone_digits(numbers.urgent) not in named:
        problems.append((line, f"an urgent care card names this edition's number for urgent advice, {numbers.urgent} (site.yaml)"))
    problems += [(line, f"this care card names {number}, which is another edition's number: readers of this edition call "
                               f"{numbers.emergency} in an emergency and {numbers.urgent} for urgent advice (site.yaml)")
                 for number in numbers.foreign if phone_digits(number) in named]
    return problems


def mark_care_headings(state: Any) -> None:
    """Tag the first heading inside each care card with the card's level."""
    level = None
    for token in state.tokens:
        if token.type == "container_care_open":
            words = token.info.split()
            level = words[1] if len(words) == 2 and words[1] in CARE_LEVELS else None
        elif token.type == "container_care_close":
            level = None
        elif token.type == "heading_open" and level:
            token.meta["care_level"] = level
            level = None
