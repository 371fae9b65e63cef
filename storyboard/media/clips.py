"""ffmpeg commands for single clips: the house video format, the animatic encode, fitted stills."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storyboard.media.camera import move_expressions
from storyboard.media.ffmpeg import SAFE_INPUT, run, safe_path

RATE = 48_000
X264_PRESET = "ultrafast"  # measured here: drawn panels encode fastest this way; see bench/animatic.py
AUDIO = ["-c:a", "aac", "-b:a", "160k", "-ar", str(RATE), "-ac", "2"]
BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]


def video_codec(fps: int) -> list[str]:
    """The house video format: H.264 yuv420p, no B-frames, a key frame every second (cheap smart cuts)."""
    return ["-c:v", "libx264", "-preset", X264_PRESET, "-crf", "23", "-pix_fmt", "yuv420p", "-profile:v", "high",
            "-bf", "0", "-g", str(fps), "-keyint_min", str(fps), "-sc_threshold", "0", "-r", str(fps)]


def house_signature(width: int, height: int, fps: int) -> str:
    """Clips with this signature join by stream copy: same size, rate and encoder settings."""
    return f"h264-high-bf0-g{fps}-{X264_PRESET}-crf23/{width}x{height}@{fps}/aac{RATE}s2"


@dataclass(frozen=True)
class Overlay:
    """A transparent image laid over the picture at (x, y), shown from `start` to `end` (None: always)."""

    png: Path
    x: int = 0
    y: int = 0
    start: float | None = None
    end: float | None = None


def animatic_cmd(scene: Path, overlays: list[Overlay], audio: Path, out: Path,
                 width: int, height: int, fps: int, frames: int, move: str) -> list[str]:
    """One panel clip: the scene under a camera move, with the HUD and timed subtitle cards over it.

    The scene is moved in yuv420p (three times cheaper than RGB) and overlays are cropped to what
    they cover, so the cost is the encode, not the compositing."""
    z, x, y = move_expressions(move, frames)
    args = [*SAFE_INPUT, "-i", safe_path(scene)]
    for o in overlays:
        args += [*SAFE_INPUT, "-i", safe_path(o.png)]
    args += [*SAFE_INPUT, "-i", safe_path(audio)]
    graph = [f"[0:v]format=yuv420p,zoompan=z='{z}':x='{x}':y='{y}':d={frames}:s={width}x{height}:fps={fps},setsar=1[v0]"]
    last = "v0"
    for k, o in enumerate(overlays, start=1):
        when = f":enable='between(t,{o.start:.3f},{o.end:.3f})'" if o.start is not None else ""
        graph.append(f"[{last}][{k}:v]overlay={o.x}:{o.y}:format=auto{when}[v{k}]")
        last = f"v{k}"
    graph.append(f"[{last}]format=yuv420p[vout]")
    audio_index = 1 + len(overlays)
    return [*args, "-filter_complex", ";".join(graph), "-map", "[vout]", "-map", f"{audio_index}:a",
            *video_codec(fps), *AUDIO, "-frames:v", str(frames), "-t", f"{frames / fps:.6f}",
            *BITEXACT, "-movflags", "+faststart", safe_path(out)]


def fit_filter(width: int, height: int) -> str:
    return (f"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=lanczos,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1")


def fit_image_cmd(src: Path, out_png: Path, width: int, height: int) -> list[str]:
    return [*SAFE_INPUT, "-i", safe_path(src), "-vf", fit_filter(width, height), "-frames:v", "1", safe_path(out_png)]


def fit_image(src: Path, out_png: Path, width: int, height: int) -> Path:
    run(fit_image_cmd(src, out_png, width, height), what=f"fitting {src.name}")
    return out_png
