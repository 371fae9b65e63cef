"""ffmpeg commands for single clips: the house video format, the animatic encode, fitted stills."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ffmpeg as ff  # ffmpeg-python

from storyboard.media.camera import move_expressions
from storyboard.media.ffmpeg import SAFE, Command, compile, run, safe_path, timeout_for

RATE = 48_000
X264_PRESET = "ultrafast"  # measured here: drawn panels encode fastest this way; see bench/animatic.py
# output options (ffmpeg-python keyword arguments)
AUDIO = {"c:a": "aac", "b:a": "160k", "ar": RATE, "ac": 2}
BITEXACT = {"map_metadata": -1, "fflags": "+bitexact", "flags:v": "+bitexact", "flags:a": "+bitexact"}


def video_codec(fps: int) -> dict:
    """The house video format: H.264 yuv420p, no B-frames, a key frame every second (cheap smart cuts)."""
    return {"c:v": "libx264", "preset": X264_PRESET, "crf": 23, "pix_fmt": "yuv420p", "profile:v": "high",
            "bf": 0, "g": fps, "keyint_min": fps, "sc_threshold": 0, "r": fps}


def house_signature(width: int, height: int, fps: int) -> str:
    """Clips with this signature join by stream copy: same size, rate and encoder settings."""
    return f"h264-high-bf0-g{fps}-{X264_PRESET}-crf23/{width}x{height}@{fps}/aac{RATE}s2"


def source(path: Path, **options):
    """One of our input files, read as a file and nothing else."""
    return ff.input(safe_path(path), **SAFE, **options)


@dataclass(frozen=True)
class Overlay:
    """A transparent image laid over the picture at (x, y), shown from `start` to `end` (None: always)."""

    png: Path
    x: int = 0
    y: int = 0
    start: float | None = None
    end: float | None = None


def animatic_cmd(scene: Path, overlays: list[Overlay], audio: Path, out: Path,
                 width: int, height: int, fps: int, frames: int, move: str) -> Command:
    """One panel clip: the scene under a camera move, with the HUD and timed subtitle cards over it.

    The scene is moved in yuv420p (three times cheaper than RGB) and overlays are cropped to what
    they cover, so the cost is the encode, not the compositing."""
    z, x, y = move_expressions(move, frames)
    v = (source(scene).video.filter("format", pix_fmts="yuv420p")
         .filter("zoompan", z=z, x=x, y=y, d=frames, s=f"{width}x{height}", fps=fps)
         .filter("setsar", sar=1))
    for o in overlays:
        timing = {"enable": f"between(t,{o.start:.3f},{o.end:.3f})"} if o.start is not None else {}
        v = ff.filter([v, source(o.png).video], "overlay", x=o.x, y=o.y, format="auto", **timing)
    v = v.filter("format", pix_fmts="yuv420p")
    # one encoder thread: the renderer runs several of these at once, each x264 thread holds frames
    # (12 MB less per clip at 720p, no slower here), and the bits no longer depend on the core count
    out_spec = ff.output(v, source(audio).audio, safe_path(out), **video_codec(fps), threads=1, **AUDIO,
                         **{"frames:v": frames}, t=f"{frames / fps:.6f}", **BITEXACT, movflags="+faststart")
    return compile(out_spec, "animatic encode", timeout_for(frames / fps, "encode"))


def fit_filter(stream, width: int, height: int):
    """Scale to fit inside width x height, keeping the aspect; pad the rest with black."""
    return (stream.filter("scale", w=width, h=height, force_original_aspect_ratio="decrease", flags="lanczos")
            .filter("pad", w=width, h=height, x="(ow-iw)/2", y="(oh-ih)/2", color="black")
            .filter("setsar", sar=1))


def fit_image_cmd(src: Path, out_png: Path, width: int, height: int) -> Command:
    out_spec = ff.output(fit_filter(source(src).video, width, height), safe_path(out_png), **{"frames:v": 1})
    return compile(out_spec, f"fitting {src.name}", timeout_for(1, "encode"))


def fit_image(src: Path, out_png: Path, width: int, height: int) -> Path:
    run(fit_image_cmd(src, out_png, width, height))
    return out_png
