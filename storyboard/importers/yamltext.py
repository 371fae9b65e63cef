"""Plain data -> YAML text a person edits: block style, short flow lists, every string safe.

A string is written bare only when it is plainly a word or a few words (`mara`, `dolly in`)
and cannot be read as anything but that string by any YAML reader; everything else is double
quoted with escapes, so colons, quotes, '#', commas, line breaks and control characters come
back exactly as they went in. Comments are made single-line and printable.
"""

from __future__ import annotations

import math
import re
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*(?: [A-Za-z0-9_-]+)*$")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}
# what YAML lets stand unescaped: printable, minus the characters some readers take for line breaks
_SAFE = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}
FLOW_WIDTH = 72


def quote(s: str) -> str:
    """A YAML double-quoted scalar that reads back as exactly `s`."""
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif _SAFE.match(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if v in (float("inf"), float("-inf")):
            return ".inf" if v > 0 else "-.inf"
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    s = str(v)
    return s if _PLAIN.match(s) and s.lower() not in _RESERVED else quote(s)


def comment(text: str) -> str:
    """One comment line's text: no line breaks, nothing a YAML reader refuses."""
    flat = " ".join(str(text).split())
    return "".join(ch if _SAFE.match(ch) else "\ufffd" for ch in flat)


def _is_scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


def _flow(v: Any) -> str | None:
    """A short list or mapping of scalars on one line, else None."""
    if isinstance(v, list) and all(_is_scalar(x) for x in v):
        text = "[" + ", ".join(scalar(x) for x in v) + "]"
    elif isinstance(v, dict) and all(_is_scalar(x) for x in v.values()):
        text = "{" + ", ".join(f"{scalar(k)}: {scalar(x)}" for k, x in v.items()) + "}"
    else:
        return None
    return text if len(text) <= FLOW_WIDTH or not v else None


def entry(key: str, value: Any, indent: int, note: str = "") -> list[str]:
    """`key: value` at `indent`, nested values below it; `note` as its end-of-line comment."""
    pad = " " * indent
    tail = f"  # {comment(note)}" if note else ""
    if _is_scalar(value):
        return [f"{pad}{scalar(key)}: {scalar(value)}{tail}"]
    flow = _flow(value) if not (isinstance(value, list) and any(isinstance(x, dict) for x in value)) else None
    if flow is not None:
        return [f"{pad}{scalar(key)}: {flow}{tail}"]
    return [f"{pad}{scalar(key)}:{tail}"] + block(value, indent + 2)


def block(value: Any, indent: int) -> list[str]:
    """A mapping or list in block style at `indent`."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            lines += entry(k, v, indent)
        return lines
    for item in value:
        if _is_scalar(item):
            lines.append(f"{pad}- {scalar(item)}")
        elif (flow := _flow(item)) is not None and isinstance(item, list):
            lines.append(f"{pad}- {flow}")
        elif not item:
            lines.append(f"{pad}- {'[]' if isinstance(item, list) else '{}'}")
        elif isinstance(item, dict):
            inner = block(item, indent + 2)
            lines.append(f"{pad}- {inner[0][indent + 2:]}")
            lines += inner[1:]
        else:
            lines += [f"{pad}-"] + block(item, indent + 2)
    return lines
