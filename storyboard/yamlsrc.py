"""Safe YAML reading that keeps where every key and value came from.

PyYAML composes the document into nodes (no object construction, so no python
tags can run), and this module turns the nodes into plain data itself, with
YAML 1.2 core scalars: `no` stays the string "no" and `1:30` stays "1:30", so
a YAML 1.1 surprise becomes a clear type error later instead of a wrong value.
Duplicate keys, foreign tags, oversized files and alias bombs are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from storyboard.errors import Diagnostic, FormatError

MAX_BYTES = 1 << 20  # 1 MiB: a storyboard is text; anything larger is a mistake or an attack
MAX_NODES = 200_000  # values built after alias expansion; the 272-byte bomb needs millions

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


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 implicit typing: plain scalars are typed here, by 1.2 rules."""

    yaml_implicit_resolvers: dict = {}


_Loader.add_implicit_resolver(_STD + "merge", re.compile(r"^(?:<<)$"), ["<"])


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


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
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise FormatError([Diagnostic(file, line, col, f"YAML syntax: {e.problem or e.context}")]) from None
    except yaml.YAMLError as e:
        raise FormatError([Diagnostic(file, 1, 1, f"YAML syntax: {e}")]) from None
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
