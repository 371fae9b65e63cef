"""Small pure helpers the core shares: merging mappings key by key, stable digests, writing systems."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import Any

# a writing system -> how to say it to a person (the others: their Unicode name, LATIN, CYRILLIC...)
SCRIPT_WORDS = {"CHINESE": "Chinese", "JAPANESE": "Japanese", "HANGUL": "Korean"}


def _script(ch: str) -> str:
    if not ch.isalpha():
        return ""
    name = unicodedata.name(ch, "")
    if "HIRAGANA" in name or "KATAKANA" in name:
        return "KANA"
    return name.split()[0] if name else ""


def char_scripts(text: str) -> list[str]:
    """The writing system of each character of a line ('' for digits, punctuation, spaces), as the
    first word of a letter's Unicode name (LATIN, CYRILLIC, HANGUL...), but JAPANESE for kana and for
    kanji in a line with kana, and CHINESE for han characters in a line without."""
    raw = [_script(ch) for ch in text]
    kana = "KANA" in raw
    return ["JAPANESE" if s == "KANA" or (s == "CJK" and kana) else "CHINESE" if s == "CJK" else s for s in raw]


def scripts(text: str) -> list[str]:
    """The writing systems of a line's letters (`char_scripts`), in order of first appearance."""
    return list(dict.fromkeys(s for s in char_scripts(text) if s))


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


def fast_length(n: int) -> int:
    """The least length >= n with no prime factor above 5: where FFTs and resampling are quick."""
    while True:
        k = n
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return n
        n += 1
