"""A whole shot drawn for its camera: the set under its sky and weather, the characters standing
apart as the framing and angle have them, dressed and carrying their props, lit while they speak;
figures that move against the world apart from it as sprites, and what falls on the frame after
the camera. No text but the name chips on the figures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from storyboard.animatic import chips, look
from storyboard.animatic.camera import Rig
from storyboard.animatic.canvas import Canvas, new_canvas
from storyboard.animatic.figures import Body, draw_figure, draw_insert, draw_overhead_figure, draw_pov_hands
from storyboard.animatic.framing import BODY, DUTCH, Place, blocking, horizon_for
from storyboard.animatic.look import Figure, SetLook
from storyboard.animatic.panel import Panel
from storyboard.animatic.weather import flashes, rain_tile, vignette
from storyboard.animatic.world import draw_set
from storyboard.common import stable_int
from storyboard.draw.fonts import Type


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


@dataclass(frozen=True)
class Staging:
    """What a shot's drawing is decided from: the canvas, the set, the figures and where they stand."""

    panel: Panel
    canvas: Canvas
    set: SetLook
    figures: tuple[Figure, ...]
    viewer: Figure | None  # a point of view's owner: seen only as hands
    places: tuple[Place, ...]
    seed: int

    @property
    def framing(self) -> str:
        return self.panel.camera.framing

    @property
    def angle(self) -> str:
        return self.panel.camera.angle

    @property
    def crowd(self) -> int:
        """How many stand in the frame (at least one)."""
        return max(1, len(self.figures) - (1 if self.viewer is not None else 0))

    @property
    def slot(self) -> float:
        """The width each figure has for its name, side by side."""
        n = self.crowd
        return self.canvas.w * (min(0.38, 0.76 / n) if n > 1 else 0.5)


def seed_of(*parts: str) -> int:
    return stable_int("stage", *parts)


def take_seed(shot_id: str, take: int) -> int:
    """What a take varies by: the figures' exact places and the camera's drift."""
    return stable_int("take", shot_id, str(take))


def figures_of(panel: Panel) -> tuple[Figure, ...]:
    return tuple(look.figure(ch.id, ch.name, tuple(ch.rgb), ch.description, ch.wardrobe, ch.props, ch.voice,
                             ch.portrait) for ch in panel.characters)


def stage(panel: Panel, w: int, h: int, rig: Rig, take: int = 1) -> Staging:
    """Read the panel: the set's look, the figures, who is the point of view, and the blocking
    (redrawn a little differently for each take after the first)."""
    cam = panel.camera
    c = new_canvas(w, h, rig, DUTCH if cam.angle == "dutch" else 0.0)
    loc = panel.set
    s = look.set_look(loc.description, loc.time, loc.weather, loc.lighting) if loc else look.set_look("", "", "", "")
    figs = figures_of(panel)
    first_speaker = next((ln.speaker for ln in panel.dialogue if ln.on_screen), None)
    viewer = figs[0] if cam.framing == "pov" and figs else None
    seen = list(figs[1:] if viewer is not None else figs)
    places = blocking(seen, cam.framing, w, h, first_speaker, redraw=take_seed(panel.id, take) if take > 1 else None)
    return Staging(panel, c, s, figs, viewer, tuple(places), seed_of(panel.id, loc.description if loc else ""))


def paint(layer: Image.Image, st: Staging, k: int, lit: bool, turn: float | None) -> None:
    """Figure k of the blocking, with its name chip, facing its way (or turned, for an orbit)."""
    c, p = st.canvas, st.places[k]
    u = min(c.w, c.h) / 720
    if st.angle == "overhead":
        oy = c.h * (0.5 + (0.14 if k % 2 else -0.04) * (1 if st.crowd > 1 else 0))
        chip_t, _ = chips.chip_type(st.framing, c.h, c.w)
        draw_overhead_figure(layer, c.fx(p.x), c.fy(oy), min(p.hu * 1.8, c.h * 0.3), p, lit, chip_t)
        return
    body = Body(c.fx(p.x), c.fy(p.top), p.hu, st.angle if st.angle in ("low", "high") else "eye-level")
    face = {"left": -0.6, "right": 0.6}.get(p.facing, 0.0) if turn is None else turn
    draw_figure(layer, body, p, u, speaking=lit, lit=lit, turn=face)
    chips.label(layer, c, p, st.framing, st.crowd, st.slot, lit)


def turns(rig: Rig, seconds: float) -> list[tuple[float | None, tuple[float, float] | None]]:
    """(which way the subject turns, when): an orbit turns it in thirds; otherwise once, always."""
    if not rig.turns:
        return [(None, None)]
    return [(0.7, (0.0, seconds / 3)), (0.0, (seconds / 3, 2 * seconds / 3)), (-0.7, (2 * seconds / 3, seconds + 1))]


def sprite(st: Staging, k: int, lit: bool, turn: float | None, window, rides: bool) -> Sprite | None:
    """Figure k on a layer of its own, cut to what shows (even offsets: yuv420p chroma lines up)."""
    c = st.canvas
    layer = c.layer()
    paint(layer, st, k, lit, turn)
    layer = c.finish(layer)
    box = layer.getbbox()
    if box is None:
        return None
    x0, y0 = box[0] & ~1, box[1] & ~1
    return Sprite(layer.crop((x0, y0, box[2], box[3])), x0, y0, st.places[k].fig.id, lit, rides, window)


def draw_people(st: Staging, base: Image.Image, rig: Rig, seconds: float, speakers) -> list[Sprite]:
    """Each figure: on the world's layer when it keeps still against the world, else as a sprite;
    a speaker once more, lit, as a sprite shown while they speak."""
    out: list[Sprite | None] = []
    rides = rig.follow is not None
    for k, p in enumerate(st.places):
        for turn, window in turns(rig, seconds):
            if rides:
                out.append(sprite(st, k, False, turn, window, rides))
            else:
                paint(base, st, k, False, turn)
        if p.fig.id in speakers and not p.shoulder:
            out += [sprite(st, k, True, turn, window, rides) for turn, window in turns(rig, seconds)]
    return [s for s in out if s is not None]


def draw_objects(st: Staging, base: Image.Image) -> None:
    """A point of view's hands; an insert's object, the one the action names or a prop someone holds."""
    c = st.canvas
    if st.viewer is not None:
        draw_pov_hands(base, c, st.viewer)
    if st.framing == "insert":
        prop = look.prop_named_in(st.panel.action) or next((pr for f in st.figures for pr in f.props), None)
        draw_insert(base, c, prop, prop.label if prop else "", Type(30 * min(c.w, c.h) / 720, bold=True))


def screen_layers(st: Staging, seconds: float) -> tuple[list[tuple[str, Image.Image]], list[float]]:
    """What falls on the frame after the camera (rain, snow, lightning, a point of view's dark
    edges), and when the lightning flashes."""
    w, h = st.canvas.w, st.canvas.h
    wx = st.set.weather
    outdoors = not st.set.interior
    out: list[tuple[str, Image.Image]] = []
    if outdoors and wx.rain and st.angle != "overhead":
        out.append(("rain", rain_tile(w, h, min(1.5, wx.rain), st.seed)))
    if outdoors and wx.snow:
        out.append(("snow", rain_tile(w, h, min(1.5, wx.snow), st.seed + 1, snow=True)))
    times = flashes(seconds, st.seed) if wx.storm else []
    if times:
        out.append(("flash", Image.new("RGBA", (w, h), (235, 240, 255, 120 if outdoors else 70))))
    if st.framing == "pov":
        out.append(("vignette", vignette(w, h)))
    return out, times


def compose(panel: Panel, w: int, h: int, rig: Rig, seconds: float, speaking: dict[str, list[tuple[float, float]]],
            portraits: dict[str, Path] | None = None, location_image: Path | None = None,
            take: int = 1) -> Composition:
    """Draw a shot's world and figures for its rig. `speaking`: each on-screen speaker's lines
    (start, end) in seconds, for the figures drawn lit while they speak."""
    st = stage(panel, w, h, rig, take)
    c = st.canvas
    front_feet = max((p.top + BODY * p.hu for p in st.places if not p.shoulder), default=h * 0.85)
    draw_set(c, st.set, st.angle, horizon_for(st.angle, st.framing), front_feet, st.seed, location_image)
    base = c.layer()
    sprites = draw_people(st, base, rig, seconds, speaking)
    draw_objects(st, base)
    world = c.im.convert("RGBA")
    world.alpha_composite(base)
    screen, times = screen_layers(st, seconds)
    return Composition(c.finish(world.convert("RGB")), sprites, screen, times)
