"""Where the characters stand for the camera: how large a framing makes a head and where it puts
the eyes, where the horizon crosses the frame for the angle, and the blocking that spreads the
figures across the frame, nearer and further. Pure: numbers in, places out."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from storyboard.animatic import look
from storyboard.animatic.look import Figure

FRAMINGS: dict[str, tuple[float, float]] = {
    "extreme-wide": (0.016, 0.62), "wide": (0.048, 0.44), "medium": (0.24, 0.23), "medium-close": (0.32, 0.23),
    "close-up": (0.5, 0.22), "extreme-close-up": (1.25, -0.17), "over-the-shoulder": (0.3, 0.25),
    "pov": (0.2, 0.28), "insert": (0.0, 0.0),
}
BODY = 7.5  # a figure is seven and a half heads tall
DUTCH = 15.0  # degrees
DEPTHS = (1.0, 0.8, 0.92, 0.74, 0.86)  # how near each character stands, by their order on screen


def horizon_for(angle: str, framing: str) -> float:
    """Where the horizon crosses the frame (share of height): at the eyes, low, or high."""
    if angle == "low":
        return 0.8
    if angle == "high":
        return 0.1
    hu, top = FRAMINGS.get(framing, FRAMINGS["medium"])
    if framing == "insert":
        return 0.35
    return min(0.8, max(0.22, top + 0.5 * hu))


@dataclass(frozen=True)
class Place:
    """Where one figure stands in the frame at rest: feet centre x, head top y, head unit, all in
    frame pixels; which way it faces; whether it is the dark shoulder of an over-the-shoulder."""

    fig: Figure
    x: float
    top: float
    hu: float
    facing: str = "front"  # front | left | right | back
    shoulder: bool = False
    chip: bool = True


def blocking(figs: list[Figure], framing: str, w: int, h: int, facing_speaker: str | None,
             redraw: int | None = None) -> list[Place]:
    """Where the characters stand: apart across the frame, alternately nearer and further, scaled
    and placed by the framing (the over-the-shoulder's foreground shoulder included). A `redraw`
    (a new take's seed) moves each a little, as another pass of the same drawing would."""
    if framing == "insert" or not figs:
        return []
    places = _blocking(figs, framing, w, h, facing_speaker)
    if redraw is None:
        return places
    rng = random.Random(redraw)
    return [replace(p, x=p.x + w * rng.uniform(-0.03, 0.03), top=p.top + p.hu * rng.uniform(-0.08, 0.08))
            if not p.shoulder else p for p in places]


def _blocking(figs: list[Figure], framing: str, w: int, h: int, facing_speaker: str | None) -> list[Place]:
    hu_share, top_share = FRAMINGS[framing]
    # sized by the height of a landscape frame; a portrait frame is narrow, so by its width there
    # (a little more: vertical video frames people closer), the eyes kept at the same height
    scale = min(h, w * 1.2)
    eyes = (top_share + 0.5 * hu_share) * h
    hu = hu_share * scale
    top = eyes - 0.5 * hu
    horizon = horizon_for("eye-level", framing) * h
    if framing == "over-the-shoulder":
        subject = next((f for f in figs if f.id == facing_speaker), figs[-1])
        others = [f for f in figs if f is not subject]
        places = [Place(subject, w * 0.63, top, hu, "left")]
        fg = others[0] if others else Figure("", "", (40, 40, 46), None, "adult", (30, 30, 32), "short",
                                             (look.Garment("top", (40, 40, 46)),), ())
        places.insert(0, Place(fg, w * 0.08, h * 0.22, scale * 0.56, "back", shoulder=True, chip=bool(others)))
        for k, f in enumerate(others[1:]):
            places.insert(0, Place(f, w * (0.85 - 0.12 * k), top + hu * 0.8, hu * 0.6, "left"))
        return places
    n = len(figs)
    spacing = min(0.38, 0.76 / n) if framing not in ("close-up", "extreme-close-up") else min(0.44, 0.84 / n)
    full_body = framing in ("extreme-wide", "wide")
    children_only = all(f.age == "child" for f in figs)
    out = []
    for i, f in enumerate(figs):
        depth = DEPTHS[i % len(DEPTHS)] if n > 1 else 1.0
        x = w * (0.5 + (i - (n - 1) / 2) * spacing)
        feet = top + BODY * hu
        feet_d = horizon + (feet - horizon) * depth
        hu_d, top_d = _stature(f.age == "child", full_body, children_only, hu * depth, feet_d, h)
        face = "front" if n == 1 else ("right" if x < w / 2 else "left")
        out.append(Place(f, x, top_d, hu_d, face))
    return sorted(out, key=lambda p: p.hu)  # the furthest drawn first


def _stature(child: bool, full_body: bool, children_only: bool, hu: float, feet: float, h: int) -> tuple[float, float]:
    """A figure's head unit and the top of its head, given an adult's head unit and feet there.
    Seen whole (wide), a child stands as tall as an adult's chest. Closer, the camera frames faces:
    children alone are framed at their own eye level, as adults are; beside adults, a child's head
    sits at an adult's chest, kept above the subtitles, never below the frame."""
    if not child:
        return hu, feet - BODY * hu
    if full_body:
        return 0.7 * hu, feet - BODY * 0.7 * hu
    if children_only:
        return hu, feet - BODY * hu
    small = 0.85 * hu
    return small, min(feet - BODY * hu + 1.2 * hu, 0.74 * h - small)
