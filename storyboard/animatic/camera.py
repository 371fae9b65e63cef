"""The animatic's camera and its one ffmpeg command (pure: numbers and paths in, argv out).

The drawn world is larger than the frame. A move is a window travelling over it: a crop for
pans, tilts, trucks, orbits, tracking and handheld (no scaling: sharp and cheap), a zoompan for
dollies, zooms and cranes. Layers drawn in the world (figures that move against it, speakers lit
while they speak) are laid on the world before the camera; the weather, the HUD and subtitles
are laid on the frame after it. The HUD and subtitles stay to the last frame (a cut never
flashes without them); the picture a continuous shot starts from is written apart, without text."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import ffmpeg as ff  # ffmpeg-python

from storyboard.media.clips import AUDIO, BITEXACT, RATE, source, video_codec
from storyboard.media.ffmpeg import Command, compile, safe_path, timeout_for

ZOOM_CANVAS = 1.35  # dollies, zooms, cranes: the world is this much larger than the frame each way
PCM = {"f": "s16le", "ar": RATE, "ch_layout": "stereo"}  # the scratch track as the backend writes it (write_pcm)
OPENING = 0.5  # seconds a continuous shot takes to dissolve from the previous shot's last picture


@dataclass(frozen=True)
class Rig:
    """How a move travels: the world's size, where the frame sits at rest, and the camera window."""

    kind: str  # still | crop | zoompan
    canvas: tuple[int, int]
    rest: tuple[int, int]  # top-left of the frame-sized window the panel is composed for
    x: str = "0"  # crop: window's left edge per frame (in n); zoompan: its x expression (in on)
    y: str = "0"
    z: str = "1"
    follow: tuple[str, str] | None = None  # figures ride with the camera: offsets (in n) added to their place
    period: int = 0  # the world repeats every `period` pixels along the travel (tracking)
    tilt: float = 0.0  # degrees the world is turned (dutch); tracking travels along it
    turns: bool = False  # the subject turns while the camera circles it (orbit)
    sway: int = 0  # how far (px, either way) a figure standing in the world slides across the frame


def _num(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def rig(move: str, frames: int, width: int, height: int, fps: int, tilt: float = 0.0) -> Rig:
    """The camera rig for a move over `frames` frames of width x height."""
    last = max(frames - 1, 1)
    p = f"(n/{last})"
    e = f"({p}*{p}*(3-2*{p}))"  # eased: starts and lands softly
    w, h = width, height
    if move in ("pan left", "pan right"):
        travel = int(w * 0.5) & ~1
        x = f"{travel}*{e}" if move == "pan right" else f"{travel}*(1-{e})"
        return Rig("crop", (w + travel, h), (travel // 2, 0), x=x, y="0", sway=travel // 2)
    if move in ("truck left", "truck right"):
        travel = int(w * 0.24) & ~1
        x = f"{travel}*{p}" if move == "truck right" else f"{travel}*(1-{p})"
        # the figures are nearer than the world behind them: they slide 1.6 times as far
        return Rig("crop", (w + travel, h), (travel // 2, 0), x=x, y="0",
                   follow=(f"-0.6*({x}-{travel // 2})", "0"), sway=int(1.6 * (travel // 2)) + 1)
    if move in ("tilt up", "tilt down"):
        travel = int(h * 0.35) & ~1
        y = f"{travel}*(1-{e})" if move == "tilt up" else f"{travel}*{e}"
        return Rig("crop", (w, h + travel), (0, travel // 2), x="0", y=y)
    if move == "handheld":
        mx, my = int(w * 0.03) & ~1, int(h * 0.03) & ~1
        x = f"{mx}+{_num(mx * 0.45)}*sin(n*0.31)+{_num(mx * 0.3)}*sin(n*0.83+1)"
        y = f"{my}+{_num(my * 0.45)}*sin(n*0.47+2)+{_num(my * 0.3)}*sin(n*1.21)"
        return Rig("crop", (w + 2 * mx, h + 2 * my), (mx, my), x=x, y=y, sway=int(mx * 0.75) + 1)
    if move == "orbit":
        travel = int(w * 0.7) & ~1
        x = f"{travel}*(1-cos(PI*{p}))/2"
        return Rig("crop", (w + travel, h), (travel // 2, 0), x=x, y="0",
                   follow=(f"{x}-{travel // 2}", "0"), turns=True)
    if move == "tracking":
        period = w
        speed = w * 0.3 / fps  # a third of the frame a second: 20 s travels six frames
        rad = math.radians(tilt)  # a dutch world is turned counter-clockwise: its floor rises to the right
        drop = int(abs(period * math.sin(rad))) + 2
        s = f"mod({_num(speed)}*n,{period})"
        x = f"{s}*{_num(math.cos(rad))}"
        y = f"{drop}-{s}*{_num(math.sin(rad))}" if tilt else "0"
        rest = (0, drop if tilt else 0)
        bob = max(2, int(h * 0.006))
        return Rig("crop", (w + period + 2, h + (drop if tilt else 0)), rest, x=x, y=y,
                   follow=(x, f"({y}-{rest[1]})-{bob}*abs(sin(n*{_num(math.pi * 1.8 / fps)}))"),
                   period=period, tilt=tilt)
    if move in ("dolly in", "dolly out", "zoom in", "zoom out", "crane up", "crane down"):
        s = ZOOM_CANVAS
        cw, ch = int(w * s) & ~1, int(h * s) & ~1
        rest = ((cw - w) // 2, (ch - h) // 2)
        zp = f"(on/{last})"
        ze = f"({zp}*{zp}*(3-2*{zp}))"
        z, cx, cy = _num(s), "0.5", "0.5"
        if move == "dolly in":
            z = f"{_num(s * 0.8)}+{_num(s * 0.38)}*{ze}"
        elif move == "dolly out":
            z = f"{_num(s * 1.18)}-{_num(s * 0.38)}*{ze}"
        elif move == "zoom in":
            z = f"{_num(s * 0.78)}+{_num(s * 0.5)}*{zp}"
        elif move == "zoom out":
            z = f"{_num(s * 1.28)}-{_num(s * 0.5)}*{zp}"
        elif move == "crane up":
            z, cy = f"{_num(s * 1.05)}-{_num(s * 0.2)}*{ze}", f"0.58-0.16*{ze}"
        elif move == "crane down":
            z, cy = f"{_num(s * 0.85)}+{_num(s * 0.2)}*{ze}", f"0.42+0.16*{ze}"
        return Rig("zoompan", (cw, ch), rest, x=f"({cx})*iw-iw/zoom/2", y=f"({cy})*ih-ih/zoom/2", z=z)
    return Rig("still", (w, h), (0, 0))


def drift(r: Rig, frames: int, width: int, height: int, seed: int) -> Rig:
    """The same move with the small drift of a camera operator's redraw (a new take): the window
    wanders up to 1.5% of the frame over the shot, in a direction the seed picks. The world is
    drawn that much larger, so the frame never leaves it."""
    mx, my = max(2, int(width * 0.015) & ~1), max(2, int(height * 0.015) & ~1)
    turn = math.radians(seed % 360)
    dx, dy = _num(mx * math.cos(turn)), _num(my * math.sin(turn))
    last = max(frames - 1, 1)
    if r.kind == "zoompan":  # zoompan keeps its window on the picture itself
        return replace(r, x=f"{r.x}+{dx}*(on/{last})", y=f"{r.y}+{dy}*(on/{last})")
    p = f"(n/{last})"
    cw, ch = r.canvas
    x, y = (r.x, r.y) if r.kind == "crop" else ("0", "0")
    return replace(r, kind="crop", canvas=(cw + 2 * mx, ch + 2 * my), rest=(r.rest[0] + mx, r.rest[1] + my),
                   x=f"{mx}+({x})+{dx}*{p}", y=f"{my}+({y})+{dy}*{p}", sway=r.sway + mx)


@dataclass(frozen=True)
class Layer:
    """A picture over the world (before the camera) or the frame (after it): an image file, or raw
    pixels of `size` in `pix_fmt` (drawn in this process: nothing to compress or decode). x and y
    are numbers or ffmpeg expressions in n (frame) and t (seconds); `enable` is an expression in t,
    or None for always."""

    file: Path
    x: str | int = 0
    y: str | int = 0
    enable: str | None = None
    size: tuple[int, int] | None = None
    pix_fmt: str = "rgba"

    def input(self):
        if self.size is None:
            return source(self.file)
        return source(self.file, f="rawvideo", pix_fmt=self.pix_fmt, s=f"{self.size[0]}x{self.size[1]}")


def between(start: float, end: float) -> str:
    return f"between(t,{start:.3f},{end:.3f})"


def animatic_cmd(world: Layer, r: Rig, audio: Path, out: Path, width: int, height: int, fps: int, frames: int,
                 world_layers: list[Layer] = (), screen_layers: list[Layer] = (), text_layers: list[Layer] = (),
                 opening: Layer | None = None) -> Command:
    """One shot's clip: the world held for the shot's frames, its layers, the camera, the frame's
    layers, the previous shot's picture dissolving away (`opening`), the text on every frame, the
    sound (`audio`: raw samples, PCM). (The last picture without its text is composed apart: `picture_at`.) Built with
    ffmpeg-python, which escapes every expression; the graph goes by file."""
    v = (world.input().video.filter("format", pix_fmts="yuv420p")
         .filter("loop", loop=frames - 1, size=1, start=0).filter("setpts", f"N/({fps}*TB)"))

    def lay(v, layer: Layer):
        timing = {"enable": layer.enable} if layer.enable else {}
        return ff.filter([v, layer.input().video], "overlay", x=str(layer.x), y=str(layer.y), format="yuv420",
                         eof_action="repeat", **timing)

    for layer in world_layers:
        v = lay(v, layer)
    if r.kind == "crop":
        v = v.filter("crop", w=width, h=height, x=r.x, y=r.y, exact=1)
    elif r.kind == "zoompan":
        v = v.filter("zoompan", z=r.z, x=r.x, y=r.y, d=1, s=f"{width}x{height}", fps=fps).filter("setsar", sar=1)
    for layer in screen_layers:
        v = lay(v, layer)
    if opening is not None:
        # one picture, raw, held for the dissolve's frames (an image looped by the demuxer is decoded again
        # for every frame: a PNG cost more than the rest of the graph)
        held = math.ceil(OPENING * fps - 1e-9)  # the frames before OPENING seconds
        op = (opening.input().video.filter("format", pix_fmts="yuva420p")
              .filter("loop", loop=held - 1, size=1, start=0).filter("setpts", f"N/({fps}*TB)")
              .filter("fade", t="out", st=f"{OPENING * 0.25:.3f}", d=f"{OPENING * 0.75:.3f}", alpha=1))
        v = ff.filter([v, op], "overlay", x=0, y=0, format="yuv420", eof_action="pass")
    for layer in text_layers:
        v = lay(v, layer)
    v = v.filter("format", pix_fmts="yuv420p")
    # one encoder thread and one filter thread: the renderer runs several of these at once (more threads only
    # add their hand-overs); the bits do not depend on the cores.
    # The fast AAC coder: a scratch track, mixed and encoded again by the cut, at half the cost
    sound = source(audio, **PCM).audio  # raw samples: nothing to probe
    spec = ff.output(v, sound, safe_path(out), **video_codec(fps), threads=1, **AUDIO,
                     aac_coder="fast", **{"frames:v": frames}, t=f"{frames / fps:.6f}", **BITEXACT,
                     movflags="+faststart")
    cmd = compile(spec, "animatic encode", timeout_for(frames / fps, "encode"))
    return replace(cmd, args=("-filter_complex_threads", "1", *cmd.args))


# -- the picture at one frame, in this process --------------------------------------------------

_FUNCTIONS = {"sin": math.sin, "cos": math.cos, "abs": abs, "mod": math.fmod, "PI": math.pi,
              "between": lambda t, a, b: float(a <= t <= b), "gte": lambda a, b: float(a >= b),
              "lt": lambda a, b: float(a < b)}


def evaluate(expr: str | int | float, **values: float) -> float:
    """One of this module's ffmpeg expressions (numbers, n, t, on, iw, ih, zoom and the functions
    above; never user text) evaluated as ffmpeg would."""
    if isinstance(expr, (int, float)):
        return float(expr)
    return float(eval(expr, {"__builtins__": {}}, {**_FUNCTIONS, **values}))  # noqa: S307 - our own expressions


def picture_at(frame: int, fps: int, world, r: Rig, width: int, height: int, world_layers=(), screen_layers=()):
    """The frame `frame` of a shot's picture without its text, composed here rather than by a second
    ffmpeg output (a split in the encode's graph cost a fifth of its time): the world and the layers
    that ride on it, the camera's window, the frame's layers. `world_layers` and `screen_layers` are
    (RGBA image, Layer) pairs. A continuous shot after this one dissolves from it."""
    from PIL import Image
    t = frame / fps
    canvas = world.convert("RGBA")
    for im, layer in world_layers:
        _lay(canvas, im, layer, frame, t)
    cw, ch = canvas.size
    if r.kind == "crop":  # crop rounds its window to the nearest pixel (exact: odd offsets too)
        x = min(max(round(evaluate(r.x, n=frame, t=t)), 0), cw - width)
        y = min(max(round(evaluate(r.y, n=frame, t=t)), 0), ch - height)
        pic = canvas.crop((x, y, x + width, y + height))
    elif r.kind == "zoompan":  # zoompan cuts its window at even pixels and scales it bicubically
        zoom = min(max(evaluate(r.z, on=frame, n=frame), 1.0), 10.0)
        vw, vh = int(cw / zoom), int(ch / zoom)
        x = int(min(max(evaluate(r.x, on=frame, n=frame, iw=cw, ih=ch, zoom=zoom), 0), max(cw - cw / zoom, 0))) & ~1
        y = int(min(max(evaluate(r.y, on=frame, n=frame, iw=cw, ih=ch, zoom=zoom), 0), max(ch - ch / zoom, 0))) & ~1
        pic = canvas.resize((width, height), Image.BICUBIC, box=(x, y, x + vw, y + vh))
    else:
        pic = canvas.crop((0, 0, width, height))
    for im, layer in screen_layers:
        _lay(pic, im, layer, frame, t)
    return pic.convert("RGB")


def _lay(base, im, layer: Layer, frame: int, t: float) -> None:
    """Lay an RGBA image over `base` where the layer puts it at this frame (partly outside: cut)."""
    if layer.enable is not None and not evaluate(layer.enable, t=t, n=frame):
        return
    n = frame + 1  # overlay's n has counted the frame it is placing (crop's and zoompan's have not)
    x = int(evaluate(layer.x, n=n, t=t)) & ~1  # overlay truncates, to even pixels in yuv420
    y = int(evaluate(layer.y, n=n, t=t)) & ~1
    left, top = max(0, -x), max(0, -y)
    right, bottom = min(im.width, base.width - x), min(im.height, base.height - y)
    if right > left and bottom > top:
        base.alpha_composite(im.crop((left, top, right, bottom)).convert("RGBA"), (x + left, y + top))
