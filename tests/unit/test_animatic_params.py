"""What the animatic derives without drawing or encoding: camera moves and voices."""

from __future__ import annotations

from storyboard.backends.voices import voice_params
from storyboard.media.camera import move_expressions


def test_every_move_has_expressions():
    from storyboard.model.vocab import MOVES
    seen = set()
    for move in MOVES:
        z, x, y = move_expressions(move, 100)
        assert all(ch not in z + x + y for ch in ";[]'")  # numbers and functions only
        seen.add((z, x, y))
    assert len(seen) == len(MOVES)  # every move looks different


def test_voices_differ_per_character_and_follow_the_description():
    low = voice_params(12345, "low and gravelly")
    bright = voice_params(12345, "quick and bright")
    assert low["pitch"] < 0.9 < 1.1 < bright["pitch"] and bright["pace"] <= 0.9
