"""The canvas the world is drawn on: larger than the frame (the camera's room) and, for a dutch
angle, larger again so it can be turned without showing its corners."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from storyboard.animatic.camera import Rig
from storyboard.draw.colours import RGB


@dataclass
class Canvas:
    w: int  # frame
    h: int
    rig: Rig
    pad: int
    im: Image.Image
    tilt: float = 0.0

    @property
    def size(self) -> tuple[int, int]:
        return self.rig.canvas

    def fx(self, x: float) -> float:
        """Frame x at rest -> drawing x."""
        return self.pad + self.rig.rest[0] + x

    def fy(self, y: float) -> float:
        return self.pad + self.rig.rest[1] + y

    def layer(self) -> Image.Image:
        return Image.new("RGBA", self.im.size, (0, 0, 0, 0))

    def landmark(self, x0: float) -> bool:
        """Whether a one-of-a-kind piece (a lighthouse, a sign, a door) is drawn in the tile at x0:
        in the tile at rest only, unless the world repeats (tracking), where every tile has it."""
        return bool(self.rig.period) or x0 == 0

    def tiles(self) -> list[float]:
        """Left edges (frame x at rest) of frame-wide tiles covering the whole canvas: set pieces
        repeat per tile, so a tracking shot's world repeats exactly every frame width."""
        cw = self.size[0] + 2 * self.pad
        first = -math.ceil((self.rig.rest[0] + self.pad) / self.w) - 1
        return [k * self.w for k in range(first, math.ceil(cw / self.w) + 2)]

    def finish(self, im: Image.Image) -> Image.Image:
        """Turn (dutch) about the frame's centre at rest, then cut the margin away."""
        if self.tilt:
            cx, cy = self.fx(self.w / 2), self.fy(self.h / 2)
            im = im.rotate(self.tilt, resample=Image.BICUBIC, center=(cx, cy),
                           fillcolor=(0, 0, 0, 0) if im.mode == "RGBA" else None)
        cw, ch = self.size
        return im.crop((self.pad, self.pad, self.pad + cw, self.pad + ch))


def new_canvas(w: int, h: int, rig: Rig, tilt: float) -> Canvas:
    cw, ch = rig.canvas
    pad = int(0.2 * max(cw, ch)) if tilt else 0
    return Canvas(w, h, rig, pad, Image.new("RGB", (cw + 2 * pad, ch + 2 * pad)), tilt)


# ---------------------------------------------------------------------------------------------
# the set


def gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """A vertical gradient from `top` to `bottom`: one column of mixed colours, repeated across (no
    resampling of the whole picture)."""
    w, h = size
    k = np.linspace(0.0, 1.0, max(h, 1))[:, None]
    rows = np.rint(np.asarray(top, float) + (np.asarray(bottom, float) - np.asarray(top, float)) * k).astype(np.uint8)
    return Image.fromarray(rows[:, None, :], "RGB").resize((w, h), Image.NEAREST)

