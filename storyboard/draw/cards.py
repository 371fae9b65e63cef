"""The words on an animatic frame: the HUD (shot, camera, place, action, sound), subtitle cards and
slates, each in its own zone of the frame. The zones are laid out once per frame size (pure), so
text never overlaps other text or leaves the frame: it wraps, shrinks, then is cut with "…"."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from storyboard.common import stable_int
from storyboard.draw.fonts import Type, fitted

# one colour per character across the whole film (and every episode): picked from the id
PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
           "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#aaffc3", "#ffd8b1", "#a9a9a9"]
BAND = (0, 0, 0, 170)  # the translucent black under text
CAMERA_INK = (255, 214, 120)
PLACE_INK = (200, 220, 255)
TEXT_INK = (245, 245, 240)
SOUND_INK = (200, 200, 200)


def character_colour(cid: str) -> str:
    return PALETTE[stable_int("colour", cid) % len(PALETTE)]


def hex_rgb(h: str) -> tuple[int, int, int]:
    h = h.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: "Box") -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def inside(self, w: int, h: int) -> bool:
        return 0 <= self.x0 <= self.x1 <= w and 0 <= self.y0 <= self.y1 <= h


@dataclass(frozen=True)
class Zones:
    """Where each kind of text may go on a frame of w x h."""

    w: int
    h: int
    unit: float  # one pixel of a 720-line frame
    pad: int
    top: Box  # the band: shot id and camera, then place, then action
    subtitle: Box  # dialogue cards
    sound: Box  # the sound line at the foot
    action_lines: int
    subtitle_lines: int

    @property
    def picture(self) -> Box:
        """What no text covers (name chips on figures are kept in here)."""
        return Box(0, self.top.y1, self.w, self.subtitle.y0)


def zones(w: int, h: int) -> Zones:
    u = min(w, h) / 720
    pad = max(4, int(14 * u))
    portrait = h > w
    action_lines = 4 if portrait else 2
    subtitle_lines = 3 if portrait else 2
    title, small, sub, foot = Type(34 * u, bold=True), Type(22 * u), Type(33 * u), Type(19 * u)
    top_h = pad + title.line_height + small.line_height * (1 + action_lines) + pad
    if portrait:
        top_h += small.line_height  # the camera words get their own line
    sound_h = foot.line_height + pad
    sub_h = sub.line_height * subtitle_lines + 2 * pad
    sound = Box(0, h - sound_h, w, h)
    subtitle = Box(pad, sound.y0 - sub_h - pad // 2, w - pad, sound.y0 - pad // 2)
    return Zones(w, h, u, pad, Box(0, 0, w, top_h), subtitle, sound, action_lines, subtitle_lines)


@dataclass(frozen=True)
class Placed:
    """A piece of text placed on the frame: its lines, type and the box they fill."""

    kind: str
    lines: tuple[str, ...]
    type: Type
    box: Box


def hud_layout(w: int, h: int, shot_id: str, camera_words: str, place: str, action: str, sound: str) -> list[Placed]:
    """Every HUD text fitted to its zone. Pure: measures, never draws."""
    z = zones(w, h)
    pad, u = z.pad, z.unit
    portrait = h > w
    out: list[Placed] = []
    y = pad
    id_max = (w - 2 * pad) if portrait else (w - 2 * pad) * 0.45
    t_id, text_id = fitted(shot_id.upper(), id_max, 34 * u, 22 * u, bold=True)
    id_w = t_id.length(text_id)
    out.append(Placed("id", (text_id,), t_id, Box(pad, y, pad + id_w, y + t_id.line_height)))
    title_h = Type(34 * u, bold=True).line_height
    if camera_words:
        if portrait:
            cy = y + title_h
            t_cam, cam = fitted(camera_words, w - 2 * pad, 22 * u, 15 * u)
            out.append(Placed("camera", (cam,), t_cam, Box(pad, cy, pad + t_cam.length(cam), cy + t_cam.line_height)))
        else:
            room = w - 3 * pad - id_w
            t_cam, cam = fitted(camera_words, room, 22 * u, 15 * u)
            cw = t_cam.length(cam)
            cy = y + (title_h - t_cam.line_height) / 2
            out.append(Placed("camera", (cam,), t_cam, Box(w - pad - cw, cy, w - pad, cy + t_cam.line_height)))
    y += title_h + (Type(22 * u).line_height if portrait else 0)
    if place:
        t_place, pl = fitted(place, w - 2 * pad, 22 * u, 15 * u)
        out.append(Placed("place", (pl,), t_place, Box(pad, y, pad + t_place.length(pl), y + t_place.line_height)))
    y += Type(22 * u).line_height
    if action:
        t_act = Type(22 * u)
        lines = t_act.wrap(action, w - 2 * pad, z.action_lines)
        width = max(t_act.length(line) for line in lines)
        out.append(Placed("action", tuple(lines), t_act, Box(pad, y, pad + width, y + t_act.line_height * len(lines))))
    if sound:
        t_snd, snd = fitted("SOUND: " + sound, w - 2 * pad, 19 * u, 14 * u)
        sy = z.sound.y0 + (z.sound.y1 - z.sound.y0 - t_snd.line_height) / 2
        out.append(Placed("sound", (snd,), t_snd, Box(pad, sy, pad + t_snd.length(snd), sy + t_snd.line_height)))
    return out


def draw_hud(w: int, h: int, placed: list[Placed]) -> Image.Image:
    """The HUD on a transparent frame: a band under the top texts and the sound line."""
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    z = zones(w, h)
    kinds = {p.kind for p in placed}
    if kinds & {"id", "camera", "place", "action"}:
        bottom = max(p.box.y1 for p in placed if p.kind in ("id", "camera", "place", "action")) + z.pad // 2
        d.rectangle((0, 0, w, bottom), fill=BAND)
    if "sound" in kinds:
        d.rectangle((z.sound.x0, z.sound.y0, z.sound.x1, z.sound.y1), fill=(0, 0, 0, 140))
    ink = {"id": (255, 255, 255), "camera": CAMERA_INK, "place": PLACE_INK, "action": TEXT_INK, "sound": SOUND_INK}
    for p in placed:
        for k, line in enumerate(p.lines):
            p.type.draw(d, (p.box.x0, p.box.y0 + k * p.type.line_height), line, ink[p.kind])
    return im


def subtitle_layout(name: str, text: str, w: int, h: int, note: str = "") -> Placed:
    """One dialogue line fitted to the subtitle zone: the speaker first, wrapped, shrunk, cut with '…'."""
    z = zones(w, h)
    u = z.unit
    speaker = f"{name.upper()}{f' ({note})' if note else ''}: "
    inner = z.subtitle.x1 - z.subtitle.x0 - 2 * z.pad
    room = z.subtitle.y1 - z.subtitle.y0 - 2 * z.pad
    size = 33 * u
    while True:
        t = Type(size)
        lines = t.wrap(speaker + text, inner, max(1, int(room // t.line_height)))
        if len(lines) * t.line_height <= room and not lines[-1].endswith("…") or size <= 24 * u:
            break
        size *= 0.92
    width = max(t.length(line) for line in lines)
    height = t.line_height * len(lines)
    cx = (z.subtitle.x0 + z.subtitle.x1) / 2
    y1 = z.subtitle.y1 - z.pad
    return Placed("subtitle", tuple(lines), t, Box(cx - width / 2, y1 - height, cx + width / 2, y1))


def draw_subtitle(name: str, text: str, colour: str, width: int, height: int, note: str = "") -> Image.Image:
    """One dialogue line as a transparent card in the subtitle zone, the speaker in their colour."""
    im = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    p = subtitle_layout(name, text, width, height, note)
    z = zones(width, height)
    b = p.box
    d.rounded_rectangle((b.x0 - z.pad, b.y0 - z.pad * 0.6, b.x1 + z.pad, b.y1 + z.pad * 0.4),
                        radius=int(10 * z.unit), fill=(0, 0, 0, 190))
    speaker = f"{name.upper()}{f' ({note})' if note else ''}:"
    for k, line in enumerate(p.lines):
        x = (b.x0 + b.x1) / 2 - p.type.length(line) / 2
        y = b.y0 + k * p.type.line_height
        if k == 0 and line.startswith(speaker):
            x += p.type.draw(d, (x, y), speaker, hex_rgb(colour))
            p.type.draw(d, (x, y), line[len(speaker):], (255, 255, 255))
        else:
            p.type.draw(d, (x, y), line, (255, 255, 255))
    return im


def draw_slate(number: int, shot_id: str, reason: str, width: int, height: int) -> Image.Image:
    """A card standing in for a shot with no clip: which shot, and why."""
    im = Image.new("RGB", (width, height), (22, 22, 26))
    d = ImageDraw.Draw(im)
    u = min(width, height) / 720
    title = f"SHOT {number}  {shot_id.upper()}"
    t_big, title = fitted(title, width * 0.9, 64 * u, 28 * u, bold=True)
    t_big.draw(d, (width / 2 - t_big.length(title) / 2, height * 0.3), title, (255, 255, 255))
    t = Type(28 * u)
    t.draw(d, (width / 2 - t.length("NO CLIP") / 2, height * 0.3 + t_big.line_height * 1.3), "NO CLIP", (255, 120, 100))
    for k, line in enumerate(t.wrap(reason, width * 0.8, 4)):
        t.draw(d, (width / 2 - t.length(line) / 2, height * 0.55 + k * t.line_height), line, (220, 220, 220))
    return im
