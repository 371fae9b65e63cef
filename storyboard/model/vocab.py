"""The words of the craft the format accepts, and a helper that suggests the nearest one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

FRAMINGS = ("extreme-wide", "wide", "medium", "medium-close", "close-up", "extreme-close-up",
            "over-the-shoulder", "pov", "insert")
ANGLES = ("eye-level", "low", "high", "overhead", "dutch")
MOVES = ("static", "pan left", "pan right", "tilt up", "tilt down", "dolly in", "dolly out",
         "truck left", "truck right", "crane up", "crane down", "zoom in", "zoom out",
         "handheld", "orbit", "tracking")
TRANSITIONS = ("cut", "dissolve", "fade", "fade-to-black", "wipe-left")
CONTINUITY = ("cut", "continuous")


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The closest valid word to a misspelt one, or None when nothing is close."""
    found = difflib.get_close_matches(str(word).lower(), list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown(kind: str, word: object, choices: Iterable[str]) -> str:
    """A message for a word outside a vocabulary: the nearest one, then all valid ones."""
    choices = list(choices)
    hint = nearest(str(word), choices)
    msg = f"unknown {kind} {str(word)!r}"
    if hint:
        msg += f"; did you mean {hint!r}?"
    return msg + ("; valid: " if not hint else " Valid: ") + ", ".join(choices)
