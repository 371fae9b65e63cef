"""The characters as mannequins: head, hair, clothes in their colours, hands, legs, the props they
carry and a face that speaks, drawn in figure units (head heights) and mapped to pixels with the
angle's foreshortening; seen from above, as a point of view's hands, or as an insert's object."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from storyboard.animatic import look
from storyboard.animatic.canvas import Canvas
from storyboard.animatic.framing import BODY, Place
from storyboard.animatic.look import RGB, Figure
from storyboard.draw.colours import ink_on, mix, shade
from storyboard.draw.fonts import Type

SKIN = (232, 206, 182)
GLOW = (255, 238, 150)

def skin(colour: RGB) -> RGB:
    """A character's face and hands: skin with a trace of their colour (unique to them, so found by it)."""
    return mix(colour, SKIN, 0.78)

def chip_colour(colour: RGB) -> RGB:
    """A name chip: the character's colour, a shade lighter (the outline's exact colour marks the figure alone)."""
    return mix(colour, (255, 255, 255), 0.12)

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
    skin_c = skin(f.colour) if not p.shoulder else shade(f.colour, 0.35)
    garments = {g.kind: g for g in f.garments}
    top = garments.get("top") or garments.get("dress") or next(iter(garments.values()), look.Garment("top", (90, 90, 96)))
    outer = garments.get("long") or garments.get("jacket")
    legs_c = garments["trousers"].colour if "trousers" in garments else (58, 60, 68)
    dark = p.shoulder

    def col(c: RGB) -> RGB:
        return shade(c, 0.3) if dark else c
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
            parts.add([(-0.16, 1.3), (-0.02, 1.3), (-0.2, 2.2), (-0.3, 2.1)], col(shade(outer.colour, 0.8)))
            parts.add([(0.16, 1.3), (0.02, 1.3), (0.2, 2.2), (0.3, 2.1)], col(shade(outer.colour, 0.8)))
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
    out.append(("line", [(du + 0.02, 0.55), (du + 0.05 * (1 if turn >= 0 else -1), 0.66), (du, 0.67)], shade(ink, 1.6), 0.025))
    if speaking:
        out.append(("poly", _ellipse(du, 0.79, 0.09, 0.06), (90, 30, 40), 0))
    else:
        out.append(("line", [(du - 0.08, 0.78), (du + 0.08, 0.78)], shade(ink, 1.4), 0.03))
    return out

def stroke(d: ImageDraw.ImageDraw, pts: list[tuple[float, float]], fill, width: int) -> None:
    """A polyline with round joints: the segments, and a disc on each joint (PIL's own curved joints
    are worked out in Python, vertex by vertex, and cost a tenth of a shot's drawing)."""
    d.line(pts, fill=fill, width=width)
    r = width / 2
    if r >= 1.5:
        for x, y in pts[1:-1] if pts[0] != pts[-1] else pts[:-1]:
            d.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def draw_figure(layer: Image.Image, body: Body, p: Place, u: float, speaking: bool = False, lit: bool = False,
                turn: float = 0.0) -> None:
    """Draw a figure onto an RGBA layer: an outline in the character's colour (inside a glow when
    lit), the shapes, the face."""
    d = ImageDraw.Draw(layer)
    parts, features = figure_parts(p, speaking, turn)
    lw = max(1.5, min(body.hu * 0.07, 5 * u))
    rim = GLOW if lit else (shade(p.fig.colour, 0.4) if p.shoulder else p.fig.colour)
    rim_w = lw + (min(max(3.0, body.hu * 0.12), 9 * u) if lit else 0)
    for poly, _ in parts.items:  # pass 1: the outline, as the shapes grown by a stroke
        pts = body.pts(poly)
        d.polygon(pts, fill=rim)
        stroke(d, pts + [pts[0]], rim, int(round(2 * rim_w)))
    if lit:  # inside the glow, the character's own outline
        for poly, _ in parts.items:
            pts = body.pts(poly)
            stroke(d, pts + [pts[0]], p.fig.colour, int(round(2 * lw)))
    for poly, fill in parts.items:  # pass 2: the shapes
        d.polygon(body.pts(poly), fill=fill)
    for kind, poly, colour, width in features:
        pts = body.pts(poly)
        if kind == "poly":
            d.polygon(pts, fill=colour)
        elif kind == "ring":
            d.line(pts, fill=colour, width=max(1, int(width * body.hu)))
        else:
            stroke(d, pts, colour, max(1, int(width * body.hu)))
    if speaking and lit and not p.shoulder:
        mx, my = body(0.5 + 0.13 * turn, 0.78)
        for k in range(1, 4):
            r = body.hu * 0.16 * k
            d.arc((mx - r, my - r, mx + r, my + r), -40, 40, fill=GLOW, width=max(2, int(min(body.hu * 0.04, 6 * u))))

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
        chip.draw(d, (x - tw / 2, by + pad * 0.3), name, ink_on(fill))

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
            stroke(d, pts + [pts[0]], fig.colour, max(2, int(hu * 0.05)))
        for poly, fill in shapes:
            d.polygon(body.pts(poly), fill=fill)
        if side == 1 and fig.props:
            for poly, fill in prop_shape(fig.props[0].shape, 0, 0.2, fig.props[0].colour):
                d.polygon(body.pts(poly), fill=fill, outline=(20, 20, 20))
