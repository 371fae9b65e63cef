"""The world of an animatic shot, drawn for its camera: the set under its sky and weather, and the
characters as mannequins sized and cropped by the framing, seen from the angle, standing apart,
dressed in their current wardrobe with their props. No text but the name chips on the figures."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from storyboard.animatic import look
from storyboard.animatic.camera import Rig
from storyboard.animatic.look import RGB, Figure, SetLook
from storyboard.common import stable_int
from storyboard.draw.fonts import Type

# framing -> (head height as a share of the frame's height, where the top of the nearest head is)
FRAMINGS: dict[str, tuple[float, float]] = {
    "extreme-wide": (0.016, 0.62), "wide": (0.048, 0.44), "medium": (0.24, 0.23), "medium-close": (0.32, 0.23),
    "close-up": (0.5, 0.22), "extreme-close-up": (1.25, -0.17), "over-the-shoulder": (0.3, 0.25),
    "pov": (0.2, 0.28), "insert": (0.0, 0.0),
}
BODY = 7.5  # a figure is seven and a half heads tall
DUTCH = 15.0  # degrees
SKIN = (232, 206, 182)
GLOW = (255, 238, 150)
DEPTHS = (1.0, 0.8, 0.92, 0.74, 0.86)  # how near each character stands, by their order on screen


def skin(colour: RGB) -> RGB:
    """A character's face and hands: skin with a trace of their colour (unique to them, so found by it)."""
    return _mix(colour, SKIN, 0.78)


def chip_colour(colour: RGB) -> RGB:
    """A name chip: the character's colour, a shade lighter (the outline's exact colour marks the figure alone)."""
    return _mix(colour, (255, 255, 255), 0.12)


def _mix(a, b, k: float) -> RGB:
    return (int(round(a[0] + (b[0] - a[0]) * k)), int(round(a[1] + (b[1] - a[1]) * k)),
            int(round(a[2] + (b[2] - a[2]) * k)))


def _shade(c: RGB, k: float) -> RGB:
    return (max(0, min(255, int(c[0] * k))), max(0, min(255, int(c[1] * k))), max(0, min(255, int(c[2] * k))))


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


def blocking(figs: list[Figure], framing: str, w: int, h: int, facing_speaker: str | None) -> list[Place]:
    """Where the characters stand: apart across the frame, alternately nearer and further, scaled
    and placed by the framing (the over-the-shoulder's foreground shoulder included)."""
    if framing == "insert" or not figs:
        return []
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
    out = []
    for i, f in enumerate(figs):
        depth = DEPTHS[i % len(DEPTHS)] if n > 1 else 1.0
        x = w * (0.5 + (i - (n - 1) / 2) * spacing)
        feet = top + BODY * hu
        feet_d = horizon + (feet - horizon) * depth
        hu_d = hu * depth * (0.7 if f.age == "child" else 1.0)  # a child stands as tall as an adult's chest
        face = "front" if n == 1 else ("right" if x < w / 2 else "left")
        out.append(Place(f, x, feet_d - BODY * hu_d, hu_d, face))
    return sorted(out, key=lambda p: p.hu)  # the furthest drawn first


# ---------------------------------------------------------------------------------------------
# the canvas: the world is drawn larger than the frame (the camera's room) and, for a dutch
# angle, larger again so it can be turned without showing its corners


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


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    col = Image.new("RGB", (1, 256))
    for y in range(256):
        col.putpixel((0, y), _mix(top, bottom, y / 255))
    return col.resize(size, Image.BILINEAR)


def draw_set(c: Canvas, s: SetLook, angle: str, horizon: float, feet: float, seed: int,
             location_image: Path | None) -> None:
    """Sky or walls, floor or ground, and the pieces the place's words name, for the angle."""
    W, H = c.w, c.h
    im = c.im
    hz = c.fy(horizon * H)
    im.paste(_gradient(im.size, s.sky[0], s.sky[1]), (0, 0))
    d = ImageDraw.Draw(im, "RGBA")
    u = min(W, H) / 720
    if angle == "overhead":
        _overhead_floor(c, d, s, seed)
    elif s.interior:
        _interior(c, d, s, horizon, feet, u)
    else:
        _exterior(c, d, s, hz, c.fy(feet), u, seed)
    if location_image is not None:
        bg = ImageOps.fit(Image.open(location_image).convert("RGB"), im.size, Image.LANCZOS)
        im.paste(Image.blend(im, bg, 0.45))
    _light(c, s)


def _floor_lines(c: Canvas, d: ImageDraw.ImageDraw, top_y: float, colour, u: float, seed: int) -> None:
    """A floor in perspective. Tracking (a repeating world) gets paving that repeats every frame
    width; otherwise lines run to the vanishing point at the frame's centre."""
    W, H = c.w, c.h
    ih = c.im.size[1]
    lw = max(1, int(2 * u))
    for k in range(1, 10):
        y = top_y + (ih - top_y) * (k / 9) ** 1.8
        d.line((0, y, c.im.size[0], y), fill=colour, width=lw)
    if c.rig.period:
        for x0 in c.tiles():
            for k in range(8):
                for row in range(1, 9):
                    y0 = top_y + (ih - top_y) * (row / 9) ** 1.8
                    y1 = top_y + (ih - top_y) * ((row + 1) / 9) ** 1.8
                    x = c.fx(x0 + W * (k + 0.5 * (row % 2)) / 8)
                    d.line((x, y0, x, y1), fill=colour, width=lw)
    else:
        vx = c.fx(W / 2)
        for i in range(-16, 17):
            d.line((vx, top_y, vx + i * W / 5, top_y + 3 * H), fill=colour, width=lw)


def _exterior(c: Canvas, d: ImageDraw.ImageDraw, s: SetLook, hz: float, feet: float, u: float, seed: int) -> None:
    W, H = c.w, c.h
    iw, ih = c.im.size
    pieces = set(s.pieces)
    night = s.night
    ground = (44, 46, 52) if "street" in pieces else (86, 80, 66) if "sea" in pieces else (62, 84, 52)
    if s.weather.snow:
        ground = (214, 218, 226)
    if night:
        ground = _shade(ground, 0.55)
    if "sea" in pieces:  # the sea between the horizon and the shore the figures stand on
        sea_bottom = hz + min(0.16 * H, max(0.03 * H, 0.6 * (feet - hz)))
        d.rectangle((0, hz, iw, sea_bottom), fill=_shade((40, 70, 96), 0.55 if night else 1))
        for k in range(1, 7):
            y = hz + (sea_bottom - hz) * (k / 7) ** 1.5
            for x0 in c.tiles():
                for j in range(10):
                    x = c.fx(x0 + W * (j + 0.3 * (k % 2)) / 10)
                    d.arc((x, y - 3 * u * k, x + W / 14, y + 3 * u * k), 200, 340,
                          fill=(200, 220, 235, 90), width=max(1, int(u * (1 + k / 3))))
        d.rectangle((0, sea_bottom, iw, ih), fill=ground)
        top = sea_bottom
    else:
        d.rectangle((0, hz, iw, ih), fill=ground)
        top = hz
    _floor_lines(c, d, top, (255, 255, 255, 28), u, seed)
    d.line((0, hz, iw, hz), fill=(255, 255, 255, 70), width=max(1, int(2 * u)))
    for x0 in c.tiles():
        if "street" in pieces:
            for j in range(6):
                bx = c.fx(x0 + W * j / 6)
                bh = H * (0.18 + 0.12 * ((j * 7 + 3) % 5) / 4)
                colour = _shade((60, 64, 78), 0.6 if night else 1.0)
                d.rectangle((bx, hz - bh, bx + W / 6 - 6 * u, hz), fill=colour)
                for wy in range(int(bh // (H * 0.05))):
                    for wx in range(3):
                        lit = night and (j + wx + wy) % 3 != 0
                        win = (250, 210, 120) if lit else (90, 100, 120)
                        x = bx + (wx + 0.4) * W / 22
                        y = hz - bh + (wy + 0.5) * H * 0.05
                        d.rectangle((x, y, x + W / 60, y + H * 0.022), fill=win)
            lx = c.fx(x0 + W * 0.08)
            d.line((lx, hz + 0.08 * H, lx, hz - 0.2 * H), fill=(30, 30, 34), width=max(2, int(5 * u)))
            d.ellipse((lx - 12 * u, hz - 0.2 * H - 10 * u, lx + 12 * u, hz - 0.2 * H + 10 * u),
                      fill=(255, 220, 150, 230) if night else (200, 200, 190))
            if "sign" in pieces and c.landmark(x0):
                sx = c.fx(x0 + W * 0.58)
                d.rounded_rectangle((sx, hz - 0.3 * H, sx + W * 0.16, hz - 0.22 * H), radius=int(8 * u),
                                    outline=(255, 60, 200), width=max(2, int(5 * u)), fill=(60, 10, 50, 200))
                d.rounded_rectangle((sx + 10 * u, hz - 0.29 * H, sx + W * 0.16 - 10 * u, hz - 0.23 * H),
                                    radius=int(6 * u), outline=(60, 240, 255), width=max(1, int(3 * u)))
        if "trees" in pieces:
            for j in range(4):
                tx = c.fx(x0 + W * (j + 0.5) / 4)
                d.rectangle((tx - 6 * u, hz - 0.1 * H, tx + 6 * u, hz + 0.02 * H), fill=(60, 44, 30))
                d.ellipse((tx - 0.07 * W, hz - 0.26 * H, tx + 0.07 * W, hz - 0.08 * H),
                          fill=_shade((46, 96, 52), 0.5 if night else 1))
        if "rocks" in pieces:
            for j in range(3):
                rx = c.fx(x0 + W * (0.1 + 0.33 * j))
                d.polygon([(rx, hz + 0.16 * H), (rx + 0.05 * W, hz + 0.08 * H), (rx + 0.14 * W, hz + 0.1 * H),
                           (rx + 0.2 * W, hz + 0.16 * H)], fill=(40, 40, 44))
        if "lighthouse" in pieces and c.landmark(x0):
            lx = c.fx(x0 + W * 0.8)
            base, tw = hz + 0.08 * H, 0.05 * W
            for k in range(6):
                y0 = base - k * 0.09 * H
                y1 = y0 - 0.09 * H
                shrink = k * 0.004 * W
                d.polygon([(lx - tw / 2 + shrink, y0), (lx + tw / 2 - shrink, y0),
                           (lx + tw / 2 - shrink - 0.004 * W, y1), (lx - tw / 2 + shrink + 0.004 * W, y1)],
                          fill=(230, 230, 226) if k % 2 == 0 else (180, 40, 40))
            top = base - 0.54 * H
            d.rectangle((lx - tw / 3, top - 0.05 * H, lx + tw / 3, top), fill=(255, 230, 150))
            if night:
                d.polygon([(lx, top - 0.025 * H), (lx - 0.5 * W, top - 0.1 * H), (lx - 0.5 * W, top + 0.04 * H)],
                          fill=(255, 240, 180, 50))
    if not (s.weather.rain or s.weather.snow or s.weather.fog) and not c.rig.period:
        sx, sy = c.fx(W * 0.86), max(c.fy(H * 0.3), hz - 0.16 * H)
        r = 0.04 * H
        if night:
            d.ellipse((sx - r, sy - r, sx + r, sy + r), fill=(236, 236, 220))
        elif not s.interior:
            d.ellipse((sx - r, sy - r, sx + r, sy + r), fill=(255, 240, 190, 220))


def _interior(c: Canvas, d: ImageDraw.ImageDraw, s: SetLook, horizon: float, feet: float, u: float) -> None:
    W, H = c.w, c.h
    iw, ih = c.im.size
    night = s.night
    pieces = set(s.pieces)
    if s.vehicle:
        _vehicle(c, d, s, u)
        return
    wall = (120, 108, 92) if not night else (58, 54, 62)
    base = c.fy(min(0.92 * H, horizon * H + 0.35 * max(0.0, feet - horizon * H)))
    d.rectangle((0, 0, iw, base), fill=wall)
    ceiling = c.fy(0.06 * H) if horizon > 0.6 else None
    if ceiling is not None:
        d.rectangle((0, 0, iw, ceiling), fill=_shade(wall, 0.7))
        for x0 in c.tiles():
            for j in range(4):
                x = c.fx(x0 + W * j / 4)
                d.line((x, 0, x, ceiling), fill=_shade(wall, 0.5), width=max(2, int(4 * u)))
    floor = (96, 70, 48) if not night else (52, 40, 32)
    d.rectangle((0, base, iw, ih), fill=floor)
    _floor_lines(c, d, base, (0, 0, 0, 50), u, 0)
    d.line((0, base, iw, base), fill=_shade(wall, 0.55), width=max(2, int(4 * u)))
    wh = min(0.3 * H, (base - c.fy(0)) * 0.5)
    for x0 in c.tiles():
        if "window" in pieces:
            wx0, wy0 = c.fx(x0 + 0.1 * W), base - wh - 0.12 * H
            wx1, wy1 = wx0 + 0.22 * W, wy0 + wh
            c.im.paste(_gradient((int(wx1 - wx0), max(1, int(wy1 - wy0))), s.sky[0], s.sky[1]), (int(wx0), int(wy0)))
            if s.weather.rain:
                for k in range(int(30 * s.weather.rain)):
                    rx = wx0 + (k * 37 % 100) / 100 * (wx1 - wx0)
                    ry = wy0 + (k * 53 % 100) / 100 * (wy1 - wy0)
                    d.line((rx, ry, rx - 3 * u, ry + 14 * u), fill=(210, 220, 235, 150), width=max(1, int(u)))
            if s.weather.snow:
                for k in range(int(25 * s.weather.snow)):
                    rx = wx0 + (k * 37 % 100) / 100 * (wx1 - wx0)
                    ry = wy0 + (k * 53 % 100) / 100 * (wy1 - wy0)
                    d.ellipse((rx, ry, rx + 4 * u, ry + 4 * u), fill=(245, 245, 250))
            d.rectangle((wx0, wy0, wx1, wy1), outline=(40, 34, 30), width=max(3, int(8 * u)))
            d.line(((wx0 + wx1) / 2, wy0, (wx0 + wx1) / 2, wy1), fill=(40, 34, 30), width=max(2, int(5 * u)))
        if "door" in pieces and c.landmark(x0):
            dx = c.fx(x0 + 0.86 * W)
            d.rectangle((dx, base - 0.42 * H, dx + 0.1 * W, base), fill=_shade(wall, 0.6),
                        outline=(40, 34, 30), width=max(2, int(4 * u)))
        if "charts" in pieces:
            for j in range(3):
                px = c.fx(x0 + (0.4 + 0.09 * j) * W)
                py = base - 0.36 * H + (j % 2) * 0.04 * H
                d.rectangle((px, py, px + 0.07 * W, py + 0.09 * H), fill=(226, 218, 190), outline=(90, 80, 60))
                d.line((px + 0.01 * W, py + 0.03 * H, px + 0.06 * W, py + 0.05 * H), fill=(60, 90, 140), width=2)
        if "console" in pieces and c.landmark(x0):
            kx = c.fx(x0 + 0.62 * W)
            d.rectangle((kx, base - 0.2 * H, kx + 0.24 * W, base), fill=(50, 54, 56), outline=(20, 20, 22))
            for j in range(5):
                gx = kx + (j + 0.6) * 0.045 * W
                d.ellipse((gx - 7 * u, base - 0.15 * H - 7 * u, gx + 7 * u, base - 0.15 * H + 7 * u),
                          fill=(90, 240, 140))
        if "lens" in pieces and c.landmark(x0):
            lx, ly = c.fx(x0 + 0.7 * W), base - 0.28 * H
            for k in range(6, 0, -1):
                r = 0.035 * H * k
                d.ellipse((lx - r * 0.8, ly - r, lx + r * 0.8, ly + r), fill=(190, 150, 70) if k % 2 else (250, 226, 160),
                          outline=(120, 90, 40), width=max(1, int(2 * u)))
    if "lamp" in pieces:
        lx, ly = c.fx(0.5 * W), c.fy(0.2 * H)
        glow = Image.new("L", c.im.size, 0)
        ImageDraw.Draw(glow).ellipse((lx - 0.35 * W, ly - 0.35 * W, lx + 0.35 * W, ly + 0.35 * W), fill=70)
        glow = glow.filter(ImageFilter.GaussianBlur(40 * u))
        c.im.paste((255, 214, 140), (0, 0), glow)


def _vehicle(c: Canvas, d: ImageDraw.ImageDraw, s: SetLook, u: float) -> None:
    """Inside a car: the windscreen's view of the street, the dashboard, a wheel."""
    W, H = c.w, c.h
    iw, ih = c.im.size
    night = s.night
    body = (34, 32, 30)
    d.rectangle((0, 0, iw, ih), fill=body)
    for x0 in c.tiles():
        wx0, wy0, wx1, wy1 = c.fx(x0 + 0.04 * W), c.fy(0.08 * H), c.fx(x0 + 0.96 * W), c.fy(0.62 * H)
        c.im.paste(_gradient((int(wx1 - wx0), int(wy1 - wy0)), s.sky[0], s.sky[1]), (int(wx0), int(wy0)))
        for j in range(7):  # the street outside, lights smeared by the wet glass
            bx = wx0 + (wx1 - wx0) * j / 7
            d.rectangle((bx, wy1 - 0.18 * H, bx + (wx1 - wx0) / 8, wy1), fill=(50, 54, 66))
            if night:
                d.ellipse((bx + 10 * u, wy1 - 0.12 * H, bx + 30 * u, wy1 - 0.09 * H),
                          fill=((255, 80, 200) if j % 3 == 0 else (80, 230, 255) if j % 3 == 1 else (255, 200, 120)))
        if s.weather.rain:
            for k in range(int(60 * s.weather.rain)):
                rx = wx0 + (k * 37 % 100) / 100 * (wx1 - wx0)
                ry = wy0 + (k * 61 % 100) / 100 * (wy1 - wy0)
                d.ellipse((rx, ry, rx + 5 * u, ry + 7 * u), fill=(220, 230, 240, 120))
        d.rectangle((wx0, wy0, wx1, wy1), outline=(20, 20, 20), width=max(4, int(12 * u)))
        d.rectangle((c.fx(x0 + 0.44 * W), wy0, c.fx(x0 + 0.56 * W), wy0 + 0.05 * H), fill=(20, 20, 20))
    d.rectangle((0, c.fy(0.78 * H), iw, ih), fill=(26, 24, 24))
    for x0 in c.tiles():
        sx, sy = c.fx(x0 + 0.2 * W), c.fy(0.86 * H)
        d.ellipse((sx - 0.12 * H, sy - 0.12 * H, sx + 0.12 * H, sy + 0.12 * H), outline=(14, 14, 14),
                  width=max(4, int(12 * u)))


def _overhead_floor(c: Canvas, d: ImageDraw.ImageDraw, s: SetLook, seed: int) -> None:
    """Straight down: the floor fills the frame (boards, tarmac with lane marks, water, grass)."""
    W, H = c.w, c.h
    iw, ih = c.im.size
    u = min(W, H) / 720
    pieces = set(s.pieces)
    night = s.night
    k = 0.55 if night else 1.0
    if s.interior or s.vehicle:
        d.rectangle((0, 0, iw, ih), fill=_shade((120, 88, 58), k))
        step = H / 9
        for j in range(int(ih / step) + 1):
            d.line((0, j * step, iw, j * step), fill=_shade((80, 58, 38), k), width=max(1, int(2 * u)))
            for x0 in c.tiles():
                x = c.fx(x0 + (j * 0.37 % 1) * W)
                d.line((x, j * step, x, (j + 1) * step), fill=_shade((80, 58, 38), k), width=max(1, int(2 * u)))
    elif "sea" in pieces and "street" not in pieces:
        d.rectangle((0, 0, iw, ih), fill=_shade((36, 72, 100), k))
        for x0 in c.tiles():
            for j in range(40):
                x = c.fx(x0 + (j * 0.137 % 1) * W)
                y = (j * 0.291 % 1) * ih
                d.arc((x, y, x + W / 12, y + H / 30), 200, 340, fill=(200, 225, 240, 120), width=max(1, int(2 * u)))
    elif "street" in pieces:
        d.rectangle((0, 0, iw, ih), fill=_shade((48, 50, 56), k))
        cy = c.fy(H / 2)
        for x0 in c.tiles():
            for j in range(6):
                x = c.fx(x0 + W * j / 6)
                d.rectangle((x, cy - 4 * u, x + W / 12, cy + 4 * u), fill=(220, 220, 200))
        d.rectangle((0, 0, iw, c.fy(0.12 * H)), fill=_shade((110, 110, 112), k))
    else:
        d.rectangle((0, 0, iw, ih), fill=_shade((70, 100, 58), k))
        for x0 in c.tiles():
            for j in range(60):
                x = c.fx(x0 + (j * 0.173 % 1) * W)
                y = (j * 0.377 % 1) * ih
                d.line((x, y, x + 4 * u, y - 10 * u), fill=_shade((96, 140, 76), k), width=max(1, int(2 * u)))


def _light(c: Canvas, s: SetLook) -> None:
    """Fog as a haze that thickens with distance; the time of day as the light's colour."""
    if s.weather.fog:
        haze = Image.new("L", c.im.size, 0)
        hd = ImageDraw.Draw(haze)
        ih = c.im.size[1]
        for y in range(0, ih, 4):
            k = 1 - abs(y / ih - 0.45) * 1.2
            hd.rectangle((0, y, c.im.size[0], y + 4), fill=int(max(0.15, k) * 150 * min(1.0, s.weather.fog)))
        c.im.paste((200, 204, 210), (0, 0), haze)
    if s.night:
        dark = Image.new("RGB", c.im.size, (10, 14, 40))
        c.im.paste(Image.blend(c.im, dark, 0.25))


# ---------------------------------------------------------------------------------------------
# figures


def _ellipse(cu: float, cv: float, ru: float, rv: float, n: int = 28, a0: float = 0, a1: float = 360):
    return [(cu + ru * math.cos(math.radians(a)), cv + rv * math.sin(math.radians(a)))
            for a in (a0 + (a1 - a0) * k / n for k in range(n + 1))]


def _limb(u0: float, v0: float, u1: float, v1: float, w0: float, w1: float):
    """A tapering quad from (u0, v0) to (u1, v1), w0 and w1 wide at each end."""
    du, dv = u1 - u0, v1 - v0
    length = math.hypot(du, dv) or 1
    nu, nv = -dv / length, du / length
    return [(u0 + nu * w0 / 2, v0 + nv * w0 / 2), (u1 + nu * w1 / 2, v1 + nv * w1 / 2),
            (u1 - nu * w1 / 2, v1 - nv * w1 / 2), (u0 - nu * w0 / 2, v0 - nv * w0 / 2)]


@dataclass
class Body:
    """Maps figure units (u across from the centre line, v down from the top of the head, in head
    heights) to drawing pixels, with the angle's foreshortening."""

    cx: float
    top: float
    hu: float
    angle: str = "eye-level"

    def __call__(self, u: float, v: float) -> tuple[float, float]:
        t = max(0.0, min(1.0, v / BODY))
        if self.angle == "low":  # from below: the feet near and wide, the head far and small
            sx, vv = 0.72 + 0.42 * t, v * (0.9 + 0.024 * v)
        elif self.angle == "high":  # from above: the head near and wide, the legs short
            sx, vv = 1.18 - 0.42 * t, v * (1.0 - 0.045 * v)
        else:
            sx, vv = 1.0, v
        return self.cx + u * self.hu * sx, self.top + vv * self.hu

    def pts(self, poly) -> list[tuple[float, float]]:
        return [self(u, v) for u, v in poly]


@dataclass
class Parts:
    """The shapes of one figure, in drawing order: (points in figure units, fill)."""

    items: list[tuple[list[tuple[float, float]], RGB]] = field(default_factory=list)

    def add(self, poly, fill: RGB) -> None:
        self.items.append((poly, fill))


def figure_parts(p: Place, speaking: bool = False, turn: float = 0.0) -> tuple[Parts, list]:
    """A mannequin for a character: hair, head, neck, clothes in their colours, hands, legs, feet,
    props; the face's features. `turn` (-1..1) turns the face to the frame's left or right."""
    f = p.fig
    parts, features = Parts(), []
    fem = bool(f.female)
    sw = 0.86 if fem else 0.96  # half the shoulders
    skin_c = skin(f.colour) if not p.shoulder else _shade(f.colour, 0.35)
    garments = {g.kind: g for g in f.garments}
    top = garments.get("top") or garments.get("dress") or next(iter(garments.values()), look.Garment("top", (90, 90, 96)))
    outer = garments.get("long") or garments.get("jacket")
    legs_c = garments["trousers"].colour if "trousers" in garments else (58, 60, 68)
    dark = p.shoulder

    def col(c: RGB) -> RGB:
        return _shade(c, 0.3) if dark else c
    hair_c = col(f.hair) if f.hair else None
    back = p.facing == "back"
    shape = {s.shape for s in f.props}
    if "backpack" in shape and not back:
        bp = next(s for s in f.props if s.shape == "backpack")
        parts.add([(-sw - 0.1, 1.3), (sw + 0.1, 1.3), (sw + 0.15, 3.5), (-sw - 0.15, 3.5)], col(bp.colour))
    if hair_c and f.hair_style == "long" and not back:
        parts.add([(-0.46, 0.35), (0.46, 0.35), (0.5, 1.7), (-0.5, 1.7)], hair_c)
    if top.hood and not back:
        parts.add(_ellipse(0, 0.55, 0.58, 0.68), col(top.colour))
    # legs and feet
    parts.add(_limb(-0.36, 3.7, -0.3, 7.2, 0.55, 0.42), col(legs_c))
    parts.add(_limb(0.36, 3.7, 0.3, 7.2, 0.55, 0.42), col(legs_c))
    parts.add(_ellipse(-0.34, 7.3, 0.28, 0.13), col((34, 30, 28)))
    parts.add(_ellipse(0.34, 7.3, 0.28, 0.13), col((34, 30, 28)))
    # skirts and coats hang over the legs
    if "dress" in garments or "skirt" in garments:
        g = garments.get("dress") or garments["skirt"]
        parts.add([(-0.7, 3.3), (0.7, 3.3), (1.05, 5.5), (-1.05, 5.5)], col(g.colour))
    # arms (sleeves of the outer garment or the top), hands
    sleeve = col((outer or top).colour if (outer or top).kind != "vest" else top.colour)
    arm_l = _limb(-sw + 0.05, 1.42, -sw - 0.22, 3.85, 0.42, 0.3)
    arm_r = _limb(sw - 0.05, 1.42, sw + 0.22, 3.85, 0.42, 0.3)
    parts.add(arm_l, sleeve)
    parts.add(arm_r, sleeve)
    parts.add(_ellipse(-sw - 0.23, 4.02, 0.16, 0.2), skin_c)
    parts.add(_ellipse(sw + 0.23, 4.02, 0.16, 0.2), skin_c)
    # neck, torso
    parts.add([(-0.15, 0.85), (0.15, 0.85), (0.17, 1.4), (-0.17, 1.4)], skin_c)
    torso = [(-sw, 1.3), (sw, 1.3), (sw + 0.06, 1.6), (0.64 if fem else 0.7, 3.0), (0.74, 3.8), (-0.74, 3.8),
             (-0.64 if fem else -0.7, 3.0), (-sw - 0.06, 1.6)]
    parts.add(torso, col(top.colour))
    if outer is not None:
        hem = 5.7 if outer.kind == "long" else 3.95
        flare = 1.0 if outer.kind == "long" else 0.8
        coat = [(-sw - 0.04, 1.28), (sw + 0.04, 1.28), (sw + 0.1, 1.6), (flare, hem), (-flare, hem), (-sw - 0.1, 1.6)]
        parts.add(coat, col(outer.colour))
        if not back:
            parts.add([(-0.16, 1.3), (0.16, 1.3), (0.2, hem), (-0.2, hem)], col(top.colour))
            parts.add([(-0.16, 1.3), (-0.02, 1.3), (-0.2, 2.2), (-0.3, 2.1)], col(_shade(outer.colour, 0.8)))
            parts.add([(0.16, 1.3), (0.02, 1.3), (0.2, 2.2), (0.3, 2.1)], col(_shade(outer.colour, 0.8)))
    if "vest" in garments:
        v = garments["vest"]
        parts.add([(-sw + 0.18, 1.32), (sw - 0.18, 1.32), (0.7, 3.7), (-0.7, 3.7)], col(v.colour))
        if v.colour == look.NEON_YELLOW or sum(v.colour) > 560:
            for yv in (2.5, 3.1):
                parts.add([(-0.66, yv), (0.66, yv), (0.68, yv + 0.16), (-0.68, yv + 0.16)], col((200, 204, 210)))
    if "backpack" in shape and not back:
        parts.add(_limb(-0.5, 1.3, -0.45, 2.8, 0.14, 0.14), col((30, 30, 30)))
        parts.add(_limb(0.5, 1.3, 0.45, 2.8, 0.14, 0.14), col((30, 30, 30)))
    # head and hair
    parts.add(_ellipse(0, 0.5, 0.4, 0.5), hair_c if back and hair_c else skin_c)
    if hair_c and not back:
        if f.hair_style != "bald":
            parts.add(_ellipse(0, 0.46, 0.43, 0.47, a0=180, a1=360) + [(0.42, 0.5), (0.3, 0.3), (-0.3, 0.3), (-0.42, 0.5)],
                      hair_c)
        if f.hair_style == "bun":
            parts.add(_ellipse(0, -0.05, 0.2, 0.17), hair_c)
        if f.hair_style == "braid":
            for k in range(6):
                parts.add(_ellipse(0.42 + 0.05 * k, 1.05 + 0.28 * k, 0.13, 0.16), hair_c)
    hat = garments.get("hat")
    if hat:
        parts.add(_ellipse(0, 0.3, 0.46, 0.36, a0=180, a1=360) + [(0.55, 0.32), (-0.55, 0.32)], col(hat.colour))
    if "headphones" in shape:
        parts.add(_ellipse(0, 0.45, 0.47, 0.5, a0=180, a1=360) + [(0.44, 0.45), (0.4, 0.45), (0, 0.02), (-0.4, 0.45)],
                  col((30, 30, 30)))
        parts.add(_ellipse(-0.43, 0.55, 0.12, 0.18), col((30, 30, 30)))
        parts.add(_ellipse(0.43, 0.55, 0.12, 0.18), col((30, 30, 30)))
    # props in the right hand
    for prop in f.props:
        for poly, fill in prop_shape(prop.shape, sw + 0.23, 4.02, prop.colour):
            parts.add(poly, col(fill))
    if not back and not dark:
        features.extend(face_features(f, speaking, turn))
    return parts, features


def prop_shape(shape: str, hu_: float, hv: float, colour: RGB) -> list[tuple[list, RGB]]:
    """A prop held at (hu_, hv), in figure units."""
    c = colour
    if shape == "lantern":
        return [(_ellipse(hu_, hv + 0.05, 0.08, 0.12, a0=180, a1=360), (40, 40, 40)),
                ([(hu_ - 0.17, hv + 0.15), (hu_ + 0.17, hv + 0.15), (hu_ + 0.17, hv + 0.68), (hu_ - 0.17, hv + 0.68)], c),
                ([(hu_ - 0.11, hv + 0.24), (hu_ + 0.11, hv + 0.24), (hu_ + 0.11, hv + 0.58), (hu_ - 0.11, hv + 0.58)],
                 (255, 226, 140))]
    if shape in ("bag",):
        return [([(hu_ - 0.25, hv + 0.1), (hu_ + 0.25, hv + 0.1), (hu_ + 0.3, hv + 0.7), (hu_ - 0.3, hv + 0.7)], c)]
    if shape in ("phone", "camera"):
        return [([(hu_ - 0.09, hv - 0.3), (hu_ + 0.09, hv - 0.3), (hu_ + 0.09, hv + 0.05), (hu_ - 0.09, hv + 0.05)], c)]
    if shape in ("cup", "flask"):
        tall = 0.45 if shape == "flask" else 0.26
        return [([(hu_ - 0.12, hv - tall), (hu_ + 0.12, hv - tall), (hu_ + 0.1, hv + 0.05), (hu_ - 0.1, hv + 0.05)], c)]
    if shape == "book":
        return [([(hu_ - 0.28, hv - 0.2), (hu_ + 0.1, hv - 0.2), (hu_ + 0.1, hv + 0.28), (hu_ - 0.28, hv + 0.28)], c)]
    if shape == "umbrella":
        return [(_limb(hu_, hv - 0.1, hu_ + 0.05, hv + 2.2, 0.08, 0.06), (30, 30, 30)),
                ([(hu_ - 0.18, hv + 0.3), (hu_ + 0.18, hv + 0.3), (hu_ + 0.06, hv + 1.9), (hu_ - 0.06, hv + 1.9)], c)]
    if shape in ("gun", "torch", "knife", "cigarette"):
        return [(_limb(hu_ - 0.05, hv, hu_ + 0.55, hv - 0.1, 0.14, 0.1), c)]
    if shape in ("key", "coins"):
        return [(_ellipse(hu_ + 0.05, hv - 0.12, 0.1, 0.1), c)]
    return []


def face_features(f: Figure, speaking: bool, turn: float) -> list[tuple[str, list, RGB, float]]:
    """Eyes, brows, nose, mouth (open while speaking), glasses: (kind, figure-unit points, colour, width)."""
    ink = (40, 30, 30)
    du = 0.13 * turn
    out: list[tuple[str, list, RGB, float]] = []
    for side in (-1, 1):
        near = 1 - 0.35 * max(0.0, side * -turn)
        ex = side * 0.15 * near + du
        out.append(("poly", _ellipse(ex, 0.5, 0.05 * near, 0.045), ink, 0))
        out.append(("line", [(ex - 0.08 * near, 0.4), (ex + 0.08 * near, 0.39)], ink, 0.035))
        if f.glasses:
            out.append(("ring", _ellipse(ex, 0.5, 0.11 * near, 0.09), (30, 30, 30), 0.03))
    out.append(("line", [(du + 0.02, 0.55), (du + 0.05 * (1 if turn >= 0 else -1), 0.66), (du, 0.67)], _shade(ink, 1.6), 0.025))
    if speaking:
        out.append(("poly", _ellipse(du, 0.79, 0.09, 0.06), (90, 30, 40), 0))
    else:
        out.append(("line", [(du - 0.08, 0.78), (du + 0.08, 0.78)], _shade(ink, 1.4), 0.03))
    return out


def draw_figure(layer: Image.Image, body: Body, p: Place, u: float, speaking: bool = False, lit: bool = False,
                turn: float = 0.0) -> None:
    """Draw a figure onto an RGBA layer: an outline in the character's colour (inside a glow when
    lit), the shapes, the face."""
    d = ImageDraw.Draw(layer)
    parts, features = figure_parts(p, speaking, turn)
    lw = max(1.5, min(body.hu * 0.07, 5 * u))
    rim = GLOW if lit else (_shade(p.fig.colour, 0.4) if p.shoulder else p.fig.colour)
    rim_w = lw + (min(max(3.0, body.hu * 0.12), 9 * u) if lit else 0)
    for poly, _ in parts.items:  # pass 1: the outline, as the shapes grown by a stroke
        pts = body.pts(poly)
        d.polygon(pts, fill=rim)
        d.line(pts + [pts[0]], fill=rim, width=int(round(2 * rim_w)), joint="curve")
    if lit:  # inside the glow, the character's own outline
        for poly, _ in parts.items:
            pts = body.pts(poly)
            d.line(pts + [pts[0]], fill=p.fig.colour, width=int(round(2 * lw)), joint="curve")
    for poly, fill in parts.items:  # pass 2: the shapes
        d.polygon(body.pts(poly), fill=fill)
    for kind, poly, colour, width in features:
        pts = body.pts(poly)
        if kind == "poly":
            d.polygon(pts, fill=colour)
        elif kind == "ring":
            d.line(pts, fill=colour, width=max(1, int(width * body.hu)))
        else:
            d.line(pts, fill=colour, width=max(1, int(width * body.hu)), joint="curve")
    if speaking and lit and not p.shoulder:
        mx, my = body(0.5 + 0.13 * turn, 0.78)
        for k in range(1, 4):
            r = body.hu * 0.16 * k
            d.arc((mx - r, my - r, mx + r, my + r), -40, 40, fill=GLOW, width=max(2, int(min(body.hu * 0.04, 6 * u))))


def chip_size(fig: Figure, t: Type, caption: Type | None, max_w: float) -> tuple[str, str, float, float]:
    """The name (cut to fit), the caption (wardrobe and props, cut to fit), and the width and height
    of the two boxes stacked."""
    pad = t.size * 0.35
    name = t.fit(fig.name, max(t.size * 2.0, max_w - 2 * pad))
    words = " · ".join(x for x in (fig.wardrobe, fig.props_words) if x) if caption else ""
    cap = caption.fit(words, max(caption.size * 4, max_w - 2 * pad)) if caption and words else ""
    width = max(t.length(name), caption.length(cap) if cap else 0) + 2 * pad
    height = t.line_height + pad * 0.6 + ((caption.line_height + pad) if cap else 0)
    return name, cap, width, height


def draw_chip(layer: Image.Image, fig: Figure, t: Type, caption: Type | None, cx: float, y: float, max_w: float,
              lit: bool) -> None:
    """The name chip in the character's colour (lit: in the glow) and, under it, what they wear and carry."""
    d = ImageDraw.Draw(layer)
    name, cap, _, _ = chip_size(fig, t, caption, max_w)
    pad = t.size * 0.35
    tw = t.length(name)
    box = (cx - tw / 2 - pad, y, cx + tw / 2 + pad, y + t.line_height + pad * 0.6)
    fill = GLOW if lit else chip_colour(fig.colour)
    d.rounded_rectangle(box, radius=int(t.size * 0.4), fill=fill, outline=(0, 0, 0), width=max(1, int(t.size / 12)))
    lum = 0.3 * fill[0] + 0.59 * fill[1] + 0.11 * fill[2]
    t.draw(d, (cx - tw / 2, y + pad * 0.3), name, (0, 0, 0) if lum > 140 else (255, 255, 255))
    if cap and caption is not None:
        cw = caption.length(cap)
        cy = box[3] + pad * 0.4
        d.rounded_rectangle((cx - cw / 2 - pad, cy, cx + cw / 2 + pad, cy + caption.line_height + pad * 0.4),
                            radius=int(caption.size * 0.3), fill=(0, 0, 0, 160))
        caption.draw(d, (cx - cw / 2, cy + pad * 0.2), cap, (235, 235, 230))


def draw_overhead_figure(layer: Image.Image, x: float, y: float, hu: float, p: Place, lit: bool,
                         chip: Type | None) -> None:
    """A character seen from straight above: shoulders, arms, the crown of the head."""
    d = ImageDraw.Draw(layer)
    f = p.fig
    garments = {g.kind: g for g in f.garments}
    outer = garments.get("long") or garments.get("jacket") or garments.get("top") or next(iter(garments.values()))
    rim = GLOW if lit else f.colour
    lw = max(2, int(hu * (0.25 if lit else 0.08)))
    d.ellipse((x - 1.1 * hu + 0.35 * hu, y - 0.5 * hu + 0.3 * hu, x + 1.1 * hu + 0.35 * hu, y + 0.5 * hu + 0.3 * hu),
              fill=(0, 0, 0, 90))  # the shadow, cast down and to the right
    shapes = [((x - 1.0 * hu, y - 0.42 * hu, x + 1.0 * hu, y + 0.42 * hu), outer.colour),
              ((x - 1.15 * hu, y - 0.2 * hu, x - 0.75 * hu, y + 0.3 * hu), outer.colour),
              ((x + 0.75 * hu, y - 0.2 * hu, x + 1.15 * hu, y + 0.3 * hu), outer.colour),
              ((x - 0.42 * hu, y - 0.48 * hu, x + 0.42 * hu, y + 0.36 * hu), f.hair or skin(f.colour))]
    for box, _ in shapes:
        d.ellipse((box[0] - lw, box[1] - lw, box[2] + lw, box[3] + lw), fill=rim)
    for box, fill in shapes:
        d.ellipse(box, fill=fill)
    d.ellipse((x - 0.12 * hu, y + 0.2 * hu, x + 0.12 * hu, y + 0.38 * hu), fill=skin(f.colour))  # the nose
    if chip is not None and f.name:
        name = chip.fit(f.name, hu * 6)
        tw = chip.length(name)
        pad = chip.size * 0.35
        by = y + 0.7 * hu
        fill = GLOW if lit else chip_colour(f.colour)
        d.rounded_rectangle((x - tw / 2 - pad, by, x + tw / 2 + pad, by + chip.line_height + pad * 0.6),
                            radius=int(chip.size * 0.4), fill=fill, outline=(0, 0, 0))
        lum = 0.3 * fill[0] + 0.59 * fill[1] + 0.11 * fill[2]
        chip.draw(d, (x - tw / 2, by + pad * 0.3), name, (0, 0, 0) if lum > 140 else (255, 255, 255))


def draw_insert(layer: Image.Image, c: Canvas, prop: look.Prop | None, label: str, t: Type) -> None:
    """An insert: the object, large, on a surface, with its name."""
    d = ImageDraw.Draw(layer)
    W, H = c.w, c.h
    d.rectangle((c.fx(-W), c.fy(0.62 * H), c.fx(2 * W), c.fy(2 * H)), fill=(92, 66, 44))
    d.line((c.fx(-W), c.fy(0.62 * H), c.fx(2 * W), c.fy(0.62 * H)), fill=(50, 36, 24), width=max(2, int(H / 180)))
    hu = 0.42 * H
    body = Body(c.fx(0.5 * W), c.fy(0.22 * H), hu)
    shape = prop.shape if prop else "book"
    colour = prop.colour if prop else (200, 190, 170)
    for poly, fill in prop_shape(shape, 0, 0.6, colour) or [([(-0.4, 0.3), (0.4, 0.3), (0.4, 0.95), (-0.4, 0.95)], colour)]:
        pts = body.pts(poly)
        d.polygon(pts, fill=fill, outline=(20, 20, 20))
        d.line(pts + [pts[0]], fill=(20, 20, 20), width=max(2, int(H / 200)))
    if label:
        text = t.fit(label.upper(), W * 0.8)
        tw = t.length(text)
        y = c.fy(0.66 * H)
        d.rounded_rectangle((c.fx(W / 2) - tw / 2 - t.size * 0.4, y, c.fx(W / 2) + tw / 2 + t.size * 0.4,
                             y + t.line_height + t.size * 0.3), radius=int(t.size * 0.3), fill=(0, 0, 0, 160))
        t.draw(d, (c.fx(W / 2) - tw / 2, y + t.size * 0.15), text, (250, 240, 210))


def draw_pov_hands(layer: Image.Image, c: Canvas, fig: Figure) -> None:
    """The viewer of a point-of-view shot: only their forearms and hands (and what they hold),
    reaching in from the bottom of the frame."""
    W, H = c.w, c.h
    hu = 0.3 * H
    garments = {g.kind: g for g in fig.garments}
    sleeve = (garments.get("long") or garments.get("jacket") or garments.get("top")
              or next(iter(garments.values()))).colour
    d = ImageDraw.Draw(layer)
    for side in (-1, 1):
        body = Body(c.fx(W * (0.5 + side * 0.27)), c.fy(H * 0.66), hu)
        arm = _limb(side * 0.55, 1.4, 0, 0.55, 0.75, 0.5)
        palm = [(-0.24, 0.62), (0.24, 0.62), (0.27, 0.2), (-0.27, 0.2)]
        fingers = [_ellipse(k * 0.135, 0.14, 0.065, 0.16) for k in (-1.5, -0.5, 0.5, 1.5)]
        thumb = _ellipse(-side * 0.3, 0.4, 0.08, 0.15)
        shapes = [(arm, sleeve)] + [(poly, skin(fig.colour)) for poly in (palm, thumb, *fingers)]
        for poly, _ in shapes:
            pts = body.pts(poly)
            d.polygon(pts, fill=fig.colour)
            d.line(pts + [pts[0]], fill=fig.colour, width=max(2, int(hu * 0.05)), joint="curve")
        for poly, fill in shapes:
            d.polygon(body.pts(poly), fill=fill)
        if side == 1 and fig.props:
            for poly, fill in prop_shape(fig.props[0].shape, 0, 0.2, fig.props[0].colour):
                d.polygon(body.pts(poly), fill=fill, outline=(20, 20, 20))


def vignette(w: int, h: int) -> Image.Image:
    """The dark edges of a point of view: clear in the middle, darkening towards the corners."""
    import numpy as np
    y, x = np.mgrid[0:h, 0:w]
    r = np.sqrt(((x - w / 2) / (w / 2)) ** 2 + ((y - h / 2) / (h / 2)) ** 2)
    alpha = (np.clip((r - 0.62) / 0.6, 0, 1) ** 1.4 * 235).astype(np.uint8)
    out = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    out.putalpha(Image.fromarray(alpha, "L"))
    return out


def rain_tile(w: int, h: int, amount: float, seed: int, snow: bool = False) -> Image.Image:
    """A frame-wide tile twice the frame's height whose lower half repeats the upper: moved down
    one frame height per loop, it falls for ever without a seam."""
    import random
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


def seed_of(*parts: str) -> int:
    return stable_int("stage", *parts)


def chip_type(framing: str, h: int, w: int) -> tuple[Type, Type]:
    u = min(w, h) / 720
    size = 18 if framing == "extreme-wide" else 23
    return Type(size * u, bold=True), Type(15 * u)


# ---------------------------------------------------------------------------------------------
# the whole shot


@dataclass
class Sprite:
    """A figure drawn apart from the world: laid over it before the camera, at (x, y) of the canvas."""

    image: Image.Image
    x: int
    y: int
    who: str
    lit: bool  # drawn speaking, with a glow: shown only while they speak
    rides: bool  # moves with the camera (tracking, orbit) or against the world (truck)
    state: tuple[float, float] | None = None  # shown only in this part of the shot (orbit: the turns)


@dataclass
class Composition:
    world: Image.Image
    sprites: list[Sprite]
    screen: list[tuple[str, Image.Image]]  # ("rain" | "snow" | "flash" | "vignette", frame-sized layer)
    flashes: list[float]


def compose(panel: dict, w: int, h: int, rig: Rig, seconds: float, speaking: dict[str, list[tuple[float, float]]],
            portraits: dict[str, Path] | None = None, location_image: Path | None = None) -> Composition:
    """Draw a shot's world and figures for its rig. `speaking`: each on-screen speaker's lines
    (start, end) in seconds, for the figures drawn lit while they speak."""
    cam = panel["camera"]
    framing, angle = cam["framing"], cam["angle"]
    tilt = DUTCH if angle == "dutch" else 0.0
    c = new_canvas(w, h, rig, tilt)
    loc = panel.get("set") or {}
    s = look.set_look(loc.get("description", ""), loc.get("time", ""), loc.get("weather", ""), loc.get("lighting", ""))
    portraits = portraits or {}
    figs = [look.figure(ch["id"], ch["name"], tuple(ch["rgb"]), ch["description"], ch["wardrobe"], ch["props"],
                        ch["voice"], ch.get("portrait")) for ch in panel["characters"]]
    first_speaker = next((ln["speaker"] for ln in panel.get("dialogue", []) if ln.get("on_screen")), None)
    viewer = figs[0] if framing == "pov" and figs else None
    seen = figs[1:] if viewer is not None else figs
    places = blocking(seen, framing, w, h, first_speaker)
    horizon = horizon_for(angle, framing)
    front_feet = max((p.top + BODY * p.hu for p in places if not p.shoulder), default=h * 0.85)
    seed = seed_of(panel["id"], loc.get("description", ""))
    draw_set(c, s, angle, horizon, front_feet, seed, location_image)
    chip_t, caption_t = chip_type(framing, h, w)
    body_angle = angle if angle in ("low", "high") else "eye-level"
    n = max(1, len(seen))
    slot = w * (min(0.38, 0.76 / n) if n > 1 else 0.5)
    turns = [(0.7, (0.0, seconds / 3)), (0.0, (seconds / 3, 2 * seconds / 3)), (-0.7, (2 * seconds / 3, seconds + 1))] \
        if rig.turns else [(None, None)]
    rides = rig.follow is not None
    base = c.layer()
    sprites: list[Sprite] = []

    u = min(w, h) / 720
    picture_top = h * 0.2  # below the HUD's band

    def paint(layer: Image.Image, p: Place, lit: bool, turn: float | None) -> None:
        if angle == "overhead":
            k = places.index(p)
            oy = h * (0.5 + (0.14 if k % 2 else -0.04) * (1 if n > 1 else 0))
            draw_overhead_figure(layer, c.fx(p.x), c.fy(oy), min(p.hu * 1.8, h * 0.3), p, lit, chip_t)
            return
        body = Body(c.fx(p.x), c.fy(p.top), p.hu, body_angle)
        face = {"left": -0.6, "right": 0.6}.get(p.facing, 0.0) if turn is None else turn
        draw_figure(layer, body, p, u, speaking=lit, lit=lit, turn=face)
        if not p.chip or not p.fig.name:
            return
        height = BODY * p.hu
        if height <= 0.45 * h:  # a small figure: the name over the head, the clothes under the feet
            _, _, cw, ch = chip_size(p.fig, chip_t, None, slot)
            cx = min(max(p.x, cw / 2 + 4 * u), w - cw / 2 - 4 * u)
            draw_chip(layer, p.fig, chip_t, None, c.fx(cx), c.fy(p.top - ch - 0.25 * p.hu), slot, lit)
            _, cap, cw2, _ = chip_size(p.fig, caption_t, caption_t, slot)
            feet = p.top + height
            if cap and feet + 0.2 * p.hu + caption_t.line_height * 1.3 < 0.76 * h:
                cx = min(max(p.x, cw2 / 2 + 4 * u), w - cw2 / 2 - 4 * u)
                ImageDraw.Draw(layer).rounded_rectangle(
                    (c.fx(cx - cw2 / 2), c.fy(feet + 0.2 * p.hu), c.fx(cx + cw2 / 2),
                     c.fy(feet + 0.2 * p.hu + caption_t.line_height * 1.15)), radius=int(4 * u), fill=(0, 0, 0, 160))
                caption_t.draw(ImageDraw.Draw(layer), (c.fx(cx - caption_t.length(cap) / 2),
                                                       c.fy(feet + 0.2 * p.hu + caption_t.size * 0.1)), cap, (235, 235, 230))
            return
        # a large figure: the chip beside the head, on the side away from the others (on the chest
        # when the frame is crowded or there is no room beside)
        caption = caption_t if framing != "extreme-close-up" and n <= 2 else None
        if p.shoulder:  # the foreground shoulder: the name low on the dark shape
            _, _, cw, ch = chip_size(p.fig, chip_t, None, w * 0.3)
            draw_chip(layer, p.fig, chip_t, None, c.fx(max(p.x + 0.2 * p.hu, cw / 2 + 8 * u)),
                      c.fy(0.74 * h - ch), w * 0.3, lit)
            return
        half = 0.5 * p.hu + 10 * u
        rooms = {-1: p.x - half - 4 * u, 1: w - p.x - half - 4 * u}
        prefer = -1 if p.x < w * 0.45 else 1
        for side in ((prefer, -prefer) if n <= 2 else ()):
            room = min(rooms[side], w * 0.42)
            _, _, cw, ch = chip_size(p.fig, chip_t, caption, room)
            if cw <= room:
                cx = p.x + side * (half + cw / 2)
                y = min(max(p.top + 0.35 * p.hu, picture_top), 0.74 * h - ch)
                draw_chip(layer, p.fig, chip_t, caption, c.fx(cx), c.fy(y), room, lit)
                return
        room = slot * 0.9
        _, _, cw, ch = chip_size(p.fig, chip_t, None, room)
        y = min(max(p.top + 1.7 * p.hu, picture_top), 0.74 * h - ch)
        draw_chip(layer, p.fig, chip_t, None, c.fx(min(max(p.x, cw / 2 + 4 * u), w - cw / 2 - 4 * u)), c.fy(y), room, lit)

    def sprite(p: Place, lit: bool, turn: float | None, window) -> None:
        layer = c.layer()
        paint(layer, p, lit, turn)
        layer = c.finish(layer)
        box = layer.getbbox()
        if box is None:
            return
        x0, y0 = box[0] & ~1, box[1] & ~1
        sprites.append(Sprite(layer.crop((x0, y0, box[2], box[3])), x0, y0, p.fig.id, lit, rides, window))

    for p in places:
        for turn, window in turns:
            if rides:
                sprite(p, False, turn, window)
            else:
                paint(base, p, False, turn)
        if p.fig.id in speaking and not p.shoulder:
            for turn, window in turns:
                sprite(p, True, turn, window)
    if viewer is not None:
        draw_pov_hands(base, c, viewer)
    if framing == "insert":
        named = look.prop_named_in(panel.get("action", ""))
        held = next((pr for f in figs for pr in f.props), None)
        prop = named or held
        draw_insert(base, c, prop, prop.label if prop else "", Type(30 * min(w, h) / 720, bold=True))
    world = c.im.convert("RGBA")
    world.alpha_composite(base)
    world = c.finish(world.convert("RGB"))
    screen: list[tuple[str, Image.Image]] = []
    wx = s.weather
    outdoors = not s.interior
    if outdoors and wx.rain and angle != "overhead":
        screen.append(("rain", rain_tile(w, h, min(1.5, wx.rain), seed)))
    if outdoors and wx.snow:
        screen.append(("snow", rain_tile(w, h, min(1.5, wx.snow), seed + 1, snow=True)))
    times = flashes(seconds, seed) if wx.storm else []
    if times:
        screen.append(("flash", Image.new("RGBA", (w, h), (235, 240, 255, 120 if outdoors else 70))))
    if framing == "pov":
        screen.append(("vignette", vignette(w, h)))
    return Composition(world, sprites, screen, times)
