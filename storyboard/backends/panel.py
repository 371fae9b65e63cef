"""Drawn storyboard panels (Pillow): the scene the camera moves over, a fixed HUD, subtitle cards, slates.

No fonts are assumed on the machine: Pillow's built-in scalable font is used."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from storyboard.common import stable_int

SCENE_SCALE = 1.25  # the scene is drawn larger than the frame so the camera has room to move

SKIES = {  # time-of-day words -> (top, bottom) colours of the backdrop
    "night": ((10, 14, 32), (32, 44, 78)), "dawn": ((88, 92, 120), (214, 160, 150)),
    "dusk": ((60, 40, 80), (220, 120, 80)), "golden": ((120, 80, 60), (240, 180, 90)),
    "sunset": ((70, 40, 70), (235, 130, 70)), "morning": ((120, 160, 200), (210, 220, 225)),
    "day": ((90, 140, 200), (200, 220, 235)), "noon": ((80, 140, 210), (205, 225, 240)),
    "evening": ((40, 40, 80), (150, 100, 110)),
}
DEFAULT_SKY = ((40, 48, 60), (96, 104, 118))


# one colour per character across the whole film (and every episode): picked from the id
PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
           "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#aaffc3", "#ffd8b1", "#a9a9a9"]


def character_colour(cid: str) -> str:
    return PALETTE[stable_int("colour", cid) % len(PALETTE)]


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(max(8, int(size)))


def hex_rgb(h: str) -> tuple[int, int, int]:
    h = h.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def sky_for(location_words: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    words = location_words.lower()
    for key, sky in SKIES.items():
        if key in words:
            return sky
    return DEFAULT_SKY


def _gradient(w: int, h: int, top, bottom) -> Image.Image:
    col = Image.new("RGB", (1, 256))
    for y in range(256):
        t = y / 255
        col.putpixel((0, y), tuple(int(top[i] + (bottom[i] - top[i]) * t) for i in range(3)))
    return col.resize((w, h), Image.BILINEAR)


def _wrap(draw: ImageDraw.ImageDraw, text: str, fnt, max_w: int, max_lines: int) -> list[str]:
    """Greedy wrap by measured width; the last line ends in '...' if the text does not fit."""
    words = text.split()
    lines: list[str] = []
    cur = ""
    for w in words:
        trial = f"{cur} {w}".strip()
        if draw.textlength(trial, font=fnt) <= max_w or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        while lines[-1] and draw.textlength(lines[-1] + "...", font=fnt) > max_w:
            lines[-1] = lines[-1][:-1]
        lines[-1] += "..."
    return lines


def _fit_font(draw, text: str, size: int, max_w: int) -> ImageFont.FreeTypeFont:
    while size > 10 and draw.textlength(text, font=font(size)) > max_w:
        size = int(size * 0.9)
    return font(size)


def _cover(im: Image.Image, w: int, h: int) -> Image.Image:
    return ImageOps.fit(im.convert("RGB"), (w, h), Image.LANCZOS)


def draw_scene(panel: dict, width: int, height: int, portraits: dict[str, Path] | None = None,
               location_image: Path | None = None) -> Image.Image:
    """The panel's world: backdrop, set lines, the characters as figures with name chips, the action."""
    cw, ch = int(width * SCENE_SCALE), int(height * SCENE_SCALE)
    u = min(cw, ch) / 720
    top, bottom = sky_for(panel.get("location", ""))
    im = _gradient(cw, ch, top, bottom)
    if location_image:
        bg = _cover(Image.open(location_image), cw, ch)
        im = Image.blend(im, bg, 0.55)
    d = ImageDraw.Draw(im, "RGBA")
    # a floor with lines to a vanishing point: it makes every camera move readable
    horizon = int(ch * 0.56)
    vx = cw // 2
    d.rectangle((0, horizon, cw, ch), fill=(0, 0, 0, 70))
    for i in range(-12, 13):
        d.line((vx, horizon, vx + i * cw // 6, ch), fill=(255, 255, 255, 40), width=max(1, int(2 * u)))
    for k in range(1, 9):
        y = horizon + int((ch - horizon) * (k / 8) ** 1.8)
        d.line((0, y, cw, y), fill=(255, 255, 255, 30), width=max(1, int(2 * u)))
    d.line((0, horizon, cw, horizon), fill=(255, 255, 255, 90), width=max(1, int(3 * u)))
    # the characters: a figure each, in the character's colour, with a name chip
    chars = panel.get("characters", [])
    portraits = portraits or {}
    safe_l, safe_r = int(cw * 0.16), int(cw * 0.84)
    n = max(1, len(chars))
    slot = (safe_r - safe_l) / n
    fig_h = min(ch * 0.34, slot * 1.6)
    for i, c in enumerate(chars):
        cx = int(safe_l + slot * (i + 0.5))
        base = horizon + int(ch * 0.08)
        colour = hex_rgb(c["colour"])
        head_r = int(fig_h * 0.16)
        head_c = (cx, int(base - fig_h + head_r))
        portrait = portraits.get(c["id"])
        if portrait and Path(portrait).exists():
            face = _cover(Image.open(portrait), head_r * 2, head_r * 2)
            mask = Image.new("L", face.size, 0)
            ImageDraw.Draw(mask).ellipse((0, 0, face.size[0] - 1, face.size[1] - 1), fill=255)
            im.paste(face, (head_c[0] - head_r, head_c[1] - head_r), mask)
            d.ellipse((head_c[0] - head_r, head_c[1] - head_r, head_c[0] + head_r, head_c[1] + head_r),
                      outline=colour, width=max(2, int(5 * u)))
        else:
            d.ellipse((head_c[0] - head_r, head_c[1] - head_r, head_c[0] + head_r, head_c[1] + head_r),
                      fill=colour + (235,))
        body_top = head_c[1] + head_r + int(4 * u)
        d.polygon([(cx - head_r * 0.9, body_top), (cx + head_r * 0.9, body_top),
                   (cx + head_r * 1.6, base), (cx - head_r * 1.6, base)], fill=colour + (200,))
        f = _fit_font(d, c["name"], int(30 * u), int(slot * 0.9))
        tw = d.textlength(c["name"], font=f)
        pad = int(8 * u)
        box = (cx - tw / 2 - pad, base + pad, cx + tw / 2 + pad, base + pad * 2 + f.size * 1.15)
        d.rounded_rectangle(box, radius=int(10 * u), fill=colour + (255,))
        luminance = 0.3 * colour[0] + 0.59 * colour[1] + 0.11 * colour[2]
        d.text((cx - tw / 2, base + pad * 1.5), c["name"], font=f, fill=(0, 0, 0) if luminance > 140 else (255, 255, 255))
    # the action, in a box low in the frame
    action = panel.get("action", "")
    if action:
        f = font(int(30 * u))
        max_w = int(cw * 0.66)
        lines = _wrap(d, action, f, max_w, 3)
        lh = int(f.size * 1.3)
        y0 = int(ch * 0.71)
        box_w = max(d.textlength(line, font=f) for line in lines)
        d.rounded_rectangle((cw / 2 - box_w / 2 - 16 * u, y0 - 10 * u, cw / 2 + box_w / 2 + 16 * u, y0 + lh * len(lines) + 6 * u),
                            radius=int(12 * u), fill=(0, 0, 0, 150))
        for k, line in enumerate(lines):
            d.text((cw / 2 - d.textlength(line, font=f) / 2, y0 + k * lh), line, font=f, fill=(245, 245, 240))
    return im


def draw_hud(panel: dict, width: int, height: int) -> Image.Image:
    """What stays fixed while the camera moves: shot number and id, camera words, place, sound."""
    im = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    u = min(width, height) / 720
    pad = int(16 * u)
    cam = panel.get("camera", {})
    title = f"{panel.get('number', '')}  {panel.get('id', '').upper()}"
    cam_words = " · ".join(x.upper() for x in (cam.get("framing", ""), cam.get("angle", "") + " angle" if cam.get("angle") else "",
                                                  cam.get("lens", ""), cam.get("move", "")) if x)
    place = panel.get("location", "")
    portrait = height > width
    f_title = font(int(40 * u))
    f_small = _fit_font(d, cam_words, int(24 * u), width - 2 * pad)
    bar_h = int(f_title.size * 1.3 + pad * 2 + (f_small.size * 1.3 * (2 if portrait else 1)))
    d.rectangle((0, 0, width, bar_h), fill=(0, 0, 0, 165))
    d.text((pad, pad), title, font=f_title, fill=(255, 255, 255))
    y2 = pad + int(f_title.size * 1.25)
    if portrait:
        d.text((pad, y2), cam_words, font=f_small, fill=(255, 214, 120))
        d.text((pad, y2 + int(f_small.size * 1.3)), place, font=_fit_font(d, place, f_small.size, width - 2 * pad), fill=(200, 220, 255))
    else:
        d.text((width - pad - d.textlength(cam_words, font=f_small), pad + int(8 * u)), cam_words, font=f_small, fill=(255, 214, 120))
        d.text((pad, y2), place, font=_fit_font(d, place, f_small.size, width - 2 * pad), fill=(200, 220, 255))
    sound = panel.get("sound", "")
    if sound:
        f = font(int(22 * u))
        line = _wrap(d, "SOUND: " + sound, f, width - 2 * pad, 1)[0]
        y = height - pad - int(f.size * 1.2)
        d.rectangle((0, y - pad // 2, width, height), fill=(0, 0, 0, 150))
        d.text((pad, y), line, font=f, fill=(210, 210, 210))
    return im


def draw_subtitle(name: str, text: str, colour: str, width: int, height: int, note: str = "") -> Image.Image:
    """One dialogue line as a transparent card above the bottom of the frame."""
    im = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    u = min(width, height) / 720
    f = font(int(34 * u))
    max_w = int(width * 0.86)
    speaker = f"{name.upper()}{f' ({note})' if note else ''}: "
    lines = _wrap(d, speaker + text, f, max_w, 3)
    lh = int(f.size * 1.3)
    bottom = height - int(64 * u)
    y0 = bottom - lh * len(lines)
    w = max(d.textlength(line, font=f) for line in lines)
    d.rounded_rectangle((width / 2 - w / 2 - 14 * u, y0 - 10 * u, width / 2 + w / 2 + 14 * u, bottom + 6 * u),
                        radius=int(10 * u), fill=(0, 0, 0, 190))
    for k, line in enumerate(lines):
        x = width / 2 - d.textlength(line, font=f) / 2
        if k == 0 and line.startswith(speaker.rstrip()):
            d.text((x, y0), speaker, font=f, fill=hex_rgb(colour))
            d.text((x + d.textlength(speaker, font=f), y0), line[len(speaker):], font=f, fill=(255, 255, 255))
        else:
            d.text((x, y0 + k * lh), line, font=f, fill=(255, 255, 255))
    return im


def draw_slate(number: int, shot_id: str, reason: str, width: int, height: int) -> Image.Image:
    """A card standing in for a shot with no clip: which shot, and why."""
    im = _gradient(width, height, (30, 30, 34), (12, 12, 14))
    d = ImageDraw.Draw(im)
    u = min(width, height) / 720
    f_big = _fit_font(d, f"SHOT {number}  {shot_id.upper()}", int(64 * u), int(width * 0.9))
    f = font(int(28 * u))
    title = f"SHOT {number}  {shot_id.upper()}"
    d.text((width / 2 - d.textlength(title, font=f_big) / 2, height * 0.32), title, font=f_big, fill=(255, 255, 255))
    sub = "NO CLIP"
    d.text((width / 2 - d.textlength(sub, font=f) / 2, height * 0.32 + f_big.size * 1.4), sub, font=f, fill=(255, 120, 100))
    lines = _wrap(d, reason, f, int(width * 0.8), 4)
    for k, line in enumerate(lines):
        d.text((width / 2 - d.textlength(line, font=f) / 2, height * 0.55 + k * f.size * 1.35), line, font=f, fill=(220, 220, 220))
    return im
