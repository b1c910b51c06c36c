"""`:::` blocks: callouts (note, warning), care cards, the publisher's address; any other
name is refused. The rules a care card must keep are guidesite/care_cards.py's."""
from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

from ..care_cards import check_care_card, mark_care_headings
from ..config import CareNumbers
from .model import Problem, line_of, report

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

CALLOUTS = ("note", "warning")


def containers_plugin(md: MarkdownIt, numbers: CareNumbers | None = None) -> None:
    """The blocks and how they render; numbers: what this edition's care cards must name
    (none: not checked). Problems are left in env under PROBLEMS."""
    from mdit_py_plugins.container import container_plugin

    for name in (*CALLOUTS, "care", "publisher"):
        md.use(container_plugin, name=name, validate=_container_validate(name))
    md.use(container_plugin, name="unknown", validate=_any_other_container)
    md.core.ruler.push("check_containers", lambda state: _check_containers(state, numbers))
    md.core.ruler.push("mark_care_headings", mark_care_headings)
    rules = md.add_render_rule
    for name in CALLOUTS:
        rules(f"container_{name}_open", _callout)
        rules(f"container_{name}_close", _callout)
    for name, rule in (("care", _care), ("publisher", _publisher), ("unknown", _unknown)):
        rules(f"container_{name}_open", rule)
        rules(f"container_{name}_close", rule)
    rules("heading_open", _heading_open)


def _container_validate(name: str) -> Callable[[str, str], bool]:
    return lambda params, _markup: params.strip().split(" ", 1)[0] == name


def _any_other_container(params: str, _markup: str) -> bool:
    first = params.strip().split(" ", 1)[0]
    return first not in (*CALLOUTS, "care", "publisher")


def _check_containers(state: StateCore, numbers: CareNumbers | None) -> None:
    tokens = state.tokens
    blocks: list[Token] = []  # the ::: blocks open at this point
    for i, token in enumerate(tokens):
        if not token.type.startswith("container_"):
            continue
        if token.nesting == 1:
            blocks.append(token)
        elif blocks:
            opening = blocks.pop()
            if not token.markup:  # closed by the end of the page, not by a line of :::
                report(state.env, line_of(opening), f"'{opening.markup} {opening.info.strip()}' is never closed: end the block with a line of :::")
        if token.type == "container_unknown_open":
            name = token.info.strip().split(" ", 1)[0] or "(none)"
            report(state.env, line_of(token), f"unknown block '::: {name}' (use note, warning, care or publisher)")
        elif token.type == "container_care_open":
            for line, message in check_care_card(tokens, i, numbers):
                report(state.env, line, message)


def _callout(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    if token.nesting == -1:
        return "</aside>\n"
    kind = token.type.removeprefix("container_").removesuffix("_open")
    title = token.info.strip().split(" ", 1)
    gettext = env["ctx"].gettext
    default = gettext("Note") if kind == "note" else gettext("Warning")
    label = title[1].strip() if len(title) > 1 else default
    return (
        f'<aside class="callout callout--{kind}">\n'
        f'<p class="callout__title"><strong>{escape(label)}</strong></p>\n'
    )


def _care(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    if token.nesting == -1:
        return "</div>\n"
    level = (token.info.split() + ["", ""])[1]
    return f'<div class="care-card care-card--{escape(level)}">\n'


def _publisher(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return env["ctx"].publisher_html if tokens[idx].nesting == 1 else ""


def _unknown(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return '<div class="unknown-block">\n' if tokens[idx].nesting == 1 else "</div>\n"


def _heading_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """A care card's heading ends as the page's language says ("… if:") and tells a screen
    reader the card's level before it."""
    token = tokens[idx]
    level = token.meta.get("care_level")
    out = self.renderToken(tokens, idx, options, env)
    if not level:
        return out
    ctx = env["ctx"]
    ending = ctx.gettext("if:")
    if not tokens[idx + 1].content.rstrip().endswith(ending):
        ctx.problems.append(Problem(line_of(token), f"a care card's heading ends with '{ending}'"))
    labels = {"emergency": ctx.gettext("Emergency:"), "urgent": ctx.gettext("Urgent:"), "doctor": ctx.gettext("Non-urgent:")}
    return out + f'<span class="visually-hidden">{escape(labels[level])} </span>'
