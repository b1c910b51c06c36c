"""YAML parsing that keeps line numbers, refuses duplicate keys and leaves dates as text.

Dates stay strings so that an impossible date ("2025-02-30") becomes our own error with
a line number instead of an exception from inside PyYAML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    pass


# libyaml's parser where PyYAML has it: about ten times faster on front matter. It only
# composes; anything it refuses is parsed again by _Loader, whose messages we explain.
class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


# YAML 1.1 reads "21:34" (a volume and page) as 1294, base 60, and "01067" (a postcode)
# as 551, octal: numbers are plain decimal here (or 0x…), anything else stays text.
_NUMBERS = {
    "tag:yaml.org,2002:int": re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$"),
    "tag:yaml.org,2002:float": re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
}
# Drop the implicit timestamp resolver: dates are validated by the schema instead.
_Loader.yaml_implicit_resolvers = _FastLoader.yaml_implicit_resolvers = {
    ch: [(tag, _NUMBERS.get(tag, rx)) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def text_problem(value: Any) -> str | None:
    """What is wrong with a value that must be text, in words an editor can act on."""
    if isinstance(value, str):
        return None if value.strip() else "must not be empty"
    if isinstance(value, (bool, int, float)):
        return f"must be text, but YAML reads it as {'yes/no' if isinstance(value, bool) else 'a number'}: put it in quotes"
    if isinstance(value, (list, dict)):
        return "must be text, not a list: put text that starts with [ or { in quotes"
    return "must be text"


@dataclass(frozen=True)
class YamlProblem(Exception):
    line: int  # 1-based, relative to the parsed text
    message: str


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping with the 1-based line of each key and value."""

    values: dict[str, Any]
    key_lines: dict[str, int]  # top-level key -> line
    start_line: int
    paths: dict[str, int]  # every nested key: "languages[1].code" -> line

    def line(self, path: str) -> int:
        """The line of a dotted path, or of its nearest parent that exists."""
        while path:
            if path in self.paths:
                return self.paths[path]
            path = path.rsplit(".", 1)[0] if "." in path else path.split("[", 1)[0] if "[" in path else ""
        return self.start_line


def _walk(node: yaml.Node, prefix: str, out: dict[str, int]) -> None:
    """The line of every nested key into out; raises YamlProblem for a key given twice in
    one mapping (PyYAML keeps the last silently)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            if path in out and prefix and isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem(key_node.start_mark.line + 1, f"'{path}' is given twice")
            out.setdefault(path, key_node.start_mark.line + 1)
            _walk(value_node, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = f"{prefix}[{i}]"
            out.setdefault(path, item.start_mark.line + 1)
            _walk(item, path, out)


_NO_SPACE = re.compile(r"^\s*([A-Za-z_][\w-]*):(\S.*)$")  # "nav:1"
_FIELD = re.compile(r"^\s+[A-Za-z_][\w-]*\s*:(\s|$)")  # "  nav: 1", indented


def _plain(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str] | None:
    """The usual slips, in plain words, with the line the editor has to change (PyYAML's
    own message often names the line after it): (0-based line, message), or None."""
    lines = text.splitlines()

    def line_at(mark: yaml.Mark | None) -> str:
        return lines[mark.line] if mark and mark.line < len(lines) else ""

    start, end = exc.context_mark, exc.problem_mark
    problem, context = exc.problem or "", exc.context or ""
    if "mapping values are not allowed here" in problem and end and end.line > 0:
        # 'nav:1' above a field: YAML reads the two lines as one text, then trips on this colon.
        if match := _NO_SPACE.match(lines[end.line - 1]):
            key, value = match.groups()
            return end.line - 1, f"'{key}:{value}' needs a space after the colon: write '{key}: {value}'"
    if "could not find expected ':'" in problem and start:
        if match := _NO_SPACE.match(line_at(start)):
            key, value = match.groups()
            return start.line, f"'{key}:{value}' needs a space after the colon: write '{key}: {value}'"
        return start.line, f"'{line_at(start).strip()[:60]}' is not a 'field: value' line: write the field's name, a colon and a space, then the value"
    if "character '\\t'" in problem and end:
        return end.line, "a tab character: indent with spaces, never with tabs"
    if "mapping values are not allowed here" in problem and end and _FIELD.match(line_at(end)):
        return end.line, "this line is indented, but the line above does not open a group of fields: remove the spaces at its start"
    if "end of stream" in problem and "quoted scalar" in context and start:
        quote = line_at(start)[start.column] if start.column < len(line_at(start)) else '"'
        return start.line, f"the quote {quote} that opens here is never closed: end the value with {quote}"
    if "flow sequence" in context or "flow mapping" in context:
        line = start or end
        assert line is not None
        return line.line, "text that starts with [ or { must be in quotes: write \"[…]\""
    if context.startswith("while parsing a block mapping") and end and line_at(end).lstrip().startswith("- "):
        return end.line, "a list item ('- …') must be indented below the field it belongs to"
    if "expected <block end>" in problem and end and re.search(r":\s+'.*'\S", line_at(end)):
        return end.line, "a value in '…' ends at the next ': write an apostrophe inside it twice (it''s), or put the value in \"…\""
    return None


def _explain(exc: yaml.MarkedYAMLError, text: str) -> str:
    """PyYAML's problem, with a hint for the commonest slip and where an unclosed construct began."""
    problem = exc.problem or exc.context or "cannot be parsed"
    if problem == "mapping values are not allowed here":
        problem += " (put text that contains ': ' in quotes)"
    start, end = exc.context_mark, exc.problem_mark
    if exc.context and start and end and start.line != end.line:
        lines = text.splitlines()
        begun = lines[start.line].strip() if start.line < len(lines) else ""
        problem += f" ({exc.context} that begins at '{begun[:60]}')"
    return problem


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_FastLoader)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=_Loader)


def parse_mapping(text: str, what: str = "front matter") -> Mapping:
    """Parse `text` as a YAML mapping, or raise YamlProblem naming the line."""
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        if plain := _plain(exc, text):
            raise YamlProblem(plain[0] + 1, f"{what} is not valid YAML: {plain[1]}") from None
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, f"{what} is not valid YAML: {_explain(exc, text)}") from None
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not accept
        position = getattr(exc, "position", 0)
        line = text.count("\n", 0, position) + 1
        raise YamlProblem(line, f"{what} is not valid YAML: {getattr(exc, 'reason', exc)}") from None
    if node is None:
        return Mapping({}, {}, 1, {})
    if not isinstance(node, yaml.MappingNode) or node.tag != "tag:yaml.org,2002:map":
        kind = {"tag:yaml.org,2002:seq": "a list", "tag:yaml.org,2002:str": "a string"}.get(
            node.tag, "not a mapping"
        )
        raise YamlProblem(node.start_mark.line + 1, f"{what} must be key: value pairs, found {kind}")
    key_lines: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            # A list or mapping as a key ("[a]: b") cannot be a field name, and is unhashable.
            raise YamlProblem(key_node.start_mark.line + 1, f"{what}: a key must be a plain word such as 'title'")
        key = key_node.value
        if key in key_lines:
            raise YamlProblem(key_node.start_mark.line + 1, f"'{key}' is given twice")
        key_lines[str(key)] = key_node.start_mark.line + 1
    paths: dict[str, int] = {}
    _walk(node, "", paths)
    loader = _Loader("")
    try:
        values = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # str(exc) spans several lines; an error is one line of `path:line: message`.
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlProblem(mark.line + 1 if mark else 1, f"{what} cannot be read: {problem}") from None
    finally:
        loader.dispose()
    return Mapping({str(k): v for k, v in values.items()}, key_lines, node.start_mark.line + 1, paths)
