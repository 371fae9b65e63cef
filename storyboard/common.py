"""Small pure helpers the core shares: merging mappings key by key, and stable digests."""

from __future__ import annotations

import hashlib
import json
from typing import Any


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
