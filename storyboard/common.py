"""Small pure helpers the core shares: merging mappings key by key, stable digests, writing systems."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import Any

# a writing system as Unicode names its letters -> how to say it to a person
SCRIPT_WORDS = {"CJK": "Chinese characters", "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Korean"}


def script(ch: str) -> str:
    """The writing system of a letter, as the first word of its Unicode name (LATIN, CYRILLIC, CJK,
    HIRAGANA...); '' for anything that is not a letter (digits, punctuation, spaces)."""
    if not ch.isalpha():
        return ""
    name = unicodedata.name(ch, "")
    return name.split()[0] if name else ""


def scripts(text: str) -> list[str]:
    """The writing systems of a text's letters, in order of first appearance."""
    return list(dict.fromkeys(s for s in map(script, text) if s))


def deep_merge(base: Any, over: Any, whole: tuple[str, ...] = ()) -> Any:
    """Key by key: mappings merge recursively, anything else in `over` wins. Keys named in
    `whole` are replaced whole rather than merged (a price table, say)."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = v if k in whole else deep_merge(base.get(k), v, whole)
        return out
    return over


def digest(obj: object) -> str:
    """sha256 of a JSON-able value, independent of key order."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def stable_int(*parts: str) -> int:
    """A number that stays the same for the same words, run after run (colours, voices, noise seeds)."""
    return int(hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:12], 16)
