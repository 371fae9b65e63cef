"""The set: sky or walls, floor or ground, the pieces the place's words name (sea, street, trees,
a lighthouse, a window, a console...), seen from the camera's angle, in the time of day's light
and the fog."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from storyboard.animatic.canvas import Canvas, gradient
from storyboard.animatic.look import SetLook
from storyboard.draw.colours import shade



def draw_set(c: Canvas, s: SetLook, angle: str, horizon: float, feet: float, seed: int,
             location_image: Path | None) -> None:
    """Sky or walls, floor or ground, and the pieces the place's words name, for the angle."""
    W, H = c.w, c.h
    im = c.im
    hz = c.fy(horizon * H)
    im.paste(gradient(im.size, s.sky[0], s.sky[1]), (0, 0))
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
        ground = shade(ground, 0.55)
    if "sea" in pieces:  # the sea between the horizon and the shore the figures stand on
        sea_bottom = hz + min(0.16 * H, max(0.03 * H, 0.6 * (feet - hz)))
        d.rectangle((0, hz, iw, sea_bottom), fill=shade((40, 70, 96), 0.55 if night else 1))
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
                colour = shade((60, 64, 78), 0.6 if night else 1.0)
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
                          fill=shade((46, 96, 52), 0.5 if night else 1))
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
        d.rectangle((0, 0, iw, ceiling), fill=shade(wall, 0.7))
        for x0 in c.tiles():
            for j in range(4):
                x = c.fx(x0 + W * j / 4)
                d.line((x, 0, x, ceiling), fill=shade(wall, 0.5), width=max(2, int(4 * u)))
    floor = (96, 70, 48) if not night else (52, 40, 32)
    d.rectangle((0, base, iw, ih), fill=floor)
    _floor_lines(c, d, base, (0, 0, 0, 50), u, 0)
    d.line((0, base, iw, base), fill=shade(wall, 0.55), width=max(2, int(4 * u)))
    wh = min(0.3 * H, (base - c.fy(0)) * 0.5)
    for x0 in c.tiles():
        if "window" in pieces:
            wx0, wy0 = c.fx(x0 + 0.1 * W), base - wh - 0.12 * H
            wx1, wy1 = wx0 + 0.22 * W, wy0 + wh
            c.im.paste(gradient((int(wx1 - wx0), max(1, int(wy1 - wy0))), s.sky[0], s.sky[1]), (int(wx0), int(wy0)))
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
            d.rectangle((dx, base - 0.42 * H, dx + 0.1 * W, base), fill=shade(wall, 0.6),
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
        k = 8  # a soft glow: drawn and blurred at an eighth of the size, then scaled up
        small = Image.new("L", (-(-c.im.size[0] // k), -(-c.im.size[1] // k)), 0)
        ImageDraw.Draw(small).ellipse(((lx - 0.35 * W) / k, (ly - 0.35 * W) / k, (lx + 0.35 * W) / k,
                                       (ly + 0.35 * W) / k), fill=70)
        glow = small.filter(ImageFilter.GaussianBlur(40 * u / k)).resize((small.width * k, small.height * k),
                                                                      Image.BILINEAR).crop((0, 0, *c.im.size))
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
        c.im.paste(gradient((int(wx1 - wx0), int(wy1 - wy0)), s.sky[0], s.sky[1]), (int(wx0), int(wy0)))
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
        d.rectangle((0, 0, iw, ih), fill=shade((120, 88, 58), k))
        step = H / 9
        for j in range(int(ih / step) + 1):
            d.line((0, j * step, iw, j * step), fill=shade((80, 58, 38), k), width=max(1, int(2 * u)))
            for x0 in c.tiles():
                x = c.fx(x0 + (j * 0.37 % 1) * W)
                d.line((x, j * step, x, (j + 1) * step), fill=shade((80, 58, 38), k), width=max(1, int(2 * u)))
    elif "sea" in pieces and "street" not in pieces:
        d.rectangle((0, 0, iw, ih), fill=shade((36, 72, 100), k))
        for x0 in c.tiles():
            for j in range(40):
                x = c.fx(x0 + (j * 0.137 % 1) * W)
                y = (j * 0.291 % 1) * ih
                d.arc((x, y, x + W / 12, y + H / 30), 200, 340, fill=(200, 225, 240, 120), width=max(1, int(2 * u)))
    elif "street" in pieces:
        d.rectangle((0, 0, iw, ih), fill=shade((48, 50, 56), k))
        cy = c.fy(H / 2)
        for x0 in c.tiles():
            for j in range(6):
                x = c.fx(x0 + W * j / 6)
                d.rectangle((x, cy - 4 * u, x + W / 12, cy + 4 * u), fill=(220, 220, 200))
        d.rectangle((0, 0, iw, c.fy(0.12 * H)), fill=shade((110, 110, 112), k))
    else:
        d.rectangle((0, 0, iw, ih), fill=shade((70, 100, 58), k))
        for x0 in c.tiles():
            for j in range(60):
                x = c.fx(x0 + (j * 0.173 % 1) * W)
                y = (j * 0.377 % 1) * ih
                d.line((x, y, x + 4 * u, y - 10 * u), fill=shade((96, 140, 76), k), width=max(1, int(2 * u)))


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
