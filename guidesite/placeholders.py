"""Placeholders: text in square brackets that stands where a real value must go before
going live ("[Name, qualification]"). They must never pass for real values on a page."""
from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\[[^\[\]\n]*[^\[\]\n\s][^\[\]\n]*\]")


def is_placeholder(value: str) -> bool:
    """Whether the whole value is one placeholder, such as a publisher's '[PLZ]'."""
    return bool(PLACEHOLDER.fullmatch(value.strip()))


def find_placeholder(text: str) -> str | None:
    """The first placeholder in a text, if any."""
    match = PLACEHOLDER.search(text) if "[" in text else None  # most text has none: skip the search
    return match.group() if match else None
