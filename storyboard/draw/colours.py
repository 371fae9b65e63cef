"""Colours every picture shares: one colour per character across the whole film (and every
episode), picked from its id, and the small arithmetic of mixing and shading them."""

from __future__ import annotations

from storyboard.common import stable_int

RGB = tuple[int, int, int]

PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
           "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#aaffc3", "#ffd8b1", "#a9a9a9"]


def character_colour(cid: str) -> str:
    return PALETTE[stable_int("colour", cid) % len(PALETTE)]


def hex_rgb(h: str) -> RGB:
    h = h.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def mix(a, b, k: float) -> RGB:
    """k of the way from colour a to colour b, rounded."""
    return (int(round(a[0] + (b[0] - a[0]) * k)), int(round(a[1] + (b[1] - a[1]) * k)),
            int(round(a[2] + (b[2] - a[2]) * k)))


def shade(c: RGB, k: float) -> RGB:
    """A colour darkened (k < 1) or lightened (k > 1), kept in range."""
    return (max(0, min(255, int(c[0] * k))), max(0, min(255, int(c[1] * k))), max(0, min(255, int(c[2] * k))))


def luminance(c: RGB) -> float:
    return 0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]


def ink_on(fill: RGB) -> RGB:
    """Black or white text, whichever reads on `fill`."""
    return (0, 0, 0) if luminance(fill) > 140 else (255, 255, 255)
