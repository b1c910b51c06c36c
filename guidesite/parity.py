"""Do a page's translations say the same thing? Each page is compared with its original.

What is compared is what a reader acts on and what a translator can get wrong without
noticing: the sources cited, the care cards (levels and warning signs), every figure
(normalised, so 2,6 and 2.6 are one number, and each edition's emergency numbers count as
the same), and the order of sections, images, callouts and care cards. Like the number
and tag checks of translation-memory tools, it cannot tell whether a sentence is right,
only that something a reader relies on is missing on one side.

A difference made on purpose is declared in the translation's front matter under
`differences`, as the message names it, with the reason: it is then not reported.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from .content import CONTENT_DIR
from .errors import ContentError
from .outline import Element, Outline
from .site import Entry, Site


@dataclass(frozen=True)
class Pair:
    original: Entry
    translation: Entry


def pairs(site: Site) -> Iterator[Pair]:
    """Each translation with its original: the page its translation_of names, or else the
    default language's page with the same key."""
    default = site.config.default_language
    for entry in site.entries:
        origin = entry.page.meta.translation_of
        original = site.by_rel.get(origin.source) if origin else None
        if original is None and entry.lang != default:
            original = site.by_key.get((default, entry.key))
        if original is not None and original is not entry and original.key == entry.key:
            yield Pair(original, entry)


def compare_translations(site: Site, outlines: dict[str, Outline]) -> list[ContentError]:
    """Every difference between each translation and its original, reported in the file that
    has what the other lacks and naming the other; declared differences left out, and a
    declaration that matches nothing reported as such."""
    found: list[ContentError] = []
    for pair in pairs(site):
        found += _compare(pair, outlines[pair.original.page.rel], outlines[pair.translation.page.rel])
    return found


def _path(entry: Entry) -> str:
    return f"{CONTENT_DIR}/{entry.page.rel}"


def _compare(pair: Pair, original: Outline, translation: Outline) -> list[ContentError]:
    declared = dict(pair.translation.page.meta.differences)
    used: set[str] = set()
    found: list[ContentError] = []
    a, b = pair.original, pair.translation
    hint = f"; if that is intended, declare '{{what}}' under differences in {_path(b)} with the reason"

    def report(here: Entry, line: int, what: str, message: str) -> None:
        if what in declared:
            used.add(what)
        else:
            found.append(ContentError(_path(here), line, message + hint.format(what=what)))

    for here, there, mine, theirs in ((a, b, original, translation), (b, a, translation, original)):
        other = dict(theirs.citations)
        for key, line in mine.citations:
            if key not in other:
                report(here, line, f"source {key}", f"cites source '{key}', which {_path(there)} does not cite")
        other = dict(theirs.figures)
        for figure, line in mine.figures:
            if figure not in other:
                report(here, line, f"figure {figure}", f"the figure {figure} appears here but not in {_path(there)}")

    kept_a = [e for e in original.elements if not _declared(e, declared, used)]
    kept_b = [e for e in translation.elements if not _declared(e, declared, used)]
    order_a, order_b = [e.compared for e in kept_a], [e.compared for e in kept_b]
    # Nearly every pair has the same outline: then there is nothing for difflib to align.
    opcodes = [("equal", 0, len(order_a), 0, len(order_b))] if order_a == order_b else \
        difflib.SequenceMatcher(None, order_a, order_b, autojunk=False).get_opcodes()
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            for x, y in zip(kept_a[i1:i2], kept_b[j1:j2]):
                if x.kind == "care" and x.count != y.count:
                    found.append(ContentError(_path(b), y.line, f"this {_name(y)} lists {y.count} warning signs, the one in "
                                              f"{_path(a)}:{x.line} lists {x.count}" + hint.format(what=y.what)))
            continue
        for here, there, elements, near in ((a, b, kept_a[i1:i2], kept_b[j1:j2]), (b, a, kept_b[j1:j2], kept_a[i1:i2])):
            for element in elements:
                instead = f" (at that place it has {_name(near[0])} at line {near[0].line})" if near else ""
                found.append(ContentError(_path(here), element.line,
                                          f"{_name(element)} has no counterpart in {_path(there)}{instead}" + hint.format(what=element.what)))
    line = pair.translation.page.key_lines.get("differences", 1)
    found += [ContentError(_path(b), line, f"differences: '{what}' is declared, but {_path(b)} and {_path(a)} do not differ in it: remove it")
              for what in declared if what not in used]
    return found


def _declared(element: Element, declared: dict[str, str], used: set[str]) -> bool:
    if element.what in declared:
        used.add(element.what)
        return True
    return False


def _name(element: Element) -> str:
    """How a message names an element: "## 'Was belegt ist' (#belege)", "care card 'urgent'"."""
    if element.kind == "heading":
        hashes = "#" * int(element.compared[1])
        return f"{hashes} heading '{element.label}' ({element.what.removeprefix('heading ')})"
    if element.kind == "care":
        return f"care card '{element.label}'"
    if element.kind == "image":
        return f"image {element.what.removeprefix('image ')}"
    return f"{element.what}" + (f" '{element.label}'" if element.label else "")
