"""What falls and flashes on the frame after the camera: rain and snow that loop without a seam,
lightning, and the dark edges of a point of view."""

from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageDraw


def vignette(w: int, h: int) -> Image.Image:
    """The dark edges of a point of view: clear in the middle, darkening towards the corners."""
    y, x = np.mgrid[0:h, 0:w]
    r = np.sqrt(((x - w / 2) / (w / 2)) ** 2 + ((y - h / 2) / (h / 2)) ** 2)
    alpha = (np.clip((r - 0.62) / 0.6, 0, 1) ** 1.4 * 235).astype(np.uint8)
    out = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    out.putalpha(Image.fromarray(alpha, "L"))
    return out

def rain_tile(w: int, h: int, amount: float, seed: int, snow: bool = False) -> Image.Image:
    """A frame-wide tile twice the frame's height whose lower half repeats the upper: moved down
    one frame height per loop, it falls for ever without a seam."""
    rng = random.Random(seed)
    one = Image.new("RGBA", (w, h), (0, 0, 0, 0))  # one period that wraps at its top and bottom
    d = ImageDraw.Draw(one)
    u = min(w, h) / 720
    count = int((420 if not snow else 260) * amount * w / 1280)
    for _ in range(count):
        x, y = rng.random() * w, rng.random() * h
        size, shade = rng.random(), rng.random()
        for yy in (y, y - h):
            if snow:
                r = (1.5 + size * 3.5) * u
                d.ellipse((x - r, yy - r, x + r, yy + r), fill=(250, 250, 255, 210))
            else:
                length = (18 + size * 26) * u
                d.line((x, yy, x - length * 0.18, yy + length), fill=(205, 215, 235, 95 + int(shade * 60)),
                       width=max(1, int(1.6 * u)))
    im = Image.new("RGBA", (w, 2 * h), (0, 0, 0, 0))
    im.paste(one, (0, 0))
    im.paste(one, (0, h))
    return im

def flashes(seconds: float, seed: int) -> list[float]:
    """When lightning flashes in a storm shot: every four to seven seconds, the first early."""
    out, t, k = [], 0.6 + (seed % 100) / 100 * 1.2, 0
    while t < seconds - 0.3:
        out.append(round(t, 3))
        k += 1
        t += 4 + ((seed >> (k % 16)) % 300) / 100
    return out
