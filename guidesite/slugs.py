"""Stable ASCII ids for headings, the same for every spelling of one German heading."""
from __future__ import annotations

import re
import unicodedata

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def slugify(text: str) -> str:
    """'Aufwärmen & Dehnen' -> 'aufwaermen-dehnen'; NFC first so NFD input gives the same id."""
    text = unicodedata.normalize("NFC", text).lower().translate(_GERMAN)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "section"
