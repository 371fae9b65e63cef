"""Safe YAML reading that keeps where every key and value came from.

PyYAML composes the document into nodes (no object construction, so no python
tags can run), and this module turns the nodes into plain data itself, with
YAML 1.2 core scalars: `no` stays the string "no" and `1:30` stays "1:30", so
a YAML 1.1 surprise becomes a clear type error later instead of a wrong value.
Duplicate keys, foreign tags, oversized files, alias bombs and deep nesting are refused, and
a syntax error is said in plain words at the line to fix (see `syntax_message`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from storyboard.errors import Diagnostic, FormatError

MAX_BYTES = 1 << 20  # 1 MiB: a storyboard is text; anything larger is a mistake or an attack
MAX_NODES = 200_000  # values built after alias expansion; the 272-byte bomb needs millions
MAX_DEPTH = 64  # nesting of lists and mappings; a storyboard needs about 6 (shots, changes, who, what)

Path_ = tuple  # a path into the data: ("shots", 0, "camera", "move")

_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}
_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}


@dataclass
class Source:
    """Plain data read from one YAML file, with the position of every value and key."""

    file: str
    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    # keys written with no value inside {...}, with the key written before them: in
    # `{voice: soft, hesitant}` the comma ended the value, so 'hesitant' is a bare key
    bare: dict[Path_, tuple[str, str]] = field(default_factory=dict)

    def pos(self, path: Path_, key: bool = False) -> tuple[int, int]:
        """The closest known position of `path` (its key if asked), walking up."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), (1, 1))


class _TooDeep(yaml.YAMLError):
    def __init__(self, mark: yaml.Mark):
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 implicit typing: plain scalars are typed here, by 1.2 rules.
    Composing is recursive, so nesting is counted and cut off long before Python's stack is."""

    yaml_implicit_resolvers: dict = {}

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.add_implicit_resolver(_STD + "merge", re.compile(r"^(?:<<)$"), ["<"])

try:  # libyaml's parser, where PyYAML was built with it (its wheels are), under the same composer
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - a PyYAML without libyaml: the Python parser does it all
    CParser = None


if CParser is not None:
    class _FastLoader(_Loader, CParser):
        """_Loader's composer (its depth limit, anchors and resolvers) over libyaml's parser: a tenth of
        the time (1.1 ms for the bundled example, not 10.6). A document libyaml refuses is read again by
        _Loader, so what a syntax error says is the same either way."""

        check_event, peek_event, get_event = CParser.check_event, CParser.peek_event, CParser.get_event
        dispose = CParser.dispose

        def __init__(self, stream):
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            yaml.composer.Composer.__init__(self)
            self._depth = 0


def _mark(node: yaml.Node | _TooDeep) -> tuple[int, int]:
    mark = node.mark if isinstance(node, _TooDeep) else node.start_mark
    return mark.line + 1, mark.column + 1


def _compose(text: str) -> list:
    if CParser is not None:
        try:
            return list(yaml.compose_all(text, Loader=_FastLoader))
        except _TooDeep:
            raise
        except Exception:  # noqa: BLE001 - a syntax error, or text libyaml cannot take (a lone surrogate):
            pass  # said as the Python parser says it, below
    return list(yaml.compose_all(text, Loader=_Loader))


def read_yaml(text: str | bytes, file: str) -> Source:
    """Read one YAML document into a Source, or raise FormatError naming the place."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise FormatError([Diagnostic(file, 1, 1, f"file is {len(text)} bytes; a storyboard may be at most {MAX_BYTES} bytes")])
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FormatError([Diagnostic(file, 1, 1, f"file is not UTF-8 text ({e.reason} at byte {e.start})")]) from None
    if len(text) > MAX_BYTES:
        raise FormatError([Diagnostic(file, 1, 1, f"file is larger than {MAX_BYTES} bytes")])
    try:
        nodes = _compose(text)
    except _TooDeep as e:
        raise FormatError([Diagnostic.at(file, _mark(e), f"lists and mappings nest more than {MAX_DEPTH} deep here; "
                                                         "a storyboard needs a handful of levels")]) from None
    except yaml.YAMLError as e:
        line, col, message = syntax_message(e, text)
        raise FormatError([Diagnostic(file, line, col, message)]) from None
    if len(nodes) > 1:
        raise FormatError([Diagnostic.at(file, _mark(nodes[1]), "a storyboard is one YAML document; remove the second '---'")])
    src = Source(file=file, data=None)
    if not nodes or nodes[0] is None:
        return src
    builder = _Builder(src)
    src.data = builder.build(nodes[0], ())
    if builder.problems:
        raise FormatError(builder.problems)
    return src


class _Builder:
    def __init__(self, src: Source):
        self.src = src
        self.count = 0
        self.problems: list[Diagnostic] = []

    def fail(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Diagnostic.at(self.src.file, _mark(node), message))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise FormatError([Diagnostic.at(self.src.file, _mark(node),
                                             f"the document expands to more than {MAX_NODES} values (an alias bomb?); refused")])
        self.src.values.setdefault(path, _mark(node))
        if node.tag not in _ALLOWED_TAGS:
            self.fail(node, f"tag '{node.tag}' is not allowed; storyboards hold plain text, numbers, lists and mappings")
            return None
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict:
        out: dict = {}
        merged: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _STD + "merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for s in sources:
                    if not isinstance(s, yaml.MappingNode):
                        self.fail(s, "'<<' merges mappings only")
                        continue
                    for k, v in self.mapping(s, path).items():
                        merged.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, "mapping keys must be plain words")
                continue
            key = self.scalar(key_node)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                self.fail(key_node, f"mapping key {key_node.value!r} must be a word; quote it")
                continue
            key = str(key)
            if (node.flow_style and isinstance(value_node, yaml.ScalarNode) and value_node.value == ""
                    and not value_node.style and value_node.start_mark.index == key_node.end_mark.index):
                k = next(i for i, pair in enumerate(node.value) if pair[0] is key_node)
                before = node.value[k - 1] if k else None
                self.src.bare[path + (key,)] = ((str(before[0].value), str(before[1].value))
                                                if before and isinstance(before[1], yaml.ScalarNode) else ("", ""))
            if key in out:
                first = self.src.keys.get(path + (key,), (0, 0))
                self.fail(key_node, f"duplicate key '{key}' (first at line {first[0]}); a key may appear once")
                continue
            self.src.keys[path + (key,)] = _mark(key_node)
            out[key] = self.build(value_node, path + (key,))
        for k, v in merged.items():
            out.setdefault(k, v)
        return out

    def scalar(self, node: yaml.ScalarNode) -> Any:
        v = node.value
        if node.style:
            return v  # quoted or block scalars are always text
        if v in ("", "~", "null", "Null", "NULL"):
            return None
        if v in ("true", "True", "TRUE"):
            return True
        if v in ("false", "False", "FALSE"):
            return False
        if _INT.match(v):
            return int(v)
        if _FLOAT.match(v) and any(c.isdigit() for c in v):
            return float(v)
        if v.lower() in _SPECIAL_FLOAT:
            return _SPECIAL_FLOAT[v.lower()]
        return v


# -- syntax errors in plain words ---------------------------------------------------------------

_KEY_LINE = re.compile(r"^(\s*)(?:-\s+)*([^\s#:][^:#]*?):(?:\s|$)")


def syntax_message(e: yaml.YAMLError, text: str) -> tuple[int, int, str]:
    """(line, column, message) for a YAML syntax error: where the user should look, what is wrong
    there in a writer's words, and how to fix it. Never the parser's own words."""
    lines = text.splitlines() or [""]

    def line_of(n: int) -> str:  # 1-based
        return lines[n - 1] if 0 < n <= len(lines) else ""

    if isinstance(e, yaml.reader.ReaderError):
        before = text[:e.position]
        line, col = before.count("\n") + 1, e.position - (before.rfind("\n") + 1) + 1
        return line, col, (f"a control character (U+{e.character:04X}) is in the text; remove it" if isinstance(e.character, int)
                           else "the file holds bytes that are not text; save it as UTF-8")
    if not isinstance(e, yaml.MarkedYAMLError):
        return 1, 1, "the file cannot be read as YAML"
    problem, context = e.problem or "", e.context or ""
    pm, cm = e.problem_mark, e.context_mark
    pl, pc = (pm.line + 1, pm.column + 1) if pm else (1, 1)
    cl, cc = (cm.line + 1, cm.column + 1) if cm else (pl, pc)

    opened = _unclosed_quote(text, pl)
    if opened is not None:
        ql, qc, quote, ends = opened
        where = f"is not closed on this line (it runs on to line {ends})" if ends else "is never closed"
        return ql, qc, f"the {quote} opened here {where}; end the text with {quote} on the same line"
    if "quoted scalar" in context and "escape" in problem:
        return pl, pc, ("a backslash inside \"...\" starts an escape YAML does not know here; write \\\\ for a "
                        "backslash, or put the text in '...' quotes")
    if "quoted scalar" in context:
        quote = line_of(cl)[cc - 1:cc] or '"'
        return cl, cc, f"the {quote} opened here is never closed; end the text with {quote} on the same line"
    if "flow sequence" in context or "flow mapping" in context:
        opener, closer = ("[", "]") if "sequence" in context else ("{", "}")
        if problem.startswith("expected ','") and pl == cl:  # broken inside its own line: an unquoted value
            return pl, pc, _flow_value_message(line_of(pl), pc, opener, closer)
        if problem.startswith("expected ','"):
            return cl, cc, (f"the '{opener}' opened here is not closed before line {pl}; end it with '{closer}' "
                            "on its line, and quote any value inside that holds a comma, a colon or a bracket")
    if context.startswith("found duplicate anchor"):
        return pl, pc, (f"this anchor is already defined on line {cl}; give each '&' anchor its own name, or "
                        "quote the text if the '&' is meant")
    if problem == "mapping values are not allowed here":
        text_line = line_of(pl)
        m = _KEY_LINE.match(text_line)
        if m and m.end() <= pc - 1:  # an earlier "key: " on this line: the colon is inside the value
            key, value = m.group(2).strip(), text_line[m.end():].strip()
            q = "'" if '"' in value else '"'
            return pl, pc, (f"the value of '{key}' holds ': ', which YAML reads as a new key; put the whole text "
                            f"in quotes: {key}: {q}{value.replace(q, q + q) if q == chr(39) else value}{q}")
        return _indent_message(lines, pl)
    if problem.startswith("expected <block end>") or problem.startswith("expected <block mapping"):
        after_quote = _text_after_quote(lines, pl, pc)
        if after_quote:
            return pl, pc, after_quote
        return _indent_message(lines, pl)
    if "simple key" in context and "could not find expected ':'" in problem:
        written = line_of(cl).strip()
        return cl, cc, (f"'{written[:40]}' is not 'key: value'; write a colon and a space after the key, "
                        "or quote the line if it is text")
    if "cannot start any token" in problem:
        ch = line_of(pl)[pc - 1:pc]
        if ch == "\t":
            return pl, pc, "a tab: YAML indents with spaces only; replace the tab with spaces"
        return pl, pc, f"a value cannot start with '{ch}'; put the text in quotes"
    if problem.startswith("found undefined alias"):
        name = problem.split("'")[1] if "'" in problem else ""
        return pl, pc, f"'*{name}' refers to no '&{name}' above it; put the text in quotes if the '*' is meant"
    if "block scalar" in context:
        return pl, pc, "the '|' or '>' text block is not indented consistently; indent every line of it alike"
    return pl, pc, ("this line cannot be read as YAML; check its indentation, and quote text that holds ': ' "
                    "or ' #' or starts with one of @ ` | > { [ ! % & *")


def _flow_value_message(line: str, col: int, opener: str, closer: str) -> str:
    """`{description: a keeper: old}`: a value inside {...} or [...] holding ': ' or a bracket."""
    start = max(line.rfind(",", 0, col - 1), line.rfind(opener, 0, col - 1)) + 1
    ends = [i for i in (line.find(",", col - 1), line.find(closer, col - 1)) if i >= 0]
    piece = line[start:min(ends) if ends else len(line)].strip()
    key, sep, value = piece.partition(": ")
    example = f'{key}: "{value}"' if sep and opener == "{" else f'"{piece}"'
    return (f"inside {opener}...{closer} this value breaks off at column {col}; a value that holds ': ', a comma "
            f"or a bracket must be quoted there: {example}")


def _indent_of(line: str) -> int:
    """The column (0-based) where the line's content starts; a '- ' list dash counts as indentation."""
    m = re.match(r"^(\s*(?:-\s+)*)", line)
    return len(m.group(1)) if m else 0


def _is_content(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#")


def _indent_message(lines: list[str], bad: int) -> tuple[int, int, str]:
    """A line that does not line up with the keys above it: say which columns would fit."""
    line = lines[bad - 1] if 0 < bad <= len(lines) else ""
    col = _indent_of(line)
    m = _KEY_LINE.match(line)
    word = (m.group(2).strip() if m else line.strip())[:30]
    block = _text_block_above(lines, bad, col)
    if block:
        return bad, col + 1, (f"'{word}' is indented less than the lines of the text block opened on line {block[0]} "
                              f"(column {block[1] + 1}); indent every line of a '|' or '>' text alike")
    # the columns still open at this line: the line above, then each shallower line above that
    open_cols: list[tuple[int, int, str, bool]] = []  # (column, line, text, is a list dash)
    for n in range(bad - 1, 0, -1):
        above = lines[n - 1]
        if not _is_content(above):
            continue
        dash = len(above) - len(above.lstrip())
        for c, is_dash in ((_indent_of(above), False), (dash, True)):
            if not open_cols or c < open_cols[-1][0]:
                open_cols.append((c, n, above.strip()[:30], is_dash))
        if open_cols and open_cols[-1][0] == 0:
            break
    same = [o for o in open_cols if o[0] == col and o[3]]
    if same:
        item = next((o for o in open_cols if o[0] > col), None)
        to = f"indent it to column {item[0] + 1} to put it in the item above, " if item else ""
        return bad, col + 1, (f"'{word}' is at column {col + 1}, where the list's '- ' items start (line {same[0][1]}); "
                              f"{to}or start a new item with '- '")
    deeper = [o for o in open_cols if o[0] > col]
    shallower = [o for o in open_cols if 0 < o[0] < col]
    if not deeper and open_cols:
        near = open_cols[0]
        return bad, col + 1, (f"'{word}' is indented more than the line above it (column {col + 1}; line {near[1]} "
                              f"starts at column {near[0] + 1}); a key lines up with the other keys of its mapping")
    fits = [min(deeper, key=lambda o: o[0])] if deeper else []
    fits += [max(shallower, key=lambda o: o[0])] if shallower else []
    said = " or ".join(f"column {o[0] + 1} (line {o[1]}, '{o[2]}')" for o in sorted(fits))
    return bad, col + 1, (f"'{word}' at column {col + 1} lines up with no key above it; the keys above start at "
                          f"{said}: indent it exactly like the keys it belongs with")


def _text_block_above(lines: list[str], bad: int, col: int) -> tuple[int, int] | None:
    """(line of the `key: |` or `key: >` that opens a text block right above `bad`, the block's
    column) when `bad` looks like a line of that text indented too little."""
    block_col = None
    for n in range(bad - 1, 0, -1):
        above = lines[n - 1]
        if not above.strip():
            continue
        indent = len(above) - len(above.lstrip())
        if re.search(r":\s*[|>][-+0-9]*\s*(#.*)?$", above):
            return (n, block_col) if block_col is not None and indent < col < block_col else None
        if block_col is not None and indent != block_col:
            return None
        block_col = indent
    return None


def _text_after_quote(lines: list[str], line: int, col: int) -> str:
    """`title: "The" Keeper`: text after a closing quote on the same line."""
    before = (lines[line - 1] if 0 < line <= len(lines) else "")[:col - 1].rstrip()
    if before.endswith(('"', "'")) and (before.count('"') >= 2 or before.count("'") >= 2):
        m = _KEY_LINE.match(lines[line - 1])
        key = m.group(2).strip() if m else "the value"
        return (f"text follows the closing quote of '{key}'; quote the whole value, and inside it write "
                "the other kind of quote (or a ' twice inside '...')")
    return ""


def _unclosed_quote(text: str, error_line: int) -> tuple[int, int, str, int | None] | None:
    """A quoted value that swallowed the lines after it (its quote was never closed on its line):
    (line, column, quote, the line where it ends or None), when the error comes at or after it."""
    found = None
    try:
        for tok in yaml.scan(text, Loader=yaml.SafeLoader):
            if tok.start_mark.line + 1 > error_line:
                break
            if isinstance(tok, yaml.ScalarToken) and tok.style in ('"', "'") and tok.end_mark.line > tok.start_mark.line:
                inner = text[tok.start_mark.index:tok.end_mark.index].splitlines()[1:]
                if any(_KEY_LINE.match(x) for x in inner):  # it swallowed "key: value" lines
                    found = (tok.start_mark.line + 1, tok.start_mark.column + 1, tok.style, tok.end_mark.line + 1)
    except yaml.YAMLError as e:
        if (isinstance(e, yaml.MarkedYAMLError) and "quoted scalar" in (e.context or "") and e.context_mark
                and "escape" not in (e.problem or "")):
            cm = e.context_mark
            rest = text[cm.index:].splitlines()[1:]
            if any(_KEY_LINE.match(x) for x in rest):
                return cm.line + 1, cm.column + 1, text[cm.index], None
    return found
