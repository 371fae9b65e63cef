"""Name chips: each character's name in their colour by their figure (lit while they speak), and
under it what they wear and carry; placed over a small figure's head, beside a large one's, or on
its chest when the frame is crowded."""

from __future__ import annotations

from PIL import Image, ImageDraw

from storyboard.animatic.canvas import Canvas
from storyboard.animatic.figures import GLOW, chip_colour
from storyboard.animatic.framing import BODY, Place
from storyboard.animatic.look import Figure
from storyboard.draw.colours import ink_on
from storyboard.draw.fonts import Type

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
    t.draw(d, (cx - tw / 2, y + pad * 0.3), name, ink_on(fill))
    if cap and caption is not None:
        cw = caption.length(cap)
        cy = box[3] + pad * 0.4
        d.rounded_rectangle((cx - cw / 2 - pad, cy, cx + cw / 2 + pad, cy + caption.line_height + pad * 0.4),
                            radius=int(caption.size * 0.3), fill=(0, 0, 0, 160))
        caption.draw(d, (cx - cw / 2, cy + pad * 0.2), cap, (235, 235, 230))

def chip_type(framing: str, h: int, w: int) -> tuple[Type, Type]:
    u = min(w, h) / 720
    size = 18 if framing == "extreme-wide" else 23
    return Type(size * u, bold=True), Type(15 * u)



def label(layer: Image.Image, c: Canvas, p: Place, framing: str, crowd: int, slot: float, lit: bool) -> None:
    """A standing figure's name chip (and, with room, its caption): over a small figure's head,
    beside a large one's on the side away from the others, else on its chest."""
    if not p.chip or not p.fig.name:
        return
    chip_t, caption_t = chip_type(framing, c.h, c.w)
    if BODY * p.hu <= 0.45 * c.h:
        _label_small(layer, c, p, chip_t, caption_t, slot, lit)
    elif p.shoulder:
        _label_shoulder(layer, c, p, chip_t, lit)
    else:
        caption = caption_t if framing != "extreme-close-up" and crowd <= 2 else None
        _label_large(layer, c, p, chip_t, caption, crowd, slot, lit)


def _reach(c: Canvas) -> float:
    """The margin a chip keeps from each side of the frame at rest: the camera's sway (a pan slides a
    figure a quarter of the frame either way) and a little air. A chip in the world moves with it."""
    return 4 * min(c.w, c.h) / 720 + c.rig.sway


def _room(c: Canvas, width: float) -> float:
    """The widest chip that stays in the frame through the whole move."""
    return min(width, max(c.w - 2 * _reach(c), c.w * 0.2))


def _clamp(c: Canvas, x: float, width: float) -> float:
    """A chip's centre kept so the chip stays in the frame through the whole move (centred when the
    move leaves less room than the chip needs)."""
    m = _reach(c)
    if width > c.w - 2 * m:
        return c.w / 2
    return min(max(x, width / 2 + m), c.w - width / 2 - m)


def _label_small(layer: Image.Image, c: Canvas, p: Place, chip_t: Type, caption_t: Type, slot: float,
                 lit: bool) -> None:
    """A small figure: the name over the head, the clothes under the feet (when above the subtitles)."""
    u = min(c.w, c.h) / 720
    slot = _room(c, slot)
    _, _, cw, ch = chip_size(p.fig, chip_t, None, slot)
    draw_chip(layer, p.fig, chip_t, None, c.fx(_clamp(c, p.x, cw)), c.fy(p.top - ch - 0.25 * p.hu), slot, lit)
    _, cap, cw2, _ = chip_size(p.fig, caption_t, caption_t, slot)
    feet = p.top + BODY * p.hu
    top = feet + 0.2 * p.hu
    if not cap or top + caption_t.line_height * 1.3 >= 0.76 * c.h:
        return
    cx = _clamp(c, p.x, cw2)
    d = ImageDraw.Draw(layer)
    d.rounded_rectangle((c.fx(cx - cw2 / 2), c.fy(top), c.fx(cx + cw2 / 2), c.fy(top + caption_t.line_height * 1.15)),
                        radius=int(4 * u), fill=(0, 0, 0, 160))
    caption_t.draw(ImageDraw.Draw(layer), (c.fx(cx - caption_t.length(cap) / 2), c.fy(top + caption_t.size * 0.1)),
                   cap, (235, 235, 230))


def _label_shoulder(layer: Image.Image, c: Canvas, p: Place, chip_t: Type, lit: bool) -> None:
    """The over-the-shoulder's foreground shoulder: the name low on the dark shape."""
    u = min(c.w, c.h) / 720
    room = _room(c, c.w * 0.3)
    _, _, cw, ch = chip_size(p.fig, chip_t, None, room)
    draw_chip(layer, p.fig, chip_t, None, c.fx(_clamp(c, max(p.x + 0.2 * p.hu, cw / 2 + 8 * u), cw)),
              c.fy(0.74 * c.h - ch), room, lit)


def _label_large(layer: Image.Image, c: Canvas, p: Place, chip_t: Type, caption: Type | None, crowd: int,
                 slot: float, lit: bool) -> None:
    """A large figure: the chip beside the head, away from the others; on the chest when the frame
    is crowded or there is no room beside. Never in the HUD's band at the top."""
    w, h = c.w, c.h
    u = min(w, h) / 720
    picture_top = h * 0.2
    half = 0.5 * p.hu + 10 * u
    m = _reach(c)
    rooms = {-1: p.x - half - m, 1: w - p.x - half - m}
    prefer = -1 if p.x < w * 0.45 else 1
    for side in ((prefer, -prefer) if crowd <= 2 else ()):
        room = min(rooms[side], w * 0.42)
        _, _, cw, ch = chip_size(p.fig, chip_t, caption, room)
        if cw <= room:
            y = min(max(p.top + 0.35 * p.hu, picture_top), 0.74 * h - ch)
            draw_chip(layer, p.fig, chip_t, caption, c.fx(p.x + side * (half + cw / 2)), c.fy(y), room, lit)
            return
    room = _room(c, slot * 0.9)
    _, _, cw, ch = chip_size(p.fig, chip_t, None, room)
    y = min(max(p.top + 1.7 * p.hu, picture_top), 0.74 * h - ch)
    draw_chip(layer, p.fig, chip_t, None, c.fx(_clamp(c, p.x, cw)), c.fy(y), room, lit)
